# Pyrometer — every entry point a developer or CI needs. Each target sets up what
# it needs on a fresh Debian machine (as root): apt packages, .venv, the build.
#   make demo    build everything, run `pyrometer demo`
#   make test    build everything, run every suite (CTest, fuzz smoke, pytest)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build/py
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 15
JOBS ?= $(shell nproc)
export CMAKE_BUILD_PARALLEL_LEVEL := $(JOBS)

APT_PACKAGES := build-essential cmake ninja-build pkg-config git curl \
  libprotozero-dev libboost-dev libzstd-dev zlib1g-dev libxxhash-dev rapidjson-dev libssl-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  clang libclang-rt-14-dev clang-format clang-tidy \
  redis-server postgresql sqlite3 wrk prometheus valgrind

.PHONY: all deps venv build test test-cpp test-python test-pythons run-ctest run-pytest fuzz fuzz-run bench lint format demo clean
all: build

# Installs only what is missing, so it is cheap when everything is there.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt: installing $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.stamp: requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: deps $(VENV)/.stamp

# One CMake build (scikit-build-core) produces _native, pyrometer-server and the
# C++ tests; pip installs the package editable into .venv from that build dir.
build: venv
	$(PY) -m pip install -q --no-build-isolation --no-deps \
	  -Cbuild-dir=$(BUILD) -Ccmake.define.PYROMETER_BUILD_TESTS=ON \
	  -Ccmake.define.PYROMETER_BUILD_BENCH=ON -e .

# test-cpp / test-python build first; `test` builds once and then runs the
# suites through the run-* targets, which do not rebuild.
test-cpp: build
	$(MAKE) --no-print-directory run-ctest
test-python: build
	$(MAKE) --no-print-directory run-pytest

run-ctest:
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

run-pytest:
	$(PY) -m pytest -q tests

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	  -DPYROMETER_BUILD_FUZZ=ON -DPYROMETER_FUZZ_ONLY=ON -DPYROMETER_BUILD_PYTHON=OFF
	cmake --build $(FUZZ_BUILD)

# Each fuzzer runs for a bounded time from its seed corpus; any crash fails.
fuzz-run: fuzz
	@for f in $$(find $(FUZZ_BUILD)/native -name '*_fuzzer' -type f -perm -u+x | sort); do \
	  name=$$(basename $$f); corpus=$$(find native -type d -path "*/fuzz/corpus/$$name" | head -n 1); \
	  work=$(FUZZ_BUILD)/corpus/$$name; \
	  mkdir -p $$work; echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
	    $$work $$corpus 2>$(FUZZ_BUILD)/$$name.log \
	    || { tail -n 40 $(FUZZ_BUILD)/$$name.log; exit 1; }; \
	done

test: build
	$(MAKE) --no-print-directory run-ctest
	$(MAKE) --no-print-directory fuzz-run
	$(MAKE) --no-print-directory run-pytest
	$(MAKE) --no-print-directory test-pythons

# The unit tests again on the oldest and newest supported CPython, built as a
# user installs it (a wheel in its own venv, tests importing the installed
# package): version shims and the per-version GIL layouts are only proven by
# running them. Interpreters come from pyenv when the machine has them.
OTHER_PYTHONS ?= $(firstword $(wildcard /root/.pyenv/versions/3.9.*/bin/python3)) \
  $(firstword $(wildcard /root/.pyenv/versions/3.13.*/bin/python3))
test-pythons: deps
	@if [ -z "$(strip $(OTHER_PYTHONS))" ]; then echo "test-pythons: no other CPython found"; fi
	@for py in $(OTHER_PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); env=build/venv-$$v; \
	  echo "== CPython $$v: build and unit tests ($$env)"; \
	  test -x $$env/bin/python || $$py -m venv $$env; \
	  $$env/bin/python -m pip install -q --upgrade pip; \
	  $$env/bin/python -m pip install -q '.[test]'; \
	  (cd $$env && bin/python -m pytest -q -p no:cacheprovider $(CURDIR)/tests/unit); \
	done

bench: build
	@for b in $(BUILD)/bench/*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.5; done
	@for b in bench/*.py; do [ -f "$$b" ] || continue; echo "== $$b"; $(PY) $$b; done

CXX_FILES = $(shell git ls-files 'native/*.cc' 'native/*.h' 'bench/*.cc')
lint: venv
	clang-format --dry-run -Werror $(CXX_FILES)
	$(VENV)/bin/ruff check python tests bench
	$(VENV)/bin/ruff format --check python tests bench

format: venv
	clang-format -i $(CXX_FILES)
	$(VENV)/bin/ruff check --fix python tests bench || true
	$(VENV)/bin/ruff format python tests bench

demo: build
	$(VENV)/bin/pyrometer demo

clean:
	rm -rf build $(VENV)
