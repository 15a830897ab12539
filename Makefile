# libminknow_auth: the two commands a newcomer needs are `make demo` and
# `make test`; see README.md.

CARGO ?= cargo
CC ?= cc
BUILD := build
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
LIBDIR := $(abspath $(TARGET_DIR))/debug
CFLAGS_STRICT := -std=c11 -Wall -Wextra -pedantic -Werror
PREFIX ?= /usr/local

.PHONY: all build demo deps check test test-deps lint header clean release install
.PHONY: test-cpp test-go bench bench-smoke

all: build

# The library (cdylib, staticlib, rlib), the simulator, and the C example.
build:
	$(CARGO) build --workspace
	mkdir -p $(BUILD)
	$(CC) $(CFLAGS_STRICT) -Iinclude examples/positions.c \
	    -L$(LIBDIR) -lminknow_auth -Wl,-rpath,$(LIBDIR) -o $(BUILD)/positions

# The main job: start the simulator (client certificates required), list
# its positions with their versions through the C example, stop it.
demo: build
	scripts/demo.sh $(TARGET_DIR)/debug/minknow-sim $(BUILD)/positions

# What building and testing need beyond Rust (Debian packages, pinned
# Python packages); installs only what is missing.
deps:
	scripts/deps.sh

# The README's test command: lints and every test suite (Rust, C, interop,
# C++ and packaging, Go, R, reliability and fuzzing).
check: deps lint test test-cpp test-go test-r test-reliability

# Everything the tests need that a fresh machine may lack (Python grpcio
# for the interop server), then every test: Rust unit and integration
# tests, the C test program, the header checks, grpcio interop.
test: test-deps build
	$(CARGO) test --workspace

test-deps:
	scripts/test-deps.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Regenerate include/minknow_auth.h after an ABI change (then commit it).
header:
	MINKNOW_AUTH_BLESS=1 $(CARGO) test --test header

# The release library (LTO, stripped) that `install` lays out.
release:
	CARGO=$(CARGO) scripts/release.sh

# Install under PREFIX (default /usr/local; DESTDIR stages): the shared
# library with its soname links, the static library, both headers, the
# pkg-config file and the CMake package. See README.md, "C++".
install: release
	scripts/install.sh $(PREFIX)

# C++ and packaging: install to a temporary prefix, check its layout,
# soname and symbols, build and run C (pkg-config) and C++ (find_package)
# programs from it against the simulator, and run the GoogleTest suite
# normally and under ASan + UBSan.
test-cpp: release
	$(CARGO) build -p minknow-sim
	scripts/test-cpp.sh $(TARGET_DIR)/debug/minknow-sim

# The Go binding: gofmt, go vet and go test -race against the in-tree
# library and the simulator (the script builds both first).
test-go:
	bindings/go/test.sh

# Benchmarks against grpc++ and Python minknow_api (see BENCHMARKS.md):
# release build, 5 interleaved rounds, bench/results/latest.json.
# bench-smoke: a few seconds on the debug build, checks every client ran.
bench:
	python3 bench/bench.py $(BENCH_ARGS)

bench-smoke:
	python3 bench/bench.py --smoke

# The R package (bindings/r/minknowauth): R CMD build, R CMD check
# --no-manual, and its testthat suite against the simulator.
.PHONY: test-r
test-r: build
	bindings/r/test.sh $(TARGET_DIR)/debug/minknow-sim $(TARGET_DIR)/debug

# Reliability and security (docs/RELIABILITY.md): faults, token rotation
# soak, load, bad input, fork, secrets, the C program under ASan + UBSan and
# valgrind, then every fuzz target for FUZZ_SECONDS each (needs valgrind;
# scripts/fuzz.sh installs nightly and cargo-fuzz when missing).
RELIABILITY_TESTS := fault_restart fault_peers fault_token load bad_input fork \
	secrets secrets_wipe sanitizers
FUZZ_SECONDS ?= 15
.PHONY: test-reliability
test-reliability: build
	$(CARGO) test $(addprefix --test ,$(RELIABILITY_TESTS))
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
