"""The snapshot layout (`../shared/market-sample`, and what a recorded Yahoo run writes).

prices/*.csv:        date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis,...
fundamentals/*.csv:  company_ticker,fiscal_period,period_type,period_start,period_end,filed_date,
                     line_item,value,currency,unit,...
profiles/*.csv:      the columns of raw.company_profiles
corporate_actions/splits.csv: ticker,ex_date,split_ratio,...
consensus/*earnings_trend_*.csv, consensus/*quoted_figures_*.csv: see orchestration.normalize.estimates

Files are read as text, cell by cell, so that a rejected row keeps exactly what the file said.
A file that cannot be read as a whole (wrong header, bad encoding, a line with the wrong number of
fields, empty, a directory) is quarantined with its path and the reason; the others still load.
"""

from __future__ import annotations

import csv
import io
import json
from fnmatch import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from orchestration.normalize.statements import empty_statements

PRICE_HEADER = ["date", "ticker", "currency", "open", "high", "low", "close", "adj_close", "volume",
                "dividends", "stock_splits", "price_basis"]  # fmt: skip
STATEMENT_HEADER = ["company_ticker", "fiscal_period", "period_type", "period_start", "period_end",
                    "filed_date", "line_item", "value", "currency", "unit"]  # fmt: skip
SPLITS_HEADER = ["ticker", "ex_date", "split_ratio"]

# unit in the snapshot -> (multiplier to base units, unit in the raw layer)
UNIT_SCALES: dict[str, tuple[int, str]] = {
    "million": (10**6, "amount"),
    "billion": (10**9, "amount"),
    "thousand": (10**3, "amount"),
    "units": (1, "amount"),
    "shares": (1, "shares"),
    "thousand_shares": (10**3, "shares"),
    "million_shares": (10**6, "shares"),
    "billion_shares": (10**9, "shares"),
    "million_ADS": (10**6, "ads"),  # depositary shares: int_financial_metrics turns them into ordinary ones
}
CASHFLOW_PREFIXES = ("capex", "depreciation", "amortization", "operating_cash_flow", "free_cash_flow",
                     "principal_payments")  # fmt: skip


# Files of a known other layout that sit beside the data without being data (the market sample's
# quoted narrative figures): recognised by their header, passed over by name, never quarantined.
OTHER_LAYOUTS = {"narrative figures (company, ticker_us, ...)": ["company", "ticker_us"]}


@dataclass
class SnapshotFiles:
    """The readable files of one snapshot folder, and the quarantined ones with their reason."""

    frames: list[tuple[Path, pd.DataFrame]] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)  # path -> why it was not read
    passed_over: dict[str, str] = field(default_factory=dict)  # path -> why it is not data (another layout, not a CSV)


def read_snapshot_csv(path: Path, header: list[str]) -> pd.DataFrame:
    """A snapshot CSV as text cells plus `vintage` (its path) and `line` (1-based line in the file).

    Raises ValueError naming what is wrong; the caller quarantines the file.
    """
    if not path.is_file():
        raise ValueError("not a regular file")
    raw = path.read_bytes()
    if not raw.strip():
        raise ValueError("empty file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (byte {error.start})") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    found = rows[0]
    if found[: len(header)] != header:
        raise ValueError(f"header {','.join(found)[:200]!r} is not the expected {','.join(header)!r}...")
    width = len(found)
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise ValueError(f"line {number} has {len(row)} fields, the header has {width}")
    body = [(row, number) for number, row in enumerate(rows[1:], start=2) if row]
    frame = pd.DataFrame([row for row, _ in body], columns=found, dtype="object")
    frame["vintage"] = str(path)
    frame["line"] = [number for _, number in body]
    return frame


def _other_layout(path: Path) -> str | None:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            found = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return next((name for name, start in OTHER_LAYOUTS.items() if found[: len(start)] == start), None)


def read_folder(folder: Path, header: list[str], match: str | None = None) -> SnapshotFiles:
    """Every CSV of `folder` (or those whose name matches the glob `match`: a folder holding files
    of several layouts, each named for its own) read with `header`."""
    files = SnapshotFiles()
    if not folder.is_dir():
        return files
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or (match is not None and not fnmatch(path.name, match)):
            continue
        if path.suffix.lower() != ".csv":
            files.passed_over[str(path)] = "not a .csv file"
            continue
        layout = _other_layout(path)
        if layout:
            files.passed_over[str(path)] = f"in the layout of {layout}"
            continue
        try:
            files.frames.append((path, read_snapshot_csv(path, header)))
        except (OSError, ValueError, csv.Error) as error:
            files.quarantined[str(path)] = str(error)
    return files


def prices_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot price CSV (as text) as vintage rows: raw.prices columns + vintage and line."""
    return frame.rename(columns={"ticker": "symbol"})[
        ["symbol", "date", "open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits",
         "currency", "price_basis", "vintage", "line"]
    ]  # fmt: skip


def _scaled(value: str, unit: str) -> tuple[float | None, str | None]:
    """Exact decimal scaling of a snapshot value to base units: '280.154' billion -> 280154000000."""
    try:
        number = Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None, None
    if unit in UNIT_SCALES:
        multiplier, raw_unit = UNIT_SCALES[unit]
        return float(number * multiplier), raw_unit
    if unit.lower().endswith("_per_share"):
        return float(number), "per_share"
    if unit.lower().endswith("_per_ads"):
        return float(number), "per_ads"
    return float(number), None  # unknown unit: validation rejects it, naming the unit


def _statement_of(line_item: str, period_type: str) -> str:
    if period_type == "instant":
        return "balance"
    if line_item.startswith(CASHFLOW_PREFIXES):
        return "cashflow"
    return "income"


def statements_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot fundamentals CSV (as text) as a statements frame, each row with its original text."""
    if frame.empty:
        return empty_statements().assign(_original=pd.Series(dtype="object"))
    rows = []
    for record in frame.to_dict(orient="records"):
        value, unit = _scaled(record["value"], record.get("unit") or "")
        fiscal_period = record["fiscal_period"] or ""
        period_type = record["period_type"]
        if period_type == "instant":
            # Balance-sheet instants belong to the quarter or year their fiscal period names.
            period_type = "quarterly" if fiscal_period.startswith("Q") else "annual"
        original = {k: v for k, v in record.items() if k in STATEMENT_HEADER or k in ("vintage", "line")}
        rows.append(
            {
                "symbol": record["company_ticker"],
                # A recorded Yahoo run names the statement; the market sample leaves it to us.
                "statement": record.get("statement") or _statement_of(record["line_item"], record["period_type"]),
                "period_type": period_type,
                "fiscal_period": fiscal_period or None,
                "period_start": record["period_start"] or None,
                "period_end": record["period_end"],
                "filed_date": record["filed_date"] or None,
                "line_item": record["line_item"],
                "value": value,
                "currency": record["currency"] or None,
                "unit": unit if unit is not None else f"unknown:{record.get('unit') or ''}",
                # the filing, where a landed EDGAR batch names it
                "accn": record.get("accn") or None,
                "form": record.get("form") or None,
                "_original": json.dumps(original, sort_keys=True),
            }
        )
    return pd.DataFrame(rows, columns=[*empty_statements().columns, "_original"])
