"""The landing zone: fetches land as immutable batches (any process, never the warehouse), one
writer loads each batch exactly once. Real Dagster runs, real processes, a real DuckDB file; only
Yahoo's HTTP is replayed (tests/fakes/yahoo_http.py)."""

from __future__ import annotations

import binascii
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

import orchestration.sources.yahoo as yahoo_module
from orchestration.defs.ingest import raw_prices, raw_universe
from orchestration.defs.landing import landing_prices
from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
from orchestration.landing import LandingZone, bucket_keys, landed_fetch, listing_bucket, merge_fetched
from orchestration.sources import Fetched
from tests.conftest import FIXTURE_UNIVERSE, query
from tests.fakes.land_buckets import FIXTURE_SERIES, fixture_close, serve_fixture, session_days
from tests.fakes.yahoo_http import ReplaySession, fresh_yfinance

REPO = Path(__file__).resolve().parents[1]
SYMBOLS = sorted(FIXTURE_SERIES)


# ------------------------------------------------------------------ pure parts


def test_a_symbols_bucket_is_the_crc32_of_its_name_modulo_the_bucket_count():
    # binascii's CRC-32 (a second implementation of the same checksum) by hand: ACME -> k = crc % 8 + 1
    for symbol in ("ACME", "9999.HK", "USDHKD=X"):
        k = binascii.crc32(symbol.encode()) % 8 + 1
        assert listing_bucket(symbol) == f"bucket-{k}-of-8"
    assert set(listing_bucket(s) for s in SYMBOLS) <= set(bucket_keys())


def test_the_last_fetch_that_asked_for_a_symbol_decides_its_status():
    monday = Fetched(pd.DataFrame(), failures={"ACME": "HTTP 503"}, deferred={"DRGN": "budget"}, requests=3)
    tuesday = Fetched(pd.DataFrame(), failures={"^HSI": "HTTP 404"}, requests=2)
    merged = merge_fetched([(["ACME", "DRGN", "^HSI"], monday), (["ACME", "^HSI"], tuesday)])
    # ACME failed Monday and was fetched Tuesday; DRGN was not asked Tuesday: still deferred
    assert merged.failures == {"^HSI": "HTTP 404"}
    assert merged.deferred == {"DRGN": "budget"}
    assert merged.requests == 5


def test_a_company_with_no_new_filing_lands_as_unchanged_not_failed(tmp_path):
    """EDGAR's daily check: asked, nothing to fetch. The manifest keeps it apart from the failures,
    so the load does not report "fetched, but every row was rejected"."""
    from orchestration.normalize.statements import empty_statements

    zone = LandingZone(tmp_path)
    fetched = Fetched(empty_statements(), unchanged={"TSLA": "no filing since 2022-10-24"}, failures={"0700.HK": "no SEC CIK"})
    batch = zone.land("financial_statements", "bucket-1-of-8", fetched, ["TSLA", "0700.HK"], "edgar")
    replayed = landed_fetch(batch, Fetched(empty_statements()), ["TSLA", "0700.HK"])
    assert replayed.unchanged == {"TSLA": "no filing since 2022-10-24"}
    assert replayed.failures == {"0700.HK": "no SEC CIK"}


def test_a_batch_is_visible_only_once_complete(tmp_path):
    zone = LandingZone(tmp_path)
    (tmp_path / "prices" / "bucket-1-of-8" / ".partial-20250106T000000000000Z-deadbeef" / "prices").mkdir(parents=True)
    assert zone.batches("prices") == []  # a fetch that died before its rename is never loaded
    assert len(zone.partial_batches()) == 1


# ------------------------------------------------------------------ fetch and load apart


@pytest.fixture
def yahoo(monkeypatch, tmp_path):
    fresh_yfinance()
    session = ReplaySession()
    monkeypatch.setattr(yahoo_module, "YahooSession", lambda limiter: session)
    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    monkeypatch.setenv("VALUATION_AS_OF", "2025-01-31")
    monkeypatch.setenv("VALUATION_LANDING_DIR", str(tmp_path / "landing"))
    return session


def test_no_fetch_before_a_load_has_written_the_state(yahoo, tmp_path):
    """Without the state a fetch would take every symbol's whole history: it refuses, saying what to
    run; a load (of an empty warehouse here) writes the state and the fetch then runs."""
    serve_fixture(yahoo, days=3)
    warehouse = tmp_path / "w.duckdb"
    keys = bucket_keys()
    refused = dg.materialize([landing_prices], resources=resources(warehouse), partition_key=keys[0], raise_on_error=False)
    assert not refused.success and yahoo.chart_params == []
    failure = next(e for e in refused.all_events if e.event_type_value == "STEP_FAILURE")
    assert "no landing state" in failure.step_failure_data.error.message
    load(warehouse)
    assert LandingZone(tmp_path / "landing").read_state().price_last_dates == {}
    land_all(warehouse)
    assert len(yahoo.chart_params) == 7


def resources(warehouse: Path) -> dict:
    return {
        "duckdb": WarehouseResource(database=str(warehouse)),
        "market_data": MarketDataResource(source="yahoo", retry_base_delay_seconds=0.001),
        "run_settings": run_settings(),
    }


def land_all(warehouse: Path) -> None:
    keys = bucket_keys()
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    assert dg.materialize([landing_prices], resources=resources(warehouse), tags=tags).success


def load(warehouse: Path) -> dg.ExecuteInProcessResult:
    result = dg.materialize([raw_universe, raw_prices], resources=resources(warehouse))
    assert result.success
    return result


def loaded_metadata(result, name):
    event = next(e for e in result.get_asset_materialization_events() if e.materialization.asset_key.path == ["raw", "prices"])
    return event.materialization.metadata[name].value


def test_each_batch_loads_exactly_once_and_a_second_load_changes_nothing(yahoo, tmp_path):
    serve_fixture(yahoo, days=3)
    warehouse = tmp_path / "w.duckdb"
    load(warehouse)  # an empty warehouse: writes the state the first fetch reads
    land_all(warehouse)
    first = load(warehouse)
    # one batch per bucket, with or without symbols; 7 series x 3 days
    assert loaded_metadata(first, "batches_loaded") == 8
    assert query(warehouse, "select count(*), count(distinct batch_id) from raw.landed_batches") == [(8, 8)]
    assert query(warehouse, "select count(*) from raw.prices") == [(21,)]
    assert query(warehouse, "select close from raw.prices where symbol = '^HSI' order by date") == [
        (19000.0,), (19001.0,), (19002.0,)]  # fmt: skip
    second = load(warehouse)
    assert loaded_metadata(second, "batches_loaded") == 0
    assert query(warehouse, "select count(*) from raw.landed_batches") == [(8,)]
    assert query(warehouse, "select count(*) from raw.prices") == [(21,)]


def test_the_fetch_reads_what_the_last_load_knew_from_the_landing_state(yahoo, tmp_path):
    serve_fixture(yahoo, days=3)
    warehouse = tmp_path / "w.duckdb"
    load(warehouse)
    land_all(warehouse)
    load(warehouse)
    state = LandingZone(tmp_path / "landing").read_state()
    assert state.watermarks()["ACME"] == date(2025, 1, 8)
    yahoo.chart_params.clear()
    serve_fixture(yahoo, days=5)
    land_all(warehouse)
    # ACME's last loaded day 2025-01-08, minus the 5-day overlap: asked from 2025-01-03
    starts = {s: int(p["period1"]) for s, p in yahoo.chart_params}
    assert pd.Timestamp(starts["ACME"], unit="s", tz="America/New_York").date() == date(2025, 1, 3)
    load(warehouse)
    assert query(warehouse, "select count(*) from raw.prices") == [(35,)]


def test_the_state_keeps_each_symbols_own_overlap_however_far_apart_their_last_days(tmp_path):
    """The recent closes a fetch compares a restatement against: each symbol's last
    `price_overlap_days` calendar days before its own last day (a listing that stopped trading
    long ago keeps its window), nothing older."""
    import duckdb

    from orchestration.defs.ingest import _write_landing_state
    from orchestration.warehouse.store import ensure_raw_schema

    rows = [("ACME", date(2025, 1, d), 100.0 + d) for d in (2, 3, 6, 7, 8)] + [
        ("GONE", date(2019, 6, d), 10.0 + d) for d in (3, 4, 5, 6, 7, 10)]  # fmt: skip
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ensure_raw_schema(conn)
        conn.executemany(
            "insert into raw.prices (symbol, date, close, adj_close, currency, price_basis, _source, _loaded_at) "
            "values (?, ?, ?, ?, 'USD', 'raw', 'test', now())",
            [(s, d, c, c) for s, d, c in rows],
        )
        market_data = MarketDataResource(source="yahoo", landing_dir=str(tmp_path / "landing"), price_overlap_days=5)
        _write_landing_state(conn, market_data)
    state = LandingZone(tmp_path / "landing").read_state()
    # by hand: ACME's last day 2025-01-08 - 5 = 2025-01-03; GONE's 2019-06-10 - 5 = 2019-06-05
    assert state.recent_closes == [
        ["ACME", "2025-01-03", 103.0, 103.0], ["ACME", "2025-01-06", 106.0, 106.0],
        ["ACME", "2025-01-07", 107.0, 107.0], ["ACME", "2025-01-08", 108.0, 108.0],
        ["GONE", "2019-06-05", 15.0, 15.0], ["GONE", "2019-06-06", 16.0, 16.0],
        ["GONE", "2019-06-07", 17.0, 17.0], ["GONE", "2019-06-10", 20.0, 20.0],
    ]  # fmt: skip
    assert state.price_last_dates == {"ACME": "2025-01-08", "GONE": "2019-06-10"}


def test_a_crash_inside_a_load_loads_that_batch_again_next_time(yahoo, tmp_path):
    serve_fixture(yahoo, days=3)
    warehouse = tmp_path / "w.duckdb"
    load(warehouse)
    land_all(warehouse)
    code = (
        "import os, dagster as dg\n"
        "from orchestration.defs.ingest import raw_prices, raw_universe\n"
        "from tests.test_landing import resources\n"
        f"dg.materialize([raw_universe, raw_prices], resources=resources({str(warehouse)!r}))\n"
    )
    env = {**os.environ, "VALUATION_FAILPOINT": "load.prices.between_rows_and_rejects"}
    crashed = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True)
    assert crashed.returncode == -9  # killed inside the first batch's transaction
    assert query(warehouse, "select count(*) from raw.landed_batches") == [(0,)]
    assert query(warehouse, "select count(*) from raw.prices") == [(0,)]
    load(warehouse)
    assert query(warehouse, "select count(*), count(distinct batch_id) from raw.landed_batches") == [(8, 8)]
    assert query(warehouse, "select count(*) from raw.prices") == [(21,)]


def test_parallel_fetch_processes_while_a_load_runs_lose_nothing(yahoo, tmp_path):
    """Four worker processes land two buckets each from 10 days of bars, while this process keeps
    loading whatever has landed; a last load after they finish. Every bar arrives exactly once."""
    serve_fixture(yahoo, days=3)
    warehouse = tmp_path / "w.duckdb"
    load(warehouse)
    land_all(warehouse)
    load(warehouse)  # the state the workers start from: 3 days loaded
    keys = bucket_keys()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.land_buckets", "--landing", str(tmp_path / "landing"),
             "--universe", str(FIXTURE_UNIVERSE), "--days", "10", *keys[i::4]],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        for i in range(4)
    ]
    loads_during = 0
    while any(worker.poll() is None for worker in workers):
        load(warehouse)
        loads_during += 1
    outputs = [worker.communicate()[0].decode()[-2000:] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0, 0], outputs
    load(warehouse)
    assert loads_during >= 1
    # 8 first batches + 8 from the workers, each loaded once; nothing half-written left behind
    assert query(warehouse, "select count(*), count(distinct batch_id) from raw.landed_batches") == [(16, 16)]
    assert LandingZone(tmp_path / "landing").partial_batches() == []
    # every series has all 10 days with the closes served (first close + day index)
    days = session_days(10)
    expected = sorted((s, d, fixture_close(s, i)) for s in SYMBOLS for i, d in enumerate(days))
    assert query(warehouse, "select symbol, date, close from raw.prices order by all") == expected


def test_a_worker_killed_while_landing_leaves_nothing_loadable(tmp_path):
    code = (
        "import pandas as pd\n"
        "from orchestration.landing import LandingZone\n"
        "from orchestration.sources import Fetched\n"
        "from orchestration.normalize.prices import empty_vintage_rows\n"
        f"LandingZone({str(tmp_path)!r}).land('prices', 'bucket-1-of-8', Fetched(empty_vintage_rows()), ['ACME'], 'yahoo')\n"
    )
    env = {**os.environ, "VALUATION_FAILPOINT": "landing.before_rename"}
    killed = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True)
    assert killed.returncode == -9
    zone = LandingZone(tmp_path)
    assert zone.batches("prices") == [] and len(zone.partial_batches()) == 1


# ------------------------------------------------------------------ the load follows what lands


def test_a_landed_bucket_requests_its_load_and_the_universe_alone_does_not():
    """Dagster's own evaluation of the raw loads' automation condition, on a real (ephemeral) instance."""
    from orchestration.defs.ingest import UNIVERSE_KEYS, raw_assets
    from orchestration.defs.landing import landing_assets

    assets = dg.Definitions(assets=[*landing_assets, *raw_assets], resources=resources(Path("unused.duckdb")))
    prices, landed = dg.AssetKey(["raw", "prices"]), dg.AssetKey(["landing", "prices"])
    selection = dg.AssetSelection.assets(prices)
    with dg.instance_for_test() as instance:

        def requested(cursor, *events):
            for key, partition in events:
                instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))
            result = dg.evaluate_automation_conditions(defs=assets, instance=instance, asset_selection=selection, cursor=cursor)
            return result.get_num_requested(prices), result.cursor

        _, cursor = requested(None, *((key, None) for key in UNIVERSE_KEYS.values()))
        count, cursor = requested(cursor, *((landed, bucket) for bucket in bucket_keys()))  # every bucket lands
        assert count == 1
        count, cursor = requested(cursor, (prices, None))  # the load ran
        assert count == 0
        count, cursor = requested(cursor, *((key, None) for key in UNIVERSE_KEYS.values()))  # universe.yml reread
        assert count == 0
        count, cursor = requested(cursor, (landed, bucket_keys()[2]))  # one more bucket lands
        assert count == 1
