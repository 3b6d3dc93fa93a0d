"""What `make demo` runs, for real in subprocesses: `dg launch` of every asset but the live-source landing ones, then the summary,
on the fixture snapshot. The story the summary tells is checked against the warehouse itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT, query

BIN = Path(sys.executable).parent
RUN_CONFIG = '{"execution": {"config": {"in_process": {}}}, "loggers": {"console": {"config": {"log_level": "INFO"}}}}'


def test_the_demo_tells_its_own_story(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    warehouse = tmp_path / "valuation.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "VALUATION_WAREHOUSE": str(warehouse),
           "VALUATION_UNIVERSE": str(FIXTURE_UNIVERSE), "VALUATION_SAMPLE_DIR": str(FIXTURE_SNAPSHOT),
           "VALUATION_SOURCE": "sample", "PYTHONWARNINGS": "ignore:Parameter `include_sources`"}  # fmt: skip
    # the demo's clock is the snapshot's last price day: us_fixture.csv ends on 2025-01-10
    as_of = subprocess.run([str(BIN / "python"), "-m", "orchestration.summary", "sample-end", str(FIXTURE_SNAPSHOT)],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert as_of == "2025-01-10"
    env["VALUATION_AS_OF"] = as_of
    # every asset but the landing ones, which fetch from a live source (the Makefile's DG_LAUNCH)
    launched = subprocess.run([str(BIN / "dg"), "launch", "--assets", "not group:landing", "--config-json", RUN_CONFIG],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    output = launched.stdout + launched.stderr
    assert launched.returncode == 0, output[-3000:]
    for voice in ("telemetry", "No dagster.yaml", "superseded", "BetaWarning"):
        assert voice not in output, voice  # other tools' banners stay quiet
    summary = subprocess.run([str(BIN / "python"), "-m", "orchestration.summary"], env=env,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    prices = re.search(r"^raw\.prices\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)", summary, re.MULTILINE)
    received, inserted, updated, unchanged, rejected = (int(g.replace(",", "")) for g in prices.groups())
    # a first load: every stored row was inserted by this run, and the rejects are the ones recorded
    assert inserted == query(warehouse, "select count(*) from raw.prices")[0][0] and (updated, unchanged) == (0, 0)
    assert rejected == query(warehouse, "select count(*) from raw.rejected_rows where dataset = 'prices'")[0][0] > 0
    assert "Freshness as of 2025-01-10 (VALUATION_AS_OF)" in summary
    assert f"Serving copy for SQL and BI tools (read-only, swapped whole on each publish): {tmp_path / 'serving.duckdb'}" in summary
