"""The serving copy: readers never block a build, and never see half of one."""

import contextlib
import io
import re
import shutil
from pathlib import Path

import duckdb

from dashboard.report import write_report
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT, run_pipeline

NEXT_DAY = """2025-01-13,ACME,USD,104,106,103,105,105,1000,,,raw,fixture
2025-01-13,DRGN,USD,81,84,80,83,83,500,,,raw,fixture
"""


def test_a_reader_holding_the_serving_copy_never_blocks_a_rebuild(tmp_path):
    warehouse = tmp_path / "valuation.duckdb"
    serving = tmp_path / "serving.duckdb"
    run_pipeline(warehouse, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")

    reader = duckdb.connect(str(serving), read_only=True)  # a dashboard left open
    before = reader.execute("select count(*), max(date) from marts.fct_valuation_daily").fetchone()
    published_before = reader.execute("select published_at from publication").fetchone()[0]

    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    with open(snapshot / "prices" / "us_fixture.csv", "a") as f:
        f.write(NEXT_DAY)
    run_pipeline(warehouse, snapshot, FIXTURE_UNIVERSE, as_of="2025-01-31")  # would raise on a lock conflict

    # The open reader still sees the old publication whole ...
    assert reader.execute("select count(*), max(date) from marts.fct_valuation_daily").fetchone() == before
    reader.close()
    # ... and a new connection sees the new one whole.
    with duckdb.connect(str(serving), read_only=True) as fresh:
        after = fresh.execute("select count(*), max(date) from marts.fct_valuation_daily").fetchone()
        published_after = fresh.execute("select published_at from publication").fetchone()[0]
        dim_rows = fresh.execute("select count(*) from marts.dim_listing").fetchone()[0]
    assert after[0] == before[0] + 2 and str(after[1]) == "2025-01-13"
    assert published_after > published_before and dim_rows == 3
    assert not list(tmp_path.glob(".serving.duckdb.*.tmp")), "no temporary file left behind"


def test_the_python_snippets_of_the_warehouse_readme_run_as_written(sample_warehouse, tmp_path, monkeypatch):
    """Each Python snippet of warehouse/README.md, run as written from a checkout whose warehouse/
    holds the sample's serving copy, reads the marts."""
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / "serving.duckdb").symlink_to(sample_warehouse.parent / "serving.duckdb")
    (tmp_path / "analysis").symlink_to(REPO_ROOT / "analysis")
    monkeypatch.chdir(tmp_path)
    duckdb_snippet, sqlalchemy_snippet = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "warehouse" / "README.md").read_text(), re.S)

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(duckdb_snippet, {})
    namespace: dict = {}
    exec(sqlalchemy_snippet, namespace)
    namespace["engine"].dispose()

    query = (REPO_ROOT / "analysis" / "market_caps_by_currency.sql").read_text()
    with duckdb.connect(str(sample_warehouse.parent / "serving.duckdb"), read_only=True) as conn:
        expected_frame, expected_rows = conn.execute(query).df(), conn.execute(query).fetchall()
    assert printed.getvalue() == f"{expected_frame}\n"
    assert [tuple(row) for row in namespace["rows"]] == expected_rows
    # one row per company with a share count in the sample; Alibaba through 9988.HK, whose traded
    # closes run to 2025-07-18 (BABA's end in 2024-03)
    assert {row[1] for row in expected_rows} == {"AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "9988.HK"}


def test_the_static_report_opens_without_a_network(sample_warehouse, tmp_path):
    index = write_report(sample_warehouse.parent / "serving.duckdb", tmp_path / "reports")
    page = index.read_text()
    assert "src=\"http" not in page and "cdn." not in page, "no script may come from the network"
    for section in ("pe_china_vs_us", "market_caps_by_currency", "alibaba_vs_hang_seng", "hyperscaler_capex"):
        assert f'<section id="{section}">' in page
        png = tmp_path / "reports" / f"{section}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "vegaEmbed" in page and "Data freshness" in page
