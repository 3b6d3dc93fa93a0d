"""The MarketDataSource protocol: what every source of market data returns.

Every method returns normalized frames with exactly the raw table's data columns
(orchestration.warehouse.schema), so all that follows is the same whichever source ran.
Validation happens after the source, in orchestration.normalize.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, runtime_checkable

import pandas as pd


class SourceError(RuntimeError):
    """The source cannot deliver: misconfigured, unreachable, or its data is unreadable."""


@runtime_checkable
class MarketDataSource(Protocol):
    name: str  # recorded in every raw row's `_source`: "yahoo" or "sample"

    def fetch_prices(self, symbols: Sequence[str], start: date | None = None) -> pd.DataFrame:
        """Daily bars of listings, benchmarks and FX pairs (raw.prices columns), from `start` on."""
        ...

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> pd.DataFrame:
        """Today's profile of each symbol (raw.company_profiles columns)."""
        ...

    def fetch_statements(self, symbols: Sequence[str]) -> pd.DataFrame:
        """Income, balance and cash-flow statements, long (raw.financial_statements columns)."""
        ...
