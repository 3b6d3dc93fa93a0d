"""When to fetch what: price start dates and whether statements are due. Pure, no Dagster."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from orchestration.normalize.yahoo import RELEASE_WINDOW_DAYS  # one rule: a release publishes the quarter within it


def price_starts(symbols: Iterable[str], watermarks: Mapping[str, date], overlap_days: int) -> dict[str, date | None]:
    """Each symbol's fetch start: its last loaded date minus an overlap (late corrections happen),
    or None (full history) for a symbol never loaded."""
    return {
        symbol: (watermarks[symbol] - timedelta(days=overlap_days)) if symbol in watermarks else None
        for symbol in symbols
    }


def restated_symbols(fetched: pd.DataFrame, stored: pd.DataFrame, tolerance: float = 0.005) -> list[str]:
    """Symbols whose re-fetched overlap no longer matches what is stored: Yahoo restated the history
    (a split or dividend applied retroactively, a correction), so the older stored rows are on
    another basis too and the whole history must be fetched again. Both frames: symbol, date,
    close, adj_close; a relative difference above `tolerance` on any common day counts."""
    if fetched.empty or stored.empty:
        return []
    both = fetched.merge(stored, on=["symbol", "date"], suffixes=("", "_stored"))
    differs = pd.Series(False, index=both.index)
    for column in ("close", "adj_close"):
        new, old = both[column].astype("float64"), both[f"{column}_stored"].astype("float64")
        differs |= ((new - old).abs() > tolerance * old.abs()).fillna(False)
    return sorted(set(both.loc[differs, "symbol"]))


@dataclass(frozen=True)
class StatementsFetch:
    fetched_on: date
    next_release: date | None  # the next scheduled earnings date known at that fetch
    last_release: date | None  # the latest past earnings release known at that fetch
    latest_quarter_end: date | None = None  # the latest quarter stored for the company


def _release_published(latest_quarter_end: date | None, release: date) -> bool:
    return latest_quarter_end is not None and release - timedelta(days=RELEASE_WINDOW_DAYS) <= latest_quarter_end < release


def statements_due(
    symbols: Iterable[str],
    last_fetches: Mapping[str, StatementsFetch],
    as_of: date,
    max_age_days: int,
    grace_days: int = 7,
) -> list[str]:
    """Statements change only around earnings: fetch a symbol's statements when
    - they were never fetched, or the last fetch is older than `max_age_days`;
    - a scheduled earnings date has passed since the last fetch;
    - or, within `grace_days` after a release, once a day until the quarter it published is in
      (Yahoo fills statements in a few days late; once it is in, there is nothing more to ask).
    """
    due = []
    for symbol in symbols:
        last = last_fetches.get(symbol)
        if (
            last is None
            or (as_of - last.fetched_on).days > max_age_days
            or (last.next_release is not None and last.next_release <= as_of)
            or (
                last.last_release is not None
                and as_of <= last.last_release + timedelta(days=grace_days)
                and last.fetched_on < as_of
                and not _release_published(last.latest_quarter_end, last.last_release)
            )
        ):
            due.append(symbol)
    return due


def annual_due(last: StatementsFetch | None, as_of: date, fiscal_year_end_month: int, max_age_days: int) -> bool:
    """Annual statements change only with fiscal-year results: fetch them the first time, when the
    last fetch is too old, or when the release that made statements due closed a fiscal year."""
    if last is None or (as_of - last.fetched_on).days > max_age_days:
        return True
    release = last.next_release if last.next_release is not None and last.next_release <= as_of else last.last_release
    if release is None:
        return False
    return _quarter_end_before(release, fiscal_year_end_month).month == fiscal_year_end_month


def _quarter_end_before(day: date, fiscal_year_end_month: int) -> date:
    """The last fiscal quarter end strictly before `day` (quarters end every third month from the year end)."""
    year, month = day.year, day.month
    while True:
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        if (month - fiscal_year_end_month) % 3 == 0:
            return date(year, month, 1)  # only the month matters here


def profiles_due(symbols: Iterable[str], last_fetched: Mapping[str, date], as_of: date, max_age_days: int) -> list[str]:
    """Profiles (name, sector, industry) barely change: new listings, then every `max_age_days`."""
    return [s for s in symbols if s not in last_fetched or (as_of - last_fetched[s]).days >= max_age_days]


def estimates_due(symbols: Iterable[str], last_fetched: Mapping[str, date], as_of: date, cycle_business_days: int) -> list[str]:
    """Analysts' consensus moves slowly and a daily snapshot of every listing would cost a request
    each. Each listing has its own weekday slot in a cycle of `cycle_business_days` business days (a
    stable hash of its symbol), so a refresh asks about 1/cycle of the listings, every business day
    alike; a new listing is asked at once, and one whose slot was missed (a holiday, a failed run)
    as soon as a whole cycle has passed. A rule of "every n days since the last fetch" would bring
    every listing of a first run back on the same day, and weekend slots onto Mondays."""
    today = _business_day_index(as_of)
    due = []
    for symbol in symbols:
        last = last_fetched.get(symbol)
        if last is None:
            due.append(symbol)
            continue
        since = today - _business_day_index(last)
        in_slot = today % cycle_business_days == zlib.crc32(symbol.encode()) % cycle_business_days
        if (in_slot and since > 0) or since > cycle_business_days:
            due.append(symbol)
    return due


def _business_day_index(day: date) -> int:
    """Business days (Monday to Friday) from a fixed Monday to `day`; a weekend day counts as the Friday before."""
    return int(np.busday_count(date(2000, 1, 3), day, weekmask="1111100", holidays=[])) + (1 if day.weekday() < 5 else 0)


def deferred_first(symbols: Iterable[str], deferred: Iterable[str]) -> list[str]:
    """The symbols a stopped run did not reach come first, so they are not starved again."""
    symbols, waiting = list(symbols), set(deferred)
    return [s for s in symbols if s in waiting] + [s for s in symbols if s not in waiting]


def select_symbols(symbols: Iterable[str], only: Iterable[str] | None) -> list[str]:
    """The symbols a run covers: those named in `only` (all when None).

    A name in `only` that is not among `symbols` is an error: a typo must not load nothing quietly.
    """
    symbols = list(symbols)
    if only is None:
        return symbols
    only = list(only)
    unknown = sorted(set(only) - set(symbols))
    if unknown:
        raise ValueError(f"symbols not in the universe: {', '.join(unknown)}")
    wanted = set(only)
    return [symbol for symbol in symbols if symbol in wanted]
