// Both headers, each included twice, compiled as C++17 with
// -Wall -Wextra -pedantic -Werror: part of the GoogleTest suite, and
// compiled on its own by tests/c_abi.rs.
#include "minknow_auth.hpp"
#include "minknow_auth.hpp"
#include "minknow_auth.h"
#include "minknow_auth.h"

static_assert(minknow::header_version_number ==
                  MINKNOW_AUTH_VERSION_MAJOR * 10000u + MINKNOW_AUTH_VERSION_MINOR * 100u +
                      MINKNOW_AUTH_VERSION_PATCH,
              "version number from the macros");

// Every C handle type has its owner (and a plain value type for the rest).
static_assert(sizeof(minknow::Channel) == sizeof(minknow_channel *), "one pointer");
static_assert(sizeof(minknow::Call) == sizeof(minknow_call *), "one pointer");

// Something with linkage so the unit is not empty.
int minknow_auth_test_header_twice() { return MINKNOW_STATUS_OK; }
