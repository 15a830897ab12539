// The header's version macros, the library loaded at run time and
// Cargo.toml (MINKNOW_EXPECTED_VERSION, read by CMakeLists.txt) agree.
#include <gtest/gtest.h>

#include <string>

#include <minknow_auth.hpp>

int minknow_auth_test_header_twice();

TEST(Version, MacrosLibraryAndCargoTomlAgree) {
    std::string macros = std::to_string(MINKNOW_AUTH_VERSION_MAJOR) + "." +
                         std::to_string(MINKNOW_AUTH_VERSION_MINOR) + "." +
                         std::to_string(MINKNOW_AUTH_VERSION_PATCH);
    EXPECT_EQ(macros, MINKNOW_EXPECTED_VERSION);
    EXPECT_EQ(minknow::library_version(), MINKNOW_EXPECTED_VERSION);
    EXPECT_EQ(minknow_auth_version_number(), minknow::header_version_number);
    EXPECT_TRUE(minknow::header_matches_library());
    EXPECT_EQ(minknow_auth_test_header_twice(), MINKNOW_STATUS_OK);
}
