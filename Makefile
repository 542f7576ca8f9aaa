# boltzmap: the commands users type. Each target first installs missing system packages
# (tools/install-deps, idempotent), then configures and builds, then does its job.
#   make run       build and run the default demo: boltzmap run (sample, train, map, analyze, plot; out/demo/)
#   make test      build and run the test suite (ctest), including the quick physics validation
#   make validate  the long physics validations (the paper's three systems at full size)
#   make bench     benchmarks, JSON on stdout
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all deps configure build run test validate bench clean

all: build

deps:
	@tools/install-deps

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) > $(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }
	@sed -n '/==== boltzmap configuration/,/=======$$/p' $(BUILD).configure.log

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/src/boltzmap run inputs/demo.toml

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE '^validation$$' $(CTEST_ARGS)

validate: build
	ctest --test-dir $(BUILD) --verbose -L '^validation$$' $(CTEST_ARGS)

bench: build
	@$(BUILD)/bench/bench_mcmc
	@$(BUILD)/bench/bench_assignment
	@$(BUILD)/bench/bench_flow
	@if /usr/bin/python3 -c "import torch" 2>/dev/null; then \
	  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE bench/bench_torch.py --threads 1 $(JOBS); \
	else echo '{"benchmark": "flow_pytorch", "skipped": "python3-torch is not installed (apt-get install python3-torch libopenblas0)"}'; fi
	@bench/scaling.sh $(BUILD)
	@N_EVAL=200000 REPLICATES="100 1000" RANKS="1 2" bench/large_sample.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD).configure.log
