// Log messages reach a C++ handler; replacing or stopping it destroys the
// handler (and what it captured) exactly once; no secret is logged.
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "common.hpp"

using minknow::Channel;
using namespace simtest;

namespace {

// The library destroys a replaced handler once no message is being
// delivered to it: an I/O thread may be in the middle of one, so wait a
// little (bounded) for the last reference to go.
template <typename T>
bool released(const std::shared_ptr<T> &p) {
    for (int i = 0; i < 200 && p.use_count() > 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return p.use_count() == 1;
}

struct Collected {
    std::mutex lock;
    std::vector<std::pair<minknow_log_level, std::string>> messages;
};

}  // namespace

TEST(Log, HandlerReceivesStepsAndIsDestroyedOnStop) {
    auto collected = std::make_shared<Collected>();
    minknow::set_log_handler(MINKNOW_LOG_LEVEL_DEBUG,
                             [collected](minknow_log_level level, std::string_view message) {
                                 std::lock_guard<std::mutex> hold(collected->lock);
                                 collected->messages.emplace_back(level, message);
                             });
    EXPECT_EQ(collected.use_count(), 2) << "the library holds the handler";
    const Ready &r = developer_sim().ready;
    Channel::connect_with_token("127.0.0.1", r.manager_port, r.developer_token, r.ca);
    minknow::stop_logging();
    EXPECT_TRUE(released(collected)) << "stopping destroys the handler";

    std::lock_guard<std::mutex> hold(collected->lock);
    EXPECT_FALSE(collected->messages.empty());
    for (const auto &[level, message] : collected->messages) {
        EXPECT_GE(level, MINKNOW_LOG_LEVEL_ERROR);
        EXPECT_LE(level, MINKNOW_LOG_LEVEL_DEBUG);
        EXPECT_EQ(message.find(r.developer_token), std::string::npos) << "token logged";
    }
}

TEST(Log, ReplacingAndThrowingHandlers) {
    auto first = std::make_shared<int>(1);
    minknow::set_log_handler(MINKNOW_LOG_LEVEL_TRACE,
                             [first](minknow_log_level, std::string_view) {
                                 throw std::runtime_error("must not reach Rust");
                             });
    // A handler that throws on every message: the connect still works.
    connect_guest();
    auto second = std::make_shared<int>(2);
    minknow::set_log_handler(MINKNOW_LOG_LEVEL_INFO,
                             [second](minknow_log_level, std::string_view) {});
    EXPECT_TRUE(released(first)) << "the replaced handler is destroyed";
    minknow::set_log_handler(MINKNOW_LOG_LEVEL_INFO, nullptr);
    EXPECT_TRUE(released(second)) << "an empty handler stops logging";
    expect_error(
        [] { minknow::set_log_handler(static_cast<minknow_log_level>(9), [](auto, auto) {}); },
        MINKNOW_STATUS_INVALID_ARGUMENT, {"max_level"});
}
