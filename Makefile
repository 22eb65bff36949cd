# bank-crm-studies: `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-pyproject
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: help reproduce test reference benchmark lab clean-venv

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test,spark]"
	touch $(STAMP)

reproduce: $(STAMP)  ## run every case in params/ through the stage notebooks (writes data/processed, reports)
	$(BIN)/crmlib run --all

# Tests run on every core (pytest-xdist), with one worker more than cores: a worker spends about a fifth of its
# time waiting for notebook kernels and subprocesses to start (on 2 cores: 2 workers 324 s, 3 workers 304 s). One
# OpenMP thread per worker, since spinning OpenMP threads of several workers slow each other down many times over.
JOBS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))

# nbval re-executes the notebooks under a pseudonym salt of its own, so it shows that they pass whatever the salt.
test: $(STAMP)  ## unit and end-to-end tests, and nbval on the committed report notebooks (outputs to a temp dir)
	out=$$(mktemp -d) && CRMLIB_OUTPUT_DIR=$$out OMP_NUM_THREADS=1 \
	  CRMLIB_PSEUDONYM_SALT=test-$$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n') \
	  $(BIN)/pytest -n $(JOBS) --dist loadgroup $(NBVAL) tests reports/*/0*.ipynb; \
	status=$$?; rm -rf $$out; exit $$status

reference: $(STAMP)  ## rewrite the R reference files in tests/reference (needs R with psych, GPArotation, lavaan, semTools)
	$(BIN)/python tests/reference/export_inputs.py
	Rscript tests/reference/psych_reference.R
	Rscript tests/reference/psych_reliability.R
	Rscript tests/reference/psych_pairwise.R
	Rscript tests/reference/psych_omega.R
	Rscript tests/reference/psych_polychoric.R
	Rscript tests/reference/lavaan_reference.R

benchmark: $(STAMP)  ## time the loop (make test, make reproduce) against its floor; Shaoxing at 1e4-1e6 customers; the A-branch stages on a 1e6 x 24-month panel; the customer-base computations on DuckDB and Spark; the customer file's stages read by the engine or in memory; the grading robustness
	$(BIN)/python benchmarks/bench_loop.py
	$(BIN)/python benchmarks/bench_shaoxing.py
	$(BIN)/python benchmarks/bench_a_branch.py
	$(BIN)/python benchmarks/bench_engines.py
	$(BIN)/python benchmarks/bench_customer_file.py
	$(BIN)/python benchmarks/bench_robustness.py

lab: $(STAMP)  ## JupyterLab on notebooks/, with crmlib in its kernel (installs the lab extra the first time)
	test -x $(BIN)/jupyter-lab || $(BIN)/pip install --quiet --disable-pip-version-check -e ".[test,spark,lab]"
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) notebooks

clean-venv:  ## remove the virtual environment
	rm -rf $(VENV)
