"""Company profiles: a daily snapshot of a fixed subset of Yahoo's `Ticker.info`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import COMPANY_PROFILES

NUMERIC_COLUMNS = ["shares_outstanding", "market_cap", "trailing_pe", "forward_pe", "enterprise_value"]


def empty_profiles() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COMPANY_PROFILES.data_columns})


def validate_profiles(
    frame: pd.DataFrame, as_of: date, currencies: Mapping[str, tuple[str, str]] | None = None
) -> Validated:
    """Reject what cannot be a profile. `currencies`: symbol -> (trading currency, reporting
    currency) from universe.yml; a profile that disagrees names another security or a wrong entry."""
    original = frame[COMPANY_PROFILES.data_columns].reset_index(drop=True)  # rejects keep the row as it came
    frame = original.copy()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"], errors="coerce", format="mixed").dt.date
    for column in NUMERIC_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in set(COMPANY_PROFILES.data_columns) - set(NUMERIC_COLUMNS) - {"snapshot_date"}:
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    checks = [
        ("missing_symbol_or_date", frame["symbol"].isna() | frame["symbol"].eq("") | frame["snapshot_date"].isna()),
        ("future_date", frame["snapshot_date"].map(lambda d: d is not None and d > as_of)),
        ("negative_shares_outstanding", frame["shares_outstanding"] < 0),
        ("duplicate_key", frame.duplicated(subset=list(COMPANY_PROFILES.key), keep="first")),
        ("currency_mismatch", _currency_mismatch(frame, currencies or {})),
    ]
    reasons = first_reason(frame, checks)
    return Validated(
        rows=frame[reasons.isna()].reset_index(drop=True),
        rejected=rejected_rows("company_profiles", original, reasons),
    )


def _currency_mismatch(frame: pd.DataFrame, currencies: Mapping[str, tuple[str, str]]) -> pd.Series:
    def wrong(row: pd.Series) -> bool:
        expected = currencies.get(row["symbol"])
        return expected is not None and any(
            value is not None and value != want
            for value, want in zip((row["currency"], row["financial_currency"]), expected)
        )

    return frame.apply(wrong, axis=1).astype(bool) if len(frame) else pd.Series(dtype=bool)
