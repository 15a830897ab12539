"""The Python reference client (minknow_api) on the same work as bench_c.

    python bench_py.py cold|unary|positions|stream|bidi HOST PORT ...

It connects as minknow_api users do: `Manager(host, port)` (which finds the
CA through MINKNOW_TRUSTED_CA and the local token through the manager), and
positions' `connect()`. The test service's calls go over the manager's own
authenticated channel as raw bytes (no stubs needed).
"""

import concurrent.futures
import json
import queue
import resource
import sys
import threading
import time

import minknow_api.manager

STREAM = "/minknow_sim.TestService/server_stream"
BIDI = "/minknow_sim.TestService/bidi_echo"


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def quantile(values, q):
    values = sorted(values)
    return values[int(q * (len(values) - 1) + 0.5)] if values else 0.0


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def emit(obj):
    print(json.dumps(obj), flush=True)


def cold(host, port):
    manager = minknow_api.manager.Manager(host, port)
    emit({"version": manager.rpc.get_version_info().minknow.full})


def unary(host, port, threads, calls):
    manager = minknow_api.manager.Manager(host, port)
    for _ in range(20):
        manager.rpc.get_version_info()
    per = calls // threads
    lat = []
    lock = threading.Lock()

    def work():
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            manager.rpc.get_version_info()
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)

    cpu0, t0 = cpu_s(), time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    total = per * threads
    emit({
        "calls": total,
        "p50_us": quantile(lat, 0.5) * 1e6,
        "p99_us": quantile(lat, 0.99) * 1e6,
        "calls_per_s": total / wall,
        "cpu_us_per_call": cpu * 1e6 / total,
    })


def list_positions(manager):
    # Manager.flow_cell_positions() reads the stream to its end; the
    # simulator keeps it open to report changes (see BENCHMARKS.md), so read
    # until total_count positions have arrived, and wrap them in
    # minknow_api's own FlowCellPosition.
    call = manager.rpc.flow_cell_positions(_timeout=10)
    found = []
    for page in call:
        found.extend(page.positions)
        if len(found) >= page.total_count:
            break
    call.cancel()
    return [
        minknow_api.manager.FlowCellPosition(p, host=manager.host, credentials=manager.credentials)
        for p in found
    ]


def positions(host, port, parallel):
    manager = minknow_api.manager.Manager(host, port)
    rss0 = rss_kib()
    t0 = time.perf_counter()
    running = [p for p in list_positions(manager) if p.running]
    if parallel:
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(running)) as pool:
            conns = list(pool.map(lambda p: p.connect(), running))
    else:
        conns = [p.connect() for p in running]
    wall = time.perf_counter() - t0
    emit({"positions": len(conns), "ms": wall * 1e3, "rss_kib": rss_kib(), "rss_before_kib": rss0})


def stream(host, port, size, count):
    manager = minknow_api.manager.Manager(host, port)
    request = b"\x08" + varint(count) + b"\x10" + varint(size)
    call = manager.channel.unary_stream(STREAM, request_serializer=None, response_deserializer=None)
    cpu0, t0 = cpu_s(), time.perf_counter()
    messages = 0
    for chunk in call(request, timeout=120):
        if len(chunk) < size:
            raise SystemExit("bench_py: stream: short chunk")
        messages += 1
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    if messages != count:
        raise SystemExit(f"bench_py: stream: {messages} of {count} messages")
    total = messages * size
    mb = total / 1e6
    emit({"messages": messages, "mb_per_s": mb / wall, "cpu_ms_per_mb": cpu * 1e3 / mb})


def bidi(host, port, size, count):
    manager = minknow_api.manager.Manager(host, port)
    chunk = b"\x0a" + varint(size) + b"\x5a" * size
    call = manager.channel.stream_stream(BIDI, request_serializer=None, response_deserializer=None)
    outbox = queue.Queue()

    def requests():
        while True:
            item = outbox.get()
            if item is None:
                return
            yield item

    replies = call(requests(), timeout=120)
    lat = []
    for i in range(20 + count):
        t0 = time.perf_counter()
        outbox.put(chunk)
        reply = next(replies)
        if len(reply) != len(chunk):
            raise SystemExit("bench_py: bidi: bad echo")
        if i >= 20:
            lat.append(time.perf_counter() - t0)
    outbox.put(None)
    for _ in replies:
        pass
    emit({"round_trips": count, "p50_us": quantile(lat, 0.5) * 1e6, "p99_us": quantile(lat, 0.99) * 1e6})


def main(argv):
    work, host, port = argv[1], argv[2], int(argv[3])
    if work == "cold":
        return cold(host, port)
    if work == "positions":
        return positions(host, port, argv[4] == "par")
    a, b = int(argv[4]), int(argv[5])
    {"unary": unary, "stream": stream, "bidi": bidi}[work](host, port, a, b)


if __name__ == "__main__":
    main(sys.argv)
