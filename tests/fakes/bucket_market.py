"""A synthetic US market with the same number of listings in every landing bucket (made-up symbols,
not market data), for the tests and the benchmark that run many bucket runs at once: its universe
file, and its daily bars served by a Yahoo double."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestration.landing import bucket_keys, listing_bucket
from tests.fakes.land_buckets import session_days
from tests.fakes.yahoo_http import ReplaySession

NY = "America/New_York"
BENCHMARK = "^GSPC"


@dataclass
class BucketMarket:
    symbols: list[str]  # the listings, then the benchmark

    @classmethod
    def write(cls, universe_file: Path, per_bucket: int) -> BucketMarket:
        """The first made-up symbols (Q001, Q002, ...) that fill every bucket with `per_bucket` listings."""
        chosen: dict[str, list[str]] = {bucket: [] for bucket in bucket_keys()}
        number = 0
        while any(len(symbols) < per_bucket for symbols in chosen.values()):
            number += 1
            symbol = f"Q{number:03d}"
            if len(chosen[listing_bucket(symbol)]) < per_bucket:
                chosen[listing_bucket(symbol)].append(symbol)
        listings = sorted(s for symbols in chosen.values() for s in symbols)
        universe = {
            "exchanges": {"NYSE": {"calendar": "XNYS", "timezone": NY}},
            "benchmarks": [{"symbol": BENCHMARK, "name": "S&P 500", "exchange": "NYSE"}],
            "peer_groups": {"synthetic": "Made-up companies"},
            "companies": [
                {"company_id": symbol.lower(), "name": f"Synthetic {symbol}", "country": "US", "reporting_currency": "USD",
                 "fiscal_year_end_month": 12, "peer_groups": ["synthetic"],
                 "listings": [{"symbol": symbol, "exchange": "NYSE", "currency": "USD", "shares_per_listing_unit": 1,
                               "primary": True, "benchmark": BENCHMARK}]}
                for symbol in listings
            ],
        }  # fmt: skip
        universe_file.write_text(yaml.safe_dump(universe, sort_keys=False))
        return cls(listings + [BENCHMARK])

    def in_bucket(self, bucket: str) -> list[str]:
        return [symbol for symbol in self.symbols if listing_bucket(symbol) == bucket]

    @staticmethod
    def close(symbol: str, day_index: int) -> float:
        """The close served on the day_index-th session: 100 for the first symbol's first day, +1 a day."""
        return (5000.0 if symbol == BENCHMARK else 100.0 + int(symbol[1:])) + day_index

    def serve(self, session: ReplaySession, days: int) -> None:
        """Daily bars of the first `days` sessions from 6 January 2025 (replacing what was served)."""
        for symbol in self.symbols:
            bars = [(d.isoformat(), *(self.close(symbol, i),) * 5, 1000) for i, d in enumerate(session_days(days))]
            session.add_chart(symbol, NY, bars, instrument_type="INDEX" if symbol == BENCHMARK else "EQUITY")
