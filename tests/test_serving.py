"""The serving copy: readers never block a build, and never see half of one."""

import contextlib
import io
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import sqlalchemy

from dashboard.report import write_report
from orchestration.warehouse import publish
from orchestration.warehouse.publish import publish_serving_copy
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT, run_pipeline

NEXT_DAY = """2025-01-13,ACME,USD,104,106,103,105,105,1000,,,raw,fixture
2025-01-13,DRGN,USD,81,84,80,83,83,500,,,raw,fixture
"""


def test_a_reader_holding_the_serving_copy_never_blocks_a_rebuild(tmp_path, monkeypatch):
    # The fixture is small: a day's rebuild (the last days of every listing, the plain marts) is
    # most of its rows, which publishes a new file. Let the copy take them all, so that the second
    # publish patches a copy of the file the reader holds, as a daily publish does at scale.
    monkeypatch.setattr(publish, "MAX_PATCHED_SINCE_FULL", 1.0)
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
    # the second publish patched a copy of the first; it holds what the warehouse holds, table by table
    with duckdb.connect(str(warehouse), read_only=True) as working:
        working.execute("attach ? as published (read_only)", [str(serving)])
        assert working.execute("select publish_mode from published.publication").fetchone() == ("patched",)
        tables = working.execute("select table_name from duckdb_tables() where database_name = 'published' and schema_name = 'marts'").fetchall()
        assert len(tables) >= 9
        for (table,) in tables:
            for one, other in [(f"marts.{table}", f"published.marts.{table}"), (f"published.marts.{table}", f"marts.{table}")]:
                assert working.execute(f"select count(*) from (from {one} except all from {other})").fetchone() == (0,), table
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
    # one row per company, all eleven have a share count in the grown sample; Alibaba through BABA,
    # whose traded closes run to 2026-04-10 (9988.HK's end on 2025-10-30), Baidu through BIDU (9888.HK
    # ends on 2025-10-30 too), JD through JD; on 2026-03-30, the last day CNY=X (2026-03-23, carried
    # 7 days) leaves every currency known
    assert {row[1] for row in expected_rows} == {"AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "0700.HK", "BABA",
                                                 "BIDU", "JD", "PDD"}  # fmt: skip
    assert {row[2] for row in expected_rows} == {date(2026, 3, 30), date(2026, 3, 26)}  # 0700.HK's last close: 03-26


def test_a_pooled_engine_keeps_the_old_publication_and_the_readme_engine_sees_each_new_one(tmp_path, monkeypatch):
    """warehouse/README.md's SQLAlchemy engine (NullPool) against SQLAlchemy's default pool, across
    publications by the pipeline's own publisher of tiny marts whose latest day tells them apart."""
    monkeypatch.chdir(tmp_path)  # the README's relative URL: warehouse/serving.duckdb
    serving = tmp_path / "warehouse" / "serving.duckdb"
    working = duckdb.connect(str(tmp_path / "valuation.duckdb"))
    working.execute("create schema marts")
    working.execute("create table marts.fct_valuation_daily (date date, symbol varchar, close double)")

    def publish(date: str, close: float) -> None:
        working.execute("insert into marts.fct_valuation_daily values (?, 'ACME', ?)", [date, close])
        publish_serving_copy(working, serving)

    def latest(engine: sqlalchemy.Engine) -> tuple:
        with engine.connect() as conn:
            return tuple(conn.execute(sqlalchemy.text(
                "select count(*), max(date)::varchar, arg_max(close, date) from marts.fct_valuation_daily"
            )).one())  # fmt: skip

    publish("2025-01-10", 101.0)
    pooled = sqlalchemy.create_engine("duckdb:///warehouse/serving.duckdb", connect_args={"read_only": True})
    assert isinstance(pooled.pool, sqlalchemy.pool.QueuePool)
    assert latest(pooled) == (1, "2025-01-10", 101.0)
    publish("2025-01-13", 105.0)
    assert latest(pooled) == (1, "2025-01-10", 101.0), "the pooled connection is still on the old file"
    pooled.dispose()
    assert latest(pooled) == (2, "2025-01-13", 105.0)
    # Disposed before the README's engine connects: DuckDB shares one open database among a process's
    # connections to a path, so a pooled connection still open here would give it the old file too.
    pooled.dispose()

    snippet = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "warehouse" / "README.md").read_text(), re.S)[1]
    namespace: dict = {}
    exec(snippet.split("with engine.connect()")[0], namespace)  # the engine, as the README creates it
    engine = namespace["engine"]
    assert isinstance(engine.pool, sqlalchemy.pool.NullPool)
    assert latest(engine) == (2, "2025-01-13", 105.0)
    publish("2025-01-14", 99.5)
    assert latest(engine) == (3, "2025-01-14", 99.5), "each checkout opens the file published last"
    publish("2025-01-15", 98.0)
    assert latest(engine) == (4, "2025-01-15", 98.0)
    engine.dispose()
    working.close()


def test_the_static_report_opens_without_a_network(sample_warehouse, tmp_path):
    index = write_report(sample_warehouse.parent / "serving.duckdb", tmp_path / "reports")
    page = index.read_text()
    assert "src=\"http" not in page and "cdn." not in page, "no script may come from the network"
    for section in ("pe_china_vs_us", "market_caps_by_currency", "alibaba_vs_hang_seng", "hyperscaler_capex"):
        assert f'<section id="{section}">' in page
        png = tmp_path / "reports" / f"{section}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "vegaEmbed" in page and "Data freshness" in page
