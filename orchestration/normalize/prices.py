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
    out["date"] = pd.to_datetime(out["date"], errors="coerce", format="mixed").dt.date  # unreadable: rejected
    for column in NUMERIC_COLUMNS:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ("currency", "price_basis"):
        out[column] = out[column].astype("object")
    return out.reset_index(drop=True)


def validate_prices(frame: pd.DataFrame, as_of: date, expected_currency: dict[str, str]) -> Validated:
    """Split a normalized price frame into loadable rows and rejected rows with reasons.

    `expected_currency` maps a listing's symbol to its trading currency (indices and FX are absent).
    """
    original = frame[PRICES.data_columns].reset_index(drop=True)  # rejects keep the row as it came
    frame = coerce_price_types(frame)
    close, low, high = frame["close"], frame["low"], frame["high"]
    slack_low = low.abs() * RANGE_TOLERANCE
    slack_high = high.abs() * RANGE_TOLERANCE
    # one lookup per distinct symbol, not per row
    codes, symbols = pd.factorize(frame["symbol"])
    expected = pd.Series(
        np.array([expected_currency.get(symbol) for symbol in symbols] + [None], dtype=object)[codes],
        index=frame.index,
    )
    checks = [
        ("missing_symbol_or_date", frame["symbol"].isna() | frame["symbol"].eq("") | frame["date"].isna()),
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
        ("future_date", pd.to_datetime(frame["date"]) > pd.Timestamp(as_of)),  # NaT compares False
        ("currency_mismatch", expected.notna() & (expected != frame["currency"])),
        ("duplicate_key", frame.duplicated(subset=list(PRICES.key), keep="first")),
    ]
    reasons = first_reason(frame, checks)
    return Validated(
        rows=frame[reasons.isna()].reset_index(drop=True),
        rejected=rejected_rows("prices", original, reasons),
    )


# A split shows as a whole-number ratio between two downloads' closes. Between a traded and a
# dividend-adjusted download the ratio is also off by the dividend factor, so allow that much.
SPLIT_TOLERANCE = 0.10


def _split_ratio(ratio: float) -> float:
    """The stock-split factor (1.0 for none) nearest to a price ratio between two downloads."""
    candidates = [1.0] + [float(n) for n in range(2, 51)] + [1.0 / n for n in range(2, 51)]
    nearest = min(candidates, key=lambda c: abs(ratio / c - 1))
    return nearest if abs(ratio / nearest - 1) < SPLIT_TOLERANCE else 1.0


def _median_ratio(numerator: pd.Series, denominator: pd.Series) -> float | None:
    """Median of numerator/denominator over their common dates (both indexed by date)."""
    common = numerator.index.intersection(denominator.index)
    if common.empty:
        return None
    return float((numerator[common] / denominator[common]).median())


def _adjusted(frame: pd.DataFrame) -> pd.Series:
    """A vintage's dividend-adjusted close by date (an adjusted download's close already is one)."""
    return frame["adj_close"].fillna(frame["close"])


def splice_vintages(vintages: list[pd.DataFrame]) -> pd.DataFrame:
    """Combine downloads of one symbol made at different times ("vintages") into one series.

    - Each day's close (and open, high, low, volume) is the traded one wherever any vintage has
      it (price_basis raw), newest vintage first; a dividend-adjusted close only fills days no raw
      vintage covers, and its rows say price_basis adjusted.
    - Every vintage is restated to the newest vintage's split basis: Yahoo restates history for
      splits, so an older download differs by a whole-number ratio (NVDA's 10:1 split of 2024).
    - adj_close is one continuous series on the newest vintage's adjustment basis. An older
      vintage's adjusted closes differ from it by the factor of the dividends paid between the two
      downloads, the same on every earlier day, so they are rescaled by the ratio on common days:
      returns show no step where vintages meet.
    """
    frames = [v.set_index("date", drop=False).sort_index() for v in vintages if len(v)]
    if not frames:
        return empty_prices()
    frames.sort(key=lambda v: v.index.max(), reverse=True)
    newest = frames[0]

    restated = []
    for frame in frames:
        frame = frame.copy()
        ratio = _median_ratio(newest["close"], frame["close"])
        split = _split_ratio(ratio) if ratio is not None else 1.0
        if split != 1.0:
            for column in ("open", "high", "low", "close", "adj_close"):
                frame[column] = frame[column] * split
            frame["volume"] = frame["volume"] / split
        restated.append(frame)

    # Traded closes first (newest raw vintage first), then adjusted-only vintages.
    by_priority = sorted(restated, key=lambda v: v["price_basis"].iloc[0] == "adjusted")
    combined = by_priority[0]
    for frame in by_priority[1:]:
        combined = pd.concat([combined, frame[~frame.index.isin(combined.index)]])
    combined = combined.sort_index()

    adjusted = _adjusted(restated[0])
    for frame in restated[1:]:
        older = _adjusted(frame)
        ratio = _median_ratio(adjusted, older)
        older = older * (ratio if ratio is not None else 1.0)
        adjusted = pd.concat([adjusted, older[~older.index.isin(adjusted.index)]]).sort_index()
    combined["adj_close"] = adjusted.reindex(combined.index).to_numpy()
    return combined.reset_index(drop=True)
