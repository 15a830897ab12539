#!/usr/bin/env python3
"""Benchmarks: libminknow_auth (C client) vs grpc++ vs Python minknow_api.

    python3 bench/bench.py                 # build, then the full interleaved run
    python3 bench/bench.py --smoke         # a few seconds: every client, tiny work
    python3 bench/bench.py --rounds 7 --no-build

Builds what it needs (installing Debian's grpc++ and, in a private venv,
the pinned minknow_api when missing), starts the simulator on loopback
(`--auth local-token`, OS-chosen ports, bounded lifetime), and runs every
piece of work with each client in turn, A B C A B C ..., one fresh
simulator per round. Prints a table of medians with per-round ratios
against grpc++ and writes JSON (bench/results/latest.json; the smoke run
writes build/bench/smoke.json).
"""

import argparse
import json
import os
import platform
import select
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
if not TARGET.is_absolute():
    TARGET = ROOT / TARGET
CLIENTS = ["lib", "grpcpp", "python"]
NAMES = {"lib": "libminknow_auth (C)", "grpcpp": "grpc++ 1.51", "python": "Python minknow_api"}
HOST = "127.0.0.1"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    log(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kw)


# ---------------------------------------------------------------- building


def newer(target, sources):
    if not target.exists():
        return True
    t = target.stat().st_mtime
    return any(Path(s).stat().st_mtime > t for s in sources)


def ensure_grpcpp():
    have = shutil.which("grpc_cpp_plugin") and subprocess.run(
        ["pkg-config", "--exists", "grpc++", "protobuf"], capture_output=True).returncode == 0
    if have and shutil.which("protoc"):
        return
    if os.geteuid() != 0:
        sys.exit("bench: needs Debian's libgrpc++-dev and protobuf-compiler-grpc (run as root "
                 "to install them)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "libgrpc++-dev", "protobuf-compiler-grpc",
         "protobuf-compiler", "pkg-config", "g++"], env=env)


def venv_python():
    return BUILD / "venv" / "bin" / "python"


def ensure_python():
    req = ROOT / "bench" / "py" / "requirements.txt"
    py = venv_python()
    stamp = BUILD / "venv" / ".requirements"
    if py.exists() and stamp.exists() and stamp.read_text() == req.read_text():
        return
    if not py.exists():
        r = subprocess.run([sys.executable, "-m", "venv", str(BUILD / "venv")])
        if r.returncode != 0:
            if os.geteuid() == 0:
                run(["apt-get", "install", "-y", "-qq", "python3-venv"])
            run([sys.executable, "-m", "venv", BUILD / "venv"])
    run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", req])
    stamp.write_text(req.read_text())


def build(profile):
    BUILD.mkdir(parents=True, exist_ok=True)
    ensure_grpcpp()
    ensure_python()
    cargo = os.environ.get("CARGO", "cargo")
    if profile == "release":
        run([ROOT / "scripts" / "release.sh"], env=dict(os.environ, CARGO=cargo))
        run([cargo, "build", "--release", "-p", "minknow-sim"])
    else:
        run([cargo, "build", "-p", "minknow_auth", "-p", "minknow-sim"])
    libdir = TARGET / profile
    cc = os.environ.get("CC", "cc")
    run([cc, "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror", "-I", ROOT / "include",
         ROOT / "bench/c/bench_c.c", "-L", libdir, "-lminknow_auth",
         f"-Wl,-rpath,{libdir}", "-lpthread", "-o", BUILD / f"bench_c.{profile}"])
    gen = BUILD / "gen"
    protos = ["minknow_api/instance.proto", "minknow_api/manager.proto", "minknow_sim/test.proto"]
    exe = BUILD / "bench_grpcpp"
    sources = [ROOT / "proto" / p for p in protos] + [ROOT / "bench/cpp/bench_grpcpp.cc",
                                                        ROOT / "bench/common.h"]
    if newer(exe, sources):
        gen.mkdir(parents=True, exist_ok=True)
        plugin = shutil.which("grpc_cpp_plugin")
        run(["protoc", "-I", ROOT / "proto", f"--cpp_out={gen}", f"--grpc_out={gen}",
             f"--plugin=protoc-gen-grpc={plugin}"] + protos)
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "grpc++", "protobuf"],
                               check=True, capture_output=True, text=True).stdout.split()
        cxx = os.environ.get("CXX", "c++")
        srcs = [ROOT / "bench/cpp/bench_grpcpp.cc"] + [
            gen / p.replace(".proto", s) for p in protos for s in (".pb.cc", ".grpc.pb.cc")]
        run([cxx, "-O2", "-std=c++17", "-I", gen, *srcs, *flags, "-lpthread", "-o", exe])


VARIANTS = {}  # "lib:NAME" -> directory holding another libminknow_auth.so


def client_cmd(client, profile):
    if client == "lib" or client in VARIANTS:
        return [str(BUILD / f"bench_c.{profile}")]
    if client == "grpcpp":
        return [str(BUILD / "bench_grpcpp")]
    return [str(venv_python()), str(ROOT / "bench/py/bench_py.py")]


# ---------------------------------------------------------------- the work


def workloads(smoke):
    """(name, argv after HOST PORT, what to keep) for each piece of work."""
    if smoke:
        return [
            ("cold", ["cold"]),
            ("unary1", ["unary", "1", "50"]),
            ("unary8", ["unary", "8", "80"]),
            ("pos_seq", ["positions", "seq"]),
            ("pos_par", ["positions", "par"]),
            ("stream1k", ["stream", "1024", "200"]),
            ("stream1m", ["stream", str(1 << 20), "4"]),
            ("bidi", ["bidi", "100", "50"]),
        ]
    return [
        ("cold", ["cold"]),
        ("unary1", ["unary", "1", "2000"]),
        ("unary8", ["unary", "8", "4000"]),
        ("pos_seq", ["positions", "seq"]),
        ("pos_par", ["positions", "par"]),
        ("stream1k", ["stream", "1024", "100000"]),
        ("stream1m", ["stream", str(1 << 20), "400"]),
        ("bidi", ["bidi", "100", "2000"]),
    ]


class Sim:
    def __init__(self, binary, positions, lifetime):
        self.proc = subprocess.Popen(
            [str(binary), "--auth", "local-token", "--positions", str(positions),
             "--stopped", "0", "--lifetime", str(lifetime), "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        if not ready:
            self.stop()
            sys.exit("bench: the simulator printed no ready line within 30 s")
        line = self.proc.stdout.readline()
        if not line:
            sys.exit("bench: the simulator exited before it was ready")
        self.ready = json.loads(line)
        self.port = self.ready["manager_port"]

    def stop(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def client_env(sim, client):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MINKNOW_") and k not in ("PROTOCOL_TOKEN", "GRPC_TRACE")}
    env["MINKNOW_TRUSTED_CA"] = sim.ready["ca"]
    if client in VARIANTS:
        # The C client's rpath is a RUNPATH, which LD_LIBRARY_PATH overrides.
        directory, extra = VARIANTS[client]
        env["LD_LIBRARY_PATH"] = directory
        env.update(extra)
    return env


def run_client(client, cmd, sim, argv, timeout):
    """Run one client process; returns its JSON, with `wall_ms` from spawn
    to the JSON line (cold start: new process to first authenticated reply)."""
    full = cmd + [argv[0], HOST, str(sim.port)] + argv[1:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=client_env(sim, client), stdin=subprocess.DEVNULL)
    deadline = t0 + timeout
    line = ""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.perf_counter()))
        if ready:
            line = proc.stdout.readline()
            break
    t1 = time.perf_counter()
    try:
        _, err = proc.communicate(timeout=max(1.0, deadline - time.perf_counter()))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {err.strip()[-2000:]}")
    out = json.loads(line)
    out["wall_ms"] = (t1 - t0) * 1e3
    return out


# What each row reports: (work, field, unit, lower is better).
ROWS = [
    ("cold", "wall_ms", "cold start: new process to first authenticated reply (ms)", True),
    ("unary1", "p50_us", "unary get_version_info, 1 thread: p50 (µs)", True),
    ("unary1", "p99_us", "unary, 1 thread: p99 (µs)", True),
    ("unary1", "calls_per_s", "unary, 1 thread: calls/s", False),
    ("unary1", "cpu_us_per_call", "unary, 1 thread: client CPU per call (µs)", True),
    ("unary8", "p50_us", "unary, 8 threads: p50 (µs)", True),
    ("unary8", "p99_us", "unary, 8 threads: p99 (µs)", True),
    ("unary8", "calls_per_s", "unary, 8 threads: calls/s", False),
    ("unary8", "cpu_us_per_call", "unary, 8 threads: client CPU per call (µs)", True),
    ("pos_seq", "ms", "positions: connect all, sequentially (ms)", True),
    ("pos_seq", "rss_kib", "positions: client RSS with all open, sequential (MiB)", True),
    ("pos_par", "ms", "positions: connect all, in parallel (ms)", True),
    ("pos_par", "rss_kib", "positions: client RSS with all open, parallel (MiB)", True),
    ("stream1k", "mb_per_s", "server stream, 1 KiB messages (MB/s)", False),
    ("stream1k", "cpu_ms_per_mb", "server stream, 1 KiB: client CPU per MB (ms)", True),
    ("stream1m", "mb_per_s", "server stream, 1 MiB messages (MB/s)", False),
    ("stream1m", "cpu_ms_per_mb", "server stream, 1 MiB: client CPU per MB (ms)", True),
    ("bidi", "p50_us", "bidi ping-pong, 100 B: p50 (µs)", True),
    ("bidi", "p99_us", "bidi ping-pong, 100 B: p99 (µs)", True),
]

# The goals: (work, field, bound on lib/grpc++, "le" or "ge").
GOALS = [
    ("unary1", "cpu_us_per_call", 0.5, "le"),
    ("unary1", "p50_us", 0.8, "le"),
    ("cold", "wall_ms", 0.5, "le"),
    ("pos_seq", "ms", 0.5, "le"),
    ("pos_par", "ms", 0.5, "le"),
    ("pos_seq", "rss_kib", 0.5, "le"),
    ("stream1m", "mb_per_s", 1.2, "ge"),
    ("stream1m", "cpu_ms_per_mb", 0.7, "le"),
]


def scale(field, value):
    return value / 1024 if field == "rss_kib" else value


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version()}


def so_size(profile):
    so = TARGET / profile / "libminknow_auth.so"
    if not so.exists():
        return None
    stripped = BUILD / "libminknow_auth.stripped.so"
    if shutil.which("strip"):
        subprocess.run(["strip", "-o", str(stripped), str(so)], check=True)
        return {"file_bytes": so.stat().st_size, "stripped_bytes": stripped.stat().st_size}
    return {"file_bytes": so.stat().st_size, "stripped_bytes": so.stat().st_size}


def summarise(rounds, clients):
    """Medians per client and the per-round ratios of each client to grpc++."""
    table = []
    for work, field, label, lower in ROWS:
        row = {"work": work, "field": field, "label": label, "lower_is_better": lower}
        for c in clients:
            vals = [scale(field, r[c][work][field]) for r in rounds if work in r.get(c, {})]
            row[c] = statistics.median(vals) if vals else None
            row[c + "_rounds"] = vals
        for c in [c for c in clients if c != "grpcpp"]:
            ratios = [scale(field, r[c][work][field]) / scale(field, r["grpcpp"][work][field])
                      for r in rounds
                      if work in r.get(c, {}) and work in r.get("grpcpp", {})
                      and r["grpcpp"][work][field]]
            row[c + "_ratio_rounds"] = ratios
            row[c + "_ratio"] = statistics.median(ratios) if ratios else None
        table.append(row)
    return table


def goals(table, size):
    out = []
    for work, field, bound, how in GOALS:
        row = next(r for r in table if r["work"] == work and r["field"] == field)
        ratio = row.get("lib_ratio")
        met = ratio is not None and (ratio <= bound if how == "le" else ratio >= bound)
        out.append({"goal": f"{row['label']}: lib/grpc++ {'≤' if how == 'le' else '≥'} {bound}",
                    "ratio": ratio, "met": met})
    if size:
        mib = size["stripped_bytes"] / (1 << 20)
        out.append({"goal": "stripped libminknow_auth.so ≤ 3 MiB", "ratio": mib, "met": mib <= 3,
                    "unit": "MiB"})
    return out


def print_table(table, goal_rows, rounds_done, clients):
    others = [c for c in clients if c != "grpcpp"]
    head = f"| work ({rounds_done} rounds, medians) | " + " | ".join(
        NAMES.get(c, c) for c in clients) + " | " + " | ".join(
        f"{c}/grpc++ (median; per round)" if c.startswith("lib") else f"{c}/grpc++"
        for c in others) + " |"
    lines = [head, "| --- |" + " ---: |" * len(clients) + " --- |" * len(others)]
    for r in table:
        cells = [fmt(r.get(c)) for c in clients]
        for c in others:
            ratio = r.get(c + "_ratio")
            if ratio is None:
                cells.append("—")
            elif c.startswith("lib"):
                per = ", ".join(f"{x:.2f}" for x in r[c + "_ratio_rounds"])
                cells.append(f"**{ratio:.2f}** ({per})")
            else:
                cells.append(f"{ratio:.2f}")
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    if goal_rows:
        lines += ["", "| goal | measured | met |", "| --- | ---: | :---: |"]
    for g in goal_rows:
        m = f"{g['ratio']:.2f}" if g["ratio"] is not None else "—"
        if g.get("unit"):
            m += " " + g["unit"]
        lines.append(f"| {g['goal']} | {m} | {'yes' if g['met'] else 'no'} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny work, one round, debug build")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5)")
    ap.add_argument("--positions", type=int, default=None, help="positions (default 48)")
    ap.add_argument("--profile", choices=["release", "debug"], default=None)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated work names")
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--out", default=None)
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=DIR[,VAR=VALUE...]",
                    help="also run the C client against DIR/libminknow_auth.so (with the "
                         "environment variables given), as client lib:NAME: before/after "
                         "comparisons of a library change, in the same interleaved rounds")
    args = ap.parse_args()
    smoke = args.smoke
    profile = args.profile or ("debug" if smoke else "release")
    rounds_n = args.rounds or (1 if smoke else 5)
    positions = args.positions or (8 if smoke else 48)
    out = Path(args.out) if args.out else (BUILD / "smoke.json" if smoke
                                           else ROOT / "bench" / "results" / "latest.json")
    clients = [c for c in args.clients.split(",") if c]
    for v in args.variant:
        name, _, rest = v.partition("=")
        d, *extra = rest.split(",")
        VARIANTS["lib:" + name] = (str(Path(d).resolve()), dict(e.split("=", 1) for e in extra))
        clients.append("lib:" + name)
    if not args.no_build:
        build(profile)
    work = [w for w in workloads(smoke) if not args.only or w[0] in args.only.split(",")]
    sim_bin = TARGET / profile / "minknow-sim"
    timeout = 60 if smoke else 180
    cold_reps = 1 if smoke else 3
    load_before = load()
    started = time.time()
    rounds = []
    for n in range(rounds_n):
        log(f"round {n + 1}/{rounds_n} (load {load()})")
        sim = Sim(sim_bin, positions, lifetime=max(120, timeout * len(work) * len(clients)))
        result = {c: {} for c in clients}
        try:
            for name, argv in work:
                for c in clients:
                    cmd = client_cmd(c, profile)
                    if name == "cold":
                        reps = [run_client(c, cmd, sim, argv, timeout) for _ in range(cold_reps)]
                        got = dict(reps[0], wall_ms=statistics.median(r["wall_ms"] for r in reps))
                    else:
                        got = run_client(c, cmd, sim, argv, timeout)
                    result[c][name] = got
                    log(f"  {name:9s} {c:7s} {json.dumps(got)}")
        finally:
            sim.stop()
        rounds.append(result)
    table = summarise(rounds, clients) if "grpcpp" in clients else []
    size = so_size(profile) if profile == "release" else None
    # A smoke run on the debug build says nothing about the goals.
    goal_rows = goals(table, size) if table and not smoke else []
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "smoke": smoke,
        "profile": profile,
        "rounds": rounds_n,
        "positions": positions,
        "machine": machine(),
        "load_before": load_before,
        "load_after": load(),
        "seconds": round(time.time() - started, 1),
        "library_size": size,
        "work": {name: argv for name, argv in work},
        "table": table,
        "goals": goal_rows,
        "raw": rounds,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    if table:
        print(print_table(table, goal_rows, rounds_n, clients))
    print(f"\nload average before {load_before}, after {report['load_after']}; "
          f"{report['seconds']} s; JSON: {out}")
    # Smoke: every client produced numbers for every piece of work.
    missing = [(c, w) for r in rounds for c in clients for w, _ in work if w not in r[c]]
    if missing:
        sys.exit(f"bench: no numbers for {missing}")
    if smoke:
        n = len(rounds) * len(clients) * len(work)
        print(f"bench smoke: {n} passed, 0 failed")


if __name__ == "__main__":
    main()
