"""yfinance 1.x frames -> the normalized frames of the raw layer. Pure functions, no network.

Shapes, as yfinance 1.7 returns them (read from its source and from its parsing of the recorded
responses in ../shared/yahoo-recorded):
- `Ticker.history(auto_adjust=False, actions=True)` (daily): columns Open, High, Low, Close,
  Adj Close, Volume, Dividends, Stock Splits (Capital Gains for funds); index the session's date
  at midnight in the exchange's time zone. `history_metadata["currency"]` is the price currency.
- `Ticker.get_income_stmt / get_balance_sheet / get_cash_flow(freq=..., pretty=False)`: line
  items (camelCase, e.g. TotalRevenue) as rows, period ends as columns, newest first. The
  per-point `currencyCode` of the fundamentals-timeseries payload is dropped by yfinance; the
  session keeps it (`timeseries_currencies`).
- `Ticker.calendar`: a dict whose "Earnings Date" lists the scheduled (or just past) release dates.
- `Ticker.info`: a flat dict; keys come and go.

Yahoo reports a company's share counts and per-share figures in units of the listing it was asked
for: through BABA (one ADS = 8 ordinary shares) the counts are ADS-equivalents and EPS is per ADS,
in RMB although labelled USD (Alibaba's June 2023 quarter: diluted EPS 13.28 = RMB 13.28 per ADS
in its results release). So counts are multiplied by the listing's shares per unit, per-share
figures are tagged per_ads, and every amount takes the reporting currency from universe.yml.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

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
# A quarter's figures are matched to the first release within this many days after its end.
RELEASE_WINDOW_DAYS = 120


def prices_from_history(frame: pd.DataFrame | None, instrument: Instrument) -> pd.DataFrame:
    """A `Ticker.history(auto_adjust=False, actions=True)` frame as normalized price rows, dated
    by the session (the index's own exchange-local date, not shifted to UTC)."""
    if frame is None or frame.empty:
        return empty_prices()
    index = pd.DatetimeIndex(frame.index)
    long = frame.rename(columns=DOWNLOAD_COLUMNS).reset_index(drop=True)
    for column in DOWNLOAD_COLUMNS.values():
        if column not in long:
            long[column] = float("nan")  # schema drift: a dropped column arrives as unknown
    long["date"] = [stamp.date() for stamp in index]
    long["symbol"] = instrument.symbol
    long["currency"] = instrument.currency
    long["price_basis"] = instrument.price_basis
    long = long[long[BAR_COLUMNS].notna().any(axis=1)]
    return coerce_price_types(long.sort_values("date")).rename_axis(columns=None)


def events_in(frame: pd.DataFrame | None) -> list[str]:
    """The dividends and splits a history frame holds, as "split 2021-07-20 4:1" lines."""
    if frame is None or frame.empty:
        return []
    events = []
    for column, kind in (("Stock Splits", "split"), ("Dividends", "dividend")):
        if column in frame:
            for stamp, value in frame[column][frame[column].fillna(0) != 0].items():
                events.append(f"{kind} {pd.Timestamp(stamp).date()} {value:g}")
    return events


def price_currency_mismatch(instrument: Instrument, yahoo_currency: str | None) -> str | None:
    """Why Yahoo's price currency disagrees with universe.yml, or None. An index is quoted in
    points and an FX pair in its quote currency (HKD for USDHKD=X)."""
    if instrument.price_basis == "index" or not yahoo_currency:
        return None
    expected = instrument.currency.split("_per_")[0]
    if yahoo_currency != expected:
        return f"Yahoo quotes {instrument.symbol} in {yahoo_currency}, universe.yml says {expected}"
    return None


def timeseries_currencies(payload: Mapping) -> Counter:
    """Currency codes of the amounts in a fundamentals-timeseries payload, counted."""
    counts: Counter = Counter()
    for series in (payload.get("timeseries") or {}).get("result") or []:
        for kind in (series.get("meta") or {}).get("type") or []:
            if SHARE_LINE_ITEMS.search(kind) or PER_SHARE_LINE_ITEMS.search(kind):
                continue  # counts carry no currency; per-share labels are unreliable (see above)
            for point in series.get(kind) or []:
                if point and point.get("currencyCode"):
                    counts[point["currencyCode"]] += 1
    return counts


def release_dates(calendar: Mapping | None) -> list[date]:
    """The earnings dates of `Ticker.calendar`, oldest first."""
    return sorted({d for d in (calendar or {}).get("Earnings Date") or [] if isinstance(d, date)})


def first_release_after(period_end: date, releases: Sequence[date]) -> date | None:
    """The release that published a quarter: the first one after its end, within the window."""
    for day in sorted(releases):
        if period_end < day <= period_end + timedelta(days=RELEASE_WINDOW_DAYS):
            return day
    return None


def _unit(line_item: str, per_listing_unit: bool) -> str:
    if PER_SHARE_LINE_ITEMS.search(line_item):
        return "per_ads" if per_listing_unit else "per_share"
    if SHARE_LINE_ITEMS.search(line_item):
        return "shares"
    return "amount"


def statement_rows(
    symbol: str,
    statement: str,
    period_type: str,
    frame: pd.DataFrame | None,
    currency: str | None,
    releases: Sequence[date] = (),
    shares_per_listing_unit: float = 1.0,
) -> pd.DataFrame:
    """One statement frame (line items x period ends) as long raw rows, fetched through a listing
    whose unit is `shares_per_listing_unit` ordinary shares.

    Share counts are restated in ordinary shares and per-share figures tagged per_ads when the
    unit is not one share (see the module docstring). Quarterly figures get the first known
    release after their period end as filed_date; annual figures and quarters without a known
    release keep filed_date null (dbt then applies the configured lag).
    """
    if frame is None or frame.empty:
        return empty_statements()
    rows = []
    for line_item, values in frame.iterrows():
        for period_end, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue  # Yahoo leaves a line item blank for periods it does not have
            end = pd.Timestamp(period_end).date()
            unit = _unit(str(line_item), shares_per_listing_unit != 1)
            if unit == "shares":
                value = float(value) * shares_per_listing_unit
            rows.append(
                {
                    "symbol": symbol,
                    "statement": statement,
                    "period_type": period_type,
                    "fiscal_period": None,
                    "period_start": None,
                    "period_end": end,
                    "filed_date": first_release_after(end, releases) if period_type == "quarterly" else None,
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
