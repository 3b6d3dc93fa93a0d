"""Financial statements: the long frame of raw.financial_statements, and its validation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS

STATEMENTS = {"income", "balance", "cashflow"}
PERIOD_TYPES = {"quarterly", "annual"}
UNITS = {"amount", "shares", "ads", "per_share", "per_ads"}  # ads: a count of depositary shares
# Currencies as ISO 4217: Chinese filings say RMB, markets quote CNY.
CURRENCY_ALIASES = {"RMB": "CNY"}


def empty_statements() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in FINANCIAL_STATEMENTS.data_columns})


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates only (YYYY-MM-DD); anything else, 2025-02-30 included, is missing."""
    as_text = values.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v).astype("object")
    parsed = pd.to_datetime(as_text, errors="coerce", format="%Y-%m-%d").dt.date
    return parsed.astype("object").where(parsed.notna(), None)


# Columns only some sources fill (the filing of an EDGAR fact): absent from a frame, they are null.
OPTIONAL_COLUMNS = ("accn", "form")


def with_optional_columns(frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in OPTIONAL_COLUMNS if c not in frame.columns]
    return frame.assign(**{c: None for c in missing}) if missing else frame


def coerce_statement_types(frame: pd.DataFrame) -> pd.DataFrame:
    frame = with_optional_columns(frame)
    extra = [c for c in ("_original",) if c in frame.columns]
    out = frame[FINANCIAL_STATEMENTS.data_columns + extra].copy()
    for column in ("period_start", "period_end", "filed_date"):
        out[column] = _parse_dates(out[column])
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out["currency"] = out["currency"].replace(CURRENCY_ALIASES)
    for column in ("symbol", "statement", "period_type", "fiscal_period", "line_item", "currency", "unit", *OPTIONAL_COLUMNS):
        out[column] = out[column].astype("object").where(out[column].notna(), None)
    return out.reset_index(drop=True)


# A figure more than this multiple of the median size of its own other periods is held back.
IMPLAUSIBLE_MULTIPLE = 20


def _implausible(frame: pd.DataFrame) -> pd.Series:
    """Amounts far outside their own history (same company, line item, period type and unit):
    more than IMPLAUSIBLE_MULTIPLE times the median size of the group's *other* figures (groups of
    four or more). A typo of three zeros, not a business that grew twentyfold in a quarter.

    Vectorized: within each group sorted by size, the median without the row itself is read off
    the sorted sizes at the positions that skip the row (millions of rows in seconds)."""
    flagged = pd.Series(False, index=frame.index)
    keys = ["symbol", "line_item", "period_type", "unit"]
    subset = frame[frame["unit"].isin(["amount", "shares"])]
    if subset.empty:
        return flagged
    work = subset[keys].astype("object").where(subset[keys].notna(), "")
    work["size"] = subset["value"].abs().to_numpy(dtype="float64")
    work = work.sort_values([*keys, "size"], kind="mergesort")
    groups = work.groupby(keys, sort=False)
    n = groups["size"].transform("size").to_numpy()
    k = groups.cumcount().to_numpy()  # the row's position in its group, by size
    start = np.arange(len(work)) - k
    sizes = work["size"].to_numpy()
    big = n >= 4

    def others(j: np.ndarray) -> np.ndarray:
        """The j-th smallest size of the group once the row itself is left out."""
        position = np.where(j < k, j, j + 1)
        return sizes[start + np.minimum(position, n - 1)]  # small groups: any index of their own, unused

    half = (n - 1) // 2
    typical = np.where((n - 1) % 2 == 1, others(half), (others(np.maximum(half - 1, 0)) + others(half)) / 2)
    hit = big & (typical > 0) & (sizes > IMPLAUSIBLE_MULTIPLE * typical)
    flagged[work.index[hit]] = True
    return flagged


def validate_statements(frame: pd.DataFrame, as_of: date, known_currencies: set[str] | None = None) -> Validated:
    """Valid statement rows, and rejected ones with their reason and their original text.

    `known_currencies`: the ISO codes the universe knows (reporting and trading currencies); an
    amount in any other currency cannot be converted and is rejected here, naming the row, instead
    of stopping every mart downstream.
    """
    frame = with_optional_columns(frame)
    has_original = "_original" in frame.columns
    original = frame[FINANCIAL_STATEMENTS.data_columns + (["_original"] if has_original else [])]
    original = original.reset_index(drop=True)
    typed = coerce_statement_types(original)
    value = typed["value"]
    is_amount = typed["unit"].isin(["amount", "per_share", "per_ads"])
    currency = typed["currency"].astype("str")
    currency_ok = typed["currency"].notna() & currency.str.fullmatch("[A-Z]{3}").fillna(False)
    if known_currencies is not None:
        currency_ok &= typed["currency"].isin(known_currencies)
    period_start = pd.to_datetime(typed["period_start"])
    period_end = pd.to_datetime(typed["period_end"])
    filed_date = pd.to_datetime(typed["filed_date"])

    def unreadable(column: str) -> pd.Series:
        text = original[column].astype("str").str.strip()
        return original[column].notna() & text.ne("") & text.ne("None") & typed[column].isna()

    checks = [
        ("missing_key_field", typed[["symbol", "line_item"]].isna().any(axis=1)
         | typed["symbol"].eq("") | typed["line_item"].eq("")),
        ("unparseable_date", unreadable("period_start") | unreadable("filed_date") | typed["period_end"].isna()),
        ("unparseable_value", value.isna() | ~np.isfinite(value.fillna(np.nan))),
        ("unknown_statement", ~typed["statement"].isin(STATEMENTS)),
        ("unknown_period_type", ~typed["period_type"].isin(PERIOD_TYPES)),
        ("unknown_unit", ~typed["unit"].isin(UNITS)),
        ("unknown_currency", is_amount & ~currency_ok),
        ("negative_share_count", typed["unit"].isin(["shares", "ads"]) & (value < 0)),
        ("period_ends_before_it_starts", period_start >= period_end),
        ("period_end_in_future", period_end > pd.Timestamp(as_of)),  # NaT compares False
        ("filed_before_period_end", filed_date < period_end),
        ("filed_in_future", filed_date > pd.Timestamp(as_of)),
    ]  # fmt: skip
    reasons = first_reason(typed, checks)

    # Among valid rows: one key (the same figure of the same document) with two different values
    # is a conflict. No rule says which is right, so both are held back and the stored value stays.
    key = list(FINANCIAL_STATEMENTS.key)
    valid = reasons.isna()
    candidates = typed[valid]
    repeated = candidates.duplicated(subset=key, keep=False)
    same = candidates.duplicated(subset=key + ["value", "currency", "unit"], keep=False)
    reasons[candidates.index[repeated & ~same]] = "conflicting_duplicate"

    # A figure that names its filing (an EDGAR fact's accn) is that filing's own, not a typed-in
    # copy: over the decade of history EDGAR gives, growth past the multiple is common (Tesla's net
    # income from -50 million to 3.3 billion a quarter; its share count over two splits).
    valid = reasons.isna() & typed["accn"].isna()
    reasons[_implausible(typed[valid]).loc[lambda f: f].index] = "implausible_value"

    ok = reasons.isna()
    rows = typed[ok].drop_duplicates(subset=key)[FINANCIAL_STATEMENTS.data_columns]
    return Validated(
        rows=rows.reset_index(drop=True),
        rejected=rejected_rows("financial_statements", original, reasons),
    )
