"""Dagster resources: the market data source and the warehouse connection."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import Field

from orchestration import settings
from orchestration.freshness import Clock
from orchestration.landing import LandingZone
from orchestration.sources import EdgarSettings, MarketDataSource, make_fundamentals_source, make_source
from orchestration.sources.yahoo import YahooSettings
from orchestration.universe import Universe, load_universe


def from_env(name: str, default: str | None) -> str | EnvVar | None:
    """A setting for a resource: the variable itself when it is set (Dagster reads it when the run
    starts, and the UI shows its name), else the default. A run's config can still override it."""
    return EnvVar(name) if os.environ.get(name) else default


class RunSettings(ConfigurableResource):
    """What a run is evaluated against: the universe file, the clock and where readers find the marts.

    Built from VALUATION_UNIVERSE, VALUATION_AS_OF and VALUATION_SERVING (see `run_settings`); the
    Launchpad can override each for one run (resources.run_settings.config).
    """

    universe_file: str = Field(description="the universe of companies, listings and peer groups (VALUATION_UNIVERSE)")
    as_of: str | None = Field(
        default=None,
        description="evaluate as of this date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00) instead of now; "
        "rows dated later are rejected (VALUATION_AS_OF)",
    )
    serving_path: str = Field(description="the read-only serving copy BI tools and SQL users open (VALUATION_SERVING)")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self.clock()  # a bad date fails the run here, named, before any step's code

    def universe(self) -> Universe:
        """The universe, validated (read again on every call: it is configuration)."""
        return load_universe(Path(self.universe_file))

    def clock(self) -> Clock:
        return settings.parse_clock(self.as_of)

    def as_of_date(self) -> date:
        """The clock's date in UTC: rows dated later are in the future."""
        return self.clock().date_in("UTC")

    @property
    def clock_is_injected(self) -> bool:
        return bool(self.as_of)


def run_settings() -> RunSettings:
    return RunSettings(
        universe_file=from_env("VALUATION_UNIVERSE", str(settings.universe_path())),
        as_of=from_env("VALUATION_AS_OF", None),
        serving_path=from_env("VALUATION_SERVING", str(settings.serving_path())),
    )


class MarketDataResource(ConfigurableResource):
    """Which source feeds the raw layer, and how hard it may be asked.

    `market_data_resource()` builds it from VALUATION_SOURCE / VALUATION_SAMPLE_DIR /
    VALUATION_LANDING_DIR. There is no default source and no fallback from one source to another;
    an unset landing zone is landing/ beside the warehouse.
    The yahoo settings are counted in true HTTP requests (cookie and crumb requests included).
    """

    source: str | None = Field(default=None, description="sample or yahoo")
    sample_dir: str | None = Field(default=None, description="snapshot directory the sample source replays")
    landing_dir: str | None = Field(default=None, description="yahoo: the landing zone every fetch lands in, as it came, and is loaded from")
    request_budget: int = Field(default=20_000, description="yahoo: true HTTP requests one asset may make in a run")
    requests_per_hour: float = Field(default=1_500, description="yahoo: the pace every run on this machine shares (Yahoo tolerates about 2,000/h from one address)")
    pace_file: str | None = Field(default=None, description="yahoo: the SQLite file that pace is kept in (VALUATION_YAHOO_PACE; "
                                  "default pace.sqlite in the yfinance caches): one file per client address")
    price_overlap_days: int = Field(default=5, description="yahoo: days re-fetched before each symbol's last loaded date")
    fundamentals_max_age_days: int = Field(default=30, description="yahoo: re-fetch statements at least this often")
    profile_max_age_days: int = Field(default=14, description="yahoo: re-fetch a listing's profile this often (3 requests each)")
    estimates_cycle_business_days: int = Field(default=7, description="yahoo: re-fetch a listing's analysts' consensus and "
                                               "quoted figures once in this many business days, each listing on its own day of "
                                               "the cycle (1 request each; daily for 5,000 listings would be 5,000 more a day)")
    max_attempts: int = Field(default=4, description="yahoo: attempts per request before a symbol is reported failed")
    retry_base_delay_seconds: float = Field(default=60.0, description="yahoo: backoff base; waits are jittered up to base x 2^attempt")
    breaker_threshold: int = Field(default=3, description="yahoo: 429s in a row that stop the run (the rest is deferred)")

    fundamentals_source: str | None = Field(default=None, description="edgar, yahoo or sample: where financial statements "
                                            "come from (VALUATION_FUNDAMENTALS_SOURCE; unset: the same as `source`)")
    sec_user_agent: str | None = Field(default=None, description="edgar: the User-Agent the SEC requires, a name and a contact "
                                       "address (VALUATION_SEC_USER_AGENT)")
    edgar_requests_per_second: float = Field(default=8.0, description="edgar: the pace every run on this machine shares "
                                             "(the SEC allows 10 per second)")
    edgar_pace_file: str | None = Field(default=None, description="edgar: the SQLite file that pace is kept in (VALUATION_EDGAR_PACE)")

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # a run with the edgar source and no User-Agent stops here, before any step, with the variable named
        if self.fundamentals_name == "edgar" and not (self.sec_user_agent or "").strip():
            raise settings.SettingsError(
                "VALUATION_SEC_USER_AGENT is not set: the edgar fundamentals source must send the SEC a User-Agent "
                "naming you and a contact address (e.g. 'Jane Doe jane@example.com')"
            )

    @property
    def fundamentals_name(self) -> str | None:
        return self.fundamentals_source or self.source

    def get_fundamentals_source(self) -> MarketDataSource:
        """The source of financial statements: EDGAR, or the market data source (never a fallback)."""
        if self.fundamentals_name == self.source:
            return self.get_source()
        return make_fundamentals_source(
            self.fundamentals_source,
            self.source,
            self.sample_dir,
            self._yahoo_settings(),
            EdgarSettings(
                user_agent=self.sec_user_agent,
                requests_per_second=self.edgar_requests_per_second,
                cache_dir=settings.edgar_cache_dir(),
                pace_file=self.edgar_pace_file or settings.edgar_pace_file(),
                max_attempts=self.max_attempts,
            ),
        )

    def get_source(self) -> MarketDataSource:
        return make_source(self.source, self.sample_dir, self._yahoo_settings())

    def _yahoo_settings(self) -> YahooSettings:
        return (
            YahooSettings(
                request_budget=self.request_budget,
                requests_per_hour=self.requests_per_hour,
                cache_dir=settings.yahoo_cache_dir(),
                pace_file=self.pace_file or settings.yahoo_pace_file(),
                max_attempts=self.max_attempts,
                base_delay_seconds=self.retry_base_delay_seconds,
                breaker_threshold=self.breaker_threshold,
            )
        )

    def landing_zone(self) -> LandingZone:
        return LandingZone(self.landing_dir or settings.landing_dir())


# The one-writer queue: every asset that opens the working DuckDB file for writing (the raw loads,
# the dbt build, the freshness evaluation, the publish, which reads it under the writer's lock) takes
# a slot of this Dagster concurrency pool, whose limit is 1 (dagster.yaml: pools: default_limit).
# A writer launched while another holds the file waits in Dagster's queue instead of failing on
# DuckDB's lock; lock_wait_seconds is left for programs outside the pipeline.
WAREHOUSE_WRITER = "warehouse_writer"


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
            # DuckDB's default is 80% of RAM: a load or a publish at scale would take it all (a
            # publish of 10,000 listings x 20 years was killed for memory beside the benchmark's market)
            conn.execute("set memory_limit = ?", [settings.duckdb_memory_limit()])
            yield conn
        finally:
            conn.close()


def market_data_resource(**fields) -> MarketDataResource:
    """The resource from the VALUATION_* variables; `fields` set others (or override them)."""
    return MarketDataResource(
        **{
            "source": from_env("VALUATION_SOURCE", None),
            "sample_dir": from_env("VALUATION_SAMPLE_DIR", None),
            "landing_dir": from_env("VALUATION_LANDING_DIR", None),
            "pace_file": from_env("VALUATION_YAHOO_PACE", None),
            "fundamentals_source": from_env("VALUATION_FUNDAMENTALS_SOURCE", None),
            "sec_user_agent": from_env("VALUATION_SEC_USER_AGENT", None),
            "edgar_pace_file": from_env("VALUATION_EDGAR_PACE", None),
            **fields,
        }
    )


def warehouse_resource() -> WarehouseResource:
    path = settings.warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseResource(database=from_env("VALUATION_WAREHOUSE", str(path)))
