"""marts.mart_data_freshness on the fixture snapshot: the Dagster evaluation (freshness.data_freshness)
published by dbt, as of 2025-01-31. Expected values worked out from tests/fixtures/snapshot."""

from datetime import date

from tests.conftest import query

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
