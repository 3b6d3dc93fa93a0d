"""The sample source: replays a snapshot directory (`VALUATION_SAMPLE_DIR`).

Chosen explicitly, never as a fallback from Yahoo. The layout is that of ../shared/market-sample
(see orchestration.normalize.snapshot); a recorded Yahoo run writes the same layout.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from orchestration.normalize.prices import coerce_price_types, empty_prices, splice_vintages
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.snapshot import (
    PRICE_HEADER,
    STATEMENT_HEADER,
    has_header,
    prices_from_snapshot,
    statements_from_snapshot,
)
from orchestration.normalize.statements import coerce_statement_types, empty_statements
from orchestration.sources.base import Fetched, Instrument, SourceError

log = logging.getLogger(__name__)


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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

    def _files(self, folder: str, header: list[str]) -> list[tuple[Path, pd.DataFrame]]:
        files = []
        for path in sorted((self.snapshot_dir / folder).glob("*.csv")):
            frame = _read_csv(path)
            if has_header(frame, header):
                files.append((path, frame))
            else:
                log.info("skipping %s: not in the %s snapshot layout", path.name, folder)
        return files

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        wanted = {instrument.symbol for instrument in instruments}
        vintages: dict[str, list[pd.DataFrame]] = {}
        for _, frame in self._files("prices", PRICE_HEADER):
            frame = frame[frame["ticker"].isin(wanted)]
            for symbol, rows in prices_from_snapshot(frame).groupby("symbol", sort=True):
                vintages.setdefault(symbol, []).append(rows)
        missing = {symbol: "not in the snapshot" for symbol in sorted(wanted - set(vintages))}
        if not vintages:
            return Fetched(empty_prices(), failures=missing)
        spliced = pd.concat([splice_vintages(v) for v in vintages.values()], ignore_index=True)
        start = spliced["symbol"].map(lambda s: starts.get(s) or date.min)
        return Fetched(coerce_price_types(spliced[spliced["date"] >= start]), failures=missing)

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        # The snapshot replays the profiles it captured (the market sample has none).
        folder = self.snapshot_dir / "profiles"
        frames = [_read_csv(path) for path in sorted(folder.glob("*.csv"))] if folder.is_dir() else []
        if not frames:
            return Fetched(empty_profiles())
        profiles = pd.concat(frames, ignore_index=True)
        profiles = profiles[profiles["symbol"].isin(set(symbols))]
        return Fetched(profiles.replace({"": None})[empty_profiles().columns].reset_index(drop=True))

    def fetch_statements(self, symbols: Sequence[str]) -> Fetched:
        wanted = set(symbols)
        frames = [
            statements_from_snapshot(frame[frame["company_ticker"].isin(wanted)])
            for _, frame in self._files("fundamentals", STATEMENT_HEADER)
        ]
        frames = [f for f in frames if len(f)]
        return Fetched(coerce_statement_types(pd.concat(frames, ignore_index=True)) if frames else empty_statements())
