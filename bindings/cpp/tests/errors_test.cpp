// Failures arrive as minknow::Error with the C status, the gRPC status
// and the C message, which names the file, argument, host or port.
#include <netinet/in.h>
#include <sys/socket.h>

#include <type_traits>

#include "common.hpp"

using minknow::Channel;
using minknow::Options;
using namespace simtest;

static_assert(std::is_base_of_v<std::runtime_error, minknow::Error>);

namespace {

// A loopback port that nothing listens on (bound by us, then closed).
int closed_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST(Errors, CaughtAsStdException) {
    const Ready &r = developer_sim().ready;
    try {
        Channel::connect_with_token("127.0.0.1", r.manager_port, "wrong", r.ca);
        FAIL() << "connected with a wrong token";
    } catch (const std::exception &e) {
        auto *error = dynamic_cast<const minknow::Error *>(&e);
        ASSERT_NE(error, nullptr);
        EXPECT_EQ(error->status(), MINKNOW_STATUS_UNAUTHENTICATED);
        EXPECT_STREQ(error->status_name(), minknow_status_name(MINKNOW_STATUS_UNAUTHENTICATED));
        EXPECT_EQ(error->grpc_status(), 16);
    }
}

TEST(Errors, ConnectRefused) {
    const Ready &r = guest_sim().ready;
    int port = closed_port();
    auto options = Options().add_ca_file(r.ca).connect_timeout_ms(3000);
    auto e = expect_error([&] { Channel::connect("127.0.0.1", port, options); },
                          MINKNOW_STATUS_CONNECT_FAILED, {"127.0.0.1:" + std::to_string(port)});
    EXPECT_EQ(e.grpc_status(), -1);
}

TEST(Errors, UntrustedServer) {
    // The client CA did not issue the server's certificate.
    const Ready &r = guest_sim().ready;
    auto options = Options().add_ca_file(r.client_ca);
    expect_error([&] { Channel::connect("127.0.0.1", r.manager_port, options); },
                 MINKNOW_STATUS_CERTIFICATE_VERIFY_FAILED,
                 {"127.0.0.1:" + std::to_string(r.manager_port)});
}

TEST(Errors, MissingFilesAreNamed) {
    const Ready &r = cert_sim().ready;
    std::string missing = r.dir + "/no-such-ca.crt";
    expect_error(
        [&] { Channel::connect("127.0.0.1", r.manager_port, Options().add_ca_file(missing)); },
        MINKNOW_STATUS_FILE_ERROR, {missing});
    std::string no_key = r.dir + "/no-such.key";
    expect_error(
        [&] {
            Channel::connect_with_certificate("127.0.0.1", r.manager_port, r.client_certificate,
                                              no_key, r.ca);
        },
        MINKNOW_STATUS_FILE_ERROR, {no_key});
}

TEST(Errors, KeyMismatch) {
    // The client CA's certificate with the client's key.
    const Ready &r = cert_sim().ready;
    expect_error(
        [&] {
            Channel::connect_with_certificate("127.0.0.1", r.manager_port, r.client_ca,
                                              r.client_key, r.ca);
        },
        MINKNOW_STATUS_KEY_MISMATCH);
}

TEST(Errors, InvalidOptionsThrowAtOnce) {
    Options options;
    expect_error([&] { options.developer_token(""); }, MINKNOW_STATUS_INVALID_ARGUMENT, {"token"});
    expect_error([&] { options.connect_timeout_ms(0); }, MINKNOW_STATUS_INVALID_ARGUMENT);
    expect_error([&] { options.add_ca_file(""); }, MINKNOW_STATUS_INVALID_ARGUMENT);
    expect_error([&] { options.local_token_mode(static_cast<minknow_local_token_mode>(7)); },
                 MINKNOW_STATUS_INVALID_ARGUMENT);
    // The object is still usable after a refused setting.
    options.connect_timeout_ms(5000).use_environment(false);
}

TEST(Errors, NulBytesAreRefusedNotTruncated) {
    using namespace std::string_view_literals;
    Options options;
    auto e = expect_error([&] { options.developer_token("good\0evil"sv); },
                          MINKNOW_STATUS_INVALID_ARGUMENT, {"token", "NUL"});
    EXPECT_EQ(e.grpc_status(), -1);
    expect_error([&] { Channel::connect("127.0.0.1\0x"sv, 1, options); },
                 MINKNOW_STATUS_INVALID_ARGUMENT, {"host"});
    expect_error([&] { connect_guest().unary("/minknow_sim.TestService/echo\0x"sv); },
                 MINKNOW_STATUS_INVALID_ARGUMENT, {"method"});
}

TEST(Errors, MalformedAndUnknownMethods) {
    Channel channel = connect_guest();
    for (const char *method : {"", "echo", "minknow_sim.TestService/echo", "/a b/c"}) {
        SCOPED_TRACE(method);
        expect_error([&] { channel.unary(method); }, MINKNOW_STATUS_INVALID_ARGUMENT);
        expect_error([&] { channel.start_call(method); }, MINKNOW_STATUS_INVALID_ARGUMENT);
    }
    const char *unknown = "/minknow_sim.TestService/no_such_method";
    auto e = expect_error([&] { channel.unary(unknown); }, MINKNOW_STATUS_RPC_FAILED, {unknown});
    EXPECT_EQ(e.grpc_status(), 12) << "gRPC UNIMPLEMENTED";
    minknow::Call call = channel.start_call("/minknow_sim.NoService/x");
    call.close_send();
    e = expect_error([&] { call.recv(); }, MINKNOW_STATUS_RPC_FAILED, {"NoService"});
    EXPECT_EQ(e.grpc_status(), 12);
}
