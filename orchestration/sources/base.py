"""The MarketDataSource protocol: what every source of market data returns.

Every fetch returns a `Fetched`: a normalized frame with exactly the raw table's data columns
(orchestration.warehouse.schema), the symbols that failed and why, and the number of requests
made. Everything downstream is the same whichever source ran. Validation happens after the
source, in orchestration.normalize.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

import pandas as pd

from orchestration.instruments import Instrument


class SourceError(RuntimeError):
    """The source cannot deliver: misconfigured, unreachable, or its data is unreadable."""


@dataclass
class Fetched:
    frame: pd.DataFrame
    failures: dict[str, str] = field(default_factory=dict)  # symbol -> why it could not be fetched
    requests: int = 0  # requests made to the source (0 for a snapshot)
    warnings: list[str] = field(default_factory=list)  # e.g. profile keys Yahoo no longer sends
    next_update: dict[str, date] = field(default_factory=dict)  # symbol -> next scheduled release
    last_update: dict[str, date] = field(default_factory=dict)  # symbol -> latest past release
    quarantined: dict[str, str] = field(default_factory=dict)  # unreadable file -> why (loaded: none of it)
    splits: pd.DataFrame | None = None  # prices: split events the source knows (raw.stock_splits columns)


@runtime_checkable
class MarketDataSource(Protocol):
    name: str  # recorded in every raw row's `_source`: "yahoo" or "sample"
    fetches_are_free: bool  # a snapshot replays at no cost; a live source is fetched only when due

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        """Daily bars (raw.prices columns) of each instrument from its start (None: full history)."""
        ...

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        """Today's profile of each symbol (raw.company_profiles columns)."""
        ...

    def fetch_statements(self, symbols: Sequence[str]) -> Fetched:
        """Income, balance and cash-flow statements, long (raw.financial_statements columns)."""
        ...
