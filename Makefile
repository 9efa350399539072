# metabench: `make demo` and `make test` are all a fresh clone needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
BENCHSTAMP := $(VENV)/.installed-bench

# Pinned tools: pip in every virtual environment, pip-tools for `make lock`.
PIP_VERSION       := 26.3
PIP_TOOLS_VERSION := 7.7.0

# The lock: the exact versions of everything demo, test and bench install (core dependencies and the extras
# dev, bayes, hf and bench; never gpu). It is a constraints file: each target installs only what it needs, at the
# locked versions, and the build of metabench itself uses the locked setuptools and wheel.
LOCK        := requirements/lock.txt
LOCK_EXTRAS := dev bayes hf bench
TORCH_CPU   := requirements/torch-cpu.txt
CONSTRAIN   := -c $(LOCK) --build-constraint $(LOCK)
CHECK_LOCK  := requirements/lockfile.py check $(LOCK) --pip $(PIP_VERSION)

# pip-tools lives in its own environment, so that it never enters the locked one
LOCKVENV  := .venv-lock
LOCKSTAMP := $(LOCKVENV)/.pip-tools-$(PIP_TOOLS_VERSION)

# `make test-latest`: the newest versions pyproject.toml allows (torch still its CPU build), to see drift early
LATEST := .venv-latest

PYTEST_ARGS := -n 2 metabench tests

.PHONY: demo test test-latest bench lock check-lock venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet "pip==$(PIP_VERSION)"

# setuptools is named so that the venv's bundled copy is replaced by the locked one
$(STAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP) install $(CONSTRAIN) -e . setuptools
	$(PY) $(CHECK_LOCK)
	touch $@

# the test extras: dev tools, pymc ([bayes]), transformers and torch's CPU build ([hf])
$(DEVSTAMP): pyproject.toml $(LOCK) | $(PY)
	$(PIP) install $(CONSTRAIN) -e ".[dev,bayes,hf]" setuptools
	$(PY) $(CHECK_LOCK)
	touch $(STAMP) $@

$(BENCHSTAMP): $(DEVSTAMP)
	$(PIP) install --quiet $(CONSTRAIN) -e ".[dev,bayes,hf,bench]" setuptools
	$(PY) $(CHECK_LOCK)
	touch $@

venv: $(STAMP)

## demo: install, analyse the bundled runs with every method, write reports/
demo: $(STAMP)
	$(VENV)/bin/metabench analyze data/runs data/leaderboards --method all --out reports --format html,md,tex,json \
		--title "metabench demo: MedAgentsBench, MMLU-Pro and published leaderboards"

## test: install the locked environment with the test extras and run the test suite
test: $(DEVSTAMP)
	$(PY) $(CHECK_LOCK)
	$(PY) -m pytest $(PYTEST_ARGS)

## check-lock: fail unless .venv holds exactly the locked versions and `pip check` passes
check-lock: | $(PY)
	$(PY) $(CHECK_LOCK)

## test-latest: the same tests on the newest versions pyproject.toml allows, in $(LATEST) (upgraded on each run)
test-latest:
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet "pip==$(PIP_VERSION)"
	$(LATEST)/bin/pip install --upgrade --upgrade-strategy eager -c $(TORCH_CPU) -e ".[dev,bayes,hf]"
	$(LATEST)/bin/pip check
	$(LATEST)/bin/python requirements/lockfile.py drift $(LOCK)
	$(LATEST)/bin/python -m pytest $(PYTEST_ARGS)

## lock: refresh requirements/lock.txt from pyproject.toml; UPGRADE=1 moves every pin to the newest allowed version
lock: $(LOCKSTAMP)
	rm -f $(LOCK).new
	test ! -f $(LOCK) || cp $(LOCK) $(LOCK).new
	$(LOCKVENV)/bin/pip-compile --quiet --no-header --allow-unsafe --strip-extras --all-build-deps \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
		$(addprefix --extra ,$(LOCK_EXTRAS)) -c $(TORCH_CPU) $(if $(UPGRADE),--upgrade) \
		--output-file $(LOCK).new pyproject.toml
	$(LOCKVENV)/bin/python requirements/lockfile.py header $(LOCK).new --pip-tools $(PIP_TOOLS_VERSION)
	if cmp -s $(LOCK).new $(LOCK); then rm $(LOCK).new; else mv $(LOCK).new $(LOCK); fi

$(LOCKSTAMP):
	rm -rf $(LOCKVENV)
	$(PYTHON) -m venv $(LOCKVENV)
	$(LOCKVENV)/bin/pip install --quiet "pip==$(PIP_VERSION)"
	$(LOCKVENV)/bin/pip install --quiet "pip-tools==$(PIP_TOOLS_VERSION)"
	touch $@

## bench: speed and memory comparisons against peer libraries
bench: $(BENCHSTAMP)
	$(PY) benchmarks/io.py
	$(PY) benchmarks/irt.py
	$(PY) benchmarks/significance_coverage.py
	$(PY) benchmarks/significance_speed.py
	$(PY) benchmarks/aggregation.py
	$(PY) benchmarks/aggregation_kemeny.py
	$(PY) benchmarks/agreement.py
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) reports/*.html build *.egg-info
