// What every test file shares: one simulator per auth mode (started on
// first use, stopped at exit), connect helpers, and an error matcher.
#ifndef MINKNOW_AUTH_TEST_COMMON_HPP
#define MINKNOW_AUTH_TEST_COMMON_HPP

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include <minknow_auth.hpp>

#include "proto.hpp"
#include "sim.hpp"

namespace simtest {

// The subject the simulator gives its own client certificate.
inline const char *const CLIENT_SUBJECT = "minknow-sim client";

// Each simulator accepts only its one mode, so a call that works proves
// which credential it carried.
inline Sim &sim_for(const std::string &modes) {
    static std::map<std::string, std::unique_ptr<Sim>> sims;
    auto &sim = sims[modes];
    if (!sim) sim = std::make_unique<Sim>(std::vector<std::string>{"--auth", modes});
    return *sim;
}
inline Sim &cert_sim() { return sim_for("client-cert"); }
inline Sim &developer_sim() { return sim_for("developer-token"); }
inline Sim &local_sim() { return sim_for("local-token"); }
inline Sim &protocol_sim() { return sim_for("protocol-token"); }
inline Sim &guest_sim() { return sim_for("guest"); }

inline minknow::Channel connect_cert() {
    const Ready &r = cert_sim().ready;
    return minknow::Channel::connect_with_certificate("127.0.0.1", r.manager_port,
                                                      r.client_certificate, r.client_key, r.ca);
}

inline minknow::Channel connect_guest() {
    const Ready &r = guest_sim().ready;
    return minknow::Channel::connect("127.0.0.1", r.manager_port,
                                     minknow::Options().add_ca_file(r.ca));
}

// Run `f`, which must throw minknow::Error with `status`; every string in
// `needles` must be in its message. Returns the error for further checks.
inline minknow::Error expect_error(const std::function<void()> &f, minknow_status status,
                                   std::initializer_list<std::string> needles = {}) {
    try {
        f();
    } catch (const minknow::Error &e) {
        EXPECT_EQ(e.status(), status) << "got " << e.status_name() << ": " << e.what();
        for (const auto &needle : needles) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
                << "'" << needle << "' is not in the message: " << e.what();
        }
        return e;
    }
    ADD_FAILURE() << "no minknow::Error thrown; expected " << minknow_status_name(status);
    return minknow::Error(MINKNOW_STATUS_OK, -1, "no error");
}

// Whoami's answer on `channel` is the expected caller, on the channel's port.
inline void expect_caller(const minknow::Channel &channel, const std::string &header,
                          const std::string &kind, const std::string &subject) {
    WhoAmI me = whoami(channel);
    EXPECT_EQ(me.token_header, header);
    EXPECT_EQ(me.token_kind, kind);
    if (subject.empty()) {
        EXPECT_EQ(me.client_certificate_subject, "");
    } else {
        EXPECT_NE(me.client_certificate_subject.find(subject), std::string::npos)
            << me.client_certificate_subject;
    }
    EXPECT_EQ(me.port, channel.port()) << "whoami answered on another port";
}

}  // namespace simtest

#endif  // MINKNOW_AUTH_TEST_COMMON_HPP
