/*
 * The header must be self-contained, idempotent (included twice in one
 * translation unit) and valid both as C11 and as C++17. tests/c_abi.rs
 * compiles this file both ways with warnings as errors.
 */
#include "minknow_auth.h"
#include "minknow_auth.h"

#ifdef __cplusplus
#define MINKNOW_TEST_STATIC_ASSERT(cond, why) static_assert(cond, why)
#else
#define MINKNOW_TEST_STATIC_ASSERT(cond, why) _Static_assert(cond, why)
#endif

MINKNOW_TEST_STATIC_ASSERT(MINKNOW_STATUS_OK == 0, "OK is zero");
MINKNOW_TEST_STATIC_ASSERT(MINKNOW_STATUS_FILE_ERROR == 200, "codes are stable");
MINKNOW_TEST_STATIC_ASSERT(MINKNOW_LOCAL_TOKEN_MODE_OFF == 2, "modes are stable");
MINKNOW_TEST_STATIC_ASSERT(MINKNOW_PORT_DEFAULT == -1, "default port marker");
MINKNOW_TEST_STATIC_ASSERT(MINKNOW_MAX_MESSAGE_BYTES == 16777216, "16 MiB");

/* Every function is declared with C linkage and the expected type. */
static minknow_status (*const connect_fn)(const char *, int32_t, const minknow_options *,
                                          minknow_channel **, minknow_error **) = minknow_connect;
static void (*const free_fn)(minknow_channel *) = minknow_channel_free;

int main(void) {
    (void)connect_fn;
    (void)free_fn;
    return MINKNOW_STATUS_OK;
}
