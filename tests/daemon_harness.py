"""A real Dagster deployment for a test: `dagster dev` on 127.0.0.1 in a temporary DAGSTER_HOME with
the committed orchestration/dagster.yaml (the run queue, the pools, run monitoring), serving
tests/fakes/dagster_location.py, whose Yahoo is a double served over local HTTP in the test's own
process (tests/fakes/yahoo_server.py): every run worker asks it, and it records what arrived.

The market is synthetic (tests/fakes/bucket_market.py): the same number of listings in every
landing bucket. The landing state is an empty warehouse's, so the first fetch of each symbol takes
its whole served history.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing import LandingState, LandingZone
from tests.conftest import REPO_ROOT
from tests.daemon_api import DagsterApi
from tests.fakes.bucket_market import BucketMarket
from tests.fakes.yahoo_server import DOUBLE_URL_VARIABLE, YahooDouble
from tests.servers import dagster_dev

LOCATION = "tests.fakes.dagster_location"
AS_OF = "2025-01-31"
PRICES_PARTITION_SET = "us_close_prices_partition_set"  # the US job's buckets (its schedule's runs)
RAW_KEYS = [["raw", t] for t in ("universe_companies", "universe_listings", "universe_peer_groups", "universe_benchmarks",
                                 "universe_fx_pairs", "prices", "stock_splits", "company_profiles", "financial_statements")]  # fmt: skip


@dataclass
class Deployment:
    api: DagsterApi
    double: YahooDouble
    market: BucketMarket
    folder: Path
    log: Path

    @property
    def landing(self) -> LandingZone:
        return LandingZone(self.folder / "landing")

    @property
    def warehouse(self) -> Path:
        return self.folder / "valuation.duckdb"

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            return conn.execute(sql).fetchall()


@contextmanager
def deployment(
    folder: Path, per_bucket: int, days: int, per_hour: float, backoff_seconds: float = 1.0, extra_env: dict | None = None
) -> Iterator[Deployment]:
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    market = BucketMarket.write(folder / "universe.yml", per_bucket=per_bucket)
    LandingZone(folder / "landing").write_state(LandingState())
    log = folder / "dagster.log"
    with YahooDouble() as double:
        market.serve(double.session, days=days)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "VALUATION_SOURCE": "yahoo",
            "VALUATION_WAREHOUSE": str(folder / "valuation.duckdb"),
            "VALUATION_SERVING": str(folder / "serving.duckdb"),
            "VALUATION_UNIVERSE": str(folder / "universe.yml"),
            "VALUATION_AS_OF": AS_OF,
            "VALUATION_LANDING_DIR": str(folder / "landing"),
            "VALUATION_YAHOO_PACE": str(folder / "yahoo-pace.sqlite"),
            "VALUATION_YAHOO_CACHE": str(folder / "yfinance-cache"),
            DOUBLE_URL_VARIABLE: double.url,
            "YAHOO_DOUBLE_PER_HOUR": str(per_hour),
            "YAHOO_DOUBLE_BACKOFF_SECONDS": str(backoff_seconds),
            **(extra_env or {}),
        }
        try:
            with dagster_dev(env, LOCATION, log=log) as base_url:
                yield Deployment(DagsterApi(base_url), double, market, folder, log)
        except BaseException:
            print(f"\ndagster dev's log: {log}")
            raise
