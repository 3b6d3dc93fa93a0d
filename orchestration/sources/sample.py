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

from orchestration.normalize.estimates import (
    ESTIMATES_FILES,
    ESTIMATES_HEADER,
    VENDOR_FILES,
    VENDOR_HEADER,
    empty_estimates,
    empty_vendor_figures,
    estimates_from_snapshot,
    vendor_figures_from_snapshot,
)
from orchestration.normalize.prices import empty_vintage_rows
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.snapshot import (
    PRICE_HEADER,
    SPLITS_HEADER,
    STATEMENT_HEADER,
    SnapshotFiles,
    prices_from_snapshot,
    read_folder,
    statements_from_snapshot,
)
from orchestration.normalize.splits import empty_splits, splits_from_snapshot
from orchestration.normalize.statements import empty_statements
from orchestration.sources.base import Fetched, Instrument, SourceError, StatementPlan
from orchestration.warehouse.schema import COMPANY_PROFILES

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

    def _read(self, folder: str, header: list[str], match: str | None = None) -> SnapshotFiles:
        files = read_folder(self.snapshot_dir / folder, header, match)
        for path, reason in files.quarantined.items():
            log.warning("quarantined %s: %s (none of its rows loaded; the other files did)", path, reason)
        for warning in _passed_over(files):
            log.warning(warning)
        return files

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        wanted = {instrument.symbol for instrument in instruments}
        files = self._read("prices", PRICE_HEADER)
        frames = [prices_from_snapshot(frame[frame["ticker"].isin(wanted)]) for _, frame in files.frames]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_vintage_rows()
        missing = _missing(sorted(wanted - set(frame["symbol"])), "not in the snapshot", files)
        split_files = self._read("corporate_actions", SPLITS_HEADER)
        split_frames = [splits_from_snapshot(f[f["ticker"].isin(wanted)]) for _, f in split_files.frames]
        splits = pd.concat(split_frames, ignore_index=True) if split_frames else empty_splits()
        return Fetched(
            frame,
            failures=missing,
            quarantined={**files.quarantined, **split_files.quarantined},
            splits=splits,
            warnings=_passed_over(files) + _passed_over(split_files),
        )

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        # The snapshot replays the profiles it captured (the market sample has none: each symbol
        # is then reported as not in the snapshot, not passed over in silence).
        # A file without every column (in the order a recorded run writes them) is quarantined.
        files = self._read("profiles", COMPANY_PROFILES.data_columns)
        frames = [frame for _, frame in files.frames]
        profiles = pd.concat(frames, ignore_index=True) if frames else empty_profiles()
        profiles = profiles[profiles["symbol"].isin(set(symbols))]
        missing = _missing([s for s in symbols if s not in set(profiles["symbol"])], "no profile in the snapshot", files)
        frame = profiles.replace({"": None})[empty_profiles().columns].reset_index(drop=True)
        return Fetched(frame, failures=missing, quarantined=files.quarantined, warnings=_passed_over(files))

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        wanted = {plan.symbol for plan in plans}
        files = self._read("fundamentals", STATEMENT_HEADER)
        frames = [statements_from_snapshot(frame[frame["company_ticker"].isin(wanted)]) for _, frame in files.frames]
        frames = [f for f in frames if len(f)]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_statements()
        missing = _missing(sorted(wanted - set(frame["symbol"])), "no statements in the snapshot", files)
        return Fetched(frame, failures=missing, quarantined=files.quarantined, warnings=_passed_over(files))


    def fetch_estimates(self, symbols: Sequence[str]) -> Fetched:
        # consensus/ holds two layouts, each file named for its own: the earnings trend (one row per
        # period) and the quoted figures (long). A file of either that cannot be read is quarantined.
        wanted = set(symbols)
        trends = self._read("consensus", ESTIMATES_HEADER, ESTIMATES_FILES)
        quoted = self._read("consensus", VENDOR_HEADER, VENDOR_FILES)
        frames = [estimates_from_snapshot(f[f["symbol"].isin(wanted)]) for _, f in trends.frames]
        frame = pd.concat(frames, ignore_index=True) if frames else empty_estimates()
        figures = [vendor_figures_from_snapshot(f[f["symbol"].isin(wanted)]) for _, f in quoted.frames]
        vendor = pd.concat(figures, ignore_index=True) if figures else empty_vendor_figures()
        both = SnapshotFiles(quarantined={**trends.quarantined, **quoted.quarantined})
        found = set(frame["symbol"]) | set(vendor["symbol"])
        missing = _missing([s for s in symbols if s not in found], "no estimates in the snapshot", both)
        others = _other_files(self.snapshot_dir / "consensus", (ESTIMATES_FILES, VENDOR_FILES))
        return Fetched(frame, failures=missing, quarantined=both.quarantined, vendor_figures=vendor,
                       warnings=_passed_over(trends) + _passed_over(quoted) + others)  # fmt: skip


def _other_files(folder: Path, patterns: tuple[str, ...]) -> list[str]:
    """Files of a folder that no layout's name matches: named, not lost."""
    if not folder.is_dir():
        return []
    return [f"passed over {path}: not named {' or '.join(patterns)}" for path in sorted(folder.iterdir())
            if not path.name.startswith(".") and not any(path.match(p) for p in patterns)]  # fmt: skip


def _missing(symbols: Sequence[str], reason: str, files: SnapshotFiles) -> dict[str, str]:
    """Why each symbol came back empty; a quarantined file may have held it, so that is said too."""
    if files.quarantined:
        reason += f" (among the readable files; {len(files.quarantined)} quarantined: {', '.join(sorted(files.quarantined))})"
    return {symbol: reason for symbol in symbols}


def _passed_over(files: SnapshotFiles) -> list[str]:
    """Files beside the data that are not data, named: a file dropped in the wrong format is seen, not lost."""
    return [f"passed over {path}: {why}" for path, why in sorted(files.passed_over.items())]


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

