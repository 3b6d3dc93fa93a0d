"""Settings read from the environment, in one place.

VALUATION_SOURCE      sample | yahoo (required: the source is always chosen explicitly)
VALUATION_SAMPLE_DIR  snapshot directory replayed by the sample source
VALUATION_WAREHOUSE   the DuckDB file the pipeline writes (dbt's profile reads the same variable)
VALUATION_UNIVERSE    universe.yml
VALUATION_AS_OF       evaluate "as of" this date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00) instead of now
VALUATION_SERVING     the read-only serving copy of the marts (default: serving.duckdb beside the warehouse)
VALUATION_LANDING_DIR yahoo source: the landing zone, where every fetch lands as it came, in the snapshot
                      layout (default: landing/ beside the warehouse), loaded from there, replayable by the sample source
VALUATION_YAHOO_CACHE yahoo source: yfinance's time-zone and cookie caches (default: .yfinance-cache/ beside it)
VALUATION_YAHOO_PACE  yahoo source: the SQLite file whose pace every process asking Yahoo from this machine
                      shares (default: pace.sqlite in the yfinance caches); one file per client address
VALUATION_FUNDAMENTALS_SOURCE  edgar | yahoo | sample: where financial statements come from (default: VALUATION_SOURCE);
                      prices, profiles and estimates always come from VALUATION_SOURCE
VALUATION_SEC_USER_AGENT  edgar source: the User-Agent the SEC requires ("Name contact@example.com"); required with edgar
VALUATION_EDGAR_CACHE edgar source: where company_tickers.json is cached (default: .edgar-cache/ beside the warehouse)
VALUATION_EDGAR_PACE  edgar source: the SQLite file of the SEC pace every process of this machine shares
                      (default: pace.sqlite in the EDGAR cache; not Yahoo's: another service, another limit)
VALUATION_DUCKDB_MEMORY_LIMIT  DuckDB's memory budget, for the pipeline's connections and dbt's alike
                      (default 2.5GB; dbt_project/profiles.yml has the same default); past it DuckDB spills to disk

validate_environment() checks them when a run starts (the warehouse resource calls it before any
asset's code): a bad value fails the run at once with the variable named, not deep in a step.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import exchange_calendars.exchange_calendar as xcals_calendar

from orchestration.freshness import Clock

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def warehouse_path() -> Path:
    return Path(os.environ.get("VALUATION_WAREHOUSE", REPO_ROOT / "warehouse" / "valuation.duckdb")).resolve()


def serving_path() -> Path:
    default = warehouse_path().parent / "serving.duckdb"
    return Path(os.environ.get("VALUATION_SERVING", default)).resolve()


def serving_keeps_spare() -> bool:
    """Whether a publish keeps the file it replaces and the next one patches it (publish.py);
    `VALUATION_SERVING_SPARE=off` where readers of the serving file are on other machines (a
    network share): their locks and open files cannot be seen from here."""
    return (os.environ.get("VALUATION_SERVING_SPARE") or "on") == "on"


DEFAULT_DUCKDB_MEMORY_LIMIT = "2.5GB"


def duckdb_memory_limit() -> str:
    return os.environ.get("VALUATION_DUCKDB_MEMORY_LIMIT") or DEFAULT_DUCKDB_MEMORY_LIMIT


def universe_path() -> Path:
    return Path(os.environ.get("VALUATION_UNIVERSE", REPO_ROOT / "universe.yml"))


def landing_dir() -> str:
    return os.environ.get("VALUATION_LANDING_DIR") or str(warehouse_path().parent / "landing")


def yahoo_cache_dir() -> str:
    return os.environ.get("VALUATION_YAHOO_CACHE") or str(warehouse_path().parent / ".yfinance-cache")


def yahoo_pace_file() -> str:
    """Beside yfinance's cookie, the other state of this machine's Yahoo client."""
    return os.environ.get("VALUATION_YAHOO_PACE") or str(Path(yahoo_cache_dir()) / "pace.sqlite")


def edgar_cache_dir() -> str:
    return os.environ.get("VALUATION_EDGAR_CACHE") or str(warehouse_path().parent / ".edgar-cache")


def edgar_pace_file() -> str:
    return os.environ.get("VALUATION_EDGAR_PACE") or str(Path(edgar_cache_dir()) / "pace.sqlite")


SOURCES = ("sample", "yahoo")
FUNDAMENTALS_SOURCES = ("edgar", "sample", "yahoo")

# exchange_calendars builds every calendar from 20 years back to one year ahead of today. Freshness
# looks 20 days back from the clock's date and one day ahead of it, and a calendar's first and
# last sessions can fall some days inside those bounds (holidays), so the clock keeps a margin.
_MARGIN_BEFORE = timedelta(days=31)
_MARGIN_AFTER = timedelta(days=14)


class SettingsError(ValueError):
    """An environment variable has a value the pipeline cannot use. The message names it."""


def supported_as_of_range() -> tuple[date, date]:
    """The first and last dates VALUATION_AS_OF may take: inside exchange_calendars' bounds."""
    first = xcals_calendar.GLOBAL_DEFAULT_START.date() + _MARGIN_BEFORE
    last = xcals_calendar.GLOBAL_DEFAULT_END.date() - _MARGIN_AFTER
    return first, last


def _shown(value: str) -> str:
    shown = value if value.isprintable() else repr(value)[1:-1]
    return shown if len(shown) <= 60 else shown[:57] + "..."


def parse_clock(text: str | None) -> Clock:
    """Now (no text), or the date or moment VALUATION_AS_OF gives. A bad value raises SettingsError naming it."""
    try:
        parsed = Clock.parse(text)
        day = parsed.date_in("UTC")
    except (ValueError, TypeError, OverflowError) as error:
        raise SettingsError(
            f"VALUATION_AS_OF={_shown(text or '')}: not a date (YYYY-MM-DD) or moment (2025-11-29T10:00-05:00): {error}"
        ) from None
    if text:
        first, last = supported_as_of_range()
        if not first <= day <= last:
            raise SettingsError(
                f"VALUATION_AS_OF={_shown(text)}: outside the dates the exchange calendars support, "
                f"{first.isoformat()} to {last.isoformat()} (about 20 years back to one year ahead of today)"
            )
    return parsed


def validate_environment() -> None:
    """Check the variables with a domain, VALUATION_SOURCE, VALUATION_FUNDAMENTALS_SOURCE (and
    VALUATION_SEC_USER_AGENT where it is edgar), VALUATION_SERVING_SPARE and
    VALUATION_AS_OF (paths are checked where they are opened); raise SettingsError naming the
    first bad one."""
    source = os.environ.get("VALUATION_SOURCE")
    if source and source not in SOURCES:  # unset is allowed here: a resource may name the source
        raise SettingsError(
            f"VALUATION_SOURCE={_shown(source)}: not a market data source; use one of {', '.join(SOURCES)}"
        )
    fundamentals = os.environ.get("VALUATION_FUNDAMENTALS_SOURCE")
    if fundamentals and fundamentals not in FUNDAMENTALS_SOURCES:
        raise SettingsError(
            f"VALUATION_FUNDAMENTALS_SOURCE={_shown(fundamentals)}: not a fundamentals source; "
            f"use one of {', '.join(FUNDAMENTALS_SOURCES)} (unset: the same as VALUATION_SOURCE)"
        )
    if (fundamentals or source) == "edgar" and not (os.environ.get("VALUATION_SEC_USER_AGENT") or "").strip():
        raise SettingsError(
            "VALUATION_SEC_USER_AGENT is not set: the edgar fundamentals source must send the SEC a User-Agent "
            "naming you and a contact address (e.g. 'Jane Doe jane@example.com')"
        )
    spare = os.environ.get("VALUATION_SERVING_SPARE")
    if spare and spare not in ("on", "off"):
        raise SettingsError(f"VALUATION_SERVING_SPARE={_shown(spare)}: use on or off")
    parse_clock(os.environ.get("VALUATION_AS_OF"))
