"""Daily prices: validation of the normalized long frame, and splicing of snapshot vintages.

A normalized price frame has exactly the columns of raw.prices (orchestration.warehouse.schema.PRICES).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import PRICES

NUMERIC_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits"]
# Relative slack for "close within [low, high]": adjusted series are float products of factors.
RANGE_TOLERANCE = 1e-6


def empty_prices() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PRICES.data_columns})


def coerce_price_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a price frame to its contract types (dates as datetime.date, numbers as float64)."""
    out = frame[PRICES.data_columns].copy()
    out["symbol"] = out["symbol"].astype("object")
    out["date"] = pd.to_datetime(out["date"]).dt.date
    for column in NUMERIC_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ("currency", "price_basis"):
        out[column] = out[column].astype("object")
    return out.reset_index(drop=True)


def validate_prices(frame: pd.DataFrame, as_of: date, expected_currency: dict[str, str]) -> Validated:
    """Split a normalized price frame into loadable rows and rejected rows with reasons.

    `expected_currency` maps a listing's symbol to its trading currency (indices and FX are absent).
    """
    frame = coerce_price_types(frame)
    close, low, high = frame["close"], frame["low"], frame["high"]
    slack_low = low.abs() * RANGE_TOLERANCE
    slack_high = high.abs() * RANGE_TOLERANCE
    expected = frame["symbol"].map(expected_currency)
    checks = [
        ("missing_symbol_or_date", frame["symbol"].isna() | frame["date"].isna()),
        ("missing_close", close.isna()),
        ("non_finite_price", ~np.isfinite(frame[["open", "high", "low", "close", "adj_close"]].fillna(0)).all(axis=1)),
        ("non_positive_close", close <= 0),
        ("high_below_low", high < low),
        # Yahoo's daily FX close is a fixing taken outside the bar's high/low window: only
        # traded instruments must close inside their range.
        (
            "close_outside_low_high",
            frame["price_basis"].ne("fx") & ((close < low - slack_low) | (close > high + slack_high)),
        ),
        ("negative_volume", frame["volume"] < 0),
        ("future_date", frame["date"].map(lambda d: d is not None and d > as_of)),
        ("currency_mismatch", expected.notna() & (expected != frame["currency"])),
        ("duplicate_key", frame.duplicated(subset=list(PRICES.key), keep="first")),
    ]
    reasons = first_reason(frame, checks)
    return Validated(
        rows=frame[reasons.isna()].reset_index(drop=True),
        rejected=rejected_rows("prices", frame, reasons),
    )


def _split_ratio(ratio: float) -> float | None:
    """The stock-split factor a price ratio between two vintages shows, if it is a clean one."""
    for n in range(2, 51):
        for candidate in (float(n), 1.0 / n):
            if abs(ratio / candidate - 1) < 1e-3:
                return candidate
    return None


def splice_vintages(vintages: list[pd.DataFrame]) -> pd.DataFrame:
    """Combine downloads of one symbol made at different times into one series.

    The newest vintage (latest last date) wins wherever it has data; each older vintage only
    fills dates before everything already covered. Yahoo restates history for splits, so an older
    vintage whose closes differ from the newer one's by a clean split ratio on their common dates
    is rescaled to the newer basis (NVDA's 10:1 split of 2024). Rows keep their own price_basis.
    """
    ordered = sorted((v for v in vintages if len(v)), key=lambda v: v["date"].max(), reverse=True)
    if not ordered:
        return empty_prices()
    combined = ordered[0]
    for older in ordered[1:]:
        overlap = combined.merge(older, on="date", suffixes=("_new", "_old"))
        fill = older[older["date"] < combined["date"].min()].copy()
        if len(overlap) and len(fill):
            ratio = float((overlap["close_new"] / overlap["close_old"]).median())
            split = _split_ratio(ratio)
            if split is not None:
                for column in ("open", "high", "low", "close", "adj_close"):
                    fill[column] = fill[column] * split
                fill["volume"] = fill["volume"] / split
        combined = pd.concat([fill, combined], ignore_index=True)
    return combined.sort_values("date", ignore_index=True)
