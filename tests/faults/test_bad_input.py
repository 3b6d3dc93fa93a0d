"""Bad input in real runs: every bad row is rejected with its reason or handled as documented,
schema drift does not crash, and universe changes keep history."""

import shutil
from datetime import date

import pandas as pd
import pytest

from orchestration.normalize.yahoo import prices_from_history
from orchestration.sources import Instrument
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, query, run_pipeline
from tests.faults.conftest import record

BAD_PRICES = """date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis,source_id
2025-01-14,ACME,USD,104,106,103,105,105,1000,,,raw,bad
2025-01-14,ACME,USD,104,106,103,105.5,105.5,1000,,,raw,bad
2025-01-15,ACME,USD,104,106,103,,,1000,,,raw,bad
2025-01-16,ACME,USD,104,inf,103,inf,inf,1000,,,raw,bad
2025-01-17,ACME,USD,104,106,103,105,105,-5,,,raw,bad
2025-01-21,ACME,USD,104,106,103,150,150,1000,,,raw,bad
2025-01-22,ACME,USD,52,53,51,52.5,52.5,2000,0.0,2.0,raw,bad
2025-02-10,ACME,USD,104,106,103,105,105,1000,,,raw,bad
2025-01-14,9999.HK,USD,10,11,9,10,10,800,,,raw,bad
"""
FUTURE_STATEMENT = "ACME,FY2026,annual,2025-10-01,2026-09-30,,revenue,9999,USD,million,from the future,bad\n"
EXPECTED_REJECTS = {
    ("ACME", "conflicting_duplicate"), ("ACME", "missing_close"), ("ACME", "non_finite_price"),
    ("ACME", "negative_or_fractional_volume"),
    ("ACME", "close_outside_low_high"), ("ACME", "future_date"), ("9999.HK", "currency_mismatch"),
    ("ACME", "period_end_in_future"),
}  # fmt: skip


def test_each_bad_row_is_rejected_with_its_reason_and_the_rest_loads(tmp_path):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    (snapshot / "prices" / "bad.csv").write_text(BAD_PRICES)
    with open(snapshot / "fundamentals" / "fixture_statements.csv", "a") as f:
        f.write(FUTURE_STATEMENT)
    warehouse = tmp_path / "valuation.duckdb"
    run_pipeline(warehouse, snapshot, FIXTURE_UNIVERSE, as_of="2025-01-31")
    clean = tmp_path / "clean.duckdb"  # the same run without the bad input: every good day must be there too
    run_pipeline(clean, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")
    # by day, not by close: the bad file's good 2:1 split row restates ACME's earlier closes
    good = set(query(clean, "select symbol, date from raw.prices"))
    lost = len(good - set(query(warehouse, "select symbol, date from raw.prices")))

    rejected = set(query(warehouse, "select symbol, reason from raw.rejected_rows"))
    record("bad rows in a real run (8 kinds)", 1, len(good), lost)
    assert lost == 0
    assert EXPECTED_REJECTS <= rejected
    # the two different rows of 2025-01-14 are both held back (no rule says which is right); the
    # good row of the same file loads: the 2:1 split day
    loaded = dict(query(warehouse, "select date, close from raw.prices where symbol = 'ACME' and date >= '2025-01-14'"))
    assert loaded == {date(2025, 1, 22): 52.5}
    assert query(warehouse, "select stock_splits from raw.prices where symbol = 'ACME' and date = '2025-01-22'") == [(2.0,)]
    # a listing's currency never changes inside the warehouse: the USD row for an HKD listing was refused
    assert query(warehouse, "select count(*) from raw.prices where symbol = '9999.HK' and currency <> 'HKD'") == [(0,)]


def test_schema_drift_from_yfinance_does_not_crash():
    index = pd.DatetimeIndex([pd.Timestamp("2025-01-06", tz="America/New_York")], name="Date")
    with_new_column = pd.DataFrame({"Open": [1.0], "High": [2.0], "Low": [0.5], "Close": [1.5], "Adj Close": [1.4],
                                    "Volume": [10.0], "Capital Gains": [0.0], "Brand New": [7.0]}, index=index)  # fmt: skip
    rows = prices_from_history(with_new_column, Instrument("ACME", "USD", "raw"))
    assert rows[["date", "close", "adj_close"]].values.tolist() == [[date(2025, 1, 6), 1.5, 1.4]]
    without_adjusted = with_new_column.drop(columns="Adj Close")
    rows = prices_from_history(without_adjusted, Instrument("ACME", "USD", "raw"))
    assert rows["close"].tolist() == [1.5] and rows["adj_close"].isna().all()  # unknown, not guessed


def test_universe_changes_keep_history(tmp_path):
    warehouse = tmp_path / "valuation.duckdb"
    run_pipeline(warehouse, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")
    acme_rows = query(warehouse, "select count(*) from raw.prices where symbol = 'ACME'")[0][0]
    assert acme_rows == 5
    history = set(query(warehouse, "select symbol, date, close from raw.prices"))

    # ACME renamed to ACMX (same company), DRGN's Hong Kong line removed, a peer group emptied
    changed = FIXTURE_UNIVERSE.read_text().replace("{symbol: ACME,", "{symbol: ACMX,").replace(
        "      - {symbol: 9999.HK, exchange: HKEX, currency: HKD, shares_per_listing_unit: 1, benchmark: ^HSI}\n", ""
    ).replace("peer_groups: [us_megacap_tech]", "peer_groups: []")
    universe = tmp_path / "universe.yml"
    universe.write_text(changed)
    run_pipeline(warehouse, FIXTURE_SNAPSHOT, universe, as_of="2025-01-31")
    lost = len(history - set(query(warehouse, "select symbol, date, close from raw.prices")))
    record("universe change: rename, removal, empty peer group", 2, len(history), lost)
    assert lost == 0

    # history stays in raw; the old symbols are no longer fetched, the new one is (and is not in the snapshot)
    assert query(warehouse, "select count(*) from raw.prices where symbol = 'ACME'") == [(acme_rows,)]
    assert query(warehouse, "select count(*) from raw.prices where symbol = '9999.HK'") == [(5,)]
    last = query(warehouse, "select symbol, status, reason from raw.fetch_log where dataset = 'prices' "
                            "and fetched_at = (select max(fetched_at) from raw.fetch_log where dataset = 'prices') order by symbol")  # fmt: skip
    assert ("ACMX", "failed", "not in the snapshot") in last
    assert not any(symbol in ("ACME", "9999.HK") for symbol, _, _ in last)
    # the marts follow the universe, as a full refresh would
    assert query(warehouse, "select count(*) from marts.fct_valuation_daily where symbol in ('ACME', '9999.HK')") == [(0,)]
    assert query(warehouse, "select count(*) from marts.mart_peer_valuation where peer_group = 'us_megacap_tech'") == [(0,)]
