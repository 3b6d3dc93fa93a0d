"""The whole pipeline on the real market sample (skipped, with the reason, when it is absent).

Expected values are read straight from the sample's CSV files with the csv module (a second path
to the same numbers) and combined by hand here.
"""

import csv
from datetime import date
from pathlib import Path

import pytest

from orchestration.universe import load_universe
from tests.conftest import REPO_ROOT, query

pytestmark = pytest.mark.sample


def sample_close(sample_dir: Path, file: str, ticker: str, day: str) -> float:
    with open(sample_dir / "prices" / file, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["ticker"] == ticker and row["date"] == day:
                return float(row["close"])
    raise AssertionError(f"{ticker} {day} not in {file}")


def fct(warehouse, symbol, day):
    rows = query(
        warehouse,
        "select close, close_usd, shares_outstanding, market_cap_local, market_cap_usd, market_cap_hkd, price_basis "
        "from marts.fct_valuation_daily where symbol = ? and date = ?",
        [symbol, day],
    )
    assert len(rows) == 1
    return dict(zip(["close", "close_usd", "shares", "local", "usd", "hkd", "basis"], rows[0]))


def test_msft_close_and_market_cap_on_2025_03_14(sample_warehouse, sample_dir):
    close = sample_close(sample_dir, "us_daily_raw_2021_2026.csv", "MSFT", "2025-03-14")
    usd_hkd = sample_close(sample_dir, "fx_hkd_daily_2016_2026.csv", "USDHKD=X", "2025-03-14")
    # 7,433,982,235 shares as of 2025-01-23 (quoted_spot_figures.csv); no filing date in the
    # sample, so usable from 2025-01-23 + 45 days = 2025-03-09.
    row = fct(sample_warehouse, "MSFT", date(2025, 3, 14))
    assert row["close"] == close and row["close_usd"] == close and row["basis"] == "raw"
    assert row["shares"] == 7_433_982_235
    assert row["usd"] == pytest.approx(7_433_982_235 * close, rel=1e-12)
    assert row["hkd"] == pytest.approx(7_433_982_235 * close * usd_hkd, rel=1e-12)
    assert 2.8e12 < row["usd"] < 3.0e12  # about 2.9 trillion USD, a sanity bound


def test_9988_hk_market_cap_in_hkd_and_usd_on_2025_02_14(sample_warehouse, sample_dir):
    close = sample_close(sample_dir, "hk_daily_adjusted_2020_2025.csv", "9988.HK", "2025-02-14")
    usd_hkd = sample_close(sample_dir, "fx_hkd_daily_2016_2026.csv", "USDHKD=X", "2025-02-14")
    # Alibaba's only share count in the sample is the FY2024 weighted diluted count, 20,359 million
    # ordinary shares (year ended 2024-03-31, usable from +90 days = 2024-06-29); one 9988.HK unit = 1 share.
    row = fct(sample_warehouse, "9988.HK", date(2025, 2, 14))
    assert row["shares"] == 20_359_000_000
    assert row["local"] == pytest.approx(20_359_000_000 * close, rel=1e-12)
    assert row["hkd"] == pytest.approx(20_359_000_000 * close, rel=1e-12)
    assert row["usd"] == pytest.approx(20_359_000_000 * close / usd_hkd, rel=1e-12)
    assert row["close_usd"] == pytest.approx(close / usd_hkd, rel=1e-12)
    assert row["basis"] == "adjusted"  # the sample has only a dividend-adjusted series for this day


def test_baba_ads_counts_eight_ordinary_shares(sample_warehouse, sample_dir):
    close = sample_close(sample_dir, "adr_daily_adjusted_2021_2026.csv", "BABA", "2025-02-14")
    row = fct(sample_warehouse, "BABA", date(2025, 2, 14))
    assert row["usd"] == pytest.approx(20_359_000_000 * close / 8, rel=1e-12)


def test_nvda_history_is_on_one_split_basis(sample_warehouse, sample_dir):
    # The 2014-2024 download predates NVDA's 10:1 split of 2024-06-10; the warehouse restates it.
    old_close = sample_close(sample_dir, "us_daily_raw_2014_2024.csv", "NVDA", "2021-04-09")
    assert fct(sample_warehouse, "NVDA", date(2021, 4, 9))["close"] == pytest.approx(old_close / 10, rel=1e-12)


def test_companies_without_share_counts_have_null_market_caps(sample_warehouse):
    # The sample has no share counts for these companies: null, never guessed.
    rows = query(
        sample_warehouse,
        "select company_id, count(*), count(market_cap_usd) from marts.fct_valuation_daily "
        "where company_id in ('tencent', 'alphabet', 'meta', 'nvidia', 'jd', 'pdd', 'baidu') group by 1",
    )
    assert len(rows) == 7
    assert all(priced > 0 and with_cap == 0 for _, priced, with_cap in rows)


def test_every_price_file_row_is_loaded_or_rejected(sample_warehouse, sample_dir):
    loaded = query(sample_warehouse, "select count(*) from raw.prices")[0][0]
    rejected = query(sample_warehouse, "select count(*) from raw.rejected_rows where dataset = 'prices'")[0][0]
    # Distinct (ticker, date) pairs of the universe's symbols over all price files: overlapping
    # vintages give one row each; SPY is in the sample but not in the universe.
    symbols = set(load_universe(REPO_ROOT / "universe.yml").price_symbols)
    pairs = set()
    for path in (sample_dir / "prices").glob("*.csv"):
        with open(path, newline="") as handle:
            pairs.update((row["ticker"], row["date"]) for row in csv.DictReader(handle) if row["ticker"] in symbols)
    assert loaded + rejected == len(pairs)


def test_alibaba_listings_give_the_same_usd_market_cap(sample_warehouse, capsys):
    # Same company, same share count: BABA (8 shares per ADS, USD) and 9988.HK (1 share, HKD at the
    # day's USDHKD) must agree but for the market's own gap. HKEX closes 12-13 hours before NYSE on
    # the same date, so a single day can differ by the news of those hours (up to ~15% in Nov 2020);
    # across days where both closes are traded (not dividend-adjusted) the gap centres on zero.
    # A wrong ADS ratio or FX direction would be off by a factor of about 8 or 60.
    diffs = [
        d
        for (d,) in query(
            sample_warehouse,
            "select a.market_cap_usd / h.market_cap_usd - 1 from marts.fct_valuation_daily as a "
            "join marts.fct_valuation_daily as h on a.date = h.date and a.symbol = 'BABA' and h.symbol = '9988.HK' "
            "where a.price_basis = 'raw' and h.price_basis = 'raw' and a.market_cap_usd is not null",
        )
    ]
    diffs.sort()
    median = diffs[len(diffs) // 2]
    mean = sum(diffs) / len(diffs)
    within_1pct = sum(abs(d) <= 0.01 for d in diffs)
    with capsys.disabled():
        print(f"\nBABA vs 9988.HK USD market cap on {len(diffs)} common trading days with traded closes: "
              f"median {median:+.3%}, mean {mean:+.3%}, {within_1pct} days within 1%")  # fmt: skip
    assert len(diffs) > 750
    assert abs(median) < 0.01 and abs(mean) < 0.01
