"""Shared fixtures: a hand-written snapshot, and real pipeline runs into temporary DuckDB files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from orchestration.defs.resources import WarehouseResource, run_settings

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_SNAPSHOT = FIXTURES / "snapshot"
FIXTURE_UNIVERSE = FIXTURES / "universe.yml"
REPO_ROOT = Path(__file__).parent.parent
SAMPLE_DIR = Path(os.environ.get("VALUATION_SAMPLE_DIR", REPO_ROOT.parent / "shared" / "market-sample"))


def run_pipeline(
    warehouse: Path, snapshot_dir: Path, universe: Path, as_of: str, selection: dg.AssetSelection | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize every asset (raw ingest, then dbt build), or those of `selection`, for real, into `warehouse`."""
    from orchestration.defs.dbt import dbt_resource
    from orchestration.defs.resources import MarketDataResource
    from orchestration.definitions import pipeline_assets

    with pytest.MonkeyPatch.context() as env:
        # dbt's profile and the assets read these; the resources below are explicit too.
        env.setenv("VALUATION_WAREHOUSE", str(warehouse))
        env.setenv("VALUATION_UNIVERSE", str(universe))
        env.setenv("VALUATION_AS_OF", as_of)
        env.delenv("VALUATION_SOURCE", raising=False)
        result = dg.materialize(
            pipeline_assets,
            resources={
                "duckdb": WarehouseResource(database=str(warehouse)),
                "market_data": MarketDataResource(source="sample", sample_dir=str(snapshot_dir)),
                "dbt": dbt_resource(),
                "run_settings": run_settings(),
            },
            selection=selection,
        )
    assert result.success
    return result


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dg.ExecuteInProcessResult]:
    """The fixture snapshot, built once through the whole pipeline: the file and the run's result."""
    warehouse = tmp_path_factory.mktemp("fixture") / "valuation.duckdb"
    return warehouse, run_pipeline(warehouse, FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")


@pytest.fixture(scope="session")
def fixture_warehouse(fixture_run: tuple[Path, dg.ExecuteInProcessResult]) -> Iterator[Path]:
    yield fixture_run[0]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE_DIR / "prices").is_dir():
        pytest.skip(f"market sample not found at {SAMPLE_DIR} (set VALUATION_SAMPLE_DIR)")
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_warehouse(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real market sample, built once through the whole pipeline with the real universe."""
    warehouse = tmp_path_factory.mktemp("sample") / "valuation.duckdb"
    run_pipeline(warehouse, sample_dir, REPO_ROOT / "universe.yml", as_of="2026-11-23")
    return warehouse


@pytest.fixture(scope="session", autouse=True)
def yfinance_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    """yfinance's time-zone and cookie caches in a folder of this test session, not the user's."""
    from orchestration.sources.yahoo import _use_cache_dir

    _use_cache_dir(str(tmp_path_factory.mktemp("yfinance-cache")))
