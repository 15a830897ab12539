// Every auth mode of the simulator through the C++ layer: client
// certificate, developer token, local token, protocol token, guest; each
// reaches the child channels, and each missing or wrong credential is an
// UNAUTHENTICATED minknow::Error naming the host and port.
#include "common.hpp"

using minknow::Channel;
using minknow::Options;
using namespace simtest;

namespace {

std::string at(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST(ClientCertificate, ConnectWithCertificateReachesChildren) {
    Channel manager = connect_cert();
    expect_caller(manager, "", "", CLIENT_SUBJECT);
    expect_caller(manager.open_position("X1"), "", "", CLIENT_SUBJECT);
    expect_caller(manager.open_basecaller(), "", "", CLIENT_SUBJECT);
}

TEST(ClientCertificate, FromOptionsFilesAndPem) {
    const Ready &r = cert_sim().ready;
    auto files = Options().add_ca_file(r.ca).client_certificate_files(r.client_certificate,
                                                                     r.client_key);
    expect_caller(Channel::connect("127.0.0.1", r.manager_port, files), "", "", CLIENT_SUBJECT);

    auto slurp = [](const std::string &path) {
        std::string text;
        FILE *f = std::fopen(path.c_str(), "rb");
        EXPECT_NE(f, nullptr) << path;
        char chunk[4096];
        for (std::size_t n; f && (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;)
            text.append(chunk, n);
        if (f) std::fclose(f);
        return text;
    };
    auto pem = Options()
                   .add_ca_pem(slurp(r.ca))
                   .client_certificate_pem(slurp(r.client_certificate), slurp(r.client_key));
    expect_caller(Channel::connect("127.0.0.1", r.manager_port, pem), "", "", CLIENT_SUBJECT);
}

TEST(ClientCertificate, MissingIsUnauthenticated) {
    const Ready &r = cert_sim().ready;
    auto e = expect_error(
        [&] { Channel::connect("127.0.0.1", r.manager_port, Options().add_ca_file(r.ca)); },
        MINKNOW_STATUS_UNAUTHENTICATED, {at(r.manager_port), "no token"});
    EXPECT_EQ(e.grpc_status(), 16);
}

TEST(DeveloperToken, ConnectWithTokenReachesChildren) {
    const Ready &r = developer_sim().ready;
    Channel manager =
        Channel::connect_with_token("127.0.0.1", r.manager_port, r.developer_token, r.ca);
    expect_caller(manager, "local-auth", "developer", "");
    expect_caller(manager.open_position("X2"), "local-auth", "developer", "");
    expect_caller(manager.open_basecaller(), "local-auth", "developer", "");
}

TEST(DeveloperToken, FromOptions) {
    const Ready &r = developer_sim().ready;
    Options options;
    options.add_ca_file(r.ca).developer_token(r.developer_token);
    expect_caller(Channel::connect("127.0.0.1", r.manager_port, options), "local-auth",
                  "developer", "");
}

TEST(DeveloperToken, WrongIsUnauthenticatedAndNotShown) {
    const Ready &r = developer_sim().ready;
    auto e = expect_error(
        [&] {
            Channel::connect_with_token("127.0.0.1", r.manager_port, "not-the-token", r.ca);
        },
        MINKNOW_STATUS_UNAUTHENTICATED, {at(r.manager_port), "developer token"});
    EXPECT_EQ(e.grpc_status(), 16);
    EXPECT_EQ(std::string(e.what()).find("not-the-token"), std::string::npos) << e.what();
}

TEST(LocalToken, UsedOnLoopback) {
    const Ready &r = local_sim().ready;
    ASSERT_FALSE(r.token_file.empty());
    Channel manager =
        Channel::connect("127.0.0.1", r.manager_port, Options().add_ca_file(r.ca));
    expect_caller(manager, "local-auth", "local", "");
    expect_caller(manager.open_position("X1"), "local-auth", "local", "");
}

TEST(LocalToken, ModeOffIsUnauthenticated) {
    const Ready &r = local_sim().ready;
    auto options = Options().add_ca_file(r.ca).local_token_mode(MINKNOW_LOCAL_TOKEN_MODE_OFF);
    expect_error([&] { Channel::connect("127.0.0.1", r.manager_port, options); },
                 MINKNOW_STATUS_UNAUTHENTICATED, {at(r.manager_port), "no token"});
}

TEST(ProtocolToken, FromOptionsReachesChildren) {
    const Ready &r = protocol_sim().ready;
    auto options = Options().add_ca_file(r.ca).protocol_token(r.protocol_token);
    Channel manager = Channel::connect("127.0.0.1", r.manager_port, options);
    expect_caller(manager, "protocol-auth", "protocol", "");
    expect_caller(manager.open_position("X1"), "protocol-auth", "protocol", "");
}

TEST(ProtocolToken, WrongIsUnauthenticated) {
    const Ready &r = protocol_sim().ready;
    auto options = Options().add_ca_file(r.ca).protocol_token("wrong-protocol-token");
    auto e = expect_error([&] { Channel::connect("127.0.0.1", r.manager_port, options); },
                          MINKNOW_STATUS_UNAUTHENTICATED, {"protocol token"});
    EXPECT_EQ(std::string(e.what()).find("wrong-protocol-token"), std::string::npos);
}

TEST(Guest, NeedsNoCredentials) {
    Channel manager = connect_guest();
    expect_caller(manager, "", "", "");
    expect_caller(manager.open_position("X2"), "", "", "");
}
