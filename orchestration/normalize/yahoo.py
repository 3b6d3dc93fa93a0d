"""yfinance 1.x frames -> the normalized frames of the raw layer. Pure functions, no network.

Shapes, as yfinance 1.7 returns them:
- `yf.download([...], auto_adjust=False, actions=True)` (daily): columns MultiIndex (Price, Ticker)
  with Price in Open, High, Low, Close, Adj Close, Volume, Dividends, Stock Splits; index the
  exchange-local trading date (tz removed by `ignore_tz`, the default for daily bars), the union
  of all tickers' dates: a ticker without a bar on a date has an all-NaN row there.
  A ticker that failed (bad symbol, rate limit, network) comes back all-NaN: its error is only
  logged, as "['SYM', ...]: <error>", on the `yfinance` logger.
- `Ticker.get_income_stmt / get_balance_sheet / get_cash_flow(freq=..., pretty=False)`: line
  items (camelCase, e.g. TotalRevenue) as rows, period ends (tz-naive Timestamps, newest first)
  as columns, floats in the statement currency (Ticker.info["financialCurrency"]).
- `Ticker.get_earnings_dates(limit)`: index "Earnings Date" (tz-aware), columns EPS Estimate,
  Reported EPS, Surprise(%).
- `Ticker.info`: a flat dict; keys come and go.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time

import pandas as pd

from orchestration.normalize.prices import coerce_price_types, empty_prices
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.statements import coerce_statement_types, empty_statements
from orchestration.instruments import Instrument

DOWNLOAD_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
    "Dividends": "dividends",
    "Stock Splits": "stock_splits",
}
BAR_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume"]

# raw.company_profiles column -> Ticker.info keys to try, first present wins (Yahoo renames keys).
PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("longName", "shortName"),
    "exchange": ("exchange", "fullExchangeName"),
    "currency": ("currency",),
    "financial_currency": ("financialCurrency",),
    "sector": ("sector", "sectorDisp"),
    "industry": ("industry", "industryDisp"),
    "country": ("country",),
    "shares_outstanding": ("sharesOutstanding", "impliedSharesOutstanding"),
    "market_cap": ("marketCap",),
    "trailing_pe": ("trailingPE",),
    "forward_pe": ("forwardPE",),
    "enterprise_value": ("enterpriseValue",),
}

SHARE_LINE_ITEMS = re.compile(r"(Shares|SharesNumber|AverageShares)$")
PER_SHARE_LINE_ITEMS = re.compile(r"EPS$")
# US session open: an earnings release at or after it can only move the next session's close.
RELEASE_CUTOFF = time(9, 30)


def prices_from_download(frame: pd.DataFrame, instruments: Sequence[Instrument]) -> pd.DataFrame:
    """A `yf.download(..., auto_adjust=False, actions=True)` frame as normalized long price rows."""
    if frame is None or frame.empty or not isinstance(frame.columns, pd.MultiIndex):
        return empty_prices()
    by_symbol = {instrument.symbol: instrument for instrument in instruments}
    price_level = 0 if set(frame.columns.get_level_values(0)) & set(DOWNLOAD_COLUMNS) else 1
    long = frame.stack(level=1 - price_level, future_stack=True)
    long.index.names = ["date", "symbol"]
    long = long.rename(columns=DOWNLOAD_COLUMNS).reset_index()
    for column in DOWNLOAD_COLUMNS.values():
        if column not in long:
            long[column] = float("nan")  # schema drift: a dropped column arrives as unknown
    # The union index gives every ticker a row on every ticker's dates: no bar there, no row.
    long = long[long[BAR_COLUMNS].notna().any(axis=1)]
    long = long[long["symbol"].isin(by_symbol)]
    # One ticker's repeated date is repeated for every ticker of the batch by yfinance's union
    # index: identical rows are artifacts; conflicting ones stay and validation rejects them.
    long = long.drop_duplicates()
    long["currency"] = long["symbol"].map(lambda s: by_symbol[s].currency)
    long["price_basis"] = long["symbol"].map(lambda s: by_symbol[s].price_basis)
    long["date"] = pd.to_datetime(long["date"]).dt.tz_localize(None) if getattr(
        long["date"].dt, "tz", None) else pd.to_datetime(long["date"])  # fmt: skip
    return coerce_price_types(long.sort_values(["symbol", "date"])).rename_axis(columns=None)


def download_errors(messages: Iterable[str]) -> dict[str, str]:
    """Per-symbol errors from yfinance's log lines "['A', 'B']: <error>" after a download."""
    errors: dict[str, str] = {}
    for message in messages:
        match = re.match(r"^(\[.*?\]): (.*)$", message, flags=re.DOTALL)
        if not match:
            continue
        try:
            symbols = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            continue
        for symbol in symbols:
            errors[str(symbol)] = match.group(2).strip()
    return errors


def is_transient(error: str) -> bool:
    """Rate limits and network trouble are worth retrying; an unknown symbol is not."""
    text = error.lower()
    return any(
        marker in text
        for marker in ("ratelimit", "rate limit", "too many requests", "429", "timeout", "timed out",
                       "connection", "temporarily", "curl: (", "network")
    )  # fmt: skip


def publication_dates(earnings: pd.DataFrame | None, tz: str = "America/New_York") -> list[date]:
    """The first date whose close can reflect each earnings release, oldest first.

    A release during or after the session (at or after 09:30 New York time) can only move the
    next day's close, so it counts from the next day: no look-ahead.
    """
    if earnings is None or earnings.empty:
        return []
    released = earnings.get("Reported EPS")
    index = pd.DatetimeIndex(earnings.index)
    if released is not None:
        index = index[pd.notna(released.to_numpy())]  # future dates carry estimates only
    local = index.tz_convert(tz) if index.tz is not None else index
    dates = [
        (stamp + pd.Timedelta(days=1)).date() if stamp.time() >= RELEASE_CUTOFF else stamp.date() for stamp in local
    ]
    return sorted(set(dates))


def _first_publication_after(period_end: date, published: Sequence[date]) -> date | None:
    """The first release after a period's end, if it came within 120 days (else: unknown)."""
    for day in published:
        if period_end < day <= period_end + pd.Timedelta(days=120).to_pytimedelta():
            return day
    return None


def _unit(line_item: str) -> str:
    if PER_SHARE_LINE_ITEMS.search(line_item):
        return "per_share"
    if SHARE_LINE_ITEMS.search(line_item):
        return "shares"
    return "amount"


def statement_rows(
    symbol: str,
    statement: str,
    period_type: str,
    frame: pd.DataFrame | None,
    currency: str | None,
    published: Sequence[date] = (),
) -> pd.DataFrame:
    """One statement frame (line items x period ends) as long raw rows.

    Quarterly figures get the first earnings release after their period end as filed_date;
    annual figures and anything without a matching release keep filed_date null (dbt then
    applies the configured lag).
    """
    if frame is None or frame.empty:
        return empty_statements()
    rows = []
    for line_item, values in frame.iterrows():
        for period_end, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue  # Yahoo leaves a line item blank for periods it does not have
            end = pd.Timestamp(period_end).date()
            unit = _unit(str(line_item))
            rows.append(
                {
                    "symbol": symbol,
                    "statement": statement,
                    "period_type": period_type,
                    "fiscal_period": None,
                    "period_start": None,
                    "period_end": end,
                    "filed_date": _first_publication_after(end, published) if period_type == "quarterly" else None,
                    "line_item": str(line_item),
                    "value": float(value),
                    "currency": None if unit == "shares" else currency,
                    "unit": unit,
                }
            )
    if not rows:
        return empty_statements()
    return coerce_statement_types(pd.DataFrame(rows, columns=empty_statements().columns))


def profile_row(symbol: str, info: Mapping | None, snapshot_date: date) -> tuple[pd.DataFrame, list[str]]:
    """A profile from `Ticker.info`, and the fields none of whose keys were present (left null)."""
    info = info or {}
    row: dict[str, object] = {"symbol": symbol, "snapshot_date": snapshot_date}
    missing = []
    for column, keys in PROFILE_KEYS.items():
        value = next((info[key] for key in keys if info.get(key) is not None), None)
        if value is None:
            missing.append(column)
        row[column] = value
    return pd.DataFrame([row], columns=empty_profiles().columns), missing
