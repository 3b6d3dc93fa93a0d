"""Write what a live source returned into the snapshot layout, so the sample source can replay it."""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import count
from pathlib import Path

import pandas as pd

from orchestration.normalize.snapshot import PRICE_HEADER, STATEMENT_HEADER


def _text(value: object) -> str:
    """Exact text of a value: repr keeps every bit of a float, so a replay reads the same number."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class SnapshotRecorder:
    def __init__(self, snapshot_dir: str | Path, source_id: str = "yahoo"):
        self.snapshot_dir = Path(snapshot_dir)
        self.source_id = source_id
        self.stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self._sequence = count(1)

    def _write(self, folder: str, frame: pd.DataFrame) -> Path | None:
        if frame.empty:
            return None
        target = self.snapshot_dir / folder
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{self.source_id}_{self.stamp}_{next(self._sequence):03d}.csv"
        frame.map(_text).to_csv(path, index=False)
        return path

    def prices(self, prices: pd.DataFrame) -> Path | None:
        out = prices.rename(columns={"symbol": "ticker"})[PRICE_HEADER].copy()
        out["source_id"] = self.source_id
        return self._write("prices", out)

    def statements(self, statements: pd.DataFrame) -> Path | None:
        out = pd.DataFrame(
            {
                "company_ticker": statements["symbol"],
                "fiscal_period": statements["fiscal_period"],
                "period_type": statements["period_type"],
                "period_start": statements["period_start"],
                "period_end": statements["period_end"],
                "filed_date": statements["filed_date"],
                "line_item": statements["line_item"],
                "value": statements["value"],
                "currency": statements["currency"],
                "unit": statements.apply(_snapshot_unit, axis=1),
            },
            columns=STATEMENT_HEADER,
        )
        out["source_tag"] = "yfinance"
        out["source_id"] = self.source_id
        out["statement"] = statements["statement"]
        return self._write("fundamentals", out)

    def profiles(self, profiles: pd.DataFrame) -> Path | None:
        return self._write("profiles", profiles)


def _snapshot_unit(row: pd.Series) -> str:
    if row["unit"] == "shares":
        return "shares"
    if row["unit"] == "per_share":
        return f"{row['currency']}_per_share"
    if row["unit"] == "per_ads":
        return f"{row['currency']}_per_ADS"
    return "units"
