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
    vendor_figures: pd.DataFrame | None = None  # estimates: the source's own quoted figures (raw.vendor_figures columns)
    deferred: dict[str, str] = field(default_factory=dict)  # symbol -> why it was not asked this run (next run starts with it)
    requests_by_endpoint: dict[str, int] = field(default_factory=dict)  # true HTTP requests, by endpoint
    # symbol -> why nothing was fetched although it was asked (EDGAR: no filing since the last one
    # loaded): not a failure, and no rows is the right answer
    unchanged: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementPlan:
    """What a statements fetch must know about a company, from universe.yml."""

    symbol: str  # the listing the statements are fetched through (the primary one)
    currency: str  # the reporting currency: every amount is in it
    shares_per_listing_unit: float = 1.0  # Yahoo counts shares in the listing's units (BABA: ADS)
    annual: bool = True  # fetch the annual statements too (after fiscal-year results, or the first time)
    releases: tuple[date, ...] = ()  # earnings releases already known (scheduled dates that have passed)
    fiscal_year_end_month: int = 12  # labels fiscal periods (EDGAR: Q2 FY2022 from a period's dates)
    last_filed: date | None = None  # EDGAR: the filing date of the latest filing loaded ...
    last_accn: str | None = None  # ... and its accession number (None: never loaded, fetch everything)


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

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        """Income, balance and cash-flow statements, long (raw.financial_statements columns)."""
        ...

    def fetch_estimates(self, symbols: Sequence[str]) -> Fetched:
        """Analysts' consensus of each symbol as the source shows it now (raw.consensus_estimates
        columns), and the source's own quoted figures in `vendor_figures` (raw.vendor_figures
        columns). Each row carries the moment it was taken (`snapshot_at`, UTC) and its date: a
        snapshot replays the moment it captured, a live source asks now."""
        ...
