// Unary and streaming calls on the simulator's TestService, cancellation
// from another thread, deadlines, limits, and one channel shared by
// several threads.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "common.hpp"

using minknow::Bytes;
using minknow::Call;
using minknow::Channel;
using namespace simtest;
using namespace std::chrono_literals;

namespace {

Chunk next_chunk(Call &call) {
    std::optional<Bytes> message = call.recv();
    if (!message) throw std::runtime_error("the stream ended early");
    return read_chunk(*message);
}

Call server_stream(const Channel &channel, std::uint32_t count, std::uint32_t size,
                   std::uint32_t interval_ms, std::uint32_t timeout_ms = 0) {
    Call call = channel.start_call(SERVER_STREAM, timeout_ms);
    call.send(stream_request(count, size, interval_ms));
    call.close_send();
    return call;
}

}  // namespace

TEST(Unary, EchoRoundTrip) {
    Channel channel = connect_guest();
    std::string payload("binary\0payload\xff", 15);
    Chunk back = read_chunk(channel.unary(ECHO, chunk(payload, 42), 10000));
    EXPECT_EQ(back.payload, payload);
    EXPECT_EQ(back.sequence, 42u);
    // An empty request is an empty Chunk: an empty reply.
    EXPECT_TRUE(channel.unary(ECHO).empty());
}

TEST(Streams, ServerStreamEndsWithNullopt) {
    Call call = server_stream(connect_guest(), 5, 100, 0);
    for (std::uint32_t i = 0; i < 5; ++i) {
        Chunk c = next_chunk(call);
        EXPECT_EQ(c.sequence, i);
        EXPECT_EQ(c.payload.size(), 100u);
    }
    EXPECT_EQ(call.recv(), std::nullopt);
    EXPECT_EQ(call.recv(), std::nullopt) << "the end sticks";
}

TEST(Streams, ClientStreamCounts) {
    Call call = connect_guest().start_call(CLIENT_STREAM, 10000);
    std::uint64_t bytes = 0;
    for (std::uint32_t i = 1; i <= 4; ++i) {
        std::string payload(i * 10, 'x');
        bytes += payload.size();
        call.send(chunk(payload, i));
    }
    call.close_send();
    call.close_send();  // idempotent
    std::optional<Bytes> summary = call.recv();
    ASSERT_TRUE(summary.has_value());
    Fields f = decode(*summary);
    EXPECT_EQ(f.varint(1), 4u);
    EXPECT_EQ(f.varint(2), bytes);
    EXPECT_EQ(call.recv(), std::nullopt);
}

TEST(Streams, BidiEchoInterleaved) {
    Call call = connect_guest().start_call(BIDI_ECHO);
    for (std::uint32_t i = 0; i < 3; ++i) {
        std::string payload = "ping " + std::to_string(i);
        call.send(chunk(payload, i));
        Chunk back = next_chunk(call);
        EXPECT_EQ(back.payload, payload);
        EXPECT_EQ(back.sequence, i);
    }
    call.close_send();
    EXPECT_EQ(call.recv(), std::nullopt);
    expect_error([&] { call.send(chunk("late", 9)); }, MINKNOW_STATUS_INVALID_STATE);
}

TEST(Streams, CancelFromAnotherThreadWakesRecv) {
    // One message an hour: recv blocks after the first.
    Call call = server_stream(connect_guest(), 2, 10, 3600000);
    EXPECT_EQ(next_chunk(call).sequence, 0u);
    std::promise<void> started;
    auto blocked = std::async(std::launch::async, [&] {
        started.set_value();
        try {
            call.recv();
        } catch (const minknow::Error &e) {
            return e.status();
        }
        return MINKNOW_STATUS_OK;
    });
    started.get_future().wait();
    std::this_thread::sleep_for(50ms);  // let it block in recv
    auto cancelled_at = std::chrono::steady_clock::now();
    call.cancel();
    call.cancel();  // idempotent
    ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready) << "recv did not wake up";
    auto took = std::chrono::steady_clock::now() - cancelled_at;
    EXPECT_EQ(blocked.get(), MINKNOW_STATUS_CANCELLED);
    EXPECT_LT(took, 2s);
    // The outcome sticks.
    expect_error([&] { call.recv(); }, MINKNOW_STATUS_CANCELLED);
}

TEST(Streams, DestroyingARunningCallCancelsIt) {
    Channel channel = connect_guest();
    auto done = std::async(std::launch::async, [&] {
        Call call = server_stream(channel, 2, 10, 3600000);
        next_chunk(call);
    });  // ~Call must not wait for the hour-long stream
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready);
    done.get();
    EXPECT_EQ(read_chunk(channel.unary(ECHO, chunk("still fine", 1))).payload, "still fine");
}

TEST(Deadlines, StreamAndUnary) {
    Channel channel = connect_guest();
    Call call = server_stream(channel, 3, 10, 1000, 200);
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(next_chunk(call).sequence, 0u);
    auto e = expect_error([&] { call.recv(); }, MINKNOW_STATUS_DEADLINE_EXCEEDED);
    EXPECT_EQ(e.grpc_status(), 4);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 900ms);

    e = expect_error([&] { channel.unary(SERVER_STREAM, stream_request(2, 10, 1000), 200); },
                     MINKNOW_STATUS_DEADLINE_EXCEEDED, {SERVER_STREAM});
    EXPECT_EQ(e.grpc_status(), 4);
}

TEST(Limits, MessageTooLarge) {
    Channel channel = connect_guest();
    Bytes big(MINKNOW_MAX_MESSAGE_BYTES + 1, 0);
    expect_error([&] { channel.unary(ECHO, big); }, MINKNOW_STATUS_MESSAGE_TOO_LARGE,
                 {"16777217"});
    Call call = channel.start_call(BIDI_ECHO, 10000);
    expect_error([&] { call.send(big); }, MINKNOW_STATUS_MESSAGE_TOO_LARGE, {"16777217"});
    call.send(chunk("ok", 1));  // still usable
    EXPECT_EQ(next_chunk(call).payload, "ok");
}

TEST(Threads, EightThreadsShareOneChannel) {
    Channel channel = connect_guest();
    std::atomic<int> good{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                std::string payload = std::to_string(t) + ":" + std::to_string(i);
                try {
                    if (read_chunk(channel.unary(ECHO, chunk(payload, 1), 10000)).payload ==
                        payload)
                        ++good;
                } catch (const std::exception &) {
                }
            }
        });
    }
    for (auto &thread : threads) thread.join();
    EXPECT_EQ(good.load(), 80);
}
