"""Dagster resources: the market data source and the warehouse connection."""

from __future__ import annotations

from dagster import ConfigurableResource
from dagster_duckdb import DuckDBResource
from pydantic import Field

from orchestration import settings
from orchestration.sources import MarketDataSource, make_source


class MarketDataResource(ConfigurableResource):
    """Which source feeds the raw layer. Unset fields fall back to VALUATION_SOURCE / VALUATION_SAMPLE_DIR."""

    source: str | None = Field(default=None, description="sample or yahoo; no default, no fallback")
    sample_dir: str | None = Field(default=None, description="snapshot directory for the sample source")

    def get_source(self) -> MarketDataSource:
        return make_source(self.source or settings.source_name(), self.sample_dir or settings.sample_dir())


def warehouse_resource() -> DuckDBResource:
    path = settings.warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBResource(database=str(path))
