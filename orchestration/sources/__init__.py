"""Market data sources. No Dagster imports here."""

from __future__ import annotations

from orchestration.sources.edgar import EdgarSettings, EdgarSource
from orchestration.sources.base import Fetched, Instrument, MarketDataSource, SourceError, StatementPlan
from orchestration.sources.sample import SampleSource
from orchestration.sources.yahoo import YahooSettings, YahooSource

SOURCE_NAMES = ("sample", "yahoo")
FUNDAMENTALS_SOURCE_NAMES = ("edgar", "sample", "yahoo")


def make_source(
    name: str | None, sample_dir: str | None = None, yahoo_settings: YahooSettings | None = None
) -> MarketDataSource:
    """The source named explicitly. There is no default and no fallback from one to the other."""
    if name == "yahoo":
        return YahooSource(yahoo_settings)
    if name == "sample":
        if not sample_dir:
            raise SourceError("the sample source needs a snapshot directory (VALUATION_SAMPLE_DIR)")
        return SampleSource(sample_dir)
    raise SourceError(
        f"unknown or unset market data source {name!r}: set VALUATION_SOURCE to one of {', '.join(SOURCE_NAMES)}"
    )


def make_fundamentals_source(
    name: str | None,
    market_source: str | None,
    sample_dir: str | None = None,
    yahoo_settings: YahooSettings | None = None,
    edgar_settings: EdgarSettings | None = None,
) -> MarketDataSource:
    """The source of financial statements: `name` (VALUATION_FUNDAMENTALS_SOURCE), or the market
    data source when unset. EDGAR is never a fallback for Yahoo nor Yahoo for EDGAR."""
    chosen = name or market_source
    if chosen == "edgar":
        return EdgarSource(edgar_settings)  # type: ignore[return-value]
    if name and name not in FUNDAMENTALS_SOURCE_NAMES:
        raise SourceError(f"unknown fundamentals source {name!r}: set VALUATION_FUNDAMENTALS_SOURCE to one of "
                          f"{', '.join(FUNDAMENTALS_SOURCE_NAMES)}")  # fmt: skip
    return make_source(chosen, sample_dir, yahoo_settings)


__all__ = [
    "EdgarSettings",
    "EdgarSource",
    "FUNDAMENTALS_SOURCE_NAMES",
    "make_fundamentals_source",
    "Fetched",
    "Instrument",
    "MarketDataSource",
    "SampleSource",
    "SourceError",
    "StatementPlan",
    "YahooSettings",
    "YahooSource",
    "make_source",
    "SOURCE_NAMES",
]
