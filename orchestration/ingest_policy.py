"""When to fetch what: price start dates and whether statements are due. Pure, no Dagster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta


def price_starts(symbols: Iterable[str], watermarks: Mapping[str, date], overlap_days: int) -> dict[str, date | None]:
    """Each symbol's fetch start: its last loaded date minus an overlap (late corrections happen),
    or None (full history) for a symbol never loaded."""
    return {
        symbol: (watermarks[symbol] - timedelta(days=overlap_days)) if symbol in watermarks else None
        for symbol in symbols
    }


@dataclass(frozen=True)
class StatementsFetch:
    fetched_on: date
    next_release: date | None  # the next scheduled earnings date known at that fetch
    last_release: date | None  # the latest past earnings release known at that fetch


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
    - or within `grace_days` after a release (Yahoo fills statements in a few days late), once a day.
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
            )
        ):
            due.append(symbol)
    return due
