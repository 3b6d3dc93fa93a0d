"""Dagster resources: the market data source and the warehouse connection."""

from __future__ import annotations

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from orchestration import settings
from orchestration.sources import MarketDataSource, make_source
from orchestration.sources.yahoo import YahooSettings


class MarketDataResource(ConfigurableResource):
    """Which source feeds the raw layer, and how hard it may be asked.

    Unset `source` / `sample_dir` / `record_dir` fall back to VALUATION_SOURCE /
    VALUATION_SAMPLE_DIR / VALUATION_RECORD_DIR. There is no default source and no fallback.
    """

    source: str | None = Field(default=None, description="sample or yahoo")
    sample_dir: str | None = Field(default=None, description="snapshot directory the sample source replays")
    record_dir: str | None = Field(default=None, description="yahoo: also write what Yahoo returned here, in the snapshot layout")
    batch_size: int = Field(default=50, description="yahoo: symbols per yf.download call")
    request_budget: int = Field(default=20_000, description="yahoo: HTTP requests one asset may make in a run")
    price_overlap_days: int = Field(default=5, description="yahoo: days re-fetched before each symbol's last loaded date")
    fundamentals_max_age_days: int = Field(default=30, description="yahoo: re-fetch statements at least this often")
    max_attempts: int = Field(default=5, description="yahoo: attempts per request before a symbol is reported failed")
    retry_base_delay_seconds: float = Field(default=2.0, description="yahoo: backoff base; waits are jittered up to base x 2^attempt")

    def get_source(self) -> MarketDataSource:
        return make_source(
            self.source or settings.source_name(),
            self.sample_dir or settings.sample_dir(),
            YahooSettings(
                batch_size=self.batch_size,
                request_budget=self.request_budget,
                record_dir=self.record_dir or settings.record_dir(),
                max_attempts=self.max_attempts,
                base_delay_seconds=self.retry_base_delay_seconds,
            ),
        )


def warehouse_resource() -> DuckDBResource:
    path = settings.warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(path))
