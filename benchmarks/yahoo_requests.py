"""Requests a first and a daily run make against Yahoo, and normalization throughput.

Runs the real YahooSource and the real yf.download code against the fake Yahoo of the tests
(synthetic bars, clearly not market data). Prints a table; times are wall-clock on this machine.

    python -m benchmarks.yahoo_requests --symbols 5000 --days 252
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd
import yfinance

from orchestration.ingest_policy import StatementsFetch, price_starts, statements_due
from orchestration.normalize.yahoo import prices_from_download
from orchestration.sources import Instrument, YahooSettings, YahooSource
from tests.fakes.yahoo import FakeMarket, earnings_frame, make_fake_ticker, statement_frame


class _Patch:
    """monkeypatch.setattr without pytest."""

    def setattr(self, target, name, value):
        setattr(target, name, value)


def build_market(symbols: list[str], days: int, seed: int = 7) -> FakeMarket:
    rng = np.random.default_rng(seed)
    market = FakeMarket()
    end = date(2025, 12, 31)
    trading_days = pd.bdate_range(end=end, periods=days)
    for i, symbol in enumerate(symbols):
        closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, days)))
        index = trading_days.tz_localize("America/New_York").rename("Date")
        market.bars[symbol] = pd.DataFrame(
            {"Open": closes, "High": closes * 1.01, "Low": closes * 0.99, "Close": closes, "Adj Close": closes,
             "Volume": np.full(days, 1000, dtype=np.int64), "Dividends": 0.0, "Stock Splits": 0.0},
            index=index,
        )  # fmt: skip
        market.infos[symbol] = {"longName": symbol, "currency": "USD", "financialCurrency": "USD"}
        market.statements[(symbol, "get_income_stmt", "quarterly")] = statement_frame(
            {"TotalRevenue": {"2025-09-30": 1e9, "2025-06-30": 1e9}}
        )
        # earnings spread over the quarter: symbol i reports on day i mod 63 of it
        release = pd.Timestamp(end - timedelta(days=63)) + pd.Timedelta(days=i % 63)
        market.earnings[symbol] = earnings_frame(
            [((release + pd.Timedelta(days=91)).strftime("%Y-%m-%d 16:00"), 1.0, None),
             (release.strftime("%Y-%m-%d 16:00"), 1.0, 1.0)]
        )  # fmt: skip
    return market


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--days", type=int, default=252, help="trading days of history per symbol")
    args = parser.parse_args()
    logging.getLogger("yfinance").setLevel(logging.CRITICAL + 1)
    logging.getLogger("orchestration").setLevel(logging.ERROR)  # 5,000 "info lacks" warnings
    symbols = [f"S{i:05d}" for i in range(args.symbols)]
    market = build_market(symbols, args.days)
    client = type("Client", (), {})()
    client.Ticker = make_fake_ticker(market)
    _Patch().setattr(yfinance.multi, "Ticker", client.Ticker)
    client.download = yfinance.download
    client.config = yfinance.config
    instruments = [Instrument(s, "USD", "raw") for s in symbols]
    today = date(2025, 12, 31)

    rows = []

    def run(label: str, starts: dict, statements: list[str]) -> None:
        # an unlimited budget shows what a run needs; the assets cap each dataset at request_budget
        source = YahooSource(YahooSettings(request_budget=10**9), client=client, sleep=lambda s: None)
        began = time.perf_counter()
        prices = source.fetch_prices(instruments, starts)
        price_seconds = time.perf_counter() - began
        profiles = source.fetch_profiles(symbols, today)
        fundamentals = source.fetch_statements(statements)
        rows.append((label, prices.requests, profiles.requests, fundamentals.requests,
                     prices.requests + profiles.requests + fundamentals.requests, len(prices.frame), price_seconds))  # fmt: skip

    run("first run", {}, symbols)
    watermarks = {s: today for s in symbols}
    last = {s: StatementsFetch(today - timedelta(days=1), *_releases(market, s)) for s in symbols}
    due = statements_due(symbols, last, today, max_age_days=30)
    run("daily run", price_starts(symbols, watermarks, overlap_days=5), due)

    # normalization alone: one wide yf.download-shaped frame of 50 symbols, as the source gets it
    batch = client.download(symbols[:50], period="max", auto_adjust=False, actions=True, progress=False)
    began = time.perf_counter()
    repeats = 5
    for _ in range(repeats):
        normalized = prices_from_download(batch, instruments[:50])
    throughput = repeats * len(normalized) / (time.perf_counter() - began)

    print(f"\nYahoo requests, fake universe of {args.symbols:,} symbols x {args.days} trading days (synthetic)\n")
    print(f"{'run':<11}{'prices':>9}{'profiles':>10}{'statements':>12}{'total':>9}{'price rows':>12}{'price fetch s':>15}")
    for label, p, pr, st, total, price_rows, seconds in rows:
        print(f"{label:<11}{p:>9,}{pr:>10,}{st:>12,}{total:>9,}{price_rows:>12,}{seconds:>15.1f}")
    print(f"\nstatements due on the daily run: {len(due):,} of {len(symbols):,} (earnings released in the grace window)")
    print(f"default request budget: {YahooSettings().request_budget:,} per asset and run; a larger first load "
          "continues on the next run (symbols never fetched stay due)")
    print(f"normalization (prices_from_download): {throughput:,.0f} rows/s")


def _releases(market: FakeMarket, symbol: str) -> tuple[date | None, date | None]:
    index = market.earnings[symbol].index
    return index[0].date(), index[1].date()


if __name__ == "__main__":
    main()
