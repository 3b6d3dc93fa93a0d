"""The sample source: replays a snapshot directory (`VALUATION_SAMPLE_DIR`).

Chosen explicitly, never as a fallback from Yahoo. The layout is that of ../shared/market-sample
(see orchestration.normalize.snapshot); a recorded Yahoo run writes the same layout.
It hands over every file's rows as text, one vintage per file: validation and the choice among
vintages happen after it (orchestration.normalize), so that one bad row never decides anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.normalize.prices import empty_vintage_rows
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.snapshot import (
    PRICE_HEADER,
    SPLITS_HEADER,
    STATEMENT_HEADER,
    prices_from_snapshot,
    read_folder,
    statements_from_snapshot,
)
from orchestration.normalize.splits import empty_splits, splits_from_snapshot
from orchestration.normalize.statements import empty_statements
from orchestration.sources.base import Fetched, Instrument, SourceError, StatementPlan

log = logging.getLogger(__name__)


class SampleSource:
    name = "sample"
    fetches_are_free = True

    def __init__(self, snapshot_dir: str | Path):
        self.snapshot_dir = Path(snapshot_dir)
        if not (self.snapshot_dir / "prices").is_dir():
            raise SourceError(
                f"sample snapshot directory {self.snapshot_dir} has no prices/ folder "
                "(set VALUATION_SAMPLE_DIR to a snapshot such as ../shared/market-sample)"
            )

    def _read(self, folder: str, header: list[str]):
        files = read_folder(self.snapshot_dir / folder, header)
        for path, reason in files.quarantined.items():
            log.warning("quarantined %s: %s (none of its rows loaded; the other files did)", path, reason)
        return files

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        wanted = {instrument.symbol for instrument in instruments}
        files = self._read("prices", PRICE_HEADER)
        frames = [prices_from_snapshot(frame[frame["ticker"].isin(wanted)]) for _, frame in files.frames]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_vintage_rows()
        present = set(frame["symbol"])
        missing = {symbol: "not in the snapshot" for symbol in sorted(wanted - present)}
        split_files = self._read("corporate_actions", SPLITS_HEADER)
        split_frames = [splits_from_snapshot(f[f["ticker"].isin(wanted)]) for _, f in split_files.frames]
        splits = pd.concat(split_frames, ignore_index=True) if split_frames else empty_splits()
        return Fetched(
            frame, failures=missing, quarantined={**files.quarantined, **split_files.quarantined}, splits=splits
        )

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        # The snapshot replays the profiles it captured (the market sample has none: each symbol
        # is then reported as not in the snapshot, not passed over in silence).
        files = self._read("profiles", list(empty_profiles().columns[:1]))
        frames = [frame for _, frame in files.frames]
        profiles = pd.concat(frames, ignore_index=True) if frames else empty_profiles()
        profiles = profiles[profiles["symbol"].isin(set(symbols))]
        missing = {s: "no profile in the snapshot" for s in symbols if s not in set(profiles["symbol"])}
        frame = profiles.replace({"": None})[empty_profiles().columns].reset_index(drop=True)
        return Fetched(frame, failures=missing, quarantined=files.quarantined)

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        wanted = {plan.symbol for plan in plans}
        files = self._read("fundamentals", STATEMENT_HEADER)
        frames = [statements_from_snapshot(frame[frame["company_ticker"].isin(wanted)]) for _, frame in files.frames]
        frames = [f for f in frames if len(f)]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_statements()
        present = set(frame["symbol"])
        missing = {s: "no statements in the snapshot" for s in sorted(wanted - present)}
        return Fetched(frame, failures=missing, quarantined=files.quarantined)


def last_price_date(snapshot_dir: str | Path) -> date | None:
    """The last day any price file of the snapshot covers (unreadable files and cells are skipped):
    the natural "as of" of a replay, so that freshness describes the snapshot, not today."""
    last = None
    for path in sorted((Path(snapshot_dir) / "prices").glob("*.csv")):
        try:
            days = pd.to_datetime(pd.read_csv(path, usecols=["date"], dtype=str)["date"], errors="coerce", format="mixed")
        except (ValueError, OSError, pd.errors.ParserError):
            continue
        if days.notna().any():
            last = max(filter(None, [last, days.max().date()]))
    return last

