// Moved-from objects hold no handle: what can fail throws
// minknow::Error(NULL_ARGUMENT), what cannot is a no-op with an empty
// answer, and assigning a live object makes them usable again.
#include <type_traits>

#include "common.hpp"

using minknow::Call;
using minknow::Channel;
using minknow::Options;
using namespace simtest;

// Move-only, and moves never throw.
static_assert(!std::is_copy_constructible_v<Channel> && !std::is_copy_assignable_v<Channel>);
static_assert(!std::is_copy_constructible_v<Call> && !std::is_copy_assignable_v<Call>);
static_assert(!std::is_copy_constructible_v<Options> && !std::is_copy_assignable_v<Options>);
static_assert(std::is_nothrow_move_constructible_v<Channel> &&
              std::is_nothrow_move_assignable_v<Channel>);
static_assert(std::is_nothrow_move_constructible_v<Call> &&
              std::is_nothrow_move_assignable_v<Call>);
static_assert(std::is_nothrow_move_constructible_v<Options> &&
              std::is_nothrow_move_assignable_v<Options>);

// Setters on a named Options return a reference to it; on a temporary they
// return the object itself (moved), so a chained temporary cannot dangle.
static_assert(std::is_same_v<decltype(std::declval<Options &>().add_ca_file("")), Options &>);
static_assert(std::is_same_v<decltype(Options().add_ca_file("").server_name("")), Options>);

TEST(MovedFrom, Channel) {
    Channel manager = connect_guest();
    Channel taken = std::move(manager);
    ASSERT_TRUE(taken);
    ASSERT_FALSE(manager);  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_EQ(manager.host(), "");
    EXPECT_EQ(manager.port(), 0);
    expect_error([&] { manager.version(); }, MINKNOW_STATUS_NULL_ARGUMENT, {"channel"});
    expect_error([&] { manager.positions(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.describe_host(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.basecaller_port(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.open_position("X1"); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.open_basecaller(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.open_port(1); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.unary(ECHO); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { manager.start_call(ECHO); }, MINKNOW_STATUS_NULL_ARGUMENT);
    EXPECT_EQ(manager.raw(), nullptr);

    // The new owner works; assigning back revives the old name.
    expect_caller(taken, "", "", "");
    manager = std::move(taken);
    EXPECT_TRUE(manager);
    EXPECT_FALSE(taken);  // NOLINT(bugprone-use-after-move)
    expect_caller(manager, "", "", "");
}

TEST(MovedFrom, Call) {
    Channel channel = connect_guest();
    Call call = channel.start_call(BIDI_ECHO, 10000);
    Call taken = std::move(call);
    ASSERT_FALSE(call);  // NOLINT(bugprone-use-after-move)
    expect_error([&] { call.send(chunk("x", 1)); }, MINKNOW_STATUS_NULL_ARGUMENT, {"call"});
    expect_error([&] { call.close_send(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    expect_error([&] { call.recv(); }, MINKNOW_STATUS_NULL_ARGUMENT);
    call.cancel();  // a no-op, and taken is not affected
    taken.send(chunk("still mine", 2));
    EXPECT_EQ(read_chunk(*taken.recv()).payload, "still mine");
    taken.close_send();
    EXPECT_EQ(taken.recv(), std::nullopt);
}

TEST(MovedFrom, OptionsAreRefusedByConnect) {
    const Ready &r = guest_sim().ready;
    Options options;
    options.add_ca_file(r.ca);
    Options taken = std::move(options);
    ASSERT_FALSE(options);  // NOLINT(bugprone-use-after-move)
    expect_error([&] { options.developer_token("t"); }, MINKNOW_STATUS_NULL_ARGUMENT);
    // A NULL options handle means "all defaults" in C; here it is an error.
    expect_error([&] { Channel::connect("127.0.0.1", r.manager_port, options); },
                 MINKNOW_STATUS_NULL_ARGUMENT, {"moved-from"});
    expect_caller(Channel::connect("127.0.0.1", r.manager_port, taken), "", "", "");
}

TEST(MovedFrom, ReleaseHandsTheHandleToC) {
    Channel manager = connect_guest();
    minknow_channel *raw = manager.release();
    ASSERT_NE(raw, nullptr);
    EXPECT_FALSE(manager);
    EXPECT_NE(minknow_channel_port(raw), 0);
    Channel adopted(raw);  // and back: freed once, by adopted
    expect_caller(adopted, "", "", "");
}
