/*
 * The main job: connect to a MinKNOW manager, print its version and host,
 * list the flow cell positions, open each running one and ask it for its
 * version through a raw call, and print a table.
 *
 *   positions [--host H] [--port P] [--ca FILE] [--cert CHAIN --key KEY]
 *             [--token DEVELOPER_TOKEN] [--server-name NAME]
 *
 * Anything not given on the command line comes from MinKNOW's environment
 * variables (MINKNOW_TRUSTED_CA, MINKNOW_API_CLIENT_CERTIFICATE_CHAIN,
 * MINKNOW_API_CLIENT_KEY, PROTOCOL_TOKEN, ...), as the Python client does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minknow_auth.h"

struct args {
    const char *host;
    int port;
    const char *ca;
    const char *cert;
    const char *key;
    const char *token;
    const char *server_name;
};

static int usage(const char *why) {
    fprintf(stderr, "positions: %s\n", why);
    fprintf(stderr, "usage: positions [--host H] [--port P] [--ca FILE] "
                    "[--cert CHAIN --key KEY] [--token T] [--server-name NAME]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct args *a) {
    a->host = "localhost";
    a->port = MINKNOW_PORT_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc) return usage("every option takes a value");
        const char *value = argv[++i];
        if (strcmp(opt, "--host") == 0) a->host = value;
        else if (strcmp(opt, "--port") == 0) a->port = atoi(value);
        else if (strcmp(opt, "--ca") == 0) a->ca = value;
        else if (strcmp(opt, "--cert") == 0) a->cert = value;
        else if (strcmp(opt, "--key") == 0) a->key = value;
        else if (strcmp(opt, "--token") == 0) a->token = value;
        else if (strcmp(opt, "--server-name") == 0) a->server_name = value;
        else return usage("unknown option");
    }
    if ((a->cert == NULL) != (a->key == NULL)) return usage("--cert and --key go together");
    return 0;
}

/* Print the error, free it, and return 1. */
static int fail(const char *what, minknow_status status, minknow_error *err) {
    fprintf(stderr, "positions: %s failed (%s): %s\n", what, minknow_status_name(status),
            minknow_error_message(err));
    minknow_error_free(err);
    return 1;
}

static minknow_status build_options(const struct args *a, minknow_options **out,
                                    minknow_error **err) {
    minknow_status s = minknow_options_new(out, err);
    if (s == MINKNOW_STATUS_OK && a->ca) s = minknow_options_add_ca_file(*out, a->ca, err);
    if (s == MINKNOW_STATUS_OK && a->cert)
        s = minknow_options_set_client_certificate_files(*out, a->cert, a->key, err);
    if (s == MINKNOW_STATUS_OK && a->token)
        s = minknow_options_set_developer_token(*out, a->token, err);
    if (s == MINKNOW_STATUS_OK && a->server_name)
        s = minknow_options_set_server_name(*out, a->server_name, err);
    return s;
}

static void print_manager(minknow_channel *manager) {
    minknow_version_info *version = NULL;
    minknow_host_info *host = NULL;
    minknow_error *err = NULL;
    if (minknow_manager_version(manager, &version, &err) == MINKNOW_STATUS_OK)
        printf("MinKNOW %s on %s:%u\n", minknow_version_info_full(version),
               minknow_channel_host(manager), (unsigned)minknow_channel_port(manager));
    else
        fail("get_version_info", minknow_error_status(err), err);
    err = NULL;
    if (minknow_manager_describe_host(manager, &host, &err) == MINKNOW_STATUS_OK)
        printf("host: %s (%s), serial %s, network name %s\n",
               minknow_host_info_description(host), minknow_host_info_product_code(host),
               minknow_host_info_serial(host), minknow_host_info_network_name(host));
    else
        fail("describe_host", minknow_error_status(err), err);
    minknow_version_info_free(version);
    minknow_host_info_free(host);
}

/*
 * Decode the `full` version string (field 4 of field 1) from a serialized
 * GetVersionInfoResponse: enough protobuf to show that raw calls work.
 */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

static int find_field(const uint8_t *p, const uint8_t *end, uint64_t field,
                      const uint8_t **out, size_t *len) {
    while (p < end) {
        uint64_t key, n;
        if (!read_varint(&p, end, &key)) return 0;
        switch (key & 7) {
        case 0: if (!read_varint(&p, end, &n)) return 0; break;
        case 1: p += 8; break;
        case 5: p += 4; break;
        case 2:
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p)) return 0;
            if ((key >> 3) == field) { *out = p; *len = (size_t)n; return 1; }
            p += n;
            break;
        default: return 0;
        }
    }
    return 0;
}

static void version_of(const minknow_buffer *reply, char *out, size_t size) {
    const uint8_t *data = minknow_buffer_data(reply), *minknow, *full;
    size_t len = minknow_buffer_len(reply), minknow_len, full_len;
    snprintf(out, size, "?");
    if (find_field(data, data + len, 1, &minknow, &minknow_len) &&
        find_field(minknow, minknow + minknow_len, 4, &full, &full_len))
        snprintf(out, size, "%.*s", (int)full_len, (const char *)full);
}

static void print_position(minknow_channel *manager, const minknow_positions *list, size_t i) {
    const char *name = minknow_positions_name(list, i);
    char version[128] = "-";
    if (minknow_positions_state(list, i) == 1) {
        minknow_channel *position = NULL;
        minknow_buffer *reply = NULL;
        minknow_error *err = NULL;
        minknow_status s = minknow_channel_open_position(manager, name, &position, &err);
        if (s == MINKNOW_STATUS_OK)
            s = minknow_unary(position, "/minknow_api.instance.InstanceService/get_version_info",
                              NULL, 0, 10000, &reply, &err);
        if (s == MINKNOW_STATUS_OK)
            version_of(reply, version, sizeof version);
        else
            snprintf(version, sizeof version, "error: %s", minknow_error_message(err));
        minknow_buffer_free(reply);
        minknow_error_free(err);
        minknow_channel_free(position);
    }
    printf("%-8s %-18s %-6u %-10s %s\n", name, minknow_positions_state_name(list, i),
           (unsigned)minknow_positions_secure_port(list, i),
           minknow_positions_is_simulated(list, i) ? "yes" : "no", version);
}

int main(int argc, char **argv) {
    struct args a = {0};
    int bad = parse_args(argc, argv, &a);
    if (bad) return bad;

    minknow_error *err = NULL;
    minknow_options *options = NULL;
    minknow_channel *manager = NULL;
    minknow_status s = build_options(&a, &options, &err);
    if (s != MINKNOW_STATUS_OK) return fail("options", s, err);
    s = minknow_connect(a.host, a.port, options, &manager, &err);
    minknow_options_free(options);
    if (s != MINKNOW_STATUS_OK) return fail("connect", s, err);

    print_manager(manager);
    minknow_positions *list = NULL;
    s = minknow_manager_positions(manager, &list, &err);
    if (s != MINKNOW_STATUS_OK) {
        minknow_channel_free(manager);
        return fail("flow_cell_positions", s, err);
    }
    printf("\n%-8s %-18s %-6s %-10s %s\n", "POSITION", "STATE", "PORT", "SIMULATED", "VERSION");
    for (size_t i = 0; i < minknow_positions_count(list); i++)
        print_position(manager, list, i);
    minknow_positions_free(list);
    minknow_channel_free(manager);
    return 0;
}
