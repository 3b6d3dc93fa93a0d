# Quickstart: `make demo` builds the warehouse from the market sample; `make test` runs the tests.
# Needs only Python 3.11+, git and make: the environment is created here, uv included.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
SAMPLE_DIR ?= $(abspath ../shared/market-sample)
UI_PORT ?= 3000
SUPERSET_VENV := superset/.venv
SUPERSET_PORT ?= 8088

export DAGSTER_HOME := $(abspath .dagster_home)
export VALUATION_SAMPLE_DIR ?= $(SAMPLE_DIR)

.PHONY: setup demo run test faults ui dashboard report browser bench bench-yahoo bench-edgar bench-schedule clean distclean superset

# The environment is rebuilt when the pinned set or the project's metadata changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@command -v uv >/dev/null 2>&1 && ln -sf "$$(command -v uv)" $(BIN)/uv || $(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# The Dagster instance's settings (telemetry off), from the committed template.
$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

# The dbt manifest the Dagster definitions load, prepared again when a file of the dbt project
# changes (dagster-dbt's own command: `dbt parse`). Loading the definitions re-prepares a stale
# manifest too, for runs that do not go through make.
DBT_MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project \( -path dbt_project/target -o -path dbt_project/logs \
	-o -path dbt_project/dbt_packages \) -prune -o -type f ! -name '.*' -print)
$(DBT_MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	$(BIN)/dagster-dbt project prepare-and-package --file orchestration/defs/dbt.py
	@touch $@

setup: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml $(DBT_MANIFEST)
	@mkdir -p warehouse

# One in-process run at INFO level: the demo's steps are sequential anyway, and a subprocess per
# step (the default executor) would reload the definitions for each.
DEMO_RUN_CONFIG := {"execution": {"config": {"in_process": {}}}, "loggers": {"console": {"config": {"log_level": "INFO"}}}}

# Ingest the market sample and build every dbt model in one Dagster run, then print a summary.
# The clock is the sample's last day (2026-04-10 for ../shared/market-sample), so freshness describes
# the sample rather than today; VALUATION_AS_OF=... overrides it.
# Every asset but the landing ones (they fetch from a live source) in one run, through `dg launch`.
DG_LAUNCH := PYTHONWARNINGS='ignore:Parameter `include_sources`' $(BIN)/dg launch --assets 'not group:landing' --config-json '$(DEMO_RUN_CONFIG)'

demo: setup
	@AS_OF=$${VALUATION_AS_OF:-$$($(BIN)/python -m orchestration.summary sample-end "$(VALUATION_SAMPLE_DIR)")}; \
	echo "make demo: the market sample at $(VALUATION_SAMPLE_DIR), evaluated as of $$AS_OF"; \
	VALUATION_SOURCE=sample VALUATION_AS_OF=$$AS_OF $(DG_LAUNCH) && \
	VALUATION_AS_OF=$$AS_OF $(BIN)/python -m orchestration.summary

# Refresh from live Yahoo Finance (VALUATION_SOURCE=yahoo unless set): the raw loads once (they write
# the landing state the fetches read), one fetch run per listing bucket into the landing zone,
# warehouse/landing/ (LANDING_DIR=dir to put it elsewhere), then the loads of what landed and the build.
# A landed batch is in the sample's layout: VALUATION_SAMPLE_DIR=<batch folder> replays it.
run: setup
	@export VALUATION_SOURCE=$${VALUATION_SOURCE:-yahoo} $(if $(LANDING_DIR),VALUATION_LANDING_DIR=$(LANDING_DIR)); \
	$(BIN)/dg launch --assets 'group:raw' || exit 1; \
	for bucket in $$($(BIN)/python -c "from orchestration.landing import bucket_keys; print(*bucket_keys())"); do \
		$(BIN)/dg launch --assets 'group:landing' --partition $$bucket || exit 1; \
	done; \
	$(DG_LAUNCH) && $(BIN)/python -m orchestration.summary

# The UI tests drive a real headless Chromium: Debian's chromium and chromium-driver, installed
# here when missing (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: setup browser $(SUPERSET_VENV)/.installed
	$(BIN)/python -m pytest -m "not faults"

# The fault catalogue: real runs killed at 20 seeded points per scenario, and damaged input (about 12 minutes on 2
# cores, so not part of `make test`); prints scenario, runs, rows compared, rows lost.
faults: setup
	$(BIN)/python -m pytest tests/faults

# The Dagster UI on 127.0.0.1 only (set UI_HOST to expose it elsewhere).
ui: setup
	VALUATION_SOURCE=$${VALUATION_SOURCE:-sample} $(BIN)/dagster dev -m orchestration.definitions -h $${UI_HOST:-127.0.0.1} -p $(UI_PORT)

# The scale benchmark on a SYNTHETIC market (benchmarks/scale.py), by default a growth curve:
# SCALES are fractions of 5,000 listings (1,250, 2,500, 5,000 and 10,000 listings x 20 years, one run
# each), each measured in its own folder under benchmarks/work (removed once measured), each printing
# its table; then the growth table and a linear extrapolation to 70,000 listings x 30 years.
# Writes benchmarks/results/growth_$(YEARS)y.json and scale_<listings>x$(YEARS).json.
# Time, measured one point at a time on 2 cores: 1,250 about 7 min, 2,500 about 13, 5,000 about
# 27, 10,000 about 50 (most of it the first load of the history): the curve about 1 h 40 min.
# Memory besides the build: the benchmark holds each point's synthetic market until the refresh
# (about 9 GiB at 10,000 x 20); the pandas baseline holds its panel (10 GiB at 10,000) in a process
# of its own. Disk: about 3-4 GiB per 1,000 listings, plus DuckDB's spill.
# One scale alone (no comma in SCALES; its work folder stays): make bench SCALES=1 RUNS=3 for the
# targets' medians; make bench SCALES=0.01 YEARS=2 for a smoke (under a minute).
SCALES ?= 0.25,0.5,1,2
YEARS ?= 20
RUNS ?= 1
comma := ,
BENCH_SCALES = $(or $(SCALE),$(SCALES))# SCALE=..., the older name, still works
bench: setup
	$(BIN)/python -W ignore -m benchmarks.scale $(if $(findstring $(comma),$(BENCH_SCALES)),--curve,--scale) $(BENCH_SCALES) \
		--years $(YEARS) --runs $(RUNS)

# Requests a first and a daily Yahoo run make for a fake universe (SYMBOLS=5000), and throughput;
# then the same for the EDGAR fundamentals source (bench-edgar alone).
bench-yahoo: setup
	$(BIN)/python -W ignore -m benchmarks.yahoo_requests --symbols $${SYMBOLS:-5000}
	$(BIN)/python -W ignore -m benchmarks.edgar_requests --symbols $${SYMBOLS:-5000}

bench-edgar: setup
	$(BIN)/python -W ignore -m benchmarks.edgar_requests --symbols $${SYMBOLS:-5000}

# Requests a minute Yahoo receives from 1, 4 and 8 bucket runs at once under the real daemon (dagster dev
# and a Yahoo double on local HTTP), at the default pace, each process paced alone for comparison
# (PER_PROCESS=0 to skip it): about 20 minutes on 2 cores (10 without the comparison).
bench-schedule: setup
	$(BIN)/python -W ignore -m benchmarks.schedule_pace $(if $(filter 0,$(PER_PROCESS)),,--per-process-too)

# The re-rating dashboard on http://127.0.0.1:8501, reading warehouse/serving.duckdb.
dashboard: setup
	$(BIN)/streamlit run dashboard/app.py --server.address $${DASHBOARD_HOST:-127.0.0.1} \
		--server.port $${DASHBOARD_PORT:-8501} --server.headless true --browser.gatherUsageStats false

# The same charts as a static page and PNGs under reports/ (opens without a network).
report: setup
	$(BIN)/python -m dashboard.report --serving warehouse/serving.duckdb --out reports

# Apache Superset over the serving copy (superset/), in an environment of its own, superset/.venv:
# Superset 6.1 needs SQLAlchemy 1.4 and pandas 2.1, the project has SQLAlchemy 2 and pandas 3. It is
# installed from the exact pins of superset/requirements.txt, rebuilt when they change. Those pins
# (Superset's bounds: pandas<2.2, msgpack<1.1) have wheels for Python 3.11 and 3.12 only, so the
# first of $(PYTHON), python3.12, python3.11 that is one of them.
# The serving copy it reads: the one `make demo` with the same VALUATION_WAREHOUSE / VALUATION_SERVING writes.
SUPERSET_SERVING ?= $(abspath $(or $(VALUATION_SERVING),$(dir $(or $(VALUATION_WAREHOUSE),warehouse/valuation.duckdb))serving.duckdb))
SUPERSET_PYTHON ?= $(shell for p in $(PYTHON) python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' >/dev/null 2>&1 && { echo $$p; break; }; done)

$(SUPERSET_VENV)/.installed: superset/requirements.txt $(VENV)/.installed
	@test -x $(SUPERSET_VENV)/bin/python || { \
		test -n "$(SUPERSET_PYTHON)" || { echo "Superset 6.1 installs on Python 3.11 or 3.12: put python3.12 or python3.11 on PATH, or set SUPERSET_PYTHON=..." >&2; exit 1; }; \
		$(SUPERSET_PYTHON) -m venv $(SUPERSET_VENV); }
	$(BIN)/uv pip install --quiet --python $(SUPERSET_VENV)/bin/python -r superset/requirements.txt
	@touch $@

# Superset on http://127.0.0.1:$(SUPERSET_PORT) (admin / admin, a local account): initialises its
# metadata database (superset/.home/), registers the serving copy read-only, saves analysis/*.sql as
# datasets with a chart each and a dashboard, then serves until Ctrl-C. See warehouse/README.md.
superset: $(SUPERSET_VENV)/.installed
	$(SUPERSET_VENV)/bin/python superset/setup_superset.py --serving "$(SUPERSET_SERVING)" --port $(SUPERSET_PORT)

# Build outputs: dbt's target and logs, the Dagster instance (run history), the warehouse files,
# the static report, test caches. The environment stays; `make distclean` removes it too.
clean:
	rm -rf dbt_project/target dbt_project/logs dbt_project/dbt_packages logs $(DAGSTER_HOME) reports \
		warehouse/*.duckdb warehouse/*.duckdb.wal warehouse/*.duckdb.tmp warehouse/.*.tmp* \
		warehouse/.yfinance-cache benchmarks/work .pytest_cache .hypothesis superset/.home
	find . \( -path ./$(VENV) -o -path ./$(SUPERSET_VENV) \) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(SUPERSET_VENV) *.egg-info
