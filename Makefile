# The two commands of the README: `make run` and `make test`. Both start from a clean clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench bench-rule bench-positions bench-regret bench-data screenshots lock clean

install: $(STAMP)

# Reinstall when the lock file or the project metadata change.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The embedded default: SQLite file hotdeals.db, a seeded demo campaign, served on 127.0.0.1:8000.
run: install
	$(BIN)/hotdeals demo

# The whole suite with a coverage floor on src/hotdeals, the servers that the e2e and browser
# tests start as subprocesses included (pyproject.toml: [tool.coverage.run] patch). A plain
# `.venv/bin/python -m pytest tests/...` stays fast and unmeasured.
COVERAGE_FLOOR := 96
test: install
	$(BIN)/python -m pytest --cov=hotdeals --cov-report=term-missing:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy --strict src/hotdeals
	$(BIN)/lint-imports

# Load and micro benchmarks on PostgreSQL; installs wrk (Debian) when missing. See bench/README.md.
# The winner rule on 100 simulated campaigns per case, against the old rule and other thresholds
# (docs/simulation.md); about a minute and a half on two cores, one JSON line.
bench-rule: install
	$(BIN)/python -m bench.rule_study

# Ranking by position-corrected posteriors against plain counts, 100 simulated campaigns per case
# (docs/positions.md); about four minutes on two cores, one JSON line.
bench-positions: install
	nice $(BIN)/python -m bench.position_study

# Regret of each policy and deal-week option (half-life, empirical prior) on the standard,
# churn, drift and position cases, 20 simulated campaigns each (docs/simulation.md); about half a
# minute on two cores, one JSON line. Paper scale: python -m bench.chapelle_li (~45 min).
bench-regret: install
	nice $(BIN)/python -m bench.regret

# A year of data on one machine (docs/scaling.md): 1M and 10M transactions loaded into throwaway
# PostgreSQL databases; db-check, /stats, /timeseries, the dashboard feed and the exports timed,
# peak memory of the commands, and a campaign of 1,000 deals. Minutes, not part of CI; one JSON line.
bench-data: install
	nice $(BIN)/python -m bench.data_bench --deals-case

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@command -v pgbench >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql-client)
	$(BIN)/python -m bench.rank_micro
	$(BIN)/python -m bench.http_bench

# PNGs of the storefront and the dashboard at 1280 and 375 px in screenshots/ (git-ignored).
screenshots: install
	PYTHONPATH=. $(BIN)/python scripts/screenshots.py

# Refresh the lock files after changing dependencies in pyproject.toml (existing pins are kept
# where they still fit): requirements.lock (runtime + test + dev) for the venv, then
# requirements-runtime.lock (runtime only, constrained to the same pins) for the image.
COMPILE := $(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras
lock:
	$(COMPILE) --extra test --extra dev -o requirements.lock pyproject.toml
	$(COMPILE) -c requirements.lock -o requirements-runtime.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
