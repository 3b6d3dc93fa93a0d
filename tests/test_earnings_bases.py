"""P/E on three earnings bases on the real market sample, and Yahoo's figures reconciled with ours.

Every expected value is read from the sample's CSV files with the csv module (a second path to the
numbers) and combined by hand here: reported, adjusted (non-GAAP) and forward (consensus) P/E, each
in its own column, and the reasons why Yahoo's quoted figures differ from ours.
"""

import csv
from pathlib import Path

import pytest

from tests.conftest import query
from tests.test_pipeline_sample import figure, sample_close

pytestmark = pytest.mark.sample

ALIBABA_FILE = "alibaba_share_counts_and_non_gaap.csv"
HK_FILE = "hk_daily_adjusted_2020_2025_june.csv"  # 9988.HK's traded closes from 2024-06-12
BABA_FILE = "adr_daily_raw_2024_2025.csv"  # BABA's traded closes 2024-2025


def fx(sample_dir: Path, ticker: str, day: str) -> float:
    file = {"CNY=X": "fx_cny_daily_2014_2026.csv", "USDHKD=X": "fx_hkd_daily_2016_2026.csv"}[ticker]
    return sample_close(sample_dir, file, ticker, day)


def bases(warehouse: Path, symbol: str, day: str) -> dict:
    columns = ["pe_ttm", "pe_ttm_adjusted", "adjusted_earnings_basis", "ttm_adjusted_eps", "ttm_adjusted_net_income_usd",
               "pe_forward", "forward_eps", "forward_eps_basis", "forward_eps_snapshot_date", "market_cap_usd", "close"]  # fmt: skip
    rows = query(warehouse, f"select {', '.join(columns)} from marts.fct_valuation_daily where symbol = ? and date = ?", [symbol, day])
    assert len(rows) == 1, (symbol, day)
    return dict(zip(columns, rows[0]))


def consensus(sample_dir: Path, symbol: str, period: str) -> dict:
    with open(sample_dir / "consensus" / "yahoo_earnings_trend_2025-02-24.csv", newline="") as handle:
        return next(row for row in csv.DictReader(handle) if (row["symbol"], row["period"]) == (symbol, period))


def quoted(sample_dir: Path, symbol: str, module: str, field: str) -> float:
    with open(sample_dir / "consensus" / "yahoo_quoted_figures_2025-02-24.csv", newline="") as handle:
        return float(next(row["value"] for row in csv.DictReader(handle) if (row["symbol"], row["module"], row["field"]) == (symbol, module, field)))


def test_alibaba_adjusted_pe_around_the_seed_dates_from_its_non_gaap_net_income(sample_warehouse, sample_dir):
    # The seed analysis puts Alibaba at "around 10 times" before its February 2025 rebound: that is on
    # adjusted earnings. Known in January and February 2025: FY2024's non-GAAP net income, RMB 157,479
    # million (the annual report, undated: usable from period end + 90 days, 2024-06-29), and the
    # dated count of 2024-09-30, 18,620 million ordinary shares. No non-GAAP EPS of FY2024 is in the
    # sample, so the P/E is market cap over that income, each converted at the day's rate.
    income = figure(sample_dir, ALIBABA_FILE, "BABA", "non_gaap_net_income", "2024-03-31", "") * 1e6
    shares = figure(sample_dir, ALIBABA_FILE, "BABA", "shares_outstanding", "2024-09-30", "2024-10-02") * 1e6
    assert (income, shares) == (157_479e6, 18_620e6)
    expected = {}
    for day in ("2025-01-13", "2025-02-14", "2025-02-17"):  # 9988.HK's January low (78.10), the seed's two days
        close, usd_hkd, cny = sample_close(sample_dir, HK_FILE, "9988.HK", day), fx(sample_dir, "USDHKD=X", day), fx(sample_dir, "CNY=X", day)
        expected[day] = shares * close / usd_hkd / (income / cny)
        row = bases(sample_warehouse, "9988.HK", day)
        assert row["pe_ttm_adjusted"] == pytest.approx(expected[day], rel=1e-9), day
        assert row["adjusted_earnings_basis"] == "company_non_gaap_net_income_incl_minority_interests"
        assert row["pe_ttm"] > 2 * row["pe_ttm_adjusted"]  # reported earnings carried the investment losses
    assert expected["2025-01-13"] == pytest.approx(8.7, abs=0.05)  # 18.62 bn x 78.10 / 7.79 over 157.5 bn / 7.33
    assert expected["2025-02-14"] == pytest.approx(13.7, abs=0.05)  # after the rebound: 124.10 HKD
    # BABA on its own January low (2025-01-10, USD 80.53): 8 ordinary shares per ADS
    close, cny = sample_close(sample_dir, BABA_FILE, "BABA", "2025-01-10"), fx(sample_dir, "CNY=X", "2025-01-10")
    baba = bases(sample_warehouse, "BABA", "2025-01-10")
    assert baba["pe_ttm_adjusted"] == pytest.approx(shares / 8 * close / (income / cny), rel=1e-9)
    assert baba["ttm_adjusted_net_income_usd"] == pytest.approx(income / cny, rel=1e-12)
    assert baba["ttm_adjusted_eps"] is None  # an amount, not a per-share figure


def test_baidu_adjusted_pe_from_its_non_gaap_eps_per_ads_then_its_newer_net_income(sample_warehouse, sample_dir):
    # 2025-02-14: FY2023 non-GAAP diluted EPS RMB 80.85 per ADS (release of 2024-02-28).
    with open(sample_dir / "fundamentals" / "baidu_results_fy2022_fy2024.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    eps = next(float(r["value"]) for r in rows if (r["line_item"], r["fiscal_period"]) == ("non_gaap_eps_diluted_per_ADS", "FY2023"))
    assert eps == 80.85
    close, cny = sample_close(sample_dir, "adr_daily_adjusted_2021_2026.csv", "BIDU", "2025-02-14"), fx(sample_dir, "CNY=X", "2025-02-14")
    row = bases(sample_warehouse, "BIDU", "2025-02-14")
    assert row["adjusted_earnings_basis"] == "company_non_gaap_eps"
    assert row["ttm_adjusted_eps"] == pytest.approx(eps / cny, rel=1e-9)  # USD per ADS: 8 shares per ADS both ways
    assert row["pe_ttm_adjusted"] == pytest.approx(close / (eps / cny), rel=1e-8)
    # The FY2024 release (2025-02-18, New York) prints non-GAAP net income to Baidu, RMB 27,002 m, and
    # no non-GAAP EPS: from the next session the newer period wins, over the amount.
    income = next(float(r["value"]) for r in rows if (r["line_item"], r["fiscal_period"], r["filed_date"])
                  == ("non_gaap_net_income_attributable_to_equity_holders", "FY2024", "2025-02-18")) * 1e6  # fmt: skip
    assert bases(sample_warehouse, "BIDU", "2025-02-18")["adjusted_earnings_basis"] == "company_non_gaap_eps"
    after = bases(sample_warehouse, "BIDU", "2025-02-19")
    assert after["adjusted_earnings_basis"] == "company_non_gaap_net_income"
    assert after["pe_ttm_adjusted"] == pytest.approx(after["market_cap_usd"] / (income / fx(sample_dir, "CNY=X", "2025-02-19")), rel=1e-9)


def test_companies_without_adjusted_earnings_in_the_data_have_no_adjusted_pe(sample_warehouse):
    # The US filers publish no non-GAAP EPS in the sample and the sample has no Yahoo normalized income:
    # their adjusted P/E is missing, not their reported one relabelled.
    rows = query(sample_warehouse, "select symbol, count(pe_ttm), count(pe_ttm_adjusted) from marts.fct_valuation_daily "
                                   "where symbol in ('AAPL', 'MSFT', 'NVDA', 'GOOGL', 'META', 'AMZN') group by symbol")  # fmt: skip
    assert len(rows) == 6 and all(reported > 0 and adjusted == 0 for _, reported, adjusted in rows)


def test_baba_forward_pe_from_the_cny_consensus_per_ads_known_from_the_first_session_after_the_snapshot(sample_warehouse, sample_dir):
    # The snapshot was taken 2025-02-24 09:35 UTC: before New York opened that day (14:30 UTC), after
    # Hong Kong had closed (08:00 UTC). The +1y estimate (fiscal year to 2026-03-31) is CNY 73.52281
    # per ADS, beside a USD price.
    estimate = consensus(sample_dir, "BABA", "+1y")
    eps_per_ads, currency, end = float(estimate["eps_avg"]), estimate["eps_currency"], estimate["end_date"]
    assert (eps_per_ads, currency, end) == (73.52281, "CNY", "2026-03-31")
    close, cny = sample_close(sample_dir, BABA_FILE, "BABA", "2025-02-24"), fx(sample_dir, "CNY=X", "2025-02-24")
    row = bases(sample_warehouse, "BABA", "2025-02-24")
    assert row["forward_eps"] == pytest.approx(eps_per_ads / cny, rel=1e-12)  # USD per ADS: (73.52 / 8 shares) x 8 / CNY=X
    assert row["pe_forward"] == pytest.approx(close / (eps_per_ads / cny), rel=1e-12)  # 129.04 / (73.52 / 7.25) = 12.72
    assert row["pe_forward"] == pytest.approx(12.72, abs=0.01)
    assert (row["forward_eps_basis"], str(row["forward_eps_snapshot_date"])) == ("consensus_next_fiscal_year", "2025-02-24")
    assert bases(sample_warehouse, "BABA", "2025-02-21")["pe_forward"] is None  # before the snapshot
    # Hong Kong: from 2025-02-25, per ordinary share (/ 8), converted CNY -> USD -> HKD
    assert bases(sample_warehouse, "9988.HK", "2025-02-24")["pe_forward"] is None
    hk_close, usd_hkd, cny_25 = (sample_close(sample_dir, HK_FILE, "9988.HK", "2025-02-25"), fx(sample_dir, "USDHKD=X", "2025-02-25"),
                                 fx(sample_dir, "CNY=X", "2025-02-25"))  # fmt: skip
    assert bases(sample_warehouse, "9988.HK", "2025-02-25")["pe_forward"] == pytest.approx(hk_close / (eps_per_ads / 8 / cny_25 * usd_hkd), rel=1e-12)
    # fresh for 14 days (forward_eps_max_age_days), then missing: no older snapshot stands in
    assert bases(sample_warehouse, "BABA", "2025-03-10")["pe_forward"] is not None
    later = bases(sample_warehouse, "BABA", "2025-03-11")
    assert (later["pe_forward"], later["forward_eps_basis"], later["forward_eps_snapshot_date"]) == (None, None, None)


def test_us_forward_pe_on_usd_estimates(sample_warehouse, sample_dir):
    for symbol in ("AAPL", "AMZN"):
        eps = float(consensus(sample_dir, symbol, "+1y")["eps_avg"])  # AAPL 8.19607 (FY to 2026-09), AMZN 7.58352
        close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", symbol, "2025-02-24")
        assert bases(sample_warehouse, symbol, "2025-02-24")["pe_forward"] == pytest.approx(close / eps, rel=1e-12), symbol


def reconciliation(warehouse: Path, symbol: str) -> dict:
    rows = query(warehouse, "select measure, vendor_module, compared_on, vendor_value, warehouse_value, relative_difference, "
                            "reason, explanation from marts.mart_vendor_reconciliation where symbol = ?", [symbol])  # fmt: skip
    return {(measure, module): dict(zip(["on", "vendor", "ours", "difference", "reason", "explanation"], rest))
            for measure, module, *rest in rows}  # fmt: skip


def test_the_baba_page_reconciled_with_its_reasons(sample_warehouse, sample_dir):
    # Yahoo's page of 2025-02-24 quotes Friday 2025-02-21's close, 143.75: ours are of that session.
    baba = reconciliation(sample_warehouse, "BABA")
    price = quoted(sample_dir, "BABA", "price", "regularMarketPrice")
    close, cny = sample_close(sample_dir, BABA_FILE, "BABA", "2025-02-21"), fx(sample_dir, "CNY=X", "2025-02-21")
    assert price == close == 143.75
    assert {str(row["on"]) for row in baba.values()} == {"2025-02-21"}
    eps_per_ads = float(consensus(sample_dir, "BABA", "+1y")["eps_avg"])
    # defaultKeyStatistics' forward P/E 1.9551755 is the USD price over the CNY estimate per ADS
    key_statistics = baba["pe_forward", "defaultKeyStatistics"]
    assert key_statistics["vendor"] == quoted(sample_dir, "BABA", "defaultKeyStatistics", "forwardPE") == 1.9551755
    assert price / key_statistics["vendor"] == pytest.approx(eps_per_ads, rel=1e-7)
    assert key_statistics["ours"] == pytest.approx(price / (eps_per_ads / cny), rel=1e-12)  # 14.19
    assert key_statistics["reason"] == "currency"
    assert "USD price 143.75 by the CNY estimate 73.52 per ADS" in key_statistics["explanation"]
    # summaryDetail's 14.564337 is on Yahoo's own forward EPS, 143.75 / 14.564337 = USD 9.87, not our 10.13
    summary = baba["pe_forward", "summaryDetail"]
    assert summary["vendor"] == 14.564337 and summary["reason"] == "earnings_basis"
    assert summary["difference"] == pytest.approx(14.564337 / (price / (eps_per_ads / cny)) - 1, rel=1e-9)
    # market cap: Yahoo's 341.54 bn is 2,375.95 m ADS x 143.75 = 19,007.6 m ordinary shares; ours the
    # 18,620 m of 2024-09-30: 18,620 m / 8 x 143.75 = 334,578,125,000
    market_cap = baba["market_cap_usd", "price"]
    assert market_cap["vendor"] == quoted(sample_dir, "BABA", "price", "marketCap") == 341_542_830_080
    assert market_cap["ours"] == pytest.approx(18_620e6 / 8 * 143.75, rel=1e-12)
    assert market_cap["reason"] == "share_count"
    assert "19,007.6 m ordinary shares" in market_cap["explanation"] and "18,620.0 m" in market_cap["explanation"]
    # the enterprise value 2,566.5 bn is in CNY (Yahoo states no currency for it) beside a USD market cap
    enterprise = baba["enterprise_value_usd", "defaultKeyStatistics"]
    assert enterprise["vendor"] == 2_566_507_724_800 and "currency" in enterprise["reason"].split(", ")
    assert f"{2_566_507_724_800 / cny / 1e9:,.1f} bn USD" in enterprise["explanation"]
    # trailing: Yahoo's EPS 143.75 / 20.924309 = USD 6.87 per ADS; ours is FY2024's (to 2024-03-31)
    trailing = baba["pe_ttm", "summaryDetail"]
    assert trailing["reason"] == "earnings_basis" and "fiscal_year to 2024-03-31" in trailing["explanation"]


def test_a_figure_that_agrees_has_no_reason(sample_warehouse, sample_dir):
    # Amazon's market cap: Yahoo's 2,295.25 bn at 216.58 against ours within 0.5%
    amazon = reconciliation(sample_warehouse, "AMZN")
    market_cap = amazon["market_cap_usd", "price"]
    assert market_cap["vendor"] == quoted(sample_dir, "AMZN", "price", "marketCap")
    assert abs(market_cap["difference"]) < 0.005 and market_cap["reason"] is None and market_cap["explanation"] is None
    # GOOG (Alphabet's class C) is not a listing of universe.yml: its page is not reconciled
    assert reconciliation(sample_warehouse, "GOOG") == {}


def test_peer_medians_on_each_basis_need_enough_companies(sample_warehouse):
    # 2025-02-25: China internet has adjusted P/Es for Alibaba and Baidu (2 of 5) and a forward P/E for
    # Alibaba only: neither is a median. US megacaps: forward P/Es for Apple and Amazon, 2 of 6.
    rows = query(sample_warehouse, "select peer_group, median_pe_ttm, companies_with_pe, median_pe_ttm_adjusted, "
                                   "companies_with_pe_adjusted, median_pe_forward, companies_with_pe_forward "
                                   "from marts.mart_peer_valuation_daily where date = '2025-02-25'")  # fmt: skip
    by_group = {row[0]: row[1:] for row in rows}
    assert by_group["china_internet"][2:] == (None, 2, None, 1)
    assert by_group["us_megacap_tech"][4:] == (None, 2)
    assert by_group["us_megacap_tech"][0] is not None  # the reported median is unaffected (6 of 6)
