# concviz: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
# Packages come from Debian only; as root they are installed, otherwise the exact command is
# printed and make stops.

BUILD    ?= build
GENERATOR ?= $(shell command -v ninja >/dev/null 2>&1 && echo Ninja || echo "Unix Makefiles")
WERROR   ?= $(if $(CI),ON,OFF)
CMAKE_ARGS ?=
# What `make run` shows: four threads fighting over one lock. `make run SCENARIO=` opens the
# scenario picker instead; ARGS adds options (e.g. ARGS='--model procs').
SCENARIO ?= counter-race
ARGS ?= $(if $(filter counter-race,$(SCENARIO)),--set variant=mutex)

PACKAGES = gcc make cmake ninja-build pkg-config libncurses-dev libcurl4-openssl-dev \
           libcmocka-dev libinih-dev zlib1g-dev libzstd-dev libmicrohttpd-dev clang-format tmux jq curl \
           clang libclang-rt-14-dev libomp-14-dev liblttng-ust-dev lttng-tools libxml2-utils python3 python3-urllib3 \
           apache2-utils valgrind

.PHONY: all deps configure build run test sanitize bench bench-baseline fuzz soak format clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "concviz: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
	  else \
	    echo "concviz: missing Debian packages. Run:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -G "$(GENERATOR)" -DCONCVIZ_WERROR=$(WERROR) $(CMAKE_ARGS)

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) --parallel

# On a terminal: the live view (or the picker); without one, a headless run and its summary.
run: build
	@if [ -t 0 ] && [ -t 1 ]; then \
	  if [ -n "$(SCENARIO)" ]; then ./$(BUILD)/tui/concviz run $(SCENARIO) $(ARGS); \
	  else ./$(BUILD)/tui/concviz $(ARGS); fi; \
	else \
	  ./$(BUILD)/tui/concviz run $(or $(SCENARIO),counter-race) $(ARGS) --headless --check; \
	fi

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 300 -LE sanitize $(CTEST_ARGS)

# The suite again under ASan+UBSan (every test) and TSan (the threads, processes and event-loop
# tests), each in a build of its own: $(BUILD)/asan and $(BUILD)/tsan. CI runs it after `test`.
sanitize: build
	cd $(BUILD) && ctest --output-on-failure -L sanitize $(CTEST_ARGS)

# Every benchmark prints a table and one "json: {...}" line; those lines are gathered into
# $(BUILD)/bench-results.json (an array, one object per benchmark). BENCHES picks some.
BENCHES ?= bench_pages bench_record bench_models bench_io bench_ui bench_seek bench_distortion bench_scale bench_lttng bench_trace gil_compare scenario_figures
bench: build
	cmake --build $(BUILD) --target benchmarks
	@rm -f $(BUILD)/bench-results.jsonl
	@set -e; for b in $(BENCHES); do \
	  echo "== $$b"; \
	  if [ -f tests/bench/$$b.sh ]; then bash tests/bench/$$b.sh ./$(BUILD)/tui/concviz; \
	  else ./$(BUILD)/tests/bench/$$b; fi | tee $(BUILD)/$$b.out; \
	  sed -n 's/^json: //p' $(BUILD)/$$b.out | jq -c --arg b "$$b" '{bench: $$b} + .' >> $(BUILD)/bench-results.jsonl; \
	done
	@jq -s . $(BUILD)/bench-results.jsonl > $(BUILD)/bench-results.json
	@echo "figures: $(BUILD)/bench-results.json"
	@if [ -f tests/bench/baseline.json ]; then \
	  echo "== against tests/bench/baseline.json (moved by more than 20%)"; \
	  bash tests/bench/compare_baseline.sh $(BUILD)/bench-results.json tests/bench/baseline.json 20; \
	fi

# The baseline the next `make bench` is compared with: this run's ratios and counts (its times
# and rates move with the machine and are left out).
bench-baseline: bench
	bash tests/bench/compare_baseline.sh --write $(BUILD)/bench-results.json tests/bench/baseline.json

# The fuzz targets for longer than the suite gives them: FUZZ_SECONDS each (default 300);
# FUZZ_TARGETS="cli httpd" runs only those (default: all of them; the others are reported
# skipped, exit 77, which is no failure here).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?=
fuzz: build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" bash tests/fuzz/run.sh . $(BUILD)/fuzz || [ $$? = 77 ]

# The soak test, by hand: five scenarios, each rerun in one process under its own model
# (`run --for`), and the server under bursts of ab, for SOAK_SECONDS (default 600); the resident
# memory of each process is sampled into $(BUILD)/soak/rss.tsv, and growth after warm-up fails.
SOAK_SECONDS ?= 600
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) bash tests/soak/soak.sh ./$(BUILD)/tui/concviz $(BUILD)/soak

format:
	clang-format -i engine/include/concviz/*.h engine/src/*.h engine/src/*/*.[ch] tui/*.[ch] tests/*/*.[ch]

clean:
	rm -rf $(BUILD)
