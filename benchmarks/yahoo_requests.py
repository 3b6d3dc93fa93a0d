"""True HTTP requests a first and a daily Yahoo run make, by endpoint, and the time at the pace.

The real YahooSource and yfinance 1.7's own code run over the replay session of the tests
(tests/fakes/yahoo_http.py), which counts every HTTP request at the wire, cookie and crumb
included. The market is synthetic (clearly not market data): one listing per company, releases
spread evenly over a quarter, profiles and analysts' consensus last fetched evenly over their
refresh cycles (14 and 7 days).

What is measured and what is scaled: requests are made per symbol, so a run over a sample of
`--sample` companies is measured and the per-company counts are multiplied up to the size asked
for (the cookie and crumb requests, once per process, are not scaled).

    python -m benchmarks.yahoo_requests --symbols 5000
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from pandas.errors import Pandas4Warning

from orchestration.defs.resources import MarketDataResource
from orchestration.ingest_policy import (
    StatementsFetch,
    annual_due,
    estimates_due,
    price_starts,
    profiles_due,
    statements_due,
)
from orchestration.sources import Instrument, StatementPlan, YahooSettings, YahooSource
from orchestration.universe import load_universe
from tests.fakes.yahoo_http import ReplaySession, fresh_yfinance

TODAY = date(2025, 12, 31)
QUARTER_DAYS = 63  # trading days between a company's releases: releases spread evenly over them
FIRST_SESSION_SETUP = ("cookie", "getcrumb")
RESULTS = Path(__file__).resolve().parent / "results" / "yahoo_requests.json"


def build_market(symbols: list[str]) -> ReplaySession:
    session = ReplaySession()
    days = [TODAY - timedelta(days=d) for d in range(10, 0, -1)]
    for symbol in symbols:
        session.add_chart(symbol, "America/New_York",
                          [(d.isoformat(), 100.0, 101.0, 99.0, 100.0, 100.0, 1000) for d in days if d.weekday() < 5])  # fmt: skip
        session.add_summary(symbol, quoteType={"longName": symbol, "exchange": "NMS"},
                            summaryDetail={"currency": "USD"}, financialData={"financialCurrency": "USD"},
                            assetProfile={"sector": "Technology"},
                            calendarEvents={"earnings": {"earningsDate": [1767225600]}},  # 2026-01-01
                            earningsTrend={"trend": [{"period": p, "endDate": "2026-03-31",
                                "earningsEstimate": {"avg": {"raw": 1.0}, "numberOfAnalysts": {"raw": 3}, "earningsCurrency": "USD"},
                                "revenueEstimate": {"avg": {"raw": 1e9}, "numberOfAnalysts": {"raw": 3}, "revenueCurrency": "USD"},
                                "epsTrend": {"current": {"raw": 1.0}, "epsTrendCurrency": "USD"}}
                                for p in ("0q", "+1q", "0y", "+1y")]},
                            defaultKeyStatistics={"forwardPE": 20.0}, price={"marketCap": 1e9, "currency": "USD"})  # fmt: skip
        for freq in ("quarterly", "annual"):
            session.add_timeseries(symbol, freq, {"TotalRevenue": {"2025-09-30": 1e9}}, "USD")
    return session


def estimates_due_today(symbols: list[str]) -> list[str]:
    """The listings whose consensus is due on TODAY when the policy has run every business day since
    a first run (which fetched them all) eight weeks before: the real rotation, not an assumed spread."""
    cycle = MarketDataResource.model_fields["estimates_cycle_business_days"].default  # the resource's default
    day = TODAY - timedelta(weeks=8)
    last = dict.fromkeys(symbols, day)
    due: list[str] = []
    while day < TODAY:
        day += timedelta(days=1)
        if day.weekday() < 5:
            due = estimates_due(symbols, last, day, cycle)
            last.update(dict.fromkeys(due, day))
    return due


def measure(symbols: list[str], run: str) -> tuple[Counter, Counter]:
    """True HTTP requests of one run over `symbols`, by endpoint and by dataset."""
    fresh_yfinance()
    session = build_market(symbols)
    source = YahooSource(YahooSettings(request_budget=10**9), session=session, sleep=lambda s: None,
                         now=lambda: datetime(2025, 12, 31, 23, 0, tzinfo=timezone.utc))  # fmt: skip
    instruments = [Instrument(s, "USD", "raw", "XNYS", "America/New_York") for s in symbols]
    if run == "first":
        prices, profiles, estimates = {}, symbols, symbols
        plans = [StatementPlan(s, "USD", annual=True) for s in symbols]
    else:
        prices = price_starts(symbols, {s: TODAY - timedelta(days=1) for s in symbols}, overlap_days=5)
        cycle = MarketDataResource.model_fields["profile_max_age_days"].default  # the resource's default
        profiles = profiles_due(symbols, {s: TODAY - timedelta(days=1 + i % cycle) for i, s in enumerate(symbols)}, TODAY, cycle)
        estimates = estimates_due_today(symbols)
        last = {}
        for i, s in enumerate(symbols):
            release = TODAY - timedelta(days=i % QUARTER_DAYS)  # symbol i reported i days ago (mod a quarter)
            # fetched the day before; its next release was known then; half of the companies
            # that reported yesterday had their quarter in on that first fetch already
            latest = release - timedelta(days=40) if (i % QUARTER_DAYS != 1 or i % 2) else release - timedelta(days=130)
            last[s] = StatementsFetch(TODAY - timedelta(days=1), release if release == TODAY else release + timedelta(days=91),
                                      release if release < TODAY else release - timedelta(days=91), latest)  # fmt: skip
        due = statements_due(symbols, last, TODAY, max_age_days=30)
        plans = [StatementPlan(s, "USD", annual=annual_due(last[s], TODAY, 12 - int(s[1:]) % 3, 30)) for s in due]
    counts: Counter = Counter()
    datasets: Counter = Counter()
    for dataset, fetch in (
        ("prices", lambda: source.fetch_prices(instruments, prices)),
        ("company_profiles", lambda: source.fetch_profiles(profiles, TODAY) if profiles else None),
        ("financial_statements", lambda: source.fetch_statements(plans) if plans else None),
        ("consensus_estimates", lambda: source.fetch_estimates(estimates) if estimates else None),
    ):
        fetched = fetch()
        by_endpoint = fetched.requests_by_endpoint if fetched else {}
        counts.update(by_endpoint)
        datasets[dataset] = sum(v for k, v in by_endpoint.items() if k not in FIRST_SESSION_SETUP)
    return counts, datasets


def scaled(counts: Counter, factor: float) -> dict[str, int]:
    out = {k: (v if k in FIRST_SESSION_SETUP else round(v * factor)) for k, v in sorted(counts.items())}
    out["total"] = sum(out.values())
    return out


def main() -> None:
    # yfinance 1.7 calls pandas APIs that pandas 3.1 deprecates, once per symbol: not ours to fix.
    # After yfinance's import, which puts its own "default" filter for its deprecations first.
    import yfinance  # noqa: F401

    warnings.filterwarnings("ignore", category=Pandas4Warning)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=252, help="companies actually run through yfinance")
    args = parser.parse_args()
    logging.getLogger("yfinance").setLevel(logging.CRITICAL + 1)
    universe = load_universe(Path(__file__).resolve().parents[1] / "universe.yml")
    pace = YahooSettings().requests_per_hour
    sample = [f"S{i:05d}" for i in range(args.sample)]
    sizes = {"universe": len(universe.fundamentals_symbols), f"{args.symbols}": args.symbols}
    table: dict = {"requests_per_hour": pace, "measured_sample": args.sample, "sizes": {}}
    print(f"\nTrue HTTP requests by endpoint (yfinance 1.7 over the replay session; {args.sample} companies run, "
          f"scaled per company)\n")  # fmt: skip
    header = f"{'size':>9} {'run':<6}" + "".join(f"{e:>14}" for e in ("chart", "quoteSummary", "(estimates)", "quote", "fundamentals", "cookie+crumb", "total")) + f"{'hours at pace':>15}"
    print(header)
    for run in ("first", "daily"):
        counts, datasets = measure(sample, run)
        for label, size in sizes.items():
            row = scaled(counts, size / args.sample)
            by_dataset = {k: round(v * size / args.sample) for k, v in sorted(datasets.items())}
            table["sizes"].setdefault(label, {"companies": size})[run] = row
            table["sizes"][label][f"{run}_by_dataset"] = by_dataset  # cookie and crumb not included
            print(f"{size:>9,} {run:<6}{row.get('chart', 0):>14,}{row.get('quoteSummary', 0):>14,}"
                  f"{by_dataset['consensus_estimates']:>14,}{row.get('quote', 0):>14,}"
                  f"{row.get('fundamentals-timeseries', 0):>14,}{row.get('cookie', 0) + row.get('getcrumb', 0):>14,}"
                  f"{row['total']:>14,}{row['total'] / pace:>15.1f}")  # fmt: skip
    daily = table["sizes"][f"{args.symbols}"]["daily"]["total"]
    print(f"\ntarget: a daily {args.symbols:,}-symbol refresh in at most 7,500 HTTP requests: {daily:,} "
          f"({'met' if daily <= 7500 else 'NOT met'}); pace {pace:,.0f} requests/hour")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(table, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
