"""marts.mart_data_freshness on the fixture snapshot: the Dagster evaluation (freshness.data_freshness)
published by dbt, as of 2025-01-31. Expected values worked out from tests/fixtures/snapshot. And the
market sample's fundamentals as of 2026-04-10, worked out from its files."""

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from tests.conftest import REPO_ROOT, query, run_pipeline

COLUMNS = "symbol, dataset, exchange_calendar, last_data_date, expected_data_date, sessions_behind, status, detail, evaluated_at"


def test_the_mart_publishes_every_evaluated_row_unchanged(fixture_warehouse):
    evaluated = query(fixture_warehouse, f"select {COLUMNS} from freshness.data_freshness order by symbol, dataset")
    published = query(fixture_warehouse, f"select {COLUMNS} from marts.mart_data_freshness order by symbol, dataset")
    # 3 listings x (prices, profile) + 2 primary listings' fundamentals + 2 benchmarks + 2 FX pairs = 12
    assert len(evaluated) == 12
    assert published == evaluated


def test_statements_without_a_release_date_are_judged_by_the_release_window(fixture_warehouse):
    rows = query(fixture_warehouse, "select symbol, last_data_date, expected_data_date, sessions_behind, status, detail "
                                    "from marts.mart_data_freshness where dataset = 'fundamentals' order by symbol")  # fmt: skip
    # The sample source knows no earnings dates. Both companies hold the quarter to 2024-12-31; the
    # next ends 2025-03-31 and is due 120 days later, 2025-07-29: on 2025-01-31 nothing is late.
    assert [row[:5] for row in rows] == [
        ("ACME", date(2024, 12, 31), date(2024, 12, 31), 0, "fresh"),
        ("DRGN", date(2024, 12, 31), date(2024, 12, 31), 0, "fresh"),
    ]
    assert all("no earnings release date known" in row[5] and "2025-07-29" in row[5] for row in rows)


def test_a_late_price_series_is_stale_by_sessions_of_its_exchange(fixture_warehouse):
    # DRGN's last close is 2025-01-10; XNYS sessions 13-31 January 2025: 13-17 (5), 21-24 (4;
    # 20 January is Martin Luther King Jr. Day), 27-31 (5) = 14
    assert query(fixture_warehouse, "select last_data_date, expected_data_date, sessions_behind, status "
                                    "from marts.mart_data_freshness where symbol = 'DRGN' and dataset = 'prices'") == [
        (date(2025, 1, 10), date(2025, 1, 31), 14, "stale")]  # fmt: skip


@pytest.fixture(scope="module")
def sample_statements_as_of_demo(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The market sample's universe and statements loaded as `make demo` evaluates them, as of
    2026-04-10 (the sample's last price day; filings dated later are held back), then freshness
    evaluated and published by dbt. Prices and profiles are not loaded: only fundamentals are read."""
    from orchestration.defs.freshness import FRESHNESS_KEY
    from orchestration.defs.ingest import STATEMENTS_KEY, UNIVERSE_KEYS

    warehouse = tmp_path_factory.mktemp("sample-2026-04-10") / "valuation.duckdb"
    selection = dg.AssetSelection.assets(*UNIVERSE_KEYS.values(), STATEMENTS_KEY, FRESHNESS_KEY,
                                         dg.AssetKey(["marts", "mart_data_freshness"]))  # fmt: skip
    run_pipeline(warehouse, sample_dir, REPO_ROOT / "universe.yml", as_of="2026-04-10", selection=selection)
    return warehouse


@pytest.mark.sample
def test_sample_fundamentals_follow_each_company_s_fiscal_calendar(sample_statements_as_of_demo):
    rows = query(sample_statements_as_of_demo, "select symbol, status, last_data_date, expected_data_date, sessions_behind "
                                               "from marts.mart_data_freshness where dataset = 'fundamentals' order by symbol")  # fmt: skip
    # Worked out from market-sample/fundamentals/*.csv: the latest income or cash-flow period of each
    # company filed by 2026-04-10 (quarterly / annual), its fiscal quarter (fiscal_year_end_month in
    # universe.yml), the next one and when it is due (quarter end + 120 days; an annual-only 10-K
    # filer's next fiscal year end + 90 days). A fresh row's expected_data_date is its last_data_date.
    #   0700.HK Dec  Q3 2025 to 2025-09-30 / FY2024  -> Q4 FY2025 to 2025-12-31 due 2026-04-30      fresh
    #   AAPL    Sep  none / FY2025 to 2025-09-27     -> FY2026 to about 2026-09-30 due 2026-12-29   fresh
    #   AMZN    Dec  Q4 2025 / FY2025 to 2025-12-31  -> Q1 FY2026 to 2026-03-31 due 2026-07-29      fresh
    #   BABA    Mar  Q2 FY2026 to 2025-09-30 / FY2025 -> Q3 FY2026 to 2025-12-31 due 2026-04-30     fresh
    #   BIDU    Dec  Q4 2024 / FY2024 to 2024-12-31  -> Q1 FY2025 to 2025-03-31 due 2025-07-29      stale
    #   GOOGL   Dec  Q1 2025 / FY2025 to 2025-12-31  -> Q1 FY2026 to 2026-03-31 due 2026-07-29      fresh
    #   JD      Dec  Q4 2024 / FY2024 to 2024-12-31  -> Q1 FY2025 to 2025-03-31 due 2025-07-29      stale
    #   META    Dec  Q3 2025 / FY2025 to 2025-12-31  -> Q1 FY2026 to 2026-03-31 due 2026-07-29      fresh
    #   MSFT    Jun  Q2 FY2025 to 2024-12-31 / FY2025 to 2025-06-30 -> Q1 FY2026 to 2025-09-30
    #                due 2025-09-30 + 31 (Oct) + 30 (Nov) + 31 (Dec) + 28 = 2026-01-28             stale
    #                (its IR workbook's FY2026 quarters are filed 2026-07-30, after the clock)
    #   NVDA    Jan  Q3 FY2026 to 2025-10-26 / FY2025 -> Q4 FY2026 to about 2026-01-31 due 2026-05-31 fresh
    #   PDD     Dec  Q2 2025 to 2025-06-30 / FY2024  -> Q3 FY2025 to 2025-09-30 due 2026-01-28      stale
    # XNYS sessions after 2026-01-28 through 2026-04-10: 29-30 Jan (2), Feb 20 - Presidents' Day (19),
    # Mar (22), 1-10 Apr less Good Friday 3 Apr (7) = 50. After 2025-07-29: 30-31 Jul (2), Aug (21),
    # Sep 22 - Labor Day (21), Oct (23), Nov 20 - Thanksgiving (19), Dec 23 - Christmas (22),
    # Jan 22 - New Year, MLK (20), then 19 + 22 + 7 as above = 176.
    assert rows == [
        ("0700.HK", "fresh", date(2025, 9, 30), date(2025, 9, 30), 0),
        ("AAPL", "fresh", date(2025, 9, 27), date(2025, 9, 27), 0),
        ("AMZN", "fresh", date(2025, 12, 31), date(2025, 12, 31), 0),
        ("BABA", "fresh", date(2025, 9, 30), date(2025, 9, 30), 0),
        ("BIDU", "stale", date(2024, 12, 31), date(2025, 7, 29), 176),
        ("GOOGL", "fresh", date(2025, 12, 31), date(2025, 12, 31), 0),
        ("JD", "stale", date(2024, 12, 31), date(2025, 7, 29), 176),
        ("META", "fresh", date(2025, 12, 31), date(2025, 12, 31), 0),
        ("MSFT", "stale", date(2025, 6, 30), date(2026, 1, 28), 50),
        ("NVDA", "fresh", date(2025, 10, 26), date(2025, 10, 26), 0),
        ("PDD", "stale", date(2025, 6, 30), date(2026, 1, 28), 50),
    ]
    # No company with statements is missing; MSFT's lateness is its fiscal quarter, not a share count's date
    missing_with_statements = query(sample_statements_as_of_demo, "select symbol from marts.mart_data_freshness "
                                    "where dataset = 'fundamentals' and status = 'missing' "
                                    "and symbol in (select symbol from raw.financial_statements)")  # fmt: skip
    assert missing_with_statements == []
    details = dict(query(sample_statements_as_of_demo, "select symbol, detail from marts.mart_data_freshness "
                                                       "where dataset = 'fundamentals'"))  # fmt: skip
    assert "the fiscal quarter ending 2025-09-30 (Q1 FY2026) was due by 2026-01-28" in details["MSFT"]
    assert "2025-01-23" not in details["MSFT"] and "2025-04-23" not in details["MSFT"]
    assert "the fiscal year ending about 2026-09-30 (FY2026) is not due before 2026-12-29" in details["AAPL"]
