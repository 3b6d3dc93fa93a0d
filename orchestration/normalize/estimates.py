"""Analysts' consensus and the source's own quoted figures: snapshot rows -> typed raw rows, with rejects.

Both sources hand over the same frames: raw.consensus_estimates' and raw.vendor_figures' columns,
as text (a snapshot file) or as numbers (Yahoo). Validation types them and rejects, with a named
reason, what cannot be a row; the rows are never used in our own figures except through dbt.

The snapshot layout (`consensus/` of ../shared/market-sample, and what a recorded Yahoo run writes):
*earnings_trend_*.csv:  symbol,snapshot_at,period,end_date,eps_avg,...,eps_trend_currency,source_file
*quoted_figures_*.csv:  symbol,snapshot_at,module,field,value,source_file (long; a module's own
                        currency is a row of its own, `currency` / `financialCurrency`)
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import CONSENSUS_ESTIMATES, CONSENSUS_PERIODS, VENDOR_FIGURES, VENDOR_MODULES

ESTIMATES_HEADER = [c for c in CONSENSUS_ESTIMATES.data_columns if c != "snapshot_date"]
VENDOR_HEADER = ["symbol", "snapshot_at", "module", "field", "value"]
ESTIMATES_FILES = "*earnings_trend_*.csv"
VENDOR_FILES = "*quoted_figures_*.csv"
# The field in which a module states its own currency: not a figure, the `currency` of the module's rows.
MODULE_CURRENCY_FIELDS = {"summaryDetail": "currency", "price": "currency", "financialData": "financialCurrency"}

COUNT_COLUMNS = ["eps_analysts", "revenue_analysts"]
TEXT_COLUMNS = ["symbol", "period", "eps_currency", "revenue_currency", "eps_trend_currency"]
NUMBER_COLUMNS = [c for c, t in CONSENSUS_ESTIMATES.columns.items() if t == "double"]
# each currency, and the estimates it is the currency of: a figure without its currency cannot be read
CURRENCY_OF = {
    "eps_currency": ["eps_avg", "eps_low", "eps_high", "eps_year_ago"],
    "revenue_currency": ["revenue_avg", "revenue_low", "revenue_high"],
    "eps_trend_currency": ["eps_trend_current", "eps_trend_7d_ago", "eps_trend_30d_ago", "eps_trend_60d_ago", "eps_trend_90d_ago"],
}


def empty_estimates() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in CONSENSUS_ESTIMATES.data_columns})


def empty_vendor_figures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in VENDOR_FIGURES.data_columns})


def utc_timestamps(values: pd.Series) -> pd.Series:
    """Moments as naive UTC timestamps ('2025-02-24T09:35:30Z', an aware or a naive UTC datetime); NaT where unreadable."""
    stamps = pd.to_datetime(values.astype("object").where(values.notna(), None), errors="coerce", utc=True, format="mixed")
    return stamps.dt.tz_convert(None)


def _snapshot_dates(snapshot_at: pd.Series) -> pd.Series:
    return pd.Series([s.date() if pd.notna(s) else None for s in snapshot_at], index=snapshot_at.index, dtype="object")


def _originals(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [json.dumps({k: v for k, v in r.items() if k in columns}, sort_keys=True) for r in frame.to_dict(orient="records")]


def _blank_as_null(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("object").where(frame.notna() & frame.ne(""), None)


def estimates_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot earnings-trend CSV (as text) as estimate rows (still text), each with its original row."""
    if frame.empty:
        return empty_estimates().assign(_original=pd.Series(dtype="object"))
    out = _blank_as_null(frame[ESTIMATES_HEADER]).reset_index(drop=True)
    out["snapshot_date"] = _snapshot_dates(utc_timestamps(out["snapshot_at"]))
    out["_original"] = _originals(frame, [*ESTIMATES_HEADER, "source_file", "vintage", "line"])
    return out[[*CONSENSUS_ESTIMATES.data_columns, "_original"]]


def vendor_figures_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot quoted-figures CSV (long, as text) as vendor rows: each module's own currency row
    (`summaryDetail.currency`, `price.currency`, `financialData.financialCurrency`) becomes the
    `currency` of that module's rows, as the Yahoo source does with the same fields."""
    if frame.empty:
        return empty_vendor_figures().assign(_original=pd.Series(dtype="object"))
    rows = _blank_as_null(frame[VENDOR_HEADER]).reset_index(drop=True)
    rows["_original"] = _originals(frame, [*VENDOR_HEADER, "source_file", "vintage", "line"])
    is_currency = [MODULE_CURRENCY_FIELDS.get(m) == f for m, f in zip(rows["module"], rows["field"])]
    currencies = rows[is_currency]
    # the module's currency as its own snapshot stated it (symbol, moment and module)
    stated = {(s, t, m): v for s, t, m, v in currencies[["symbol", "snapshot_at", "module", "value"]].itertuples(index=False)}
    figures = rows[[not c for c in is_currency]].reset_index(drop=True)
    figures["currency"] = [stated.get(key) for key in figures[["symbol", "snapshot_at", "module"]].itertuples(index=False, name=None)]
    figures["snapshot_date"] = _snapshot_dates(utc_timestamps(figures["snapshot_at"]))
    return figures[[*VENDOR_FIGURES.data_columns, "_original"]]


def _numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as floats, and where a value was given but is not a finite number ('n/a', 'Infinity')."""
    given = values.notna() & values.astype("object").ne("")
    numbers = pd.to_numeric(values.astype("object").where(given, None), errors="coerce").astype("float64")
    finite = pd.Series(np.isfinite(numbers.to_numpy()), index=values.index)
    return numbers.where(finite), given & ~finite


def _missing_symbol_or_date(frame: pd.DataFrame) -> pd.Series:
    return frame["symbol"].isna() | frame["symbol"].eq("") | frame["snapshot_at"].isna() | frame["snapshot_date"].isna()


def _future(frame: pd.DataFrame, as_of: date | None) -> pd.Series:
    return frame["snapshot_date"].map(lambda d: as_of is not None and not pd.isna(d) and d > as_of).astype(bool)


def _typed_text(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        frame[column] = frame[column].astype("object").where(frame[column].notna() & frame[column].ne(""), None)


def _duplicates(frame: pd.DataFrame, reasons: pd.Series, key: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Among the rows otherwise good, one key seen more than once: the same row twice is one row
    (the copies are dropped, not rejected); of two snapshots of one day the later stands and the
    earlier is rejected `duplicate_key`; two different rows of one key and one moment are a
    conflict, both rejected `duplicate_key` (what is stored stays). Returns the reasons and the copies."""
    good = reasons.isna()
    copies = pd.Series(False, index=frame.index)
    copies[good] = frame[good].astype("object").duplicated(keep="first")
    rows = frame[good & ~copies]
    latest = rows.groupby(list(key), dropna=False)["snapshot_at"].transform("max")
    superseded = rows["snapshot_at"] < latest
    conflicting = rows[~superseded].duplicated(subset=list(key), keep=False)
    rejected = pd.Series(False, index=frame.index)
    rejected[superseded[superseded].index] = True
    rejected[conflicting[conflicting].index] = True
    return reasons.where(~rejected, "duplicate_key"), copies


def validate_estimates(frame: pd.DataFrame, as_of: date | None = None) -> Validated:
    """Reject what cannot be a consensus row, each with the first reason that applies:
    missing_symbol_or_date, future_date, unknown_period, non_numeric_value (a figure that is not a
    number, an analyst count that is not a whole one), negative_analyst_count, eps_low_above_high,
    revenue_low_above_high, missing_currency (an estimate without its currency), duplicate_key
    (see _duplicates)."""
    original = frame.reset_index(drop=True)
    frame = original[CONSENSUS_ESTIMATES.data_columns].copy()
    frame["snapshot_at"] = utc_timestamps(frame["snapshot_at"])
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"], errors="coerce", format="mixed").dt.date
    frame["end_date"] = pd.to_datetime(frame["end_date"].where(frame["end_date"].ne(""), None), errors="coerce", format="mixed").dt.date
    _typed_text(frame, TEXT_COLUMNS)
    non_numeric = pd.Series(False, index=frame.index)
    for column in NUMBER_COLUMNS:
        frame[column], bad = _numbers(frame[column])
        non_numeric |= bad
    for column in COUNT_COLUMNS:
        counts, bad = _numbers(frame[column])
        non_numeric |= bad | (counts.notna() & (counts != counts.round()))
        frame[column] = counts.round().astype("Int64")
    non_numeric |= original["end_date"].notna() & original["end_date"].ne("") & pd.Series(frame["end_date"]).isna()
    missing_currency = pd.Series(False, index=frame.index)
    for currency, figures in CURRENCY_OF.items():
        missing_currency |= frame[currency].isna() & frame[figures].notna().any(axis=1)
    checks = [
        ("missing_symbol_or_date", _missing_symbol_or_date(frame)),
        ("future_date", _future(frame, as_of)),
        ("unknown_period", ~frame["period"].isin(CONSENSUS_PERIODS)),
        ("non_numeric_value", non_numeric),
        ("negative_analyst_count", (frame["eps_analysts"] < 0) | (frame["revenue_analysts"] < 0)),
        ("eps_low_above_high", frame["eps_low"] > frame["eps_high"]),
        ("revenue_low_above_high", frame["revenue_low"] > frame["revenue_high"]),
        ("missing_currency", missing_currency),
    ]
    reasons = first_reason(frame, checks)
    reasons, copies = _duplicates(frame, reasons, CONSENSUS_ESTIMATES.key)
    rows = frame[reasons.isna() & ~copies].reset_index(drop=True)
    return Validated(rows=rows, rejected=rejected_rows("consensus_estimates", original, reasons))


def validate_vendor_figures(frame: pd.DataFrame, as_of: date | None = None) -> Validated:
    """Reject what cannot be a quoted figure: missing_symbol_or_date, future_date, unknown_module,
    missing_field, non_numeric_value (a value that is not a number, or none), duplicate_key
    (see _duplicates)."""
    original = frame.reset_index(drop=True)
    frame = original[VENDOR_FIGURES.data_columns].copy()
    frame["snapshot_at"] = utc_timestamps(frame["snapshot_at"])
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"], errors="coerce", format="mixed").dt.date
    _typed_text(frame, ["symbol", "module", "field", "currency"])
    frame["value"], non_numeric = _numbers(frame["value"])
    checks = [
        ("missing_symbol_or_date", _missing_symbol_or_date(frame)),
        ("future_date", _future(frame, as_of)),
        ("unknown_module", ~frame["module"].isin(VENDOR_MODULES)),
        ("missing_field", frame["field"].isna()),
        ("non_numeric_value", non_numeric | frame["value"].isna()),
    ]
    reasons = first_reason(frame, checks)
    reasons, copies = _duplicates(frame, reasons, VENDOR_FIGURES.key)
    rows = frame[reasons.isna() & ~copies].reset_index(drop=True)
    return Validated(rows=rows, rejected=rejected_rows("vendor_figures", original, reasons))
