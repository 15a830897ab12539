/*
 * The C API from C, against a running minknow-sim in client-certificate
 * mode. Started by tests/c_abi.rs:
 *
 *   test_abi HOST MANAGER_PORT CA CERT KEY X1_PORT X2_PORT
 *
 * with MINKNOW_TRUSTED_CA, MINKNOW_API_CLIENT_CERTIFICATE_CHAIN and
 * MINKNOW_API_CLIENT_KEY set to the same files. Prints one line per failed
 * check, then "N passed, M failed" as its last line; exits non-zero when
 * any check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minknow_auth.h"

static int passed, failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

/* Check a status, and on a mismatch say what the error object said. */
#define CHECK_STATUS(got, want, err)                                                 \
    do {                                                                             \
        minknow_status got_ = (got);                                                 \
        if (got_ == (want)) {                                                        \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            fprintf(stderr, "%s:%d: %s gave %s, wanted %s: %s\n", __FILE__, __LINE__, \
                    #got, minknow_status_name(got_), minknow_status_name(want),      \
                    minknow_error_message(err));                                     \
        }                                                                            \
    } while (0)

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a little protobuf: enough for the test service ---- */

static size_t put_varint(uint8_t *out, uint64_t value) {
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

/* StreamRequest { count = 1; size = 2; interval_ms = 3 } */
static size_t stream_request(uint8_t *out, uint32_t count, uint32_t size, uint32_t interval_ms) {
    size_t n = 0;
    out[n++] = 1 << 3;
    n += put_varint(out + n, count);
    out[n++] = 2 << 3;
    n += put_varint(out + n, size);
    out[n++] = 3 << 3;
    n += put_varint(out + n, interval_ms);
    return n;
}

struct cursor {
    const uint8_t *at;
    const uint8_t *end;
};

static int get_varint(struct cursor *c, uint64_t *value) {
    unsigned shift = 0;
    *value = 0;
    while (c->at < c->end && shift < 64) {
        uint8_t byte = *c->at++;
        *value |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return 1;
        shift += 7;
    }
    return 0;
}

/*
 * Find field `wanted` in a message. Length-delimited fields give their bytes
 * in *bytes and *len; varints give their value in *number. Returns 1 if found.
 */
static int field(const uint8_t *data, size_t size, uint32_t wanted, const uint8_t **bytes,
                 size_t *len, uint64_t *number) {
    struct cursor c = {data, data + size};
    while (c.at < c.end) {
        uint64_t key, value;
        if (!get_varint(&c, &key)) return 0;
        uint32_t number_of_field = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0:
            if (!get_varint(&c, &value)) return 0;
            if (number_of_field == wanted && number) {
                *number = value;
                return 1;
            }
            break;
        case 2:
            if (!get_varint(&c, &value) || value > (uint64_t)(c.end - c.at)) return 0;
            if (number_of_field == wanted && bytes) {
                *bytes = c.at;
                *len = (size_t)value;
                return 1;
            }
            c.at += value;
            break;
        default:
            return 0; /* fixed-width fields do not occur in these messages */
        }
    }
    return 0;
}

/* Copy string field `wanted` of a buffer into out ("" when absent). */
static void string_field(const minknow_buffer *buffer, uint32_t wanted, char *out, size_t size) {
    const uint8_t *bytes = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (field(minknow_buffer_data(buffer), minknow_buffer_len(buffer), wanted, &bytes, &len,
              NULL))
        snprintf(out, size, "%.*s", (int)len, (const char *)bytes);
}

/* ---- shared setup ---- */

struct target {
    const char *host;
    int port;
    const char *ca;
    const char *cert;
    const char *key;
    int x1_port;
    int x2_port;
};

static minknow_options *explicit_options(const struct target *t) {
    minknow_options *options = NULL;
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_options_new(&options, &err), MINKNOW_STATUS_OK, err);
    CHECK_STATUS(minknow_options_set_use_environment(options, false, &err), MINKNOW_STATUS_OK,
                 err);
    CHECK_STATUS(minknow_options_add_ca_file(options, t->ca, &err), MINKNOW_STATUS_OK, err);
    CHECK_STATUS(minknow_options_set_client_certificate_files(options, t->cert, t->key, &err),
                 MINKNOW_STATUS_OK, err);
    CHECK_STATUS(minknow_options_set_connect_timeout_ms(options, 5000, &err), MINKNOW_STATUS_OK,
                 err);
    return options;
}

static minknow_channel *connect_explicit(const struct target *t) {
    minknow_options *options = explicit_options(t);
    minknow_channel *channel = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_connect(t->host, t->port, options, &channel, &err);
    minknow_options_free(options); /* the channel copied what it needs */
    CHECK_STATUS(s, MINKNOW_STATUS_OK, err);
    CHECK((s == MINKNOW_STATUS_OK) == (channel != NULL));
    CHECK(err == NULL || s != MINKNOW_STATUS_OK);
    minknow_error_free(err);
    return channel;
}

/* The client certificate subject whoami reports on `channel`. */
static void whoami_subject(minknow_channel *channel, char *out, size_t size) {
    minknow_buffer *reply = NULL;
    minknow_error *err = NULL;
    out[0] = '\0';
    minknow_status s = minknow_unary(channel, "/minknow_sim.TestService/whoami", NULL, 0, 10000,
                                     &reply, &err);
    CHECK_STATUS(s, MINKNOW_STATUS_OK, err);
    if (s == MINKNOW_STATUS_OK) string_field(reply, 3, out, size);
    minknow_buffer_free(reply);
    minknow_error_free(err);
}

/* ---- the tests ---- */

static void test_version(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", MINKNOW_AUTH_VERSION_MAJOR,
             MINKNOW_AUTH_VERSION_MINOR, MINKNOW_AUTH_VERSION_PATCH);
    CHECK(minknow_auth_version() != NULL);
    CHECK(strcmp(minknow_auth_version(), expected) == 0);
    CHECK(minknow_auth_version_number() ==
          (uint32_t)(MINKNOW_AUTH_VERSION_MAJOR * 10000 + MINKNOW_AUTH_VERSION_MINOR * 100 +
                     MINKNOW_AUTH_VERSION_PATCH));
    CHECK(MINKNOW_MAX_MESSAGE_BYTES == 16 * 1024 * 1024);
}

static void test_status_names(void) {
    CHECK(strcmp(minknow_status_name(MINKNOW_STATUS_OK), "ok") == 0);
    CHECK(strcmp(minknow_status_name(MINKNOW_STATUS_FILE_ERROR), "file error") == 0);
    const minknow_status all[] = {
        MINKNOW_STATUS_END_OF_STREAM,     MINKNOW_STATUS_NULL_ARGUMENT,
        MINKNOW_STATUS_INVALID_ARGUMENT,  MINKNOW_STATUS_CERTIFICATE_VERIFY_FAILED,
        MINKNOW_STATUS_UNAUTHENTICATED,   MINKNOW_STATUS_CANCELLED,
        MINKNOW_STATUS_POSITION_NOT_FOUND, MINKNOW_STATUS_INTERNAL,
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *name = minknow_status_name(all[i]);
        CHECK(name != NULL && name[0] != '\0');
        CHECK(strcmp(name, "ok") != 0);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(name, minknow_status_name(all[j])) != 0);
    }
}

static void test_free_accepts_null(void) {
    minknow_buffer_free(NULL);
    minknow_call_free(NULL);
    minknow_call_cancel(NULL);
    minknow_channel_free(NULL);
    minknow_error_free(NULL);
    minknow_version_info_free(NULL);
    minknow_host_info_free(NULL);
    minknow_positions_free(NULL);
    minknow_options_free(NULL);
    CHECK(minknow_error_status(NULL) == MINKNOW_STATUS_NULL_ARGUMENT);
    CHECK(minknow_error_grpc_status(NULL) == -1);
    CHECK(strcmp(minknow_error_message(NULL), "") == 0);
    CHECK(minknow_buffer_data(NULL) == NULL && minknow_buffer_len(NULL) == 0);
    CHECK(strcmp(minknow_channel_host(NULL), "") == 0 && minknow_channel_port(NULL) == 0);
    CHECK(minknow_positions_count(NULL) == 0 && minknow_positions_state(NULL, 0) == -1);
}

static void test_error_objects(const struct target *t) {
    minknow_options *options = NULL;
    minknow_channel *channel = (minknow_channel *)&options; /* must be reset to NULL */
    minknow_error *err = NULL;
    const char *missing = "/nonexistent/minknow-auth-test/ca.crt";
    minknow_options_new(&options, NULL);
    minknow_options_set_use_environment(options, false, NULL);
    minknow_options_add_ca_file(options, missing, NULL);
    minknow_status s = minknow_connect(t->host, t->port, options, &channel, &err);
    CHECK_STATUS(s, MINKNOW_STATUS_FILE_ERROR, err);
    CHECK(channel == NULL);
    CHECK(err != NULL);
    CHECK(minknow_error_status(err) == MINKNOW_STATUS_FILE_ERROR);
    CHECK(minknow_error_grpc_status(err) == -1);
    CHECK(contains(minknow_error_message(err), missing));
    minknow_error_free(err);

    /* Without an error slot the status still comes back. */
    CHECK(minknow_connect(t->host, t->port, options, &channel, NULL) ==
          MINKNOW_STATUS_FILE_ERROR);
    minknow_options_free(options);

    /* NULL where a value is required. */
    err = NULL;
    CHECK_STATUS(minknow_connect(NULL, t->port, NULL, &channel, &err),
                 MINKNOW_STATUS_NULL_ARGUMENT, err);
    CHECK(contains(minknow_error_message(err), "host"));
    minknow_error_free(err);
    err = NULL;
    CHECK_STATUS(minknow_connect(t->host, 0, NULL, &channel, &err),
                 MINKNOW_STATUS_INVALID_ARGUMENT, err);
    CHECK(contains(minknow_error_message(err), "port"));
    minknow_error_free(err);
}

static void test_manager(minknow_channel *manager, const struct target *t) {
    minknow_version_info *version = NULL;
    minknow_host_info *host = NULL;
    minknow_error *err = NULL;
    CHECK(strcmp(minknow_channel_host(manager), t->host) == 0);
    CHECK(minknow_channel_port(manager) == t->port);
    CHECK_STATUS(minknow_manager_version(manager, &version, &err), MINKNOW_STATUS_OK, err);
    CHECK(minknow_version_info_major(version) == 6 && minknow_version_info_minor(version) == 3 &&
          minknow_version_info_patch(version) == 7);
    CHECK(strcmp(minknow_version_info_full(version), "6.3.7-sim") == 0);
    minknow_version_info_free(version);
    CHECK_STATUS(minknow_manager_describe_host(manager, &host, &err), MINKNOW_STATUS_OK, err);
    CHECK(strcmp(minknow_host_info_product_code(host), "GRD-SIM") == 0);
    CHECK(strcmp(minknow_host_info_serial(host), "SIM0001") == 0);
    minknow_host_info_free(host);
}

static void test_positions(minknow_channel *manager, const struct target *t) {
    minknow_positions *list = NULL;
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_manager_positions(manager, &list, &err), MINKNOW_STATUS_OK, err);
    CHECK(minknow_positions_count(list) == 3);
    CHECK(strcmp(minknow_positions_name(list, 0), "X1") == 0);
    CHECK(strcmp(minknow_positions_name(list, 1), "X2") == 0);
    CHECK(strcmp(minknow_positions_name(list, 2), "X3") == 0);
    CHECK(minknow_positions_secure_port(list, 0) == t->x1_port);
    CHECK(minknow_positions_secure_port(list, 1) == t->x2_port);
    CHECK(minknow_positions_state(list, 0) == 1);
    CHECK(strcmp(minknow_positions_state_name(list, 0), "running") == 0);
    CHECK(minknow_positions_state(list, 2) == 3 && minknow_positions_secure_port(list, 2) == 0);
    CHECK(strcmp(minknow_positions_state_name(list, 2), "hardware_removed") == 0);
    CHECK(minknow_positions_is_simulated(list, 0));
    CHECK(strcmp(minknow_positions_name(list, 3), "") == 0); /* out of range */
    minknow_positions_free(list);
}

static void test_open_position(minknow_channel *manager, const struct target *t) {
    minknow_channel *x1 = NULL;
    minknow_buffer *reply = NULL;
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_channel_open_position(manager, "X1", &x1, &err), MINKNOW_STATUS_OK, err);
    CHECK(minknow_channel_port(x1) == t->x1_port);
    CHECK_STATUS(minknow_unary(x1, "/minknow_api.instance.InstanceService/get_version_info", NULL,
                               0, 10000, &reply, &err),
                 MINKNOW_STATUS_OK, err);
    /* GetVersionInfoResponse.minknow (1) . full (4) */
    const uint8_t *minknow = NULL, *full = NULL;
    size_t minknow_len = 0, full_len = 0;
    int found = field(minknow_buffer_data(reply), minknow_buffer_len(reply), 1, &minknow,
                      &minknow_len, NULL) &&
                field(minknow, minknow_len, 4, &full, &full_len, NULL);
    CHECK(found);
    CHECK(found && full_len == strlen("6.3.7-sim X1") && memcmp(full, "6.3.7-sim X1", full_len) == 0);
    minknow_buffer_free(reply);

    char subject[256];
    whoami_subject(x1, subject, sizeof subject);
    CHECK(strcmp(subject, "minknow-sim client") == 0);

    /* An unknown method: the gRPC status comes through. */
    reply = NULL;
    CHECK_STATUS(minknow_unary(x1, "/minknow_sim.TestService/nope", NULL, 0, 10000, &reply, &err),
                 MINKNOW_STATUS_RPC_FAILED, err);
    CHECK(minknow_error_grpc_status(err) == 12);
    CHECK(reply == NULL);
    minknow_error_free(err);
    err = NULL;

    minknow_channel *x3 = NULL;
    CHECK_STATUS(minknow_channel_open_position(manager, "X3", &x3, &err),
                 MINKNOW_STATUS_POSITION_NOT_RUNNING, err);
    CHECK(x3 == NULL && contains(minknow_error_message(err), "X3"));
    minknow_error_free(err);
    minknow_channel_free(x1);
}

static void test_server_stream(minknow_channel *manager) {
    uint8_t request[32];
    size_t request_len = stream_request(request, 5, 100, 0);
    minknow_call *call = NULL;
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_call_start(manager, "/minknow_sim.TestService/server_stream", 10000,
                                    &call, &err),
                 MINKNOW_STATUS_OK, err);
    CHECK_STATUS(minknow_call_send(call, request, request_len, &err), MINKNOW_STATUS_OK, err);
    CHECK_STATUS(minknow_call_close_send(call, &err), MINKNOW_STATUS_OK, err);
    int received = 0;
    minknow_status s;
    minknow_buffer *message = NULL;
    /* Bounded: the server sends 5; a sixth or more is a failure. */
    while ((s = minknow_call_recv(call, &message, &err)) == MINKNOW_STATUS_OK && received < 10) {
        const uint8_t *payload = NULL;
        size_t len = 0;
        uint64_t sequence = 0;
        const uint8_t *data = minknow_buffer_data(message);
        size_t size = minknow_buffer_len(message);
        CHECK(field(data, size, 1, &payload, &len, NULL) && len == 100);
        /* sequence 0 is the proto3 default and is not on the wire */
        CHECK(field(data, size, 2, NULL, NULL, &sequence) ? sequence == (uint64_t)received
                                                           : received == 0);
        minknow_buffer_free(message);
        message = NULL;
        received++;
    }
    CHECK_STATUS(s, MINKNOW_STATUS_END_OF_STREAM, err);
    CHECK(received == 5);
    CHECK(message == NULL && err == NULL);
    CHECK_STATUS(minknow_call_send(call, request, request_len, &err), MINKNOW_STATUS_INVALID_STATE,
                 err);
    minknow_error_free(err);
    minknow_call_free(call);
}

struct blocked_recv {
    minknow_call *call;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int started;
    int done;
    minknow_status status;
    double returned_at;
};

static void *receive(void *arg) {
    struct blocked_recv *r = arg;
    pthread_mutex_lock(&r->lock);
    r->started = 1;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);

    minknow_buffer *message = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_call_recv(r->call, &message, &err);
    minknow_buffer_free(message);
    minknow_error_free(err);

    pthread_mutex_lock(&r->lock);
    r->status = s;
    r->returned_at = now_seconds();
    r->done = 1;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Wait for `flag` to become non-zero, at most `seconds`; 1 if it did. */
static int wait_for(struct blocked_recv *r, const int *flag, int seconds) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += seconds;
    pthread_mutex_lock(&r->lock);
    int rc = 0;
    while (!*flag && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&r->changed, &r->lock, &until);
    int ok = *flag != 0;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void test_cancel_from_another_thread(minknow_channel *manager) {
    uint8_t request[32];
    /* One message, then the next only after an hour. */
    size_t request_len = stream_request(request, 2, 10, 3600000);
    struct blocked_recv r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.changed, NULL);
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_call_start(manager, "/minknow_sim.TestService/server_stream", 0, &r.call,
                                    &err),
                 MINKNOW_STATUS_OK, err);
    minknow_call_send(r.call, request, request_len, NULL);
    minknow_call_close_send(r.call, NULL);
    minknow_buffer *first = NULL;
    CHECK_STATUS(minknow_call_recv(r.call, &first, &err), MINKNOW_STATUS_OK, err);
    minknow_buffer_free(first);

    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, receive, &r) == 0);
    CHECK(wait_for(&r, &r.started, 10));
    double cancelled_at = now_seconds();
    minknow_call_cancel(r.call);
    int returned = wait_for(&r, &r.done, 10);
    CHECK(returned);
    if (returned) {
        pthread_join(thread, NULL);
        CHECK_STATUS(r.status, MINKNOW_STATUS_CANCELLED, NULL);
        CHECK(r.returned_at - cancelled_at < 2.0);
        minknow_call_free(r.call);
    } else {
        /* A hung recv: leave the thread and the call, and fail. */
        fprintf(stderr, "recv did not return within 10 s of cancel\n");
    }
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.changed);
}

static void test_environment(const struct target *t) {
    minknow_channel *channel = NULL;
    minknow_error *err = NULL;
    char subject[256];

    /* Defaults read MINKNOW_TRUSTED_CA and the client certificate pair. */
    CHECK_STATUS(minknow_connect(t->host, t->port, NULL, &channel, &err), MINKNOW_STATUS_OK, err);
    if (channel) {
        whoami_subject(channel, subject, sizeof subject);
        CHECK(strcmp(subject, "minknow-sim client") == 0);
        minknow_channel_free(channel);
        channel = NULL;
    }
    minknow_error_free(err);
    err = NULL;

    /* The explicit certificate with the CA from MINKNOW_TRUSTED_CA. */
    CHECK_STATUS(minknow_connect_with_certificate(t->host, t->port, NULL, t->cert, t->key, &channel,
                                                  &err),
                 MINKNOW_STATUS_OK, err);
    minknow_channel_free(channel);
    channel = NULL;
    minknow_error_free(err);
    err = NULL;

    /* A variable naming a missing file is an error naming the variable. */
    const char *key = getenv("MINKNOW_API_CLIENT_KEY");
    char saved_key[4096];
    snprintf(saved_key, sizeof saved_key, "%s", key ? key : "");
    setenv("MINKNOW_API_CLIENT_KEY", "/nonexistent/minknow-auth-test/client.key", 1);
    CHECK_STATUS(minknow_connect(t->host, t->port, NULL, &channel, &err), MINKNOW_STATUS_FILE_ERROR,
                 err);
    CHECK(contains(minknow_error_message(err), "MINKNOW_API_CLIENT_KEY"));
    CHECK(contains(minknow_error_message(err), "/nonexistent/minknow-auth-test/client.key"));
    minknow_error_free(err);
    err = NULL;

    /* The chain alone is ignored (as the reference client does): then this
     * certificate-only simulator refuses the call, and the message says why. */
    unsetenv("MINKNOW_API_CLIENT_KEY");
    CHECK_STATUS(minknow_connect(t->host, t->port, NULL, &channel, &err),
                 MINKNOW_STATUS_UNAUTHENTICATED, err);
    CHECK(contains(minknow_error_message(err), "MINKNOW_API_CLIENT_KEY"));
    minknow_error_free(err);
    err = NULL;
    setenv("MINKNOW_API_CLIENT_KEY", saved_key, 1);

    /* MINKNOW_TRUSTED_CA naming a missing file: the default locations are
     * tried next, none exists on a test machine, and the error names the
     * variable and its path. */
    minknow_options *options = NULL;
    minknow_options_new(&options, NULL);
    const char *ca = getenv("MINKNOW_TRUSTED_CA");
    char saved_ca[4096];
    snprintf(saved_ca, sizeof saved_ca, "%s", ca ? ca : "");
    setenv("MINKNOW_TRUSTED_CA", "/nonexistent/minknow-auth-test/ca.crt", 1);
    CHECK_STATUS(minknow_connect(t->host, t->port, options, &channel, &err),
                 MINKNOW_STATUS_NO_TRUSTED_CA, err);
    CHECK(contains(minknow_error_message(err), "MINKNOW_TRUSTED_CA"));
    CHECK(contains(minknow_error_message(err), "/nonexistent/minknow-auth-test/ca.crt"));
    minknow_error_free(err);
    setenv("MINKNOW_TRUSTED_CA", saved_ca, 1);
    minknow_options_free(options);
    CHECK(channel == NULL);
}

static int parse_port(const char *text) {
    char *end = NULL;
    long value = strtol(text, &end, 10);
    return (end != text && *end == '\0' && value > 0 && value < 65536) ? (int)value : -1;
}

/* The log callback: messages arrive while connecting, name the steps,
 * hold no PEM; replacing the callback destroys its user data once. */
struct log_sink {
    pthread_mutex_t lock;
    int lines;
    int saw_ca_step;
    int saw_tls_step;
    int saw_pem;
    int destroyed;
};

static void on_log(void *user_data, int32_t level, const char *message) {
    struct log_sink *sink = user_data;
    pthread_mutex_lock(&sink->lock);
    sink->lines++;
    if (level < MINKNOW_LOG_LEVEL_ERROR || level > MINKNOW_LOG_LEVEL_TRACE) sink->saw_pem = 1;
    if (contains(message, "trusted CA:")) sink->saw_ca_step = 1;
    if (contains(message, "TLS up with")) sink->saw_tls_step = 1;
    if (contains(message, "-----BEGIN")) sink->saw_pem = 1;
    pthread_mutex_unlock(&sink->lock);
}

static void on_destroy(void *user_data) {
    struct log_sink *sink = user_data;
    sink->destroyed++;
}

static void test_log_callback(const struct target *t) {
    struct log_sink sink = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, 0};
    minknow_error *err = NULL;
    CHECK_STATUS(minknow_set_log_callback(MINKNOW_LOG_LEVEL_DEBUG, on_log, &sink, on_destroy, &err),
                 MINKNOW_STATUS_OK, err);
    minknow_channel *channel = connect_explicit(t);
    minknow_channel_free(channel);
    CHECK_STATUS(minknow_set_log_callback(MINKNOW_LOG_LEVEL_OFF, NULL, NULL, NULL, &err),
                 MINKNOW_STATUS_OK, err);
    CHECK(sink.lines > 0);
    CHECK(sink.saw_ca_step);
    CHECK(sink.saw_tls_step);
    CHECK(!sink.saw_pem);
    CHECK(sink.destroyed == 1);
    CHECK(minknow_set_log_callback(42, on_log, &sink, on_destroy, NULL) ==
          MINKNOW_STATUS_INVALID_ARGUMENT);
    CHECK(sink.destroyed == 2);
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: test_abi HOST MANAGER_PORT CA CERT KEY X1_PORT X2_PORT\n");
        return 2;
    }
    struct target t = {argv[1], parse_port(argv[2]), argv[3], argv[4], argv[5],
                       parse_port(argv[6]), parse_port(argv[7])};
    if (t.port < 0 || t.x1_port < 0 || t.x2_port < 0) {
        fprintf(stderr, "test_abi: bad port argument\n");
        return 2;
    }

    test_version();
    test_status_names();
    test_free_accepts_null();
    test_error_objects(&t);
    minknow_channel *manager = connect_explicit(&t);
    if (manager) {
        test_manager(manager, &t);
        test_positions(manager, &t);
        test_open_position(manager, &t);
        test_server_stream(manager);
        test_cancel_from_another_thread(manager);
        minknow_channel_free(manager);
    }
    test_log_callback(&t);
    test_environment(&t);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
