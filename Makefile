# The two commands of the README: `make run` and `make test`. Each installs what is missing first.
JOBS ?= $(shell nproc)
DATA_DIR ?= ./hera-data
HTTP_PORT ?= 8080
# Where `make run` listens: this machine only; `make run BIND=0.0.0.0` for every interface.
BIND ?= 127.0.0.1

.PHONY: all deps build run test test-unit test-asan asan fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

# Release build (RelWithDebInfo); the binary is left at build/hera.
build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@ln -sf release/hera build/hera

run: build
	build/hera standalone --data-dir $(DATA_DIR) --http-port $(HTTP_PORT) --bind $(BIND)

# Every test (unit, integration) in one ASan+UBSan build: one build keeps CI well under
# 30 minutes on 2 cores, and every test runs under the sanitizers.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test: asan fuzz
	$(SANITIZER_ENV) ctest --preset asan -j $(JOBS)
	ctest --preset fuzz -j $(JOBS) -L fuzz

test-unit: asan
	$(SANITIZER_ENV) ctest --preset asan -j $(JOBS) -L unit

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# The libFuzzer targets (clang): the request decoders, the HTTP framing and the cron engine.
# `make test` runs each for HERA_FUZZ_SECONDS (20) from its seeds in tests/fuzz/corpus.
FUZZ_TARGETS = cron_expr_fuzz definition_fuzz http_request_fuzz
fuzz:
	@scripts/install-deps.sh --fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target $(FUZZ_TARGETS)

# The same tests on the optimised build `make run` uses.
test-release: build
	ctest --preset release -j $(JOBS)

# Threaded parts under ThreadSanitizer. Debian's gRPC, Abseil and OpenSSL are not built with
# TSan: their internals are suppressed (src/worker/tsan.supp), our code is not.
TSAN_SUPP = $(CURDIR)/src/worker/tsan.supp
test-tsan: deps
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS) --target exec_test store_test master_test api_test \
	  worker_test hera
	TSAN_OPTIONS=suppressions=$(TSAN_SUPP) ctest --preset tsan -j $(JOBS) \
	  -R '^(exec|store|master|api|worker)_test$$'
	cd tests/integration && TSAN_OPTIONS=halt_on_error=1:suppressions=$(TSAN_SUPP) \
	  HERA_BIN=$(CURDIR)/build/tsan/hera python3 -m unittest test_standalone test_schedule test_cluster

bench: build
	build/release/bench/cron_bench

clean:
	rm -rf build
