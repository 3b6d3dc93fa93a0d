"""A synthetic market for the scale benchmark: a universe.yml and a MarketDataSource.

Everything here is made up, generated from a seed, and labelled so: symbols start with SYN,
company names with "Synthetic", every raw row's `_source` is `synthetic`, and it is written to
its own DuckDB file under benchmarks/work/, never beside the market sample or the demo.

The shape follows the real universe: US listings in USD; every tenth company is Chinese, reports
in CNY and lists an ADS in New York (8 ordinary shares each) beside its ordinary shares in Hong
Kong; two benchmarks; USD/HKD and USD/CNY. Bars follow each exchange's real sessions (exchange
calendars), statements are quarterly with a filing date 30 to 50 days after the quarter end.

Every value depends only on the seed, the symbol and the date, never on which symbols or days a
fetch asks for, so a batch, a re-run or a later daily fetch returns the same rows again.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.instruments import Instrument
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.statements import empty_statements
from orchestration.sources.base import Fetched, StatementPlan
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS, PRICES

SOURCE_NAME = "synthetic"
CALENDAR_START = date(2000, 1, 3)  # generation starts here; a run keeps what its window asks for
CALENDAR_END = date(2030, 12, 31)  # fixed, so every draw is the same whatever the window
US_BENCHMARK = "^SYNUS"
HK_BENCHMARK = "^SYNHK"
CHINESE_EVERY = 10  # every tenth company is a Chinese dual listing
ADS_RATIO = 8
SECTOR_GROUPS = 20
# The analysis/ queries name these groups; the synthetic companies are spread over them.
NAMED_GROUPS = {
    "china_internet": "Synthetic Chinese dual listings",
    "us_megacap_tech": "Synthetic US large caps",
    "hyperscalers": "Synthetic capex-heavy companies",
}


@dataclass(frozen=True)
class SyntheticListing:
    symbol: str
    company_id: str
    exchange: str
    currency: str
    shares_per_listing_unit: int
    primary: bool
    benchmark: str


@dataclass(frozen=True)
class SyntheticCompany:
    company_id: str
    reporting_currency: str
    country: str
    peer_groups: tuple[str, ...]
    listings: tuple[SyntheticListing, ...]


def synthetic_companies(listings: int) -> list[SyntheticCompany]:
    """Companies whose listings add up to `listings`."""
    companies: list[SyntheticCompany] = []
    total = 0
    number = 0
    while total < listings:
        company_id = f"syn{number:05d}"
        symbol = f"SYN{number:05d}"
        chinese = number % CHINESE_EVERY == 0 and listings - total >= 2
        sector = f"synthetic_sector_{number % SECTOR_GROUPS:02d}"
        if chinese:
            groups = (sector, "china_internet") + (("hyperscalers",) if number % 50 == 0 else ())
            company_listings = (
                SyntheticListing(symbol, company_id, "NYSE", "USD", ADS_RATIO, True, US_BENCHMARK),
                SyntheticListing(f"{symbol}.HK", company_id, "HKEX", "HKD", 1, False, HK_BENCHMARK),
            )
        else:
            groups = (sector,) + (("us_megacap_tech",) if number % 7 == 1 else ()) + (("hyperscalers",) if number % 50 == 1 else ())
            company_listings = (SyntheticListing(symbol, company_id, "NASDAQ", "USD", 1, True, US_BENCHMARK),)
        companies.append(
            SyntheticCompany(company_id, "CNY" if chinese else "USD", "CN" if chinese else "US", groups, company_listings)
        )
        total += len(company_listings)
        number += 1
    return companies


def universe_yaml(companies: Sequence[SyntheticCompany]) -> str:
    """The universe.yml of the synthetic market (validated by the same loader as the real one)."""
    lines = [
        "# SYNTHETIC universe for benchmarks/scale.py: generated, not market data.",
        "exchanges:",
        "  NYSE:   {calendar: XNYS, timezone: America/New_York}",
        "  NASDAQ: {calendar: XNYS, timezone: America/New_York}",
        "  HKEX:   {calendar: XHKG, timezone: Asia/Hong_Kong}",
        "fx_pairs:",
        "  - {symbol: USDHKD=X, base_currency: USD, quote_currency: HKD}",
        "  - {symbol: CNY=X, base_currency: USD, quote_currency: CNY}",
        "benchmarks:",
        f"  - {{symbol: '{US_BENCHMARK}', name: Synthetic US index, exchange: NYSE}}",
        f"  - {{symbol: '{HK_BENCHMARK}', name: Synthetic Hong Kong index, exchange: HKEX}}",
        "peer_groups:",
        *(f"  {group}: {description}" for group, description in NAMED_GROUPS.items()),
        *(f"  synthetic_sector_{n:02d}: Synthetic sector {n:02d}" for n in range(SECTOR_GROUPS)),
        "companies:",
    ]
    for company in companies:
        lines += [
            f"  - company_id: {company.company_id}",
            f"    name: Synthetic Company {company.company_id[3:]}",
            f"    country: {company.country}",
            f"    reporting_currency: {company.reporting_currency}",
            "    fiscal_year_end_month: 12",
            f"    peer_groups: [{', '.join(company.peer_groups)}]",
            "    listings:",
        ]
        for listing in company.listings:
            lines.append(
                f"      - {{symbol: '{listing.symbol}', exchange: {listing.exchange}, currency: {listing.currency}, "
                f"shares_per_listing_unit: {listing.shares_per_listing_unit}, primary: {str(listing.primary).lower()}, "
                f"benchmark: '{listing.benchmark}'}}"
            )
    return "\n".join(lines) + "\n"


@cache
def sessions(calendar: str) -> np.ndarray:
    """Trading dates (datetime64[D]) of an exchange calendar, or weekdays for FX ("24/5")."""
    if calendar == "24/5":
        days = pd.bdate_range(CALENDAR_START, CALENDAR_END)
    else:
        days = xcals.get_calendar(calendar, start=str(CALENDAR_START), end=str(CALENDAR_END)).sessions
    return days.to_numpy().astype("datetime64[D]")


def _calendar_of(instrument: Instrument) -> str:
    if instrument.price_basis == "fx":
        return "24/5"
    hong_kong = instrument.symbol.endswith(".HK") or instrument.symbol == HK_BENCHMARK or instrument.currency == "HKD"
    return "XHKG" if hong_kong else "XNYS"


def _rng(seed: int, *parts: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(part.encode()) for part in parts)])


def _company_of(symbol: str) -> str:
    return symbol.split(".")[0]


def _log_prices(seed: int, instrument: Instrument, days: int) -> np.ndarray:
    """A random walk of log closes. An ADS and its Hong Kong shares share the company's walk."""
    if instrument.price_basis == "fx":
        level = 7.8 if instrument.symbol.startswith("USDHKD") else 7.0
        return np.log(level) + np.cumsum(_rng(seed, instrument.symbol).normal(0, 0.0005, days))
    rng = _rng(seed, _company_of(instrument.symbol))
    drift, volatility = rng.uniform(-0.0002, 0.0006), rng.uniform(0.008, 0.03)
    start = np.log(rng.uniform(5, 500))
    if instrument.price_basis == "index":
        start, volatility = np.log(20_000.0), 0.011
    return start + np.cumsum(rng.normal(drift, volatility, days))


def synthetic_prices(seed: int, instrument: Instrument, first: date, last: date) -> pd.DataFrame:
    """Daily bars of one instrument between two dates (raw.prices columns)."""
    days = sessions(_calendar_of(instrument))
    log_close = _log_prices(seed, instrument, len(days))
    window = (days >= np.datetime64(first)) & (days <= np.datetime64(last))
    close = np.exp(log_close[window])
    if instrument.currency == "HKD":  # an ordinary share: 1/8 of the ADS, in HKD
        close = close / ADS_RATIO * 7.8
    rng = _rng(seed, instrument.symbol, "bars")
    spread = rng.uniform(0.0, 0.02, (len(days), 3))[window]
    open_ = close * (1 + spread[:, 0] - 0.01)
    high = np.maximum(open_, close) * (1 + spread[:, 1])
    low = np.minimum(open_, close) * (1 - spread[:, 2])
    traded = instrument.price_basis == "raw"
    count = int(window.sum())
    return pd.DataFrame(
        {
            "symbol": instrument.symbol,
            "date": days[window],
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            # a dividend yield of about 1% a year, folded into the adjusted close
            "adj_close": close * np.exp(-0.00004 * np.arange(count)[::-1]) if traded else close,
            "volume": rng.integers(10_000, 5_000_000, len(days))[window].astype("float64") if traded else np.nan,
            "dividends": 0.0,
            "stock_splits": 0.0,
            "currency": instrument.currency,
            "price_basis": instrument.price_basis,
        },
        columns=PRICES.data_columns,
    )


# Line items as Yahoo names them (mapped to metrics by the dbt seed line_item_metrics).
_FLOW_ITEMS = {  # line item -> (statement, share of quarterly revenue)
    "TotalRevenue": ("income", 1.0),
    "OperatingIncome": ("income", 0.18),
    "NetIncomeCommonStockholders": ("income", 0.12),
    "EBITDA": ("income", 0.25),
    "CapitalExpenditure": ("cashflow", -0.08),
}


@cache
def _quarter_ends() -> np.ndarray:
    return pd.date_range(CALENDAR_START, CALENDAR_END, freq="QE").to_numpy().astype("datetime64[D]")


def synthetic_statements(seed: int, symbol: str, currency: str, first: date, last: date) -> pd.DataFrame:
    """Quarterly statements of one company filed between two dates (raw.financial_statements columns)."""
    quarter_ends = _quarter_ends()
    rng = _rng(seed, _company_of(symbol), "statements")
    quarters = len(quarter_ends)
    filed = quarter_ends + rng.integers(30, 51, quarters).astype("timedelta64[D]")
    revenue = rng.uniform(2e8, 2e10) * np.exp(np.cumsum(rng.normal(0.015, 0.05, quarters)))
    margin = np.clip(rng.normal(1.0, 0.6, quarters), -1.0, 3.0)  # some quarters lose money
    shares = rng.uniform(5e7, 5e9) * np.exp(np.cumsum(rng.normal(0.0, 0.005, quarters)))
    debt = revenue * rng.uniform(0.2, 2.0)
    cash = revenue * rng.uniform(0.1, 1.5)
    keep = (filed >= np.datetime64(first)) & (filed <= np.datetime64(last))
    items = {name: revenue * share * (margin if name == "NetIncomeCommonStockholders" else 1.0)
             for name, (_, share) in _FLOW_ITEMS.items()}  # fmt: skip
    items["DilutedEPS"] = items["NetIncomeCommonStockholders"] / shares
    items["OrdinarySharesNumber"] = shares
    items["TotalDebt"] = debt
    items["CashAndCashEquivalents"] = cash
    statement = {**{k: s for k, (s, _) in _FLOW_ITEMS.items()}, "DilutedEPS": "income",
                 "OrdinarySharesNumber": "balance", "TotalDebt": "balance", "CashAndCashEquivalents": "balance"}  # fmt: skip
    unit = {"DilutedEPS": "per_share", "OrdinarySharesNumber": "shares"}
    names = list(items)
    kept = int(keep.sum())
    return pd.DataFrame(
        {
            "symbol": symbol,
            "statement": np.repeat([statement[name] for name in names], kept),
            "period_type": "quarterly",
            "fiscal_period": None,
            "period_start": None,
            "period_end": np.tile(quarter_ends[keep], len(names)),
            "filed_date": np.tile(filed[keep], len(names)),
            "line_item": np.repeat(names, kept),
            "value": np.concatenate([items[name][keep] for name in names]),
            "currency": np.repeat([None if name == "OrdinarySharesNumber" else currency for name in names], kept),
            "unit": np.repeat([unit.get(name, "amount") for name in names], kept),
        },
        columns=FINANCIAL_STATEMENTS.data_columns,
    )


def _as_dates(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """datetime64 columns to datetime.date objects, as the real sources deliver them."""
    for column in columns:
        values = frame[column]
        dates = values.to_numpy().astype("datetime64[D]").astype(object)
        frame[column] = pd.Series(dates, index=frame.index).where(values.notna(), None)
    return frame


class _Panel:
    """Rows of many symbols, indexed by (symbol, date) once, so a fetch reads only the rows it asks
    for (a daily fetch of 5,000 symbols is 5,000 rows of 25 M: a mask over all of them cost seconds)."""

    def __init__(self, frame: pd.DataFrame, date_column: str):
        self.frame = frame.reset_index(drop=True)
        for column in self.frame.columns:
            # concat of one frame per symbol leaves each text column in thousands of Arrow chunks,
            # and a take across them cost 0.2 s per fetch at 5,000 listings: one chunk each
            if isinstance(self.frame[column].dtype, pd.StringDtype):
                chunks = pa.chunked_array(pa.array(self.frame[column]))
                self.frame[column] = pd.array(chunks.combine_chunks(), dtype=self.frame[column].dtype)
        codes, symbols = pd.factorize(self.frame["symbol"])
        self.code_of = {symbol: code for code, symbol in enumerate(symbols)}
        dates = self.frame[date_column].to_numpy().astype("datetime64[D]")
        self.order = np.lexsort((dates, codes))  # row numbers by (symbol, date)
        self.sorted_dates = dates[self.order]
        self.code_starts = np.searchsorted(codes[self.order], np.arange(len(symbols) + 1))

    def rows(self, starts: Mapping[str, date | None], first: date, last: date) -> pd.DataFrame:
        """Rows of the symbols in `starts`, each from its start (None: `first`) up to `last`, in the
        frame's order."""
        picked = []
        for symbol, start in starts.items():
            code = self.code_of.get(symbol)
            if code is None:
                continue
            lo, hi = self.code_starts[code], self.code_starts[code + 1]
            dates = self.sorted_dates[lo:hi]
            begin = lo + np.searchsorted(dates, np.datetime64(start or first), side="left")
            end = lo + np.searchsorted(dates, np.datetime64(last), side="right")
            picked.append(self.order[begin:end])
        rows = np.sort(np.concatenate(picked)) if picked else np.empty(0, dtype=np.int64)
        return self.frame.take(rows).reset_index(drop=True)


class SyntheticMarket:
    """The whole synthetic market from `first` to `last`, generated once (not part of any timing)."""

    def __init__(self, seed: int, instruments: Sequence[Instrument], reporting_currency: Mapping[str, str],
                 first: date, last: date):  # fmt: skip
        self.first = first
        self.prices = _Panel(
            pd.concat([synthetic_prices(seed, instrument, first, last) for instrument in instruments], ignore_index=True),
            "date",
        )
        self.statements = _Panel(
            pd.concat(
                [synthetic_statements(seed, symbol, currency, first, last) for symbol, currency in reporting_currency.items()],
                ignore_index=True,
            ),
            "filed_date",
        )


class SyntheticSource:
    """A MarketDataSource over the synthetic market, as it stands on `last`.

    Like a live source (fetches_are_free=False) it returns only what is asked for, each
    instrument from its start, so the incremental ingest path is the one measured.
    """

    name = SOURCE_NAME
    fetches_are_free = False

    def __init__(self, market: SyntheticMarket, last: date):
        self.market = market
        self.last = last

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        wanted = {instrument.symbol: starts.get(instrument.symbol) for instrument in instruments}
        frame = self.market.prices.rows(wanted, self.market.first, self.last)
        return Fetched(_as_dates(frame, ["date"]), requests=len(instruments))

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        return Fetched(empty_profiles())

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        symbols = [plan.symbol for plan in plans]
        if not symbols:
            return Fetched(empty_statements())
        frame = self.market.statements.rows(dict.fromkeys(symbols), self.market.first, self.last)
        return Fetched(_as_dates(frame, ["period_end", "filed_date"]), requests=len(symbols))
