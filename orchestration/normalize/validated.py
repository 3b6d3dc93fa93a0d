"""The result of validating a normalized frame: rows to load, and rows rejected with a reason."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.warehouse.schema import REJECTED_ROWS


@dataclass(frozen=True)
class Validated:
    rows: pd.DataFrame  # exactly the raw table's data columns
    rejected: pd.DataFrame  # exactly REJECTED_ROWS' data columns


def _json_value(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return _json_value(value.item())
    return value


def rejected_rows(dataset: str, frame: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """Rows of `frame` where `reasons` is set, as raw.rejected_rows with the original row as JSON."""
    bad = reasons.notna()
    if "_original" in frame.columns:  # the row exactly as its file wrote it
        payloads = list(frame.loc[bad, "_original"])
    else:
        records = frame[bad].to_dict(orient="records")
        payloads = [json.dumps({k: _json_value(v) for k, v in r.items()}, sort_keys=True) for r in records]
    symbols = frame.loc[bad, "symbol"].astype("object") if "symbol" in frame else [None] * len(records)
    out = pd.DataFrame(
        {
            "dataset": dataset,
            "symbol": list(symbols),
            "reason": list(reasons[bad]),
            "payload": payloads,
        },
        index=range(int(bad.sum())),
        columns=REJECTED_ROWS.data_columns,
    ).astype("object")
    # The same bad row seen twice in one batch is one rejection.
    return out.drop_duplicates(ignore_index=True)


def first_reason(frame: pd.DataFrame, checks: list[tuple[str, pd.Series]]) -> pd.Series:
    """The first failing check's name per row (None where every check passes)."""
    reasons = np.full(len(frame), None, dtype=object)
    for name, failed in reversed(checks):  # earlier checks overwrite later ones: the first wins
        mask = np.asarray(pd.Series(failed, index=frame.index).fillna(False), dtype=bool)
        if mask.any():
            reasons[mask] = name
    return pd.Series(reasons, index=frame.index, dtype="object")
