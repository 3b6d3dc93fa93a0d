"""A fetch worker in its own process: lands listing buckets of the fixture universe's prices from a
Yahoo replay (tests/fakes/yahoo_http.py), through the real `landing/prices` asset, as a Dagster
worker on another machine would. It never opens the warehouse.

    python -m tests.fakes.land_buckets --landing DIR --universe FILE --days N BUCKET [BUCKET ...]
"""

from __future__ import annotations

import argparse
import os
from datetime import date, timedelta

import dagster as dg

NY, HK, LONDON = "America/New_York", "Asia/Hong_Kong", "Europe/London"
# symbol -> (time zone, currency, instrument type, first close): every fixture series
FIXTURE_SERIES = {
    "ACME": (NY, "USD", "EQUITY", 100.0),
    "DRGN": (NY, "USD", "EQUITY", 80.0),
    "9999.HK": (HK, "HKD", "EQUITY", 78.0),
    "^GSPC": (NY, "USD", "INDEX", 5900.0),
    "^HSI": (HK, "HKD", "INDEX", 19000.0),
    "USDHKD=X": (LONDON, "HKD", "CURRENCY", 7.79),
    "CNY=X": (LONDON, "CNY", "CURRENCY", 7.30),
}
FIRST_DAY = date(2025, 1, 6)  # a Monday; every day below is a session of both exchanges


def fixture_close(symbol: str, day_index: int) -> float:
    """The close served for a series on the day_index-th weekday from FIRST_DAY: first close + index."""
    return FIXTURE_SERIES[symbol][3] + day_index


def session_days(days: int) -> list[date]:
    out, day = [], FIRST_DAY
    while len(out) < days:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def serve_fixture(session, days: int) -> None:
    for symbol, (tz, currency, kind, _) in FIXTURE_SERIES.items():
        bars = [(d.isoformat(), *(fixture_close(symbol, i),) * 4, fixture_close(symbol, i), 1000)
                for i, d in enumerate(session_days(days))]  # fmt: skip
        session.add_chart(symbol, tz, bars, currency=currency, instrument_type=kind)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--landing", required=True)
    parser.add_argument("--universe", required=True)
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--as-of", default="2025-01-31")
    parser.add_argument("buckets", nargs="+")
    args = parser.parse_args()
    os.environ.update({"VALUATION_UNIVERSE": args.universe, "VALUATION_AS_OF": args.as_of,
                       "VALUATION_LANDING_DIR": args.landing, "VALUATION_SOURCE": "yahoo"})  # fmt: skip

    import orchestration.sources.yahoo as yahoo_module
    from orchestration.defs.landing import landing_prices
    from orchestration.defs.resources import market_data_resource, run_settings
    from tests.fakes.yahoo_http import ReplaySession

    session = ReplaySession()
    serve_fixture(session, args.days)
    yahoo_module.YahooSession = lambda limiter: session
    for bucket in args.buckets:
        result = dg.materialize(
            [landing_prices],
            partition_key=bucket,
            resources={"market_data": market_data_resource(retry_base_delay_seconds=0.001), "run_settings": run_settings()},
            raise_on_error=False,
        )
        if not result.success:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
