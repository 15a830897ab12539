// The suite's main: MinKNOW's environment variables would change which
// credentials a channel uses, so they are cleared before any test runs
// (and before the library starts a thread).
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char **argv) {
    for (const char *name : {"MINKNOW_TRUSTED_CA", "MINKNOW_API_CLIENT_CERTIFICATE_CHAIN",
                             "MINKNOW_API_CLIENT_KEY", "MINKNOW_API_USE_LOCAL_TOKEN",
                             "PROTOCOL_TOKEN", "MINKNOW_RPC_PORT_SECURE"}) {
        unsetenv(name);
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
