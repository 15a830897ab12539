/*
 * Shared by the C and grpc++ benchmark clients: clocks, CPU time, RSS,
 * percentiles, and the tiny protobuf encoding the test service needs.
 * Header-only so each client stays one file plus this.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Wall clock in nanoseconds (monotonic). */
static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User + system CPU time of the whole process, in nanoseconds. */
static inline uint64_t bench_cpu_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* Resident set size now, in KiB (VmRSS from /proc/self/status). */
static inline long bench_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

static int bench_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-th quantile (0..1) of n samples, sorting them in place. */
static inline double bench_quantile(uint64_t *v, size_t n, double q) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, bench_cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)v[i];
}

/* Append a protobuf varint; returns bytes written. */
static inline size_t bench_put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* minknow_sim.StreamRequest {count = 1, size = 2, interval_ms = 3 (0)}. */
static inline size_t bench_stream_request(uint8_t *p, uint32_t count, uint32_t size) {
    size_t n = 0;
    p[n++] = 0x08;
    n += bench_put_varint(p + n, count);
    p[n++] = 0x10;
    n += bench_put_varint(p + n, size);
    return n;
}

/* The payload length of a minknow_sim.Chunk (field 1, bytes); 0 if absent. */
static inline size_t bench_chunk_payload_len(const uint8_t *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t tag = p[i++];
        uint64_t v = 0;
        int shift = 0;
        while (i < len) {
            uint8_t b = p[i++];
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            if (!(b & 0x80)) break;
        }
        if (tag == 0x0a) return (size_t)v;
        if ((tag & 7) == 2) i += (size_t)v;
    }
    return 0;
}

#endif
