"""The snapshot layout (`../shared/market-sample`, and what a recorded Yahoo run writes).

prices/*.csv:        date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis,...
fundamentals/*.csv:  company_ticker,fiscal_period,period_type,period_start,period_end,filed_date,
                     line_item,value,currency,unit,...
profiles/*.csv:      the columns of raw.company_profiles
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pandas as pd

from orchestration.normalize.prices import coerce_price_types
from orchestration.normalize.statements import empty_statements

PRICE_HEADER = ["date", "ticker", "currency", "open", "high", "low", "close", "adj_close", "volume",
                "dividends", "stock_splits", "price_basis"]  # fmt: skip
STATEMENT_HEADER = ["company_ticker", "fiscal_period", "period_type", "period_start", "period_end",
                    "filed_date", "line_item", "value", "currency", "unit"]  # fmt: skip

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
}
CASHFLOW_PREFIXES = ("capex", "depreciation", "amortization", "operating_cash_flow", "free_cash_flow")


def has_header(frame: pd.DataFrame, header: list[str]) -> bool:
    return list(frame.columns[: len(header)]) == header


def prices_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot price CSV (read with dtype=str) as a normalized price frame."""
    out = frame.rename(columns={"ticker": "symbol"})
    out = coerce_price_types(out)
    # An adjusted series has no separate adjusted close: its close already is one.
    adjusted = out["price_basis"].eq("adjusted") & out["adj_close"].isna()
    out.loc[adjusted, "adj_close"] = out.loc[adjusted, "close"]
    return out


def _scaled(value: str, unit: str) -> tuple[float | None, str | None]:
    """Exact decimal scaling of a snapshot value to base units: '280.154' billion -> 280154000000."""
    try:
        number = Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None, None
    if unit in UNIT_SCALES:
        multiplier, raw_unit = UNIT_SCALES[unit]
        return float(number * multiplier), raw_unit
    if unit.endswith("_per_share"):
        return float(number), "per_share"
    if unit.lower().endswith("_per_ads"):
        return float(number), "per_ads"
    return float(number), None  # unknown unit: validation rejects it


def _statement_of(line_item: str, period_type: str) -> str:
    if period_type == "instant":
        return "balance"
    if line_item.startswith(CASHFLOW_PREFIXES):
        return "cashflow"
    return "income"


def statements_from_snapshot(frame: pd.DataFrame) -> pd.DataFrame:
    """A snapshot fundamentals CSV (read with dtype=str) as a normalized statements frame."""
    if frame.empty:
        return empty_statements()
    rows = []
    for record in frame.to_dict(orient="records"):
        value, unit = _scaled(record["value"], record.get("unit") or "")
        fiscal_period = record["fiscal_period"] or ""
        period_type = record["period_type"]
        if period_type not in ("quarterly", "annual"):
            # Balance-sheet instants belong to the quarter or year their fiscal period names.
            period_type = "quarterly" if fiscal_period.startswith("Q") else "annual"
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
                "unit": unit,
            }
        )
    return pd.DataFrame(rows, columns=empty_statements().columns)
