# Every target creates .venv and installs the package (with its dev extra) when missing,
# so `make demo` and `make test` work on a fresh machine that has only Python 3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The demo, the apps and the benchmarks use whatever device JAX finds (a GPU once
# `pip install -e '.[cuda]'` brought JAX's CUDA plugin); only the tests pin the CPU and fake
# four devices (tests/conftest.py sets both before jax is imported; the flags here say so).
export MPLBACKEND ?= Agg
# Two pytest processes (pytest-xdist), whole test files to each (a file's compiled fixtures
# stay shared): most of the suite's time is XLA compiling, one core per program. The run's
# processes share one persistent compilation cache (tests/conftest.py), so a program that
# several files or spawned app processes compile alike compiles once: 16-21 min on our
# 2-core machine (33-36 without the cache).
# TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
TEST_ENV := XLA_FLAGS="$${XLA_FLAGS:---xla_force_host_platform_device_count=4}" JAX_PLATFORMS="$${JAX_PLATFORMS:-cpu}"

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m retargetjax.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(TEST_ENV) $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
