"""The whole pipeline (Dagster ingest + dbt build) on the hand-written fixture snapshot.

Expected values are worked out by hand from tests/fixtures/snapshot.
"""

import csv
from datetime import date

import dagster as dg
import pytest

from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, query, run_pipeline


def valuation(warehouse, symbol, day):
    rows = query(
        warehouse,
        "select close, close_usd, shares_outstanding, shares_basis, market_cap_local, market_cap_usd, "
        "market_cap_hkd, market_cap_cny from marts.fct_valuation_daily where symbol = ? and date = ?",
        [symbol, day],
    )
    assert len(rows) == 1, f"one row for {symbol} on {day}"
    keys = ["close", "close_usd", "shares", "basis", "local", "usd", "hkd", "cny"]
    return dict(zip(keys, rows[0]))


def test_ads_and_ordinary_listing_give_the_same_usd_market_cap(fixture_warehouse):
    # 8,000,000,000 ordinary shares, filed 2025-01-06 (used from 01-07 on the NYSE, 01-08 on HKEX).
    # One DRGN ADS = 8 ordinary shares.
    ads = valuation(fixture_warehouse, "DRGN", date(2025, 1, 8))
    hk = valuation(fixture_warehouse, "9999.HK", date(2025, 1, 8))
    assert ads["local"] == pytest.approx(8_000_000_000 * 80.00 / 8)  # 80 bn USD
    assert hk["local"] == pytest.approx(8_000_000_000 * 78.00)  # 624 bn HKD
    # USDHKD=X has no quote on 2025-01-08: the 2025-01-07 rate (7.80) carries forward
    assert hk["usd"] == pytest.approx(624_000_000_000 / 7.80)
    assert ads["usd"] == pytest.approx(hk["usd"])
    assert ads["hkd"] == pytest.approx(80_000_000_000 * 7.80)
    assert hk["hkd"] == 624_000_000_000  # an HKD listing keeps its exact local figure
    assert ads["cny"] == pytest.approx(80_000_000_000 * 7.32)
    assert hk["cny"] == pytest.approx(624_000_000_000 / 7.80 * 7.32)


def dual_listings_check(result):
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == "dual_listings_agree"]
    assert len(evaluations) == 1
    return evaluations[0]


def test_a_wrong_ads_ratio_is_a_warning_on_every_day_both_listings_trade(fixture_run, tmp_path):
    good_warehouse, good_result = fixture_run
    assert dual_listings_check(good_result).passed
    # DRGN's ADS counted as one ordinary share instead of 8: its market cap is 8 times too large.
    universe = tmp_path / "universe.yml"
    wrong = FIXTURE_UNIVERSE.read_text().replace(
        "{symbol: DRGN,    exchange: NYSE, currency: USD, shares_per_listing_unit: 8,",
        "{symbol: DRGN,    exchange: NYSE, currency: USD, shares_per_listing_unit: 1,",
    )
    assert wrong != FIXTURE_UNIVERSE.read_text()
    universe.write_text(wrong)
    warehouse = tmp_path / "valuation.duckdb"
    check = dual_listings_check(run_pipeline(warehouse, FIXTURE_SNAPSHOT, universe, as_of="2025-01-31"))
    assert (check.passed, check.severity) == (False, dg.AssetCheckSeverity.WARN)
    # second method: from the good run's USD caps, the HK listing over 8 times the ADS's, each day both traded
    good = query(good_warehouse, "select hk.date, hk.market_cap_usd / (8 * ads.market_cap_usd) - 1 "
                                 "from marts.fct_valuation_daily as hk join marts.fct_valuation_daily as ads using (date) "
                                 "where hk.symbol = '9999.HK' and ads.symbol = 'DRGN' "
                                 "and hk.price_basis in ('raw', 'from_dividends') and hk.market_cap_usd > 0 "
                                 "and ads.price_basis in ('raw', 'from_dividends') and ads.market_cap_usd > 0 order by 1")  # fmt: skip
    # from 2025-01-08 both have the filed count and a traded close; on 01-08 both are USD 80 bn (above).
    # Before, both have the count DRGN's figures imply (8.4 bn) - on 01-07, the NYSE has the filed
    # 8 bn a session before HKEX: 8.4 / 8 - 1 = 5%, within the 10% tolerance.
    days = dict(good)
    assert {date(2025, 1, 8), date(2025, 1, 9), date(2025, 1, 10)} <= set(days)
    assert days[date(2025, 1, 8)] == pytest.approx(80e9 / (8 * 80e9) - 1)
    assert check.metadata["dagster_dbt/failed_row_count"].value == len(good)  # one breach a day
    bad = query(warehouse, "select hk.date, hk.market_cap_usd / ads.market_cap_usd - 1 "
                           "from marts.fct_valuation_daily as hk join marts.fct_valuation_daily as ads using (date) "
                           "where hk.symbol = '9999.HK' and ads.symbol = 'DRGN' and hk.market_cap_usd > 0 "
                           "and ads.market_cap_usd > 0 order by 1")  # fmt: skip
    assert bad == [(day, pytest.approx(expected, rel=1e-12)) for day, expected in good]


def test_a_share_count_is_not_used_before_it_was_filed(fixture_warehouse):
    # Filed on Monday 2025-01-06 in New York, time unknown: counted as after the close. Until then
    # the only count known is the one DRGN's figures imply: Q2 FY2025 (filed 2024-11-15) net income
    # RMB 18.9 bn over diluted EPS RMB 2.25 = 8.4 bn shares.
    filing_day = valuation(fixture_warehouse, "DRGN", date(2025, 1, 6))
    assert filing_day["close"] == 76.0 and filing_day["close_usd"] == 76.0
    assert (filing_day["shares"], filing_day["basis"]) == (pytest.approx(18.9e9 / 2.25), "implied_by_net_income_and_eps")
    assert filing_day["usd"] == pytest.approx(8.4e9 * 76.0 / 8)
    assert valuation(fixture_warehouse, "DRGN", date(2025, 1, 7))["shares"] == 8_000_000_000
    # HKEX's 2025-01-07 session opened at 09:30 Hong Kong time, 20:30 on the 6th in New York: before
    # the end of the filing day, so Hong Kong uses the count from its next session, 2025-01-08.
    assert valuation(fixture_warehouse, "9999.HK", date(2025, 1, 7))["basis"] == "implied_by_net_income_and_eps"
    assert valuation(fixture_warehouse, "9999.HK", date(2025, 1, 8))["shares"] == 8_000_000_000


def test_a_restated_share_count_applies_from_its_own_filing_date(fixture_warehouse):
    # Restated to 7,900,000,000 in a filing of 2025-01-09; that day still sees the first count.
    assert valuation(fixture_warehouse, "DRGN", date(2025, 1, 9))["shares"] == 8_000_000_000
    restated = valuation(fixture_warehouse, "DRGN", date(2025, 1, 10))
    assert restated["shares"] == 7_900_000_000
    assert restated["usd"] == pytest.approx(7_900_000_000 * 81.00 / 8)


def test_an_undated_annual_figure_waits_for_the_configured_lag(fixture_warehouse):
    # ACME's FY2024 diluted count (1,000 million) has no filing date: usable from 2024-09-30 + 90 days.
    acme = valuation(fixture_warehouse, "ACME", date(2025, 1, 6))
    assert acme["shares"] == 1_000_000_000 and acme["basis"] == "weighted_avg_diluted"
    assert acme["usd"] == pytest.approx(1_000_000_000 * 100.00)
    available_from = query(
        fixture_warehouse,
        "select available_from, is_available_from_assumed from intermediate.int_financial_metrics "
        "where company_id = 'acme' and metric = 'weighted_avg_shares_diluted'",
    )
    assert available_from == [(date(2024, 12, 29), True)]


def test_fx_is_carried_forward_never_backward(fixture_warehouse):
    rates = dict(
        query(
            fixture_warehouse,
            "select rate_date, units_per_usd from intermediate.int_fx_rates_daily "
            "where currency = 'HKD' and rate_date between '2025-01-05' and '2025-01-09'",
        )
    )
    assert rates[date(2025, 1, 5)] is None  # no earlier HKD quote to carry forward: null, not the next one
    assert rates[date(2025, 1, 8)] == 7.80  # from 2025-01-07, not 7.81 from 2025-01-09
    assert rates[date(2025, 1, 9)] == 7.81


def test_capex_is_mapped_positive_in_base_units(fixture_warehouse):
    rows = query(
        fixture_warehouse,
        "select metric_value, currency from intermediate.int_financial_metrics where company_id = 'acme' and metric = 'capex'",
    )
    assert rows == [(1_234_500_000.0, "USD")]  # reported as -1,234.5 million (a cash outflow)


def test_bad_rows_land_in_rejected_rows_and_nowhere_else(fixture_warehouse):
    rejected = query(fixture_warehouse, "select dataset, symbol, reason from raw.rejected_rows")
    assert rejected == [("prices", "ACME", "negative_or_fractional_volume")]
    assert query(fixture_warehouse, "select count(*) from raw.prices where symbol = 'ACME' and date = '2025-01-03'") == [(0,)]


def test_row_counts_of_every_layer(fixture_warehouse):
    # 5 ACME + 6 DRGN + 5 9999.HK + 4 index + 14 FX rows; the ACME row with negative volume is rejected
    assert query(fixture_warehouse, "select count(*) from raw.prices") == [(5 + 6 + 5 + 4 + 14,)]
    assert query(fixture_warehouse, "select count(*) from raw.financial_statements") == [(45,)]
    assert query(fixture_warehouse, "select count(*) from marts.fct_valuation_daily") == [(16,)]
    assert query(fixture_warehouse, "select count(*) from marts.dim_listing") == [(3,)]
    assert query(fixture_warehouse, "select company_id, peer_group from marts.bridge_company_peer_group order by 1") == [
        ("acme", "us_megacap_tech"),
        ("dragon", "china_internet"),
    ]


def test_raw_rows_carry_source_and_load_time(fixture_warehouse):
    for table in ("prices", "financial_statements", "rejected_rows"):
        assert query(fixture_warehouse, f"select distinct _source from raw.{table}") == [("sample",)]
        assert query(fixture_warehouse, f"select count(*) from raw.{table} where _loaded_at is null") == [(0,)]


def test_running_twice_changes_nothing(tmp_path):
    warehouse = tmp_path / "valuation.duckdb"
    run_pipeline(warehouse, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")
    tables = ["raw.prices", "raw.financial_statements", "raw.rejected_rows", "raw.universe_listings",
              "marts.fct_valuation_daily", "marts.dim_company"]  # fmt: skip
    snapshot = {t: query(warehouse, f"select count(*), max(_loaded_at) from {t}" if t.startswith("raw.") and "universe" not in t
                         else f"select count(*) from {t}") for t in tables}  # fmt: skip
    second = run_pipeline(warehouse, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")
    again = {t: query(warehouse, f"select count(*), max(_loaded_at) from {t}" if t.startswith("raw.") and "universe" not in t
                      else f"select count(*) from {t}") for t in tables}  # fmt: skip
    assert again == snapshot
    prices_metadata = next(
        event.materialization.metadata
        for event in second.get_asset_materialization_events()
        if event.materialization.asset_key.path == ["raw", "prices"]
    )
    assert prices_metadata["rows_inserted"].value == 0
    assert prices_metadata["rows_updated"].value == 0
    assert prices_metadata["rows_unchanged"].value == 34


def test_each_materialization_carries_its_tables_row_count(fixture_run):
    warehouse, result = fixture_run
    counted = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if "dagster/row_count" in materialization.metadata:
            counted[tuple(materialization.asset_key.path)] = materialization.metadata["dagster/row_count"].value
    # counted again here, by a second query on the file the run wrote
    for path in (("raw", "prices"), ("marts", "fct_valuation_daily"), ("marts", "mart_peer_valuation"),
                 ("intermediate", "int_fundamentals_ttm"), ("marts", "mart_data_freshness")):  # fmt: skip
        assert counted[path] == query(warehouse, f"select count(*) from {'.'.join(path)}")[0][0] > 0, path


def test_each_dated_model_carries_its_date_range(fixture_run):
    _, result = fixture_run
    metadata = {tuple(event.materialization.asset_key.path): event.materialization.metadata
                for event in result.get_asset_materialization_events()}  # fmt: skip
    # read off the fixture's price files by a second route: the first and last day of any listing
    days = sorted(
        row["date"] for path in (FIXTURE_SNAPSHOT / "prices").glob("*.csv") for row in csv.DictReader(path.open())
        if row["currency"] in ("USD", "HKD")
    )  # fmt: skip
    valuation = metadata[("marts", "fct_valuation_daily")]
    assert (valuation["first_date"].value, valuation["last_date"].value) == (days[0], days[-1]) == ("2024-12-31", "2025-01-10")
    assert "first_date" not in metadata[("marts", "dim_company")]  # undated rows: a row count only
