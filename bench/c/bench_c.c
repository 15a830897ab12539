/*
 * The benchmark client on libminknow_auth. One piece of work per process,
 * one JSON line on stdout:
 *
 *   bench_c cold      HOST PORT
 *   bench_c unary     HOST PORT THREADS CALLS
 *   bench_c positions HOST PORT seq|par
 *   bench_c stream    HOST PORT SIZE COUNT
 *   bench_c bidi      HOST PORT SIZE COUNT
 *
 * The CA comes from MINKNOW_TRUSTED_CA and the local token from the
 * manager, as for every MinKNOW client on this machine.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "minknow_auth.h"

#define VERSION_METHOD "/minknow_api.manager.ManagerService/get_version_info"
#define STREAM_METHOD "/minknow_sim.TestService/server_stream"
#define BIDI_METHOD "/minknow_sim.TestService/bidi_echo"

static void die(const char *what, minknow_status status, minknow_error *err) {
    fprintf(stderr, "bench_c: %s: %s: %s\n", what, minknow_status_name(status),
            minknow_error_message(err));
    minknow_error_free(err);
    exit(1);
}

static minknow_channel *connect_manager(const char *host, int port) {
    minknow_channel *manager = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_connect(host, port, NULL, &manager, &err);
    if (s != MINKNOW_STATUS_OK) die("connect", s, err);
    return manager;
}

static void version_call(const minknow_channel *channel) {
    minknow_buffer *reply = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_unary(channel, VERSION_METHOD, NULL, 0, 10000, &reply, &err);
    if (s != MINKNOW_STATUS_OK) die("get_version_info", s, err);
    minknow_buffer_free(reply);
}

static int cold(const char *host, int port) {
    minknow_channel *manager = connect_manager(host, port);
    minknow_version_info *info = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_manager_version(manager, &info, &err);
    if (s != MINKNOW_STATUS_OK) die("manager version", s, err);
    printf("{\"version\":\"%s\"}\n", minknow_version_info_full(info));
    fflush(stdout);
    minknow_version_info_free(info);
    minknow_channel_free(manager);
    return 0;
}

struct unary_job {
    const minknow_channel *channel;
    uint64_t *latencies;
    size_t calls;
};

static void *unary_worker(void *arg) {
    struct unary_job *job = arg;
    for (size_t i = 0; i < job->calls; i++) {
        uint64_t t0 = bench_now_ns();
        version_call(job->channel);
        job->latencies[i] = bench_now_ns() - t0;
    }
    return NULL;
}

static int unary(const char *host, int port, int threads, size_t calls) {
    minknow_channel *manager = connect_manager(host, port);
    for (int i = 0; i < 20; i++) version_call(manager); /* warm up */
    size_t per = calls / (size_t)threads;
    size_t total = per * (size_t)threads;
    uint64_t *lat = calloc(total, sizeof *lat);
    struct unary_job *jobs = calloc((size_t)threads, sizeof *jobs);
    pthread_t *tids = calloc((size_t)threads, sizeof *tids);
    uint64_t cpu0 = bench_cpu_ns(), t0 = bench_now_ns();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct unary_job){manager, lat + (size_t)t * per, per};
        pthread_create(&tids[t], NULL, unary_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    uint64_t wall = bench_now_ns() - t0, cpu = bench_cpu_ns() - cpu0;
    double p50 = bench_quantile(lat, total, 0.50), p99 = bench_quantile(lat, total, 0.99);
    printf("{\"calls\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"calls_per_s\":%.0f,"
           "\"cpu_us_per_call\":%.2f}\n",
           total, p50 / 1e3, p99 / 1e3, (double)total / ((double)wall / 1e9),
           (double)cpu / 1e3 / (double)total);
    free(lat);
    free(jobs);
    free(tids);
    minknow_channel_free(manager);
    return 0;
}

struct open_job {
    const minknow_channel *manager;
    int port;
    minknow_channel *channel;
};

/* Open a position's channel and make its first authenticated call, as the
 * Python client's Connection does (instance.get_version_info). */
static void *open_position(void *arg) {
    struct open_job *job = arg;
    minknow_error *err = NULL;
    minknow_status s = minknow_channel_open_port(job->manager, job->port, &job->channel, &err);
    if (s != MINKNOW_STATUS_OK) die("open position", s, err);
    minknow_version_info *info = NULL;
    s = minknow_position_version(job->channel, &info, &err);
    if (s != MINKNOW_STATUS_OK) die("position version", s, err);
    minknow_version_info_free(info);
    return NULL;
}

static int positions(const char *host, int port, int parallel) {
    minknow_channel *manager = connect_manager(host, port);
    long rss0 = bench_rss_kib();
    uint64_t t0 = bench_now_ns();
    minknow_positions *list = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_manager_positions(manager, &list, &err);
    if (s != MINKNOW_STATUS_OK) die("positions", s, err);
    size_t n = 0, count = minknow_positions_count(list);
    struct open_job *jobs = calloc(count, sizeof *jobs);
    for (size_t i = 0; i < count; i++) {
        uint16_t p = minknow_positions_secure_port(list, i);
        if (p != 0) jobs[n++] = (struct open_job){manager, p, NULL};
    }
    minknow_positions_free(list);
    if (parallel) {
        pthread_t *tids = calloc(n, sizeof *tids);
        for (size_t i = 0; i < n; i++) pthread_create(&tids[i], NULL, open_position, &jobs[i]);
        for (size_t i = 0; i < n; i++) pthread_join(tids[i], NULL);
        free(tids);
    } else {
        for (size_t i = 0; i < n; i++) open_position(&jobs[i]);
    }
    uint64_t wall = bench_now_ns() - t0;
    long rss = bench_rss_kib();
    printf("{\"positions\":%zu,\"ms\":%.1f,\"rss_kib\":%ld,\"rss_before_kib\":%ld}\n", n,
           (double)wall / 1e6, rss, rss0);
    for (size_t i = 0; i < n; i++) minknow_channel_free(jobs[i].channel);
    free(jobs);
    minknow_channel_free(manager);
    return 0;
}

static minknow_call *start(const minknow_channel *channel, const char *method) {
    minknow_call *call = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_call_start(channel, method, 120000, &call, &err);
    if (s != MINKNOW_STATUS_OK) die("call start", s, err);
    return call;
}

static void send_msg(minknow_call *call, const uint8_t *data, size_t len) {
    minknow_error *err = NULL;
    minknow_status s = minknow_call_send(call, data, len, &err);
    if (s != MINKNOW_STATUS_OK) die("send", s, err);
}

/* The next message, or NULL at the end of the stream. */
static minknow_buffer *recv_msg(minknow_call *call) {
    minknow_buffer *msg = NULL;
    minknow_error *err = NULL;
    minknow_status s = minknow_call_recv(call, &msg, &err);
    if (s == MINKNOW_STATUS_END_OF_STREAM) return NULL;
    if (s != MINKNOW_STATUS_OK) die("recv", s, err);
    return msg;
}

static int stream(const char *host, int port, uint32_t size, uint32_t count) {
    minknow_channel *manager = connect_manager(host, port);
    uint8_t req[32];
    size_t req_len = bench_stream_request(req, count, size);
    uint64_t cpu0 = bench_cpu_ns(), t0 = bench_now_ns();
    minknow_call *call = start(manager, STREAM_METHOD);
    send_msg(call, req, req_len);
    minknow_call_close_send(call, NULL);
    uint64_t bytes = 0, messages = 0;
    minknow_buffer *msg;
    while ((msg = recv_msg(call)) != NULL) {
        bytes += bench_chunk_payload_len(minknow_buffer_data(msg), minknow_buffer_len(msg));
        messages++;
        minknow_buffer_free(msg);
    }
    uint64_t wall = bench_now_ns() - t0, cpu = bench_cpu_ns() - cpu0;
    minknow_call_free(call);
    if (messages != count || bytes != (uint64_t)size * count) {
        fprintf(stderr, "bench_c: stream: got %llu messages, %llu bytes\n",
                (unsigned long long)messages, (unsigned long long)bytes);
        return 1;
    }
    double mb = (double)bytes / 1e6;
    printf("{\"messages\":%llu,\"mb_per_s\":%.1f,\"cpu_ms_per_mb\":%.3f}\n",
           (unsigned long long)messages, mb / ((double)wall / 1e9), (double)cpu / 1e6 / mb);
    minknow_channel_free(manager);
    return 0;
}

static int bidi(const char *host, int port, uint32_t size, uint32_t count) {
    minknow_channel *manager = connect_manager(host, port);
    uint8_t *chunk = malloc(size + 16);
    size_t n = 0;
    chunk[n++] = 0x0a;
    n += bench_put_varint(chunk + n, size);
    memset(chunk + n, 0x5a, size);
    n += size;
    uint64_t *lat = calloc(count, sizeof *lat);
    minknow_call *call = start(manager, BIDI_METHOD);
    for (uint32_t i = 0; i < 20 + count; i++) { /* 20 warm-up round trips */
        uint64_t t0 = bench_now_ns();
        send_msg(call, chunk, n);
        minknow_buffer *msg = recv_msg(call);
        if (msg == NULL || minknow_buffer_len(msg) != n) {
            fprintf(stderr, "bench_c: bidi: bad echo\n");
            return 1;
        }
        minknow_buffer_free(msg);
        if (i >= 20) lat[i - 20] = bench_now_ns() - t0;
    }
    minknow_call_close_send(call, NULL);
    while (recv_msg(call) != NULL) {
    }
    minknow_call_free(call);
    printf("{\"round_trips\":%u,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", count,
           bench_quantile(lat, count, 0.5) / 1e3, bench_quantile(lat, count, 0.99) / 1e3);
    free(lat);
    free(chunk);
    minknow_channel_free(manager);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_c cold|unary|positions|stream|bidi HOST PORT ...\n");
        return 2;
    }
    const char *work = argv[1], *host = argv[2];
    int port = atoi(argv[3]);
    if (strcmp(work, "cold") == 0) return cold(host, port);
    if (argc < 5) return 2;
    if (strcmp(work, "positions") == 0) return positions(host, port, strcmp(argv[4], "par") == 0);
    if (argc < 6) return 2;
    long a = atol(argv[4]), b = atol(argv[5]);
    if (strcmp(work, "unary") == 0) return unary(host, port, (int)a, (size_t)b);
    if (strcmp(work, "stream") == 0) return stream(host, port, (uint32_t)a, (uint32_t)b);
    if (strcmp(work, "bidi") == 0) return bidi(host, port, (uint32_t)a, (uint32_t)b);
    fprintf(stderr, "bench_c: unknown work %s\n", work);
    return 2;
}
