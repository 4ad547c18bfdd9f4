# SuperCore Workbench. `make run` and `make test` each do all set-up from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run lint check test help bench bench-langchain gate notebooks report lab

help:
	@echo "make run    install, start the embedded database, migrate, load demo data, open the dashboard"
	@echo "make test   install, then lint + type check + every test"
	@echo "make check  ruff format --check, ruff check, mypy, alembic check"
	@echo "make report TENANT=.. ORACLE=.. SET=..  per-oracle HTML reports under reports/"
	@echo "make lab    JupyterLab on the notebooks"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first: ==2.13.0 is the CPU build (a plain `torch` would pull a multi-GB CUDA build).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --progress-bar off torch==2.13.0
	$(BIN)/python -m pip install --quiet --progress-bar off -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# The dashboard on http://127.0.0.1:8501 (loopback only, no usage statistics, no browser opened).
run: install
	$(BIN)/supercore db start
	$(BIN)/supercore db upgrade
	$(BIN)/supercore demo load
	@echo
	@echo "SuperCore database ready. Connect with:"
	@echo "  psql \"$$($(BIN)/supercore db url)\""
	@echo "Stop it with: $(BIN)/supercore db stop"
	@echo "Dashboard: http://127.0.0.1:8501 (Ctrl-C stops it)"
	$(BIN)/streamlit run app/streamlit_app.py --server.address 127.0.0.1 --server.port 8501 \
		--browser.gatherUsageStats false --server.headless true

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

# alembic check needs a database at head: the test suite's throwaway server provides one.
check: lint
	$(BIN)/pytest -q tests/test_migrations.py -k models_match_migrations

test: lint
	$(BIN)/pytest

# The evaluation gate alone (also part of make test), and re-executing the notebooks'
# committed outputs; both on throwaway databases.
gate: install
	$(BIN)/pytest -q tests/test_eval_gate.py

notebooks: install
	$(BIN)/python notebooks/execute.py notebooks/*.ipynb

# Per-oracle HTML reports from both notebooks, on the database `make run` keeps:
#   make report TENANT=datacentre-operator ORACLE=annual-report SET=tatqa-questions
TENANT ?= datacentre-operator
ORACLE ?= annual-report
SET    ?= tatqa-questions
report: install
	$(BIN)/supercore db start >/dev/null
	$(BIN)/python notebooks/report.py "$(TENANT)" "$(ORACLE)" "$(SET)"

# JupyterLab from the project's environment, on the notebooks (loopback only).
lab: install
	$(BIN)/python -m pip install --quiet --progress-bar off -e ".[dev,lab]"
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser notebooks/

# Speed and scale figures (not pass/fail): a throwaway server per benchmark, ~13-16 minutes.
bench: install
	$(BIN)/python -m benchmarks.run
	$(MAKE) bench-langchain

# SuperCore search() against langchain-postgres on the same server and vectors (issue 13).
# langchain-postgres is not a project dependency: it lives in its own environment, with the
# project installed without dev extras (and pgvector < 0.4, which langchain-postgres needs).
# Needs ../shared/datasets/scifact; ~5 minutes.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp
$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --progress-bar off torch==2.13.0
	$(BENCH_VENV)/bin/python -m pip install --quiet --progress-bar off -e . langchain-postgres==0.0.19
	@touch $(BENCH_STAMP)

bench-langchain: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python -m benchmarks.langchain_compare
