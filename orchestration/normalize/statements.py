"""Financial statements: the long frame of raw.financial_statements, and its validation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS

STATEMENTS = {"income", "balance", "cashflow"}
PERIOD_TYPES = {"quarterly", "annual"}
UNITS = {"amount", "shares", "per_share", "per_ads"}
# Currencies as ISO 4217: Chinese filings say RMB, markets quote CNY.
CURRENCY_ALIASES = {"RMB": "CNY"}


def empty_statements() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINANCIAL_STATEMENTS.data_columns})


def coerce_statement_types(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[FINANCIAL_STATEMENTS.data_columns].copy()
    for column in ("period_start", "period_end", "filed_date"):
        # an unreadable date becomes missing: the row is then rejected with a reason, not the file
        out[column] = pd.to_datetime(out[column], errors="coerce", format="mixed").dt.date
        out[column] = out[column].astype("object").where(out[column].notna(), None)
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["currency"] = out["currency"].replace(CURRENCY_ALIASES)
    for column in ("symbol", "statement", "period_type", "fiscal_period", "line_item", "currency", "unit"):
        out[column] = out[column].astype("object").where(out[column].notna(), None)
    return out.reset_index(drop=True)


def validate_statements(frame: pd.DataFrame, as_of: date) -> Validated:
    original = frame[FINANCIAL_STATEMENTS.data_columns].reset_index(drop=True)  # rejects keep the row as it came
    frame = coerce_statement_types(frame)
    value = frame["value"]
    is_amount = frame["unit"].isin(["amount", "per_share", "per_ads"])
    currency = frame["currency"].astype("str")
    currency_ok = frame["currency"].notna() & currency.str.fullmatch("[A-Z]{3}").fillna(False)
    period_end = pd.to_datetime(frame["period_end"])
    filed_date = pd.to_datetime(frame["filed_date"])
    checks = [
        ("missing_key_field", frame[["symbol", "line_item", "period_end"]].isna().any(axis=1)
         | frame["symbol"].eq("") | frame["line_item"].eq("")),
        ("non_finite_value", ~np.isfinite(value.fillna(np.nan)) | value.isna()),
        ("unknown_statement", ~frame["statement"].isin(STATEMENTS)),
        ("unknown_period_type", ~frame["period_type"].isin(PERIOD_TYPES)),
        ("unknown_unit", ~frame["unit"].isin(UNITS)),
        ("amount_without_currency", is_amount & ~currency_ok),
        ("period_end_in_future", period_end > pd.Timestamp(as_of)),  # NaT compares False
        ("filed_before_period_end", filed_date < period_end),
        ("duplicate_key", frame.duplicated(subset=list(FINANCIAL_STATEMENTS.key), keep="first")),
    ]
    reasons = first_reason(frame, checks)
    return Validated(
        rows=frame[reasons.isna()].reset_index(drop=True),
        rejected=rejected_rows("financial_statements", original, reasons),
    )
