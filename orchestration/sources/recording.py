"""Write what a live source returned into the snapshot layout, so the sample source can replay it."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from itertools import count
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.normalize.estimates import ESTIMATES_HEADER, MODULE_CURRENCY_FIELDS, VENDOR_HEADER
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


def _column_text(column: pd.Series) -> list[str]:
    """_text of every value of a column, a column at a time (a call per cell was half the landing
    time). A dtype without a fast path goes through _text itself, so the text is always the same."""
    dtype = column.dtype
    if dtype == np.float64:
        return _float_text(column.to_numpy())
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return list(map(str, column.tolist()))
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return [value.isoformat() for value in column]  # NaT included: 'NaT', as _text gives
    if dtype == object or isinstance(dtype, pd.StringDtype):
        return _object_text(column.to_numpy(dtype=object))
    # what DataFrame.map did; a categorical's missing values stay NaN there, which the CSV wrote as ''
    text = column.map(_text).astype(object)
    return text.where(text.notna(), "").tolist()


def _float_text(values: np.ndarray) -> list[str]:
    text = np.array(list(map(float.__repr__, values.tolist())), dtype=object)
    text[np.isnan(values)] = ""
    return text.tolist()


def _object_text(values: np.ndarray) -> list[str]:
    missing = pd.isna(values)  # None and NaN give '', NaT and pd.NA their own text, all through _text
    present = values[~missing]
    kind = pd.api.types.infer_dtype(present, skipna=False)
    text = np.empty(len(values), dtype=object)
    text[missing] = [_text(value) for value in values[missing]]
    if kind == "string":
        text[~missing] = present
    elif kind in ("date", "datetime"):
        text[~missing] = [value.isoformat() for value in present]
    else:
        text[~missing] = [_text(value) for value in present]
    return text.tolist()


class SnapshotRecorder:
    def __init__(self, snapshot_dir: str | Path, source_id: str = "yahoo"):
        self.snapshot_dir = Path(snapshot_dir)
        self.source_id = source_id
        self.stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self._sequence = count(1)

    def _write(self, folder: str, frame: pd.DataFrame, kind: str = "") -> Path | None:
        if frame.empty:
            return None
        target = self.snapshot_dir / folder
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{self.source_id}_{kind + '_' if kind else ''}{self.stamp}_{next(self._sequence):03d}.csv"
        columns = [_column_text(frame.iloc[:, position]) for position in range(frame.shape[1])]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")  # what DataFrame.to_csv writes with
            writer.writerow(frame.columns)
            writer.writerows(zip(*columns))
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
        out["source_tag"] = {"edgar": "xbrl companyfacts"}.get(self.source_id, "yfinance")
        out["source_id"] = self.source_id
        out["statement"] = statements["statement"]
        for column in ("accn", "form"):  # the filing of an EDGAR fact; the sample reads them back
            if column in statements.columns and statements[column].notna().any():
                out[column] = statements[column]
        return self._write("fundamentals", out)

    def profiles(self, profiles: pd.DataFrame) -> Path | None:
        return self._write("profiles", profiles)


    def estimates(self, estimates: pd.DataFrame, vendor_figures: pd.DataFrame | None) -> list[Path]:
        """The consensus and the quoted figures in the layout of the market sample's consensus/:
        one row per symbol and period, and the figures long with each module's own currency as a
        row of its own (`summaryDetail.currency`, ...), as the sample's file has it."""
        written = []
        if len(estimates):
            out = estimates[ESTIMATES_HEADER].copy()
            out["snapshot_at"] = _utc_text(out["snapshot_at"])
            out["source_file"] = f"{self.source_id} quoteSummary"
            written.append(self._write("consensus", out, "earnings_trend"))
        if vendor_figures is not None and len(vendor_figures):
            figures = vendor_figures[[*VENDOR_HEADER, "currency"]]
            stated = figures[figures["currency"].notna() & figures["module"].isin(list(MODULE_CURRENCY_FIELDS))]
            stated = stated.drop_duplicates(["symbol", "snapshot_at", "module"])
            currencies = stated.assign(field=stated["module"].map(MODULE_CURRENCY_FIELDS), value=stated["currency"])
            out = pd.concat([figures, currencies], ignore_index=True)[VENDOR_HEADER].astype({"value": "object"})
            out["snapshot_at"] = _utc_text(out["snapshot_at"])
            out["source_file"] = f"{self.source_id} quoteSummary"
            written.append(self._write("consensus", out, "quoted_figures"))
        return [path for path in written if path is not None]


def _utc_text(moments: pd.Series) -> list[str]:
    """Moments (naive UTC) as the sample writes them: 2025-02-24T09:35:30Z."""
    return [pd.Timestamp(m).isoformat() + "Z" for m in moments]


def _snapshot_unit(row: pd.Series) -> str:
    if row["unit"] == "shares":
        return "shares"
    if row["unit"] == "per_share":
        return f"{row['currency']}_per_share"
    if row["unit"] == "per_ads":
        return f"{row['currency']}_per_ADS"
    return "units"
