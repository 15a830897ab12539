// minknow::diagnose: the report as JSON text, a working connection with
// every step, a failed one with its diagnosis, and bad arguments thrown.
#include "common.hpp"

using minknow::Options;
using namespace simtest;

namespace {

Json parse(const std::string &text) {
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find('\0'), std::string::npos) << "the NUL terminator is not part of the text";
    return JsonParser(text).parse();
}

}  // namespace

TEST(Diagnose, WorkingConnectionHasEveryStep) {
    const Ready &r = guest_sim().ready;
    Options options;
    options.add_ca_file(r.ca);
    Json report = parse(minknow::diagnose("127.0.0.1", r.manager_port, &options));

    EXPECT_EQ(report["schema"].text, "minknow-auth-doctor/1");
    EXPECT_TRUE(report["ok"].boolean);
    EXPECT_EQ(report["host"].text, "127.0.0.1");
    EXPECT_EQ(report["port"].number, r.manager_port);
    EXPECT_TRUE(report["diagnosis"].is_null());
    std::vector<std::string> steps;
    for (const Json &step : report["steps"].items) {
        steps.push_back(step["step"].text);
        EXPECT_TRUE(step["ok"].boolean) << step["step"].text << ": " << step["summary"].text;
    }
    EXPECT_EQ(steps, (std::vector<std::string>{"resolve", "tcp", "tls", "http2",
                                               "unauthenticated_call", "authenticated_call"}));
}

TEST(Diagnose, WrongCaIsDiagnosedAtTls) {
    const Ready &r = guest_sim().ready;
    Options options = Options().add_ca_file(r.client_ca);
    Json report = parse(minknow::diagnose("127.0.0.1", r.manager_port, &options));

    EXPECT_FALSE(report["ok"].boolean);
    const Json &diagnosis = report["diagnosis"];
    EXPECT_EQ(diagnosis["step"].text, "tls");
    EXPECT_EQ(diagnosis["cause"].text, "wrong_ca");
    EXPECT_NE(diagnosis["message"].text.find("127.0.0.1:" + std::to_string(r.manager_port)),
              std::string::npos)
        << diagnosis["message"].text;
    EXPECT_FALSE(diagnosis["fix"].text.empty());
    ASSERT_FALSE(report["steps"].items.empty());
    EXPECT_EQ(report["steps"].items.back()["step"].text, "tls");
    EXPECT_FALSE(report["steps"].items.back()["ok"].boolean);
}

TEST(Diagnose, DefaultsAndBadArguments) {
    // All defaults: the port follows the reference client's rule. The
    // host is malformed, so nothing is dialled.
    Json report = parse(minknow::diagnose("not a host"));
    EXPECT_EQ(report["port"].number, 9502);
    EXPECT_EQ(report["diagnosis"]["step"].text, "resolve");

    expect_error([] { minknow::diagnose("127.0.0.1", 70000); }, MINKNOW_STATUS_INVALID_ARGUMENT,
                 {"port"});
    expect_error([] { minknow::diagnose(std::string_view("127.0.0.1\0x", 11), 1); },
                 MINKNOW_STATUS_INVALID_ARGUMENT, {"host"});
    Options options;
    Options taken = std::move(options);
    expect_error([&] { minknow::diagnose("127.0.0.1", 1, &options); },
                 MINKNOW_STATUS_NULL_ARGUMENT, {"options"});
}
