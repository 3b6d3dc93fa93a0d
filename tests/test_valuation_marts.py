"""Valuation marts on the fixture snapshot: TTM, point in time, share classes, FX, peers, capex,
relative performance. Every expected value is worked out by hand from tests/fixtures/snapshot.

DRGN (reports in CNY; one ADS = 8 ordinary shares; 9999.HK = 1 share) publishes quarters:
    period end   filed        revenue  net income  EPS/share  op. income  D&A  capex (bn CNY)
    2023-12-31   2024-02-20   260      16.8        2.00       30          5    10
    2024-03-31   2024-05-14   240      12.6        1.50       28          5    12
    2024-06-30   2024-08-15   250      10.5        1.25       29          5    14
    2024-09-30   2024-11-15   270      18.9        2.25       35          5    16
    2024-12-31   2025-01-08   280      21          2.50       40          6    20
(net income / EPS = 8.4 bn shares: the count the figures imply until a share count is filed)
Shares 8,000,000,000 filed 2025-01-06, restated to 7,900,000,000 on 2025-01-09.
Filing dates are New York dates (DRGN, the primary listing, trades on the NYSE) with no time of
day: a figure counts from DRGN's next session, and from the next 9999.HK session that opens after
the end of that New York day (noon or 13:00 the next day in Hong Kong), one session later.
Debt 100 bn and cash 300 bn CNY at 2024-09-30 (filed 2024-11-15). CNY=X on 2025-01-07..10:
7.31, 7.32, 7.33, 7.34; USDHKD=X 7.79, 7.80, (none on 01-08: 7.80 carried), 7.81, 7.82.
"""

from datetime import date

import pytest

from tests.conftest import REPO_ROOT, query


def fct(warehouse, symbol, day, *columns):
    rows = query(
        warehouse,
        f"select {', '.join(columns)} from marts.fct_valuation_daily where symbol = ? and date = ?",
        [symbol, day],
    )
    assert len(rows) == 1
    return rows[0] if len(columns) > 1 else rows[0][0]


def test_pe_of_ads_and_ordinary_listing_agree(fixture_warehouse):
    # Known on 2025-01-08: quarters to 2024-09-30. TTM EPS = 2.00 + 1.50 + 1.25 + 2.25 = 7.00 CNY per share.
    ads_eps, ads_pe, period_end = fct(fixture_warehouse, "DRGN", date(2025, 1, 8), "ttm_eps", "pe_ttm", "fundamentals_period_end")
    assert period_end == date(2024, 9, 30)
    assert ads_eps == pytest.approx(7.00 * 8 / 7.32)  # per ADS, in USD
    assert ads_pe == pytest.approx(80.00 / (7.00 * 8 / 7.32))
    hk_eps, hk_pe = fct(fixture_warehouse, "9999.HK", date(2025, 1, 8), "ttm_eps", "pe_ttm")
    assert hk_eps == pytest.approx(7.00 / 7.32 * 7.80)  # per share, in HKD
    assert hk_pe == pytest.approx(78.00 / (7.00 / 7.32 * 7.80))
    assert ads_pe == pytest.approx(hk_pe)  # 80 USD per ADS = 78 HKD per share at 7.80


def test_a_quarter_published_after_the_price_date_is_not_used(fixture_warehouse):
    # The quarter ending 2024-12-31 is filed on 2025-01-08 (after the close, as far as anyone can tell):
    # not used on 2025-01-08, used from DRGN's next session 2025-01-09.
    before = fct(fixture_warehouse, "DRGN", date(2025, 1, 8), "fundamentals_period_end", "ttm_revenue_usd")
    after = fct(fixture_warehouse, "DRGN", date(2025, 1, 9), "fundamentals_period_end", "ttm_revenue_usd", "pe_ttm")
    assert before == (date(2024, 9, 30), pytest.approx((260 + 240 + 250 + 270) * 1e9 / 7.32))
    assert after[:2] == (date(2024, 12, 31), pytest.approx((240 + 250 + 270 + 280) * 1e9 / 7.33))
    assert after[2] == pytest.approx(82.00 / ((1.50 + 1.25 + 2.25 + 2.50) * 8 / 7.33))


def test_ps_and_ev_ebitda_from_ttm_and_the_latest_balance_sheet(fixture_warehouse):
    market_cap_usd = 8_000_000_000 * 80.00 / 8
    ps, ev_ebitda, net_debt = fct(fixture_warehouse, "DRGN", date(2025, 1, 8), "ps_ttm", "ev_ebitda_ttm", "net_debt_usd")
    assert ps == pytest.approx(market_cap_usd / ((260 + 240 + 250 + 270) * 1e9 / 7.32))
    assert net_debt == pytest.approx((100 - 300) * 1e9 / 7.32)
    ebitda = (30 + 5) + (28 + 5) + (29 + 5) + (35 + 5)  # operating income + D&A, bn CNY
    assert ev_ebitda == pytest.approx((market_cap_usd + (100 - 300) * 1e9 / 7.32) / (ebitda * 1e9 / 7.32))


def test_a_newer_incomplete_quarter_never_replaces_the_complete_fiscal_year(fixture_warehouse):
    # ACME reports quarters ending 2024-03-31, 2024-06-30 and 2024-12-31 (filed 2025-01-07, used from
    # 2025-01-08): the quarter ending 2024-09-30 is missing, so no TTM ends at 2024-12-31. The fiscal
    # year to 2024-09-30 (revenue 2,000 million, a loss of 500 million) carries on; it used to vanish.
    before = fct(fixture_warehouse, "ACME", date(2025, 1, 7), "fundamentals_period_end", "ttm_revenue_usd", "ttm_basis")
    after = fct(fixture_warehouse, "ACME", date(2025, 1, 8), "fundamentals_period_end", "ttm_revenue_usd", "ttm_basis",
                "pe_ttm", "ps_ttm")  # fmt: skip
    assert before == after[:3] == (date(2024, 9, 30), 2_000_000_000.0, "fiscal_year")
    assert after[3] is None  # a loss: no P/E
    assert after[4] == pytest.approx(1_000_000_000 * 102.00 / 2_000_000_000)


def test_negative_earnings_give_a_null_pe(fixture_warehouse):
    # On 2025-01-06 ACME's latest period is fiscal 2024 (no filing date: usable from 2024-09-30 + 90
    # days): a loss of 500 million, EPS -0.50. P/E is null, P/S is not: 100 bn / 2 bn.
    row = fct(fixture_warehouse, "ACME", date(2025, 1, 6), "ttm_basis", "ttm_net_income_usd", "ttm_eps", "pe_ttm", "ps_ttm")
    assert row[:4] == ("fiscal_year", -500_000_000.0, -0.5, None)
    assert row[4] == pytest.approx(1_000_000_000 * 100.00 / 2_000_000_000)


def test_market_caps_in_four_currencies_on_a_day_without_an_hkd_quote(fixture_warehouse):
    local, usd, hkd, cny = fct(fixture_warehouse, "9999.HK", date(2025, 1, 8), "market_cap_local", "market_cap_usd",
                               "market_cap_hkd", "market_cap_cny")  # fmt: skip
    assert (local, hkd) == (8_000_000_000 * 78.00, 8_000_000_000 * 78.00)
    assert usd == pytest.approx(8_000_000_000 * 78.00 / 7.80)  # 7.80 carried from 2025-01-07
    assert cny == pytest.approx(8_000_000_000 * 78.00 / 7.80 * 7.32)


def test_peer_valuation_counts_each_company_once(fixture_warehouse):
    rows = query(
        fixture_warehouse,
        "select symbol, as_of_date, rank_in_group, companies_in_group, pe_ttm, peer_median_pe_ttm, pe_premium_to_peers, "
        "companies_with_pe from marts.mart_peer_valuation where peer_group = 'china_internet' order by symbol",
    )
    # One as-of date, the latest day 2025-01-10: TTM to 2024-12-31, EPS 7.50 CNY on both listings.
    drgn_pe = 81.00 / (7.50 * 8 / 7.34)
    hk_pe = 79.00 / (7.50 / 7.34 * 7.82)
    assert [r[:4] for r in rows] == [("9999.HK", date(2025, 1, 10), 1, 1), ("DRGN", date(2025, 1, 10), 1, 1)]
    assert rows[1][4] == pytest.approx(drgn_pe) and rows[0][4] == pytest.approx(hk_pe)
    # The company counts once, through its primary listing (both are valued on 2025-01-10): 1 of a
    # group of 1 with a P/E, not 2 of 2; and a median of one company is none, so no premiums either.
    assert [(r[7], r[5], r[6]) for r in rows] == [(1, None, None), (1, None, None)]


def test_market_caps_by_currency_read_each_company_once_off_the_peer_comparison(fixture_warehouse):
    rows = query(fixture_warehouse, (REPO_ROOT / "analysis" / "market_caps_by_currency.sql").read_text())
    # As of 2025-01-10: Dragon through DRGN, its primary listing (9999.HK is valued that day too),
    # 7,900,000,000 shares x 81.00 / 8 per ADS; Acme 1,000,000,000 shares x 104.00. HKD 7.82, CNY 7.34.
    dragon_usd, acme_usd = 7_900_000_000 * 81.00 / 8, 1_000_000_000 * 104.00
    assert [row[:3] for row in rows] == [
        ("Acme Corporation", "ACME", date(2025, 1, 10)),
        ("Dragon Holdings", "DRGN", date(2025, 1, 10)),
    ]
    assert rows[0][3:] == pytest.approx((acme_usd, acme_usd * 7.82, acme_usd * 7.34))
    assert rows[1][3:] == pytest.approx((dragon_usd, dragon_usd * 7.82, dragon_usd * 7.34))
    represented = query(fixture_warehouse, "select symbol, represents_company from marts.mart_peer_valuation order by symbol")
    assert represented == [("9999.HK", False), ("ACME", True), ("DRGN", True)]


def test_capex_in_usd_at_period_end_rates(fixture_warehouse):
    rows = {
        r[0]: r[1:]
        for r in query(
            fixture_warehouse,
            "select fiscal_period_end, period_type, capex_quarter_usd, capex_ttm_usd, capex_yoy_growth, capex_to_revenue_ttm "
            "from marts.mart_capex where company_id = 'dragon'",
        )
    }
    assert sorted(rows) == [date(2023, 12, 31), date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)]
    # 2023-12-31 has no quote: 7.10 from 2023-12-29 carries forward two days
    assert rows[date(2023, 12, 31)][:3] == ("quarter", pytest.approx(10e9 / 7.10), None)
    assert rows[date(2024, 9, 30)][2] == pytest.approx((10 + 12 + 14 + 16) * 1e9 / 7.02)
    period_type, quarter_usd, ttm_usd, yoy, to_revenue = rows[date(2024, 12, 31)]
    assert quarter_usd == pytest.approx(20e9 / 7.30)
    assert ttm_usd == pytest.approx((12 + 14 + 16 + 20) * 1e9 / 7.30)
    assert yoy is None  # no TTM ends a year earlier
    assert to_revenue == pytest.approx((12 + 14 + 16 + 20) / (240 + 250 + 270 + 280))
    acme = query(fixture_warehouse, "select period_type, capex_ttm_usd, capex_to_revenue_ttm from marts.mart_capex where company_id = 'acme'")
    assert acme == [("fiscal_year", pytest.approx(1_234.5e6), pytest.approx(1_234.5 / 2_000))]


def test_relative_performance_against_the_benchmark(fixture_warehouse):
    row = query(
        fixture_warehouse,
        "select benchmark_symbol, return_1w, return_ytd, benchmark_return_1w, excess_return_1w, drawdown_from_peak, "
        "rebound_from_52w_low, return_1y from marts.mart_relative_performance where symbol = 'DRGN' and as_of_date = '2025-01-10'",
    )[0]
    assert row[0] == "^GSPC"
    # A week back is 2025-01-03, a Friday with no DRGN close: the last close before it is 72.00 (2024-12-31).
    assert row[1] == pytest.approx(81.00 / 72.00 - 1)
    assert row[2] == pytest.approx(81.00 / 72.00 - 1)  # the year starts from 2024's last close
    # ^GSPC's last level by 2025-01-10 is 5,900 (2025-01-07, 3 days stale: still used)
    assert row[3] == pytest.approx(5900 / 5880 - 1)
    assert row[4] == pytest.approx((81.00 / 72.00 - 1) - (5900 / 5880 - 1))
    assert row[5] == pytest.approx(81.00 / 82.00 - 1)  # the peak so far is 82.00 on 2025-01-09
    assert row[6] == pytest.approx(81.00 / 72.00 - 1)  # the 52-week low is 72.00
    assert row[7] is None  # no price a year back


def test_daily_peer_medians_match_a_median_taken_from_the_fact_table(fixture_warehouse):
    # a second method: Python's statistics.median over fct_valuation_daily's primary-listing rows,
    # under the rule of DESIGN.md (two companies and half of the group, else none)
    import statistics
    from collections import defaultdict

    rows = query(
        fixture_warehouse,
        "select groups.peer_group, valuation.date, valuation.pe_ttm from marts.fct_valuation_daily as valuation "
        "join marts.dim_listing as listings on valuation.symbol = listings.symbol and listings.is_primary "
        "join marts.bridge_company_peer_group as groups on valuation.company_id = groups.company_id",
    )
    in_group = {"china_internet": 1, "us_megacap_tech": 1}  # tests/fixtures/universe.yml: one company each
    by_day = defaultdict(list)
    for group, day, pe in rows:
        by_day[(group, day)].append(pe)
    expected = {}
    for (group, day), pes in by_day.items():
        known = [p for p in pes if p is not None]
        enough = len(known) >= 2 and 2 * len(known) >= in_group[group]
        expected[(group, day)] = (statistics.median(known) if enough else None, len(known), len(pes))
    mart = query(fixture_warehouse, "select peer_group, date, median_pe_ttm, companies_in_group, companies_with_pe, "
                                    "companies_with_prices from marts.mart_peer_valuation_daily")  # fmt: skip
    assert {(g, d): (n_pe, n) for g, d, _, _, n_pe, n in mart} == {key: (n_pe, n) for key, (_, n_pe, n) in expected.items()}
    for group, day, median, companies, _, _ in mart:
        assert companies == in_group[group]
        assert median == (None if expected[(group, day)][0] is None else pytest.approx(expected[(group, day)][0]))
    # days on which the one company has a P/E: 1 of 1 is no median
    assert any(n_pe == 1 for _, n_pe, _ in expected.values())
