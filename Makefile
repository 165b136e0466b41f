# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test and benchmark tools (pyspark is an sdist that takes minutes to build) are not needed
# to run the demo, so `make demo` installs the package alone and `make test` adds the dev extra.
DEV_STAMP := $(VENV)/.installed-dev
# Locked versions (pip freeze of a working environment) for CI and the demo; pyproject.toml keeps
# the ranges users install from. `make lock` rewrites it from the current .venv.
CONSTRAINTS := constraints.txt
PYTEST_ARGS ?=
# Both cores: test files are spread over two workers (each keeps its own session fixtures).
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint docs clean-demo lock mutate

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $(DEV_STAMP)

lock:
	{ sed -n '/^#/p' $(CONSTRAINTS); $(BIN)/pip freeze --exclude-editable | sort -f; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

demo: $(STAMP)
	$(BIN)/fanpin demo

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --nbmake $(PYTEST_ARGS) tests notebooks

bench: $(DEV_STAMP)
	@command -v wrk >/dev/null || echo 'note: wrk is not installed (apt-get install wrk): the API cases fall back to Python client threads, whose own CPU use on the same cores inflates the latencies'
	$(BIN)/python -m benchmarks.run

# Mutation check of the privacy and safety code (pyproject.toml [tool.mutmut]: the masking
# functions, the formula defusing, the completeness bounds) against the fast tests aimed at it; not
# part of `make test`. Lists every surviving mutant; fails when one survives in the masking functions.
mutate: $(DEV_STAMP)
	rm -rf mutants
	env -u PYTHONPATH $(BIN)/mutmut run --max-children $(PYTEST_WORKERS) || true
	env -u PYTHONPATH $(BIN)/mutmut results
	@! env -u PYTHONPATH $(BIN)/mutmut results | grep -E '^\s*features\.(identifiers|masking)\.' \
		|| { echo 'mutants survive in the masking functions'; exit 1; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

docs: $(STAMP)
	$(BIN)/fanpin contract-doc --out docs/data-contract.md
