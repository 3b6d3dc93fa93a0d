"""Stock splits: the events that put prices, per-share figures and share counts on one basis.

raw.stock_splits holds one row per (symbol, ex_date): `split_ratio` new shares per old share of the
listed instrument (10 = 10-for-1), Yahoo's `Stock Splits` value. Prices dated before `ex_date` are
divided by it and share counts multiplied. The sample names them in corporate_actions/splits.csv;
Yahoo in the `Stock Splits` column of its price history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import STOCK_SPLITS


def empty_splits() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in STOCK_SPLITS.data_columns})


def splits_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """corporate_actions/splits.csv (as text) as raw.stock_splits rows, still text."""
    return pd.DataFrame(
        {"symbol": frame["ticker"], "ex_date": frame["ex_date"], "split_ratio": frame["split_ratio"]},
        columns=STOCK_SPLITS.data_columns,
    ).reset_index(drop=True)


def splits_from_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """Split events carried by price rows (Yahoo's `Stock Splits` column; 0 means none)."""
    ratio = pd.to_numeric(prices["stock_splits"], errors="coerce")
    events = prices[ratio.notna() & (ratio > 0) & (ratio != 1)]
    return pd.DataFrame(
        {"symbol": events["symbol"], "ex_date": events["date"], "split_ratio": ratio[events.index]},
        columns=STOCK_SPLITS.data_columns,
    ).reset_index(drop=True)


def validate_splits(frame: pd.DataFrame) -> Validated:
    original = frame[STOCK_SPLITS.data_columns].reset_index(drop=True)
    typed = original.copy()
    as_text = typed["ex_date"].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
    typed["ex_date"] = pd.to_datetime(as_text, errors="coerce", format="%Y-%m-%d").dt.date
    typed["split_ratio"] = pd.to_numeric(typed["split_ratio"], errors="coerce").astype("float64")
    ratio = typed["split_ratio"]
    checks = [
        ("missing_symbol", typed["symbol"].isna() | typed["symbol"].astype("str").str.strip().eq("")),
        ("unparseable_date", typed["ex_date"].isna()),
        ("non_positive_split_ratio", ratio.isna() | ~np.isfinite(ratio.fillna(np.nan)) | (ratio <= 0)),
    ]
    reasons = first_reason(typed, checks)
    valid = reasons.isna()
    # the same event twice is one event; two ratios for one day are a conflict, both held back
    keyed = typed[valid]
    repeated = keyed.duplicated(subset=["symbol", "ex_date"], keep=False)
    conflicting = repeated & ~keyed.duplicated(subset=["symbol", "ex_date", "split_ratio"], keep=False)
    reasons[keyed.index[conflicting]] = "conflicting_duplicate"
    rows = typed[reasons.isna()].drop_duplicates(subset=["symbol", "ex_date"])
    return Validated(rows=rows.reset_index(drop=True), rejected=rejected_rows("stock_splits", original, reasons))
