"""Dagster resources: the market data source and the warehouse connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field

from orchestration import settings
from orchestration.landing import LandingZone
from orchestration.sources import MarketDataSource, make_source
from orchestration.sources.yahoo import YahooSettings


class MarketDataResource(ConfigurableResource):
    """Which source feeds the raw layer, and how hard it may be asked.

    Unset `source` / `sample_dir` / `landing_dir` fall back to VALUATION_SOURCE /
    VALUATION_SAMPLE_DIR / VALUATION_LANDING_DIR. There is no default source and no fallback.
    The yahoo settings are counted in true HTTP requests (cookie and crumb requests included).
    """

    source: str | None = Field(default=None, description="sample or yahoo")
    sample_dir: str | None = Field(default=None, description="snapshot directory the sample source replays")
    landing_dir: str | None = Field(default=None, description="yahoo: the landing zone every fetch lands in, as it came, and is loaded from")
    request_budget: int = Field(default=20_000, description="yahoo: true HTTP requests one asset may make in a run")
    requests_per_hour: float = Field(default=1_500, description="yahoo: the process-wide pace (Yahoo tolerates about 2,000/h)")
    price_overlap_days: int = Field(default=5, description="yahoo: days re-fetched before each symbol's last loaded date")
    fundamentals_max_age_days: int = Field(default=30, description="yahoo: re-fetch statements at least this often")
    profile_max_age_days: int = Field(default=14, description="yahoo: re-fetch a listing's profile this often (3 requests each)")
    max_attempts: int = Field(default=4, description="yahoo: attempts per request before a symbol is reported failed")
    retry_base_delay_seconds: float = Field(default=60.0, description="yahoo: backoff base; waits are jittered up to base x 2^attempt")
    breaker_threshold: int = Field(default=3, description="yahoo: 429s in a row that stop the run (the rest is deferred)")

    def get_source(self) -> MarketDataSource:
        return make_source(
            self.source or settings.source_name(),
            self.sample_dir or settings.sample_dir(),
            YahooSettings(
                request_budget=self.request_budget,
                requests_per_hour=self.requests_per_hour,
                cache_dir=settings.yahoo_cache_dir(),
                max_attempts=self.max_attempts,
                base_delay_seconds=self.retry_base_delay_seconds,
                breaker_threshold=self.breaker_threshold,
            ),
        )

    def landing_zone(self) -> LandingZone:
        return LandingZone(self.landing_dir or settings.landing_dir())


class WarehouseLockedError(RuntimeError):
    """Another process holds the working DuckDB file: DuckDB allows one writer, and a reader blocks it."""


class WarehouseUnwritableError(RuntimeError):
    """The working DuckDB file cannot be written: a read-only folder or file system."""


def warehouse_locked(database: str, error: object) -> WarehouseLockedError:
    """The explained lock error, for the resource's own connections and for dbt's."""
    return WarehouseLockedError(
        f"the working warehouse {database} is locked by another process ({error}). "
        "Close the program holding it; SQL clients and BI tools should open "
        "warehouse/serving.duckdb read-only instead (see warehouse/README.md)."
    )


class WarehouseResource(ConfigurableResource):
    """The pipeline's working DuckDB file, opened for writing.

    A conflicting lock fails within seconds with a message that says what to do, instead of
    waiting: the pipeline's own steps hand the file over quickly, anything longer is another
    program (a SQL client or BI tool on the working file instead of the serving copy).
    """

    database: str = Field(description="path of the working DuckDB file")
    lock_wait_seconds: float = Field(default=5.0, description="how long to wait for another writer's lock")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # Every asset of the pipeline (dbt's too) needs this resource, so a bad VALUATION_* variable
        # fails the run here, before any step's code, with the variable named.
        settings.validate_environment()

    def wait_until_writable(self) -> None:
        """Wait, as get_connection does, until no other process holds the file; then let it go."""
        with self.get_connection():
            pass

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                conn = duckdb.connect(self.database)
                break
            except duckdb.IOException as error:
                if "read-only file system" in str(error).lower() or "permission denied" in str(error).lower():
                    raise WarehouseUnwritableError(
                        f"the working warehouse {self.database} cannot be written ({error}); "
                        "set VALUATION_WAREHOUSE to a writable folder. Nothing was changed."
                    ) from error
                if "lock" not in str(error).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise warehouse_locked(self.database, error) from error
                time.sleep(0.25)
        try:
            yield conn
        finally:
            conn.close()


def warehouse_resource() -> WarehouseResource:
    path = settings.warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseResource(database=str(path))
