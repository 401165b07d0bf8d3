# Vortex — every target starts from a fresh Debian 12 machine: `deps` runs the bootstrap first.
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_TSAN ?= build-tsan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 10
FUZZ_WORK  ?= $(BUILD_FUZZ)/work
PYTHON     := /usr/bin/python3
PYTEST     := $(PYTHON) -m pytest
JOBS       ?= $(shell nproc)
CMAKE_GEN  := cmake -G Ninja -Wno-dev

.PHONY: all deps build run test test-unit test-integration test-slow test-asan test-tsan fuzz fuzz-ci bench \
        bench-instructions bench-tail bench-ratelimit bench-wasm bench-idle bench-xdp bench-tracing bench-routes microbench lint \
        format clean docker-build test-image k8s-deploy load-test

all: build

deps:
	@scripts/bootstrap.sh

$(BUILD)/build.ninja: | deps
	@$(CMAKE_GEN) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) -j$(JOBS)

# Starts demo origins and Vortex with examples/vortex.yaml: then `curl localhost:8080/`.
run: build
	@scripts/run_demo.sh $(BUILD)/vortex

test: build
	@$(MAKE) --no-print-directory test-unit test-integration

test-unit:
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-integration:
	@VORTEX_BIN=$(abspath $(BUILD))/vortex $(PYTEST) -q -m "not slow"

# Long soak and stress runs, kept out of `make test` to keep CI short.
test-slow: build
	@VORTEX_BIN=$(abspath $(BUILD))/vortex $(PYTEST) -q -m slow

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@$(CMAKE_GEN) -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DVORTEX_SANITIZE=ON \
	  -DVORTEX_MICROBENCH=OFF >/dev/null
	@ninja -C $(BUILD_ASAN) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir $(BUILD_ASAN) --output-on-failure -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	  UBSAN_OPTIONS=print_stacktrace=1 VORTEX_SANITIZED=1 \
	  VORTEX_BIN=$(abspath $(BUILD_ASAN))/vortex $(PYTEST) -q -m "not slow"

# The same suites under ThreadSanitizer. A race is a failure: halt_on_error ends the process with
# exitcode 66, which ctest and the integration harness report as a bad exit (docs/sanitizers.md).
TSAN_OPTIONS_RUN := halt_on_error=1 exitcode=66 second_deadlock_stack=1 \
                    suppressions=$(abspath tests/tsan.supp)
test-tsan: deps
	@$(CMAKE_GEN) -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DVORTEX_SANITIZE_THREAD=ON \
	  -DVORTEX_MICROBENCH=OFF >/dev/null
	@ninja -C $(BUILD_TSAN) -j$(JOBS)
	@TSAN_OPTIONS="$(TSAN_OPTIONS_RUN)" ctest --test-dir $(BUILD_TSAN) --output-on-failure -j$(JOBS)
	@TSAN_OPTIONS="$(TSAN_OPTIONS_RUN)" VORTEX_SANITIZED=1 \
	  VORTEX_BIN=$(abspath $(BUILD_TSAN))/vortex $(PYTEST) -q -m "not slow"

# libFuzzer targets (tests/fuzz, docs/fuzzing.md), clang with ASan + UBSan, in $(BUILD_FUZZ).
$(BUILD_FUZZ)/build.ninja: | deps
	@CC=clang CXX=clang++ $(CMAKE_GEN) -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DVORTEX_FUZZ=ON -DVORTEX_TESTS=OFF -DVORTEX_MICROBENCH=OFF >/dev/null

# Each target FUZZ_SECONDS (FUZZ_TARGETS="h1_request ..." for some): new inputs and findings
# under $(FUZZ_WORK), never in the repository; fails when a target crashed.
fuzz: deps $(BUILD_FUZZ)/build.ninja
	@ninja -C $(BUILD_FUZZ) -j$(JOBS) fuzzers
	@tests/fuzz/run.sh campaign $(BUILD_FUZZ) $(FUZZ_SECONDS) $(abspath $(FUZZ_WORK)) $(FUZZ_TARGETS)

# CI: every committed input replayed, then FUZZ_CI_SECONDS of fuzzing per target.
fuzz-ci: deps $(BUILD_FUZZ)/build.ninja
	@ninja -C $(BUILD_FUZZ) -j$(JOBS) fuzzers
	@tests/fuzz/run.sh ci $(BUILD_FUZZ) $(FUZZ_CI_SECONDS) $(abspath $(FUZZ_WORK))/ci

bench: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/http1.sh

# User-space instructions per request, Vortex and nginx, under callgrind (~1 min; no timing noise).
bench-instructions: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/instructions.sh

# Tail latency with one degraded origin of three: Vortex's balancers vs nginx and haproxy (~8 min).
bench-tail: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/tail/tail.sh

# Rate limiting on vs off (local, Redis): bench/macro/ratelimit.sh, docs/BENCHMARKS.md issue 5.
bench-ratelimit: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/ratelimit.sh

# No plugin vs a header-adding Proxy-Wasm plugin (V8, WABT) vs an execute plugin: docs/BENCHMARKS.md.
bench-wasm: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/wasm.sh

# An idle proxy: wake-ups a second and CPU, Vortex (no plugin, a V8 plugin) vs nginx vs haproxy.
bench-idle: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/idle_cpu.sh

# A banned client's flood: dropped by XDP vs refused at accept, CPU per attempt (root; docs/BENCHMARKS.md §8).
bench-xdp: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/xdp.sh
# Tracing off vs on (sample_ratio 1.0, live collector): bench/macro/tracing.sh, docs/BENCHMARKS.md §9.
bench-tracing: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/tracing.sh
# HTTP/3 vs HTTP/2 over TLS, req/s and CPU per request, 64 MiB MiB/s and CPU per GiB:
# bench/macro/http3.sh, docs/BENCHMARKS.md §11.
.PHONY: bench-http3
bench-http3: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/http3.sh

# 1 / 1 000 / 10 000 routes: check time, RSS, instructions and CPU per request, reloads under
# traffic (bench/macro/routes.sh, docs/BENCHMARKS.md §13; ~6 min).
bench-routes: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/routes.sh

# The container image (Dockerfile): docker when its daemon answers, else buildah; where no
# registry is reachable the Debian base is made locally (scripts/docker_build.sh).
IMAGE   ?= localhost/vortex:dev
KUBECTL ?= kubectl
K8S_DIR ?= deploy
docker-build:
	@IMAGE=$(IMAGE) scripts/docker_build.sh

# Builds the image and runs `vortex version` and a proxied request inside it (slow; buildah).
test-image:
	@IMAGE=$(IMAGE) $(PYTEST) -q -m slow tests/integration/test_image.py

# deploy/ into the cluster kubectl points at (K8S_DIR=deploy/overlays/canary: Argo Rollouts).
# The CRD first: the example VortexRoute cannot be applied before its kind is established.
k8s-deploy:
	@$(KUBECTL) apply -f deploy/base/crd/vortexroutes.yaml
	@$(KUBECTL) wait --for condition=established --timeout=60s crd/vortexroutes.vortex.dev
	@$(KUBECTL) apply -k $(K8S_DIR)

# Open-loop load against a running Vortex (make run; or a port-forwarded Service), README.md.
URL         ?= http://127.0.0.1:8080/
RATE        ?= 500
DURATION    ?= 10
CONNECTIONS ?= 64
load-test:
	@URL=$(URL) RATE=$(RATE) DURATION=$(DURATION) CONNECTIONS=$(CONNECTIONS) \
	  OPENLOOP=$(BUILD)/bench/openloop bench/loadgen/load_test.sh

# Memory per idle client connection, Vortex vs nginx vs haproxy, plain / HTTPS / h2 (docs/BENCHMARKS.md §12).
.PHONY: bench-connmem
bench-connmem: build
	@VORTEX=$(abspath $(BUILD))/vortex bench/macro/conn_memory.sh

microbench: build
	@$(BUILD)/bench/micro/vortex_microbench

SOURCES = $(shell git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc')

lint: build
	@clang-format --dry-run --Werror $(SOURCES)
	@clang-tidy -p $(BUILD) --quiet $(filter src/%.cc,$(SOURCES))

format:
	@clang-format -i $(SOURCES)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_FUZZ)
