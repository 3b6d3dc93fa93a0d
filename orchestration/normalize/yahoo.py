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
- quoteSummary with modules earningsTrend, defaultKeyStatistics, summaryDetail, financialData,
  price (`formatted=false`): `earningsTrend.trend[]` holds one item per period (`0q`, `+1q`, `0y`,
  `+1y`, then longer ones yfinance ignores) with `endDate` and the blocks earningsEstimate,
  revenueEstimate, epsTrend, epsRevisions of {"raw": ..., "fmt": ...} values and a currency each;
  yfinance's `earnings_estimate` / `revenue_estimate` / `eps_trend` frames (index period) drop
  `endDate`. The other modules are flat numbers; summaryDetail and price state their `currency`,
  financialData its `financialCurrency`, defaultKeyStatistics none (BABA: its forwardPE 1.955 is
  the USD price over the CNY estimate).

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
from datetime import date, datetime, timedelta

import pandas as pd

from orchestration.normalize.estimates import MODULE_CURRENCY_FIELDS, empty_estimates, empty_vendor_figures
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


# ---------------------------------------------------------------- analysts' consensus, quoted figures

# The quoteSummary modules of one estimates request: the consensus and the figures Yahoo quotes.
ESTIMATE_MODULES = ["earningsTrend", "defaultKeyStatistics", "summaryDetail", "financialData", "price"]
# yfinance's frame (Ticker.earnings_estimate / revenue_estimate / eps_trend) column -> raw column
EARNINGS_ESTIMATE_COLUMNS = {"avg": "eps_avg", "low": "eps_low", "high": "eps_high", "yearAgoEps": "eps_year_ago",
                             "numberOfAnalysts": "eps_analysts", "currency": "eps_currency"}  # fmt: skip
REVENUE_ESTIMATE_COLUMNS = {"avg": "revenue_avg", "low": "revenue_low", "high": "revenue_high",
                            "numberOfAnalysts": "revenue_analysts", "currency": "revenue_currency"}  # fmt: skip
EPS_TREND_COLUMNS = {"current": "eps_trend_current", "7daysAgo": "eps_trend_7d_ago", "30daysAgo": "eps_trend_30d_ago",
                     "60daysAgo": "eps_trend_60d_ago", "90daysAgo": "eps_trend_90d_ago", "currency": "eps_trend_currency"}  # fmt: skip
# The figures kept of each module (Yahoo's own names). The module's own currency field is not a
# figure: it becomes the `currency` of the module's rows (orchestration.normalize.estimates).
VENDOR_FIELDS: dict[str, tuple[str, ...]] = {
    "defaultKeyStatistics": ("forwardPE", "trailingEps", "forwardEps", "sharesOutstanding", "impliedSharesOutstanding",
                             "enterpriseValue", "enterpriseToEbitda"),
    "summaryDetail": ("marketCap", "trailingPE", "forwardPE", "priceToSalesTrailing12Months", "dividendRate",
                      "trailingAnnualDividendRate"),
    "financialData": ("currentPrice", "totalRevenue", "ebitda"),
    "price": ("marketCap", "regularMarketPrice", "regularMarketTime"),
}  # fmt: skip


def quote_summary_result(payload: Mapping | None) -> dict:
    """The one result of a quoteSummary answer ({} when Yahoo sent none)."""
    results = ((payload or {}).get("quoteSummary") or {}).get("result") or []
    return dict(results[0]) if results and results[0] else {}


TREND_BLOCKS = ("earningsEstimate", "revenueEstimate", "epsTrend", "epsRevisions")


def earnings_trend_items(result: Mapping) -> list[dict]:
    """The `earningsTrend.trend` items of a quoteSummary result, as yfinance's estimate frames read
    them. A block Yahoo left out of an item (no revenue estimates for a period) is given empty:
    yfinance's parser indexes every block of every item and would raise KeyError, where the
    estimates are simply unknown."""
    items = (result.get("earningsTrend") or {}).get("trend") or []
    return [{**{block: {} for block in TREND_BLOCKS}, **item} for item in items if isinstance(item, Mapping)]


def estimate_rows(
    symbol: str,
    snapshot_at: datetime,
    trend: Sequence[Mapping],
    earnings_estimate: pd.DataFrame | None,
    revenue_estimate: pd.DataFrame | None,
    eps_trend: pd.DataFrame | None,
) -> pd.DataFrame:
    """The consensus rows of one symbol from yfinance's three estimate frames (index: period), and
    each period's end date from the trend items they were parsed from (yfinance drops `endDate`).
    `snapshot_at` is when Yahoo was asked (UTC); its UTC date is the snapshot date."""
    at = _utc_naive(snapshot_at)
    end_dates = {item.get("period"): item.get("endDate") for item in trend}
    parts = [(f if f is not None else pd.DataFrame(), columns) for f, columns in
             ((earnings_estimate, EARNINGS_ESTIMATE_COLUMNS), (revenue_estimate, REVENUE_ESTIMATE_COLUMNS), (eps_trend, EPS_TREND_COLUMNS))]  # fmt: skip
    periods = list(dict.fromkeys(p for frame, _ in parts for p in frame.index))
    rows = []
    for period in periods:
        row: dict[str, object] = {"symbol": symbol, "snapshot_date": at.date(), "snapshot_at": at.to_pydatetime(),
                                  "period": period, "end_date": end_dates.get(period)}  # fmt: skip
        for frame, columns in parts:
            for theirs, ours in columns.items():
                value = frame.at[period, theirs] if period in frame.index and theirs in frame.columns else None
                row[ours] = None if value is None or (isinstance(value, float) and math.isnan(value)) else value
        rows.append(row)
    return pd.DataFrame(rows, columns=empty_estimates().columns) if rows else empty_estimates()


def _utc_naive(moment: datetime) -> pd.Timestamp:
    """A moment as the naive UTC timestamp the raw layer keeps (a naive one is taken as UTC already)."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _raw(value: object) -> object:
    """A quoteSummary value: a plain number (formatted=false), or Yahoo's {"raw": ..., "fmt": ...}."""
    return value.get("raw") if isinstance(value, Mapping) else value


def vendor_figure_rows(symbol: str, snapshot_at: datetime, result: Mapping) -> pd.DataFrame:
    """The figures Yahoo quotes in the modules of one quoteSummary result, long, each with the
    currency its module states for itself (none for defaultKeyStatistics). A field Yahoo did not
    send (or sent empty) is no row."""
    at = _utc_naive(snapshot_at)
    rows = []
    for module, fields in VENDOR_FIELDS.items():
        payload = result.get(module) or {}
        currency = payload.get(MODULE_CURRENCY_FIELDS[module]) if module in MODULE_CURRENCY_FIELDS else None
        for name in fields:
            value = _raw(payload.get(name))
            if value is None or value == {}:
                continue
            rows.append((symbol, at.date(), at.to_pydatetime(), module, name, value, currency or None))
    return pd.DataFrame(rows, columns=empty_vendor_figures().columns) if rows else empty_vendor_figures()
