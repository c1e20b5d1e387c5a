# The two commands of the README: `make run` and `make test`. Each installs what is missing first.
JOBS ?= $(shell nproc)
DATA_DIR ?= ./hera-data
HTTP_PORT ?= 8080

.PHONY: all deps build run test test-unit test-asan asan bench clean

all: build

deps:
	@scripts/install-deps.sh

# Release build (RelWithDebInfo); the binary is left at build/hera.
build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	@ln -sf release/hera build/hera

run: build
	build/hera standalone --data-dir $(DATA_DIR) --http-port $(HTTP_PORT)

# Every test: unit and integration on the release build, then again under ASan+UBSan.
test: build
	ctest --preset release -j $(JOBS)
	$(MAKE) test-asan

test-unit: build
	ctest --preset release -j $(JOBS) -L unit

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --preset asan -j $(JOBS)

bench: build
	build/release/bench/cron_bench

clean:
	rm -rf build
