"""When to fetch what: price start dates and whether statements are due. Pure, no Dagster."""

from __future__ import annotations

import zlib
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


def parse_batch(batch: str) -> tuple[int, int]:
    """'k/n' -> (k, n): the k-th of n slices, 1 <= k <= n."""
    try:
        k, n = (int(part) for part in batch.split("/"))
    except ValueError:
        raise ValueError(f"batch {batch!r} is not of the form k/n (e.g. 3/8)") from None
    if not 1 <= k <= n:
        raise ValueError(f"batch {batch!r}: k must be between 1 and n")
    return k, n


def in_batch(symbol: str, batch: str | None) -> bool:
    """Whether `symbol` falls in batch 'k/n' (always, for None).

    Slices are by a stable hash of the symbol, not by position in universe.yml: a symbol stays in
    its slice when companies are added or reordered, so a backfill split over n parallel runs
    covers every symbol exactly once.
    """
    if batch is None:
        return True
    k, n = parse_batch(batch)
    return zlib.crc32(symbol.encode()) % n == k - 1


def select_symbols(symbols: Iterable[str], only: Iterable[str] | None, batch: str | None) -> list[str]:
    """The symbols a run covers: those named in `only` (all when None), within `batch`.

    A name in `only` that is not among `symbols` is an error: a typo must not load nothing quietly.
    """
    symbols = list(symbols)
    if only is not None:
        only = list(only)
        unknown = sorted(set(only) - set(symbols))
        if unknown:
            raise ValueError(f"symbols not in the universe: {', '.join(unknown)}")
        wanted = set(only)
        symbols = [symbol for symbol in symbols if symbol in wanted]
    if batch is not None:
        parse_batch(batch)  # a malformed batch fails even when no symbol is left
    return [symbol for symbol in symbols if in_batch(symbol, batch)]
