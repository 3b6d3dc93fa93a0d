"""Market data sources. No Dagster imports here."""

from __future__ import annotations

from orchestration.sources.base import Fetched, Instrument, MarketDataSource, SourceError, StatementPlan
from orchestration.sources.sample import SampleSource
from orchestration.sources.yahoo import YahooSettings, YahooSource

SOURCE_NAMES = ("sample", "yahoo")


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


__all__ = [
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
