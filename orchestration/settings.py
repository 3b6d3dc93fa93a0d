"""Settings read from the environment, in one place.

VALUATION_SOURCE      sample | yahoo (required: the source is always chosen explicitly)
VALUATION_SAMPLE_DIR  snapshot directory replayed by the sample source
VALUATION_WAREHOUSE   the DuckDB file the pipeline writes (dbt's profile reads the same variable)
VALUATION_UNIVERSE    universe.yml
VALUATION_AS_OF       evaluate "as of" this date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00) instead of now
VALUATION_SERVING     the read-only serving copy of the marts (default: serving.duckdb beside the warehouse)
VALUATION_RECORD_DIR  yahoo source: also record what Yahoo returned there (snapshot layout)
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from orchestration.freshness import Clock

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def warehouse_path() -> Path:
    return Path(os.environ.get("VALUATION_WAREHOUSE", REPO_ROOT / "warehouse" / "valuation.duckdb")).resolve()


def serving_path() -> Path:
    default = warehouse_path().parent / "serving.duckdb"
    return Path(os.environ.get("VALUATION_SERVING", default)).resolve()


def universe_path() -> Path:
    return Path(os.environ.get("VALUATION_UNIVERSE", REPO_ROOT / "universe.yml"))


def source_name() -> str | None:
    return os.environ.get("VALUATION_SOURCE") or None


def sample_dir() -> str | None:
    return os.environ.get("VALUATION_SAMPLE_DIR") or None


def record_dir() -> str | None:
    return os.environ.get("VALUATION_RECORD_DIR") or None


def clock() -> Clock:
    """Now, or VALUATION_AS_OF: the injectable clock."""
    return Clock.parse(os.environ.get("VALUATION_AS_OF"))


def clock_is_injected() -> bool:
    return bool(os.environ.get("VALUATION_AS_OF"))


def as_of_date() -> date:
    """The clock's date in UTC: rows dated later are in the future."""
    return clock().date_in("UTC")
