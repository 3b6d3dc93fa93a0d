"""The whole pipeline on the real market sample (skipped, with the reason, when it is absent).

Expected values are read straight from the sample's CSV files with the csv module (a second path
to the same numbers) and combined by hand here, with the arithmetic visible.
"""

import csv
import shutil
import statistics
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, query, run_pipeline

pytestmark = pytest.mark.sample


def sample_row(sample_dir: Path, file: str, ticker: str, day: str) -> dict:
    with open(sample_dir / "prices" / file, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["ticker"] == ticker and row["date"] == day:
                return row
    raise AssertionError(f"{ticker} {day} not in {file}")


def sample_close(sample_dir: Path, file: str, ticker: str, day: str) -> float:
    return float(sample_row(sample_dir, file, ticker, day)["close"])


def figure(sample_dir: Path, file: str, ticker: str, line_item: str, period_end: str, filed: str) -> float:
    with open(sample_dir / "fundamentals" / file, newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["company_ticker"], row["line_item"], row["period_end"], row["filed_date"]) == (ticker, line_item, period_end, filed):
                return float(row["value"])
    raise AssertionError(f"{ticker} {line_item} {period_end} filed {filed!r} not in {file}")


COLUMNS = ["close", "close_usd", "shares", "shares_basis", "local", "usd", "hkd", "basis", "eps", "pe",
           "period_end", "ttm_basis"]  # fmt: skip


def fct(warehouse, symbol, day):
    rows = query(
        warehouse,
        "select close, close_usd, shares_outstanding, shares_basis, market_cap_local, market_cap_usd, market_cap_hkd, "
        "price_basis, ttm_eps, pe_ttm, fundamentals_period_end, ttm_basis "
        "from marts.fct_valuation_daily where symbol = ? and date = ?",
        [symbol, day],
    )
    assert len(rows) == 1
    return dict(zip(COLUMNS, rows[0]))


def test_msft_pe_carries_its_last_full_year_over_a_newer_single_quarter(sample_warehouse, sample_dir):
    # On 2025-02-14 the sample knows MSFT's FY2024 10-K (filed 2024-07-30) and one newer quarter
    # (Dec 2024, quoted_spot_figures, filed 2025-01-29), but not the three quarters before it (the
    # workbook that has them is dated 2026-07-30). The FY2024 TTM carries; the single quarter does
    # not wipe it out.
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "MSFT", "2025-02-14")
    eps_fy2024 = figure(sample_dir, "msft_annual_10k_fy2021_fy2025.csv", "MSFT", "eps_diluted", "2024-06-30", "2024-07-30")
    shares_fy2024 = figure(sample_dir, "msft_annual_10k_fy2021_fy2025.csv", "MSFT", "weighted_avg_shares_diluted",
                           "2024-06-30", "2024-07-30") * 1e6  # fmt: skip
    row = fct(sample_warehouse, "MSFT", date(2025, 2, 14))
    assert eps_fy2024 == 11.80
    assert row["pe"] == pytest.approx(close / 11.80, rel=1e-12)  # 408.43 / 11.80 = 34.61
    assert (row["period_end"], row["ttm_basis"]) == (date(2024, 6, 30), "fiscal_year")
    # no dated outstanding count is known yet: the FY2024 weighted diluted count, and the basis says so
    assert (row["shares"], row["shares_basis"]) == (shares_fy2024, "weighted_avg_diluted")
    assert row["usd"] == pytest.approx(7_469_000_000 * close, rel=1e-12)
    # every trading day of February 2025 has a P/E
    counts = query(sample_warehouse, "select count(*), count(pe_ttm) from marts.fct_valuation_daily "
                                     "where symbol = 'MSFT' and date between '2025-02-01' and '2025-07-31'")  # fmt: skip
    assert counts[0][0] == counts[0][1] > 100


def test_msft_uses_a_dated_outstanding_count_once_published(sample_warehouse, sample_dir):
    # 7,433,982,235 shares as of 2025-01-23 (quoted_spot_figures.csv, no filing date: period end
    # + 45 days = Sunday 2025-03-09, so from the next NYSE session, Monday 2025-03-10).
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "MSFT", "2025-03-14")
    usd_hkd = sample_close(sample_dir, "fx_hkd_daily_2016_2026.csv", "USDHKD=X", "2025-03-14")
    row = fct(sample_warehouse, "MSFT", date(2025, 3, 14))
    assert (row["shares"], row["shares_basis"]) == (7_433_982_235, "shares_outstanding")
    assert row["usd"] == pytest.approx(7_433_982_235 * close, rel=1e-12)
    assert row["hkd"] == pytest.approx(7_433_982_235 * close * usd_hkd, rel=1e-12)
    assert fct(sample_warehouse, "MSFT", date(2025, 3, 7))["shares_basis"] == "weighted_avg_diluted"
    assert fct(sample_warehouse, "MSFT", date(2025, 3, 10))["shares_basis"] == "shares_outstanding"


def test_nvda_market_cap_and_pe_are_continuous_across_its_2024_split(sample_warehouse, sample_dir):
    # The 10:1 split took effect 2024-06-10. The sample's NVDA closes are on the post-split basis;
    # the traded close of Friday 2024-06-07 was 10x the file's. The count known then is the 10-Q
    # cover page: 2.46 billion pre-split shares (as of 2024-05-24, filed 2024-05-29); the TTM EPS
    # is four pre-split quarters (Q2 FY2024 .. Q1 FY2025): 2.48 + 3.71 + 4.93 + 5.98 = 17.10.
    file = "us_daily_raw_2021_2026.csv"
    traded_friday = sample_close(sample_dir, file, "NVDA", "2024-06-07") * 10
    traded_monday = sample_close(sample_dir, file, "NVDA", "2024-06-10")
    friday, monday = fct(sample_warehouse, "NVDA", date(2024, 6, 7)), fct(sample_warehouse, "NVDA", date(2024, 6, 10))
    assert friday["usd"] == pytest.approx(2.46e9 * traded_friday, rel=1e-9)  # about 2.97 trillion
    assert monday["usd"] == pytest.approx(2.46e9 * 10 * traded_monday, rel=1e-9)
    assert friday["pe"] == pytest.approx(traded_friday / 17.10, rel=1e-9)  # about 70.7
    assert monday["pe"] == pytest.approx(traded_monday / 1.710, rel=1e-9)
    assert friday["shares"] == pytest.approx(24.6e9) and friday["eps"] == pytest.approx(1.710)
    # and no day of its history moves more than 30% in market cap (the old 10x steps are gone)
    worst = query(sample_warehouse, "select max(abs(market_cap_usd / lag_cap - 1)) from (select market_cap_usd, "
                                    "lag(market_cap_usd) over (order by date) as lag_cap from marts.fct_valuation_daily "
                                    "where symbol = 'NVDA' and market_cap_usd is not null)")[0][0]  # fmt: skip
    assert worst < 0.3


def test_googl_market_cap_sums_its_three_share_classes(sample_warehouse, sample_dir):
    # 10-K cover page as of 2024-01-23 (filed 2024-01-31): Class A 5,893 + Class B 869 + Class C
    # 5,671 million shares.
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "GOOGL", "2024-03-01")
    row = fct(sample_warehouse, "GOOGL", date(2024, 3, 1))
    assert row["shares_basis"] == "sum_of_share_classes"
    assert row["shares"] == (5_893 + 869 + 5_671) * 1_000_000
    assert row["usd"] == pytest.approx(12_433_000_000 * close, rel=1e-12)


def test_tencent_pe_from_rmb_eps_and_a_hkd_close_recovered_from_dividends(sample_warehouse, sample_dir):
    # 2025-02-14: the sample has only a dividend-adjusted 0700.HK close (adjusted as of 2025-07-18).
    # The one dividend after that day is HKD 4.5 (ex 2025-05-16); Yahoo adjusted the days before it
    # by 1 - 4.5 / traded(2025-05-15) = adj(05-15) / (adj(05-15) + 4.5).
    file = "hk_daily_adjusted_2020_2025.csv"
    adjusted = sample_close(sample_dir, file, "0700.HK", "2025-02-14")
    day_before = sample_close(sample_dir, file, "0700.HK", "2025-05-15")
    assert float(sample_row(sample_dir, file, "0700.HK", "2025-05-16")["dividends"]) == 4.5
    traded = adjusted * (day_before + 4.5) / day_before
    assert round(traded / 0.2) == pytest.approx(traded / 0.2, abs=1e-4), "a traded close sits on HKEX's HKD 0.20 tick"
    # TTM EPS: the four quarters Q4 2023 .. Q3 2024 known then, RMB per share (results
    # announcements): 2.807 + 4.386 + 4.994 + 5.644 = 17.831 RMB, in HKD at the day's USD rates.
    cny = sample_close(sample_dir, "fx_cny_daily_2014_2026.csv", "CNY=X", "2025-02-14")
    hkd = sample_close(sample_dir, "fx_hkd_daily_2016_2026.csv", "USDHKD=X", "2025-02-14")
    eps_hkd = 17.831 / cny * hkd
    row = fct(sample_warehouse, "0700.HK", date(2025, 2, 14))
    # (the pipeline solves Yahoo's dividend scale on the overlap with the traded download: 1 here,
    # to 1e-7; 9988.HK's is about 1/7.8, its HKD dividends having been applied as USD amounts)
    assert row["basis"] == "from_dividends" and row["close"] == pytest.approx(traded, rel=1e-7)
    assert row["eps"] == pytest.approx(eps_hkd, rel=1e-9)
    assert row["pe"] == pytest.approx(traded / eps_hkd, rel=1e-7)  # about 24.9
    assert row["ttm_basis"] == "four_quarters" and row["period_end"] == date(2024, 9, 30)


def test_recovered_hong_kong_closes_sit_on_hkex_ticks(sample_warehouse, sample_dir):
    # A second method for the dividend recovery: a real traded close is a whole number of HKEX ticks
    # (HKD 0.05 from 20 to 100, 0.10 to 200, 0.20 to 500, 0.50 to 1,000). Adjusted closes are not.
    rows = query(sample_warehouse, "select symbol, date, close_price from staging.stg_prices "
                                   "where price_basis = 'from_dividends' and symbol in ('9988.HK', '0700.HK')")  # fmt: skip

    def tick(price):
        return 0.05 if price < 100 else 0.10 if price < 200 else 0.20 if price < 500 else 0.50

    off_tick = [(s, d, c) for s, d, c in rows if abs(c / tick(c) - round(c / tick(c))) > 1e-3]
    assert off_tick == []
    # recovered exactly where the dividend-adjusted download with dividends has a day no download
    # holds as traded: counted from the files with the csv module
    traded, adjusted = set(), set()
    for path in sorted((sample_dir / "prices").glob("*.csv")):
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["ticker"] in ("9988.HK", "0700.HK"):
                    if row["price_basis"] == "raw":
                        traded.add((row["ticker"], row["date"]))
                    elif path.name == "hk_daily_adjusted_2020_2025.csv":
                        adjusted.add((row["ticker"], row["date"]))
    assert {(s, str(d)) for s, d, _ in rows} == adjusted - traded
    assert len(rows) == 516  # 9988.HK 146 (2023-11-07 .. 2024-06-11, 2025-06-09/10), 0700.HK 370 (.. 2025-05-15)


def test_a_figure_filed_after_the_new_york_close_counts_from_the_next_session(sample_warehouse):
    # Amazon's FY2024 10-K is dated 2025-02-07 (no time of day: counted as after the close), so
    # AMZN's TTM moves from FY2023 to FY2024 on Monday 2025-02-10, not on the 7th.
    assert fct(sample_warehouse, "AMZN", date(2025, 2, 7))["period_end"] == date(2023, 12, 31)
    assert fct(sample_warehouse, "AMZN", date(2025, 2, 10))["period_end"] == date(2024, 12, 31)


def test_a_new_york_dated_figure_is_not_used_by_the_hong_kong_session_that_opened_before_it(sample_warehouse):
    # Alibaba's FY2023 annual figures have no date in the sample: period end 2023-03-31 + 90 days =
    # Thursday 2023-06-29, a New York date (BABA is primary), counted as the end of that day = noon
    # on 2023-06-30 in Hong Kong. NYSE uses them from its 2023-06-30 session; HKEX's 2023-06-30
    # session had opened at 09:30, so 9988.HK uses them only from Monday 2023-07-03.
    assert fct(sample_warehouse, "BABA", date(2023, 6, 29))["period_end"] == date(2022, 3, 31)
    assert fct(sample_warehouse, "BABA", date(2023, 6, 30))["period_end"] == date(2023, 3, 31)
    assert fct(sample_warehouse, "9988.HK", date(2023, 6, 30))["period_end"] == date(2022, 3, 31)
    assert fct(sample_warehouse, "9988.HK", date(2023, 7, 3))["period_end"] == date(2023, 3, 31)


def test_baba_and_9988_hk_agree_on_days_both_have_traded_closes(sample_warehouse, capsys):
    # Same company, same share count: BABA (8 shares per ADS, USD) and 9988.HK (1 share, HKD at the
    # day's USDHKD) must agree but for the market's own gap (HKEX closes 12-13 hours before NYSE).
    # A wrong ADS ratio or FX direction would be off by a factor of about 8 or 60; a mixed price
    # basis by a steady 1-2%.
    diffs = [
        d
        for (d,) in query(
            sample_warehouse,
            "select a.market_cap_usd / h.market_cap_usd - 1 from marts.fct_valuation_daily as a "
            "join marts.fct_valuation_daily as h on a.date = h.date and a.symbol = 'BABA' and h.symbol = '9988.HK' "
            "where a.market_cap_usd is not null and h.market_cap_usd is not null",
        )
    ]
    median, mean = statistics.median(diffs), statistics.fmean(diffs)
    with capsys.disabled():
        print(f"\nBABA vs 9988.HK USD market cap on {len(diffs)} common days with traded closes: "
              f"median {median:+.3%}, mean {mean:+.3%}, {sum(abs(d) <= 0.01 for d in diffs)} within 1%")  # fmt: skip
    assert len(diffs) > 1_100  # 2019-11-26 .. 2025-10-30, with BABA's traded closes after 2024-03-08 now
    assert abs(median) < 0.01 and abs(mean) < 0.01
    # BABA's closes after 2024-03-08 are traded ones (adr_daily_raw_2024_2025.csv, then the raw rows
    # of us_daily_autoadjusted_2025_2026.csv): never the dividend-adjusted series of the other file,
    # and not its one adjusted row (2025-06-11, a day the first file has as traded)
    assert query(sample_warehouse, "select count(*), count(close) filter (where price_basis = 'raw') "
                                   "from marts.fct_valuation_daily where symbol = 'BABA' "
                                   "and date between '2024-03-11' and '2026-04-10'") == [(523, 523)]  # fmt: skip


def test_peer_median_on_one_date(sample_warehouse, sample_dir):
    # 2025-02-14, hyperscalers: Alibaba (through BABA, its primary listing, traded again in the grown
    # sample), Amazon, Alphabet, Meta and Microsoft each bring their P/E of that day; the median is
    # the middle one, Meta's 736.67 / 23.86 (FY2024, its release of 2025-01-29): GOOGL 23.0 < BABA
    # 29.1 < META 30.9 < MSFT 34.6 < AMZN 41.4.
    day = date(2025, 2, 14)
    pes = dict(query(sample_warehouse, "select symbol, pe_ttm from marts.fct_valuation_daily where date = ? "
                                       "and symbol in ('BABA', 'AMZN', 'GOOGL', 'META', 'MSFT')", [day]))  # fmt: skip
    assert len(pes) == 5 and all(pe is not None for pe in pes.values())
    assert sorted(pes, key=pes.get) == ["GOOGL", "BABA", "META", "MSFT", "AMZN"]
    median = query(sample_warehouse, "select median_pe_ttm, companies_with_pe, companies_in_group from marts.mart_peer_valuation_daily "
                                     "where peer_group = 'hyperscalers' and date = ?", [day])[0]  # fmt: skip
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "META", "2025-02-14")
    eps = figure(sample_dir, "googl_meta_fy2024_original_filings.csv", "META", "eps_diluted", "2024-12-31", "2025-01-29")
    assert median == (pytest.approx(close / eps, rel=1e-12), 5, 5)  # 5 of 5 companies


def test_peer_comparison_is_at_one_as_of_date(sample_warehouse):
    rows = query(sample_warehouse, "select distinct as_of_date from marts.mart_peer_valuation")
    latest = query(sample_warehouse, "select max(date) from marts.fct_valuation_daily")[0][0]
    assert rows == [(latest,)]
    # each company's multiples are its latest known ones, through the listing that has the most
    # recent: Alibaba's from BABA on 2026-03-30 (later its CNY EPS has no CNY=X rate), not from
    # 9988.HK's last close of 2025-10-30
    represented = dict(query(sample_warehouse, "select symbol, valuation_date from marts.mart_peer_valuation "
                                               "where peer_group = 'china_internet' and represents_company"))  # fmt: skip
    assert represented == {"BABA": date(2026, 3, 30), "0700.HK": date(2026, 3, 26), "BIDU": date(2026, 3, 30),
                           "JD": date(2026, 3, 30), "PDD": date(2026, 3, 30)}  # fmt: skip
    pes = dict(query(sample_warehouse, "select symbol, pe_ttm from marts.mart_peer_valuation "
                                       "where peer_group = 'china_internet' and represents_company"))  # fmt: skip
    assert pes["JD"] is None and all(pes[s] is not None for s in ("BABA", "0700.HK", "BIDU", "PDD"))
    # four of the group's five companies have a P/E (JD has no TTM earnings in the sample): the
    # median of four is the mean of the middle two
    middle = sorted(pes[s] for s in ("BABA", "0700.HK", "BIDU", "PDD"))[1:3]
    median = query(sample_warehouse, "select distinct peer_median_pe_ttm, companies_in_group, companies_with_pe "
                                     "from marts.mart_peer_valuation where peer_group = 'china_internet'")  # fmt: skip
    assert median == [(pytest.approx(sum(middle) / 2, rel=1e-12), 5, 4)]


def test_every_company_with_data_has_market_cap_and_pe_in_february_2025(sample_warehouse):
    # The seed's window: every trading day of February 2025 has both, for each company whose data
    # in the sample supports it - all but JD and PDD, whose first EPS figures come from releases of
    # 2025-03-06 (JD's Q4 2024) and 2025-08-25 (PDD's Q2 2025), and which print no share count.
    rows = query(sample_warehouse, "select symbol, count(*), count(market_cap_usd), count(pe_ttm) "
                                   "from marts.fct_valuation_daily where date between '2025-02-01' and '2025-02-28' "
                                   "group by symbol")  # fmt: skip
    counts = {symbol: (days, caps, pes) for symbol, days, caps, pes in rows}
    for symbol in ("AAPL", "MSFT", "AMZN", "GOOGL", "META", "NVDA", "BABA", "9988.HK", "0700.HK", "BIDU", "9888.HK"):
        days, caps, pes = counts[symbol]
        assert days == caps == pes and days >= 15, symbol
    for symbol in ("JD", "9618.HK", "PDD"):
        assert counts[symbol][0] >= 15 and counts[symbol][1:] == (0, 0), symbol


def test_every_price_row_is_loaded_or_rejected_and_nothing_is_held_back(sample_warehouse):
    # The real sample is clean: no file quarantined, no row held back, no conflicts.
    held = query(sample_warehouse, "select reason, count(*) from raw.rejected_rows group by reason")
    assert held == []
    splits = query(sample_warehouse, "select count(*) from raw.stock_splits")[0][0]
    assert splits == 10  # the ten events of corporate_actions/splits.csv


def assert_drawdowns_from_the_running_maximum(warehouse):
    # A second method: the running maximum in Python over each listing's staged closes (the
    # adjusted close where there is one), against the mart's drawdown on every row. The mart
    # takes it within each calendar year and joins the years before, so cross-year peaks matter.
    prices = query(
        warehouse,
        "select symbol, date, coalesce(adj_close_price, close_price) from staging.stg_prices "
        "where symbol in (select symbol from marts.dim_listing) order by symbol, date",
    )
    mart = {
        (symbol, day): drawdown
        for symbol, day, drawdown in query(
            warehouse, "select symbol, as_of_date, drawdown_from_peak from marts.mart_relative_performance"
        )
    }
    peak, peak_year, checked, peaks_from_an_earlier_year = {}, {}, 0, 0
    for symbol, day, price in prices:
        if price > peak.get(symbol, float("-inf")):
            peak[symbol], peak_year[symbol] = price, day.year
        assert mart[(symbol, day)] == pytest.approx(price / peak[symbol] - 1), (symbol, day)
        checked += 1
        peaks_from_an_earlier_year += peak_year[symbol] < day.year
    assert checked == len(mart)
    assert peaks_from_an_earlier_year > 1000  # the rule is tested where it matters


def test_drawdown_is_measured_from_the_highest_price_of_the_whole_history(sample_warehouse):
    assert_drawdowns_from_the_running_maximum(sample_warehouse)


def test_an_incremental_rebuild_keeps_the_peak_from_before_the_history_it_reads(sample_warehouse, sample_dir, tmp_path):
    # A second run on the same snapshot rebuilds only the last days of each listing (the overlap
    # window) and reads a year before them: BABA's peak of October 2020 comes from the history before.
    warehouse = tmp_path / "valuation.duckdb"
    shutil.copyfile(sample_warehouse, warehouse)
    run_pipeline(warehouse, sample_dir, REPO_ROOT / "universe.yml", as_of="2026-11-23")
    rebuilt, kept = query(
        warehouse,
        "select count(*) filter (where built_at > (select min(built_at) from marts.mart_relative_performance)), "
        "count(*) filter (where built_at = (select min(built_at) from marts.mart_relative_performance)) "
        "from marts.mart_relative_performance where symbol = 'BABA'",
    )[0]
    assert 0 < rebuilt < 20 and kept > 2000, (rebuilt, kept)
    assert_drawdowns_from_the_running_maximum(warehouse)


def fx_close(sample_dir: Path, file: str, ticker: str, day: str) -> float:
    return sample_close(sample_dir, file, ticker, day)


def test_alibaba_market_cap_uses_the_latest_dated_count_known_on_the_day(sample_warehouse, sample_dir):
    # On 2025-02-14 the latest count published is the repurchase update of 2024-10-02: 18,620 million
    # ordinary shares at 2024-09-30 (not the fiscal year's weighted average of about 20.4 bn).
    shares = figure(sample_dir, "alibaba_share_counts_and_non_gaap.csv", "BABA", "shares_outstanding",
                    "2024-09-30", "2024-10-02") * 1e6  # fmt: skip
    assert shares == 18_620e6
    hk_close = sample_close(sample_dir, "hk_daily_adjusted_2020_2025_june.csv", "9988.HK", "2025-02-14")  # traded from 2024-06-12
    ads_close = sample_close(sample_dir, "adr_daily_raw_2024_2025.csv", "BABA", "2025-02-14")
    usd_hkd = fx_close(sample_dir, "fx_hkd_daily_2016_2026.csv", "USDHKD=X", "2025-02-14")
    hk, ads = fct(sample_warehouse, "9988.HK", "2025-02-14"), fct(sample_warehouse, "BABA", "2025-02-14")
    assert (hk["shares"], hk["shares_basis"], hk["basis"]) == (shares, "shares_outstanding", "raw")
    assert hk["local"] == pytest.approx(shares * hk_close, rel=1e-12)  # HKD 18.62 bn x 124.10 = 2,310.7 bn
    assert hk["local"] / 1e9 == pytest.approx(2_310.7, abs=0.05)
    assert ads["usd"] == pytest.approx(shares * ads_close / 8, rel=1e-12)  # 8 ordinary shares per ADS
    # the two listings: 18.62 bn x 124.10 / 7.788 = USD 296.7 bn against 18.62 bn x 124.73 / 8 = 290.3 bn
    assert hk["usd"] == pytest.approx(shares * hk_close / usd_hkd, rel=1e-12)
    assert abs(ads["usd"] / hk["usd"] - 1) == pytest.approx(1 - 124.7300033569336 / 8 / (124.0999984741211 / usd_hkd), rel=1e-9)
    assert abs(ads["usd"] / hk["usd"] - 1) < 0.03
    # a quarter earlier, the count of 2024-06-30 (19,024 million, published 2024-07-02) held
    earlier = fct(sample_warehouse, "BABA", "2024-08-01")
    assert earlier["shares"] == figure(sample_dir, "alibaba_share_counts_and_non_gaap.csv", "BABA", "shares_outstanding",
                                       "2024-06-30", "2024-07-02") * 1e6 == 19_024e6  # fmt: skip


def test_googl_and_meta_pe_rest_on_fy2024_from_their_original_filings(sample_warehouse, sample_dir):
    # Alphabet's 10-K of 2025-02-05 (diluted EPS 8.04) and Meta's release of 2025-01-29 (23.86) are
    # both known on 2025-02-14: P/E = close / FY2024 EPS, not FY2023's.
    for symbol, filed, expected_period in (("GOOGL", "2025-02-05", date(2024, 12, 31)), ("META", "2025-01-29", date(2024, 12, 31))):
        eps = figure(sample_dir, "googl_meta_fy2024_original_filings.csv", symbol, "eps_diluted", "2024-12-31", filed)
        close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", symbol, "2025-02-14")
        row = fct(sample_warehouse, symbol, "2025-02-14")
        assert (row["eps"], row["period_end"]) == (eps, expected_period), symbol
        assert row["pe"] == pytest.approx(close / eps, rel=1e-12), symbol  # GOOGL 185.23 / 8.04 = 23.0, META 736.67 / 23.86 = 30.9
    assert fct(sample_warehouse, "GOOGL", "2025-02-14")["pe"] == pytest.approx(23.04, abs=0.01)
    assert fct(sample_warehouse, "META", "2025-02-14")["pe"] == pytest.approx(30.87, abs=0.01)


def test_baidu_is_valued_from_its_release_per_ads(sample_warehouse, sample_dir):
    # 2025-02-14: Baidu's FY2024 release is of 2025-02-18, so FY2023 from the release of 2024-02-28:
    # diluted EPS RMB 55.08 per ADS, net income to Baidu RMB 20,315 million. The sample has no share
    # count: the ADS count the release implies is 20,315 m / 55.08. The close is the adjusted
    # download's, whose ratio to the traded closes is 1 before (2024-03-08) and after (2025-06-11).
    def fiscal_year_2023(line_item: str) -> float:  # the release also has Q4 2023, ending the same day
        with open(sample_dir / "fundamentals" / "baidu_results_fy2022_fy2024.csv", newline="") as handle:
            return next(float(row["value"]) for row in csv.DictReader(handle)
                        if (row["line_item"], row["fiscal_period"], row["filed_date"]) == (line_item, "FY2023", "2024-02-28"))  # fmt: skip

    eps_per_ads = fiscal_year_2023("eps_diluted_per_ADS")
    income = fiscal_year_2023("net_income_attributable_to_equity_holders") * 1e6
    assert (eps_per_ads, income) == (55.08, 20_315e6)
    close = sample_close(sample_dir, "adr_daily_adjusted_2021_2026.csv", "BIDU", "2025-02-14")
    cny = fx_close(sample_dir, "fx_cny_daily_2014_2026.csv", "CNY=X", "2025-02-14")
    row = fct(sample_warehouse, "BIDU", "2025-02-14")
    assert (row["basis"], row["shares_basis"], row["ttm_basis"]) == ("from_overlap", "implied_by_net_income_and_eps", "fiscal_year")
    # the ratios on the bracketing traded days are 1 within 5e-9 (float noise of two downloads)
    assert row["close"] == pytest.approx(close, rel=1e-8)
    assert row["eps"] == pytest.approx(eps_per_ads / cny, rel=1e-9)  # USD per ADS
    assert row["pe"] == pytest.approx(close / (eps_per_ads / cny), rel=1e-8)
    assert row["shares"] == pytest.approx(income / (eps_per_ads / 8), rel=1e-9)  # 8 Class A shares per ADS
    assert row["usd"] == pytest.approx(income / eps_per_ads * close, rel=1e-8)  # ADS count x ADS price
    # the Hong Kong line (1 share per unit) agrees: the same count at the HKD close
    hk = fct(sample_warehouse, "9888.HK", "2025-02-14")
    assert hk["shares"] == pytest.approx(row["shares"], rel=1e-12)


def test_pdd_pe_over_net_income_where_its_releases_print_too_few_eps(sample_warehouse, sample_dir):
    # PDD's releases in the sample give diluted EPS for two quarters only, but net income for the
    # four quarters Q3 2024 .. Q2 2025 (Q4 2024 rounded to RMB 27.4 bn): P/E = market cap / TTM net
    # income, the market cap from the count the Q2 2025 release implies: 30,753.5 m over the diluted
    # EPS per ordinary share, RMB 5.19 (printed beside 20.75 per ADS: the per-share one is taken).
    file = "pdd_results_2022_2025.csv"
    item = "net_income_attributable_to_ordinary_shareholders"
    ttm_income = (figure(sample_dir, file, "PDD", item, "2024-09-30", "2024-11-21") * 1e6
                  + figure(sample_dir, file, "PDD", item, "2024-12-31", "2025-03-20") * 1e9
                  + figure(sample_dir, file, "PDD", item, "2025-03-31", "2025-05-27") * 1e6
                  + figure(sample_dir, file, "PDD", item, "2025-06-30", "2025-08-25") * 1e6)  # fmt: skip
    ads_count = figure(sample_dir, file, "PDD", item, "2025-06-30", "2025-08-25") * 1e6 / figure(
        sample_dir, file, "PDD", "eps_diluted_per_ordinary_share", "2025-06-30", "2025-08-25") / 4  # 4 shares per ADS
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "PDD", "2026-03-20")
    cny = fx_close(sample_dir, "fx_cny_daily_2025_2026.csv", "CNY=X", "2026-03-20")
    row = fct(sample_warehouse, "PDD", "2026-03-20")
    assert row["usd"] == pytest.approx(ads_count * close, rel=1e-9)
    assert row["pe"] == pytest.approx(ads_count * close / (ttm_income / cny), rel=1e-9)
    assert query(sample_warehouse, "select pe_ttm_basis from marts.fct_valuation_daily where symbol = 'PDD' "
                                   "and date = '2026-03-20'") == [("net_income",)]  # fmt: skip
    # on 2026-04-10 the sample's CNY=X has ended (2026-03-23, carried 7 days at most): no P/E, no guess
    assert fct(sample_warehouse, "PDD", "2026-04-10")["pe"] is None
