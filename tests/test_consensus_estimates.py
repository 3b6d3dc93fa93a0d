"""Analysts' consensus and Yahoo's quoted figures through real Dagster materializations into a real
DuckDB file: replayed from the market sample, and fetched live (the recorded answers served by the
HTTP test double) into the landing zone, then loaded. Expected counts are read off the sample's
consensus CSVs by hand."""

from __future__ import annotations

from datetime import date, datetime, timezone

import dagster as dg
import pytest

import orchestration.landing as landing_module
import orchestration.sources.yahoo as yahoo_module
from orchestration.defs.ingest import raw_consensus_estimates, raw_universe
from orchestration.defs.landing import landing_consensus_estimates
from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
from orchestration.ingest_policy import estimates_due
from orchestration.landing import LandingState, LandingZone, bucket_keys
from orchestration.sources import SampleSource
from orchestration.universe import load_universe
from tests.conftest import REPO_ROOT, query
from tests.fakes.yahoo_http import RECORDED_DIR, ReplaySession, fresh_yfinance

ESTIMATES, VENDOR = ["raw", "consensus_estimates"], ["raw", "vendor_figures"]
# the universe's listings the sample has estimates for; GOOG is in the sample, not in universe.yml
UNIVERSE_WITH_ESTIMATES = {"AAPL", "AMZN", "BABA"}
# yahoo_quoted_figures_2025-02-24.csv, less each module's currency row: AAPL 7 + 6 + 3 + 3,
# AMZN 7 + 5 + 3 + 3 (no dividendRate), BABA 7 + 6 + 3 + 3
VENDOR_ROWS = (7 + 6 + 3 + 3) + (7 + 5 + 3 + 3) + (7 + 6 + 3 + 3)


def metadata(result, key, name):
    event = next(e for e in result.get_asset_materialization_events() if e.materialization.asset_key.path == key)
    value = event.materialization.metadata.get(name)
    return None if value is None else value.value


def load_sample(warehouse, sample_dir, monkeypatch) -> dg.ExecuteInProcessResult:
    monkeypatch.setenv("VALUATION_UNIVERSE", str(REPO_ROOT / "universe.yml"))
    monkeypatch.setenv("VALUATION_AS_OF", "2025-02-28")
    result = dg.materialize(
        [raw_universe, raw_consensus_estimates],
        resources={
            "duckdb": WarehouseResource(database=str(warehouse)),
            "market_data": MarketDataResource(source="sample", sample_dir=str(sample_dir)),
            "run_settings": run_settings(),
        },
    )
    assert result.success
    return result


def test_the_sample_loads_its_estimates_for_the_universes_listings_and_a_rerun_changes_nothing(tmp_path, sample_dir, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    first = load_sample(warehouse, sample_dir, monkeypatch)
    assert metadata(first, ESTIMATES, "rows_inserted") == 3 * 4  # AAPL, AMZN, BABA x 0q, +1q, 0y, +1y
    assert query(warehouse, "select distinct symbol from raw.consensus_estimates order by 1") == [(s,) for s in sorted(UNIVERSE_WITH_ESTIMATES)]
    assert query(warehouse, "select end_date, eps_avg, eps_analysts, eps_currency, eps_trend_90d_ago, _source "
                            "from raw.consensus_estimates where symbol = 'BABA' and period = '+1y'") == [
        (datetime(2026, 3, 31).date(), 73.52281, 30, "CNY", 70.60436, "sample")]  # fmt: skip
    assert query(warehouse, "select count(*) from raw.vendor_figures") == [(VENDOR_ROWS,)]
    assert query(warehouse, "select value, currency from raw.vendor_figures where symbol = 'BABA' "
                            "and module = 'financialData' and field = 'totalRevenue'") == [(981_767_028_736.0, "CNY")]  # fmt: skip
    assert query(warehouse, "select snapshot_at from raw.vendor_figures where symbol = 'BABA' limit 1") == [
        (datetime(2025, 2, 24, 9, 35, 33),)]  # fmt: skip
    # the universe's other listings have no estimates in the sample: named failures, nothing rejected
    failed = query(warehouse, "select symbol from raw.fetch_log where dataset = 'consensus_estimates' and status = 'failed'")
    assert {s for (s,) in failed} & UNIVERSE_WITH_ESTIMATES == set() and len(failed) > 0
    assert query(warehouse, "select count(*) from raw.rejected_rows where dataset in ('consensus_estimates', 'vendor_figures')") == [(0,)]

    before = query(warehouse, "select * from raw.consensus_estimates order by all")
    vendor_before = query(warehouse, "select * from raw.vendor_figures order by all")
    again = load_sample(warehouse, sample_dir, monkeypatch)
    assert (metadata(again, ESTIMATES, "rows_inserted"), metadata(again, ESTIMATES, "rows_updated"),
            metadata(again, ESTIMATES, "rows_unchanged")) == (0, 0, 12)  # fmt: skip
    # the same rows, `_loaded_at` included: nothing rewritten
    assert query(warehouse, "select * from raw.consensus_estimates order by all") == before
    assert query(warehouse, "select * from raw.vendor_figures order by all") == vendor_before


def test_a_replayed_older_snapshot_of_the_same_day_does_not_overwrite_a_later_one(tmp_path, sample_dir, monkeypatch):
    """Nothing good overwritten: of two snapshots of one day, the later one stands whichever loads last."""
    warehouse = tmp_path / "w.duckdb"
    later = tmp_path / "later"
    (later / "prices").mkdir(parents=True)
    (later / "consensus").mkdir()
    source = (sample_dir / "consensus" / "yahoo_earnings_trend_2025-02-24.csv").read_text()
    # the same day, two hours later, BABA's +1y average revised from 73.52281 to 74.0
    revised = source.replace("BABA,2025-02-24T09:35:33Z,+1y,2026-03-31,73.52281", "BABA,2025-02-24T11:35:33Z,+1y,2026-03-31,74.0")
    assert revised != source
    (later / "consensus" / "yahoo_earnings_trend_2025-02-24.csv").write_text(revised)
    load_sample(warehouse, later, monkeypatch)
    result = load_sample(warehouse, sample_dir, monkeypatch)  # the earlier snapshot replayed afterwards
    assert metadata(result, ESTIMATES, "rows_held_stored") == 1
    assert query(warehouse, "select eps_avg, snapshot_at from raw.consensus_estimates where symbol = 'BABA' and period = '+1y'") == [
        (74.0, datetime(2025, 2, 24, 11, 35, 33))]  # fmt: skip


@pytest.mark.skipif(not RECORDED_DIR.exists(), reason=f"recorded Yahoo responses not found at {RECORDED_DIR}")
def test_a_live_fetch_lands_in_the_samples_layout_loads_and_is_asked_again_on_its_own_day_of_the_cycle(tmp_path, monkeypatch):
    fresh_yfinance()
    session = ReplaySession()
    monkeypatch.setattr(yahoo_module, "YahooSession", lambda limiter: session)
    landing = tmp_path / "landing"
    LandingZone(landing).write_state(LandingState())  # an empty warehouse's state
    monkeypatch.setenv("VALUATION_LANDING_DIR", str(landing))
    monkeypatch.setenv("VALUATION_UNIVERSE", str(REPO_ROOT / "universe.yml"))
    monkeypatch.setenv("VALUATION_AS_OF", "2025-02-24")  # set now so that run_settings reads it (each day sets its own)
    warehouse = tmp_path / "w.duckdb"
    resources = {
        "duckdb": WarehouseResource(database=str(warehouse)),
        "market_data": MarketDataResource(source="yahoo", retry_base_delay_seconds=0.001),
        "run_settings": run_settings(),
    }
    every_bucket = {"dagster/asset_partition_range_start": bucket_keys()[0], "dagster/asset_partition_range_end": bucket_keys()[-1]}

    def day(as_of: str):
        monkeypatch.setenv("VALUATION_AS_OF", as_of)
        moment = datetime.fromisoformat(as_of).replace(hour=9, minute=35, tzinfo=timezone.utc)
        frozen = type("Frozen", (datetime,), {"now": classmethod(lambda cls, tz=None: moment)})
        monkeypatch.setattr(yahoo_module, "datetime", frozen)  # when Yahoo is asked
        monkeypatch.setattr(landing_module, "datetime", frozen)  # when the batch lands: the fetch log's date
        session.log.clear()
        fetch = dg.materialize([landing_consensus_estimates], resources=resources, tags=every_bucket)
        load = dg.materialize([raw_universe, raw_consensus_estimates], resources=resources)
        assert fetch.success and load.success
        return fetch, load

    fetch, load = day("2025-02-24")
    listings = [listing.symbol for _, listing in load_universe(REPO_ROOT / "universe.yml").listings]
    # one quoteSummary request per listing: the recorded three answer, the others are 404s (not recorded)
    assert metadata(fetch, ["landing", "consensus_estimates"], "requests_by_endpoint")["quoteSummary"] == len(listings)
    assert metadata(load, ESTIMATES, "rows_inserted") == 3 * 4
    assert query(warehouse, "select count(*) from raw.vendor_figures") == [(VENDOR_ROWS,)]
    assert query(warehouse, "select eps_avg, eps_currency, snapshot_at, _source from raw.consensus_estimates "
                            "where symbol = 'BABA' and period = '+1y'") == [(73.52281, "CNY", datetime(2025, 2, 24, 9, 35), "yahoo")]  # fmt: skip
    # what landed is the sample's layout: the sample source replays a batch folder as it is
    (batch,) = [b for b in LandingZone(landing).batches("consensus_estimates") if "BABA" in b.manifest["asked"]]
    replayed = SampleSource(batch.path).fetch_estimates(["BABA"])
    assert len(replayed.frame) == 4 and replayed.quarantined == {}
    assert set(replayed.vendor_figures.query("module == 'financialData'")["currency"]) == {"CNY"}

    # the next day: those that failed are asked again; of the three fetched, only one whose own day of
    # the cycle it is (the rule itself is tested in tests/test_ingest_policy.py)
    fetch, _ = day("2025-02-25")
    asked = {symbol for endpoint, symbol, _ in session.log if endpoint == "quoteSummary"}
    in_their_slot = estimates_due(sorted(UNIVERSE_WITH_ESTIMATES), dict.fromkeys(UNIVERSE_WITH_ESTIMATES, date(2025, 2, 24)),
                                  date(2025, 2, 25), cycle_business_days=7)  # fmt: skip
    assert len(in_their_slot) < 3
    assert asked == set(listings) - UNIVERSE_WITH_ESTIMATES | set(in_their_slot)
    # a whole cycle after the first fetch (8 business days), every listing is due again
    fetch, load = day("2025-03-06")
    assert {symbol for endpoint, symbol, _ in session.log if endpoint == "quoteSummary"} == set(listings)
    assert metadata(load, ESTIMATES, "rows_inserted") == 3 * 4  # a new snapshot date: history accumulates
    # snapshot days: 2025-02-24, 2025-03-06, and 2025-02-25 if one of the three had its day then
    assert query(warehouse, "select count(distinct snapshot_date) from raw.consensus_estimates") == [(2 + bool(in_their_slot),)]
