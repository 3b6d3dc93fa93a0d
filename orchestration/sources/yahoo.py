"""The Yahoo Finance source: yfinance 1.x over a paced, counted, budgeted HTTP session.

Everything Yahoo-specific about shapes lives in orchestration.normalize.yahoo, and everything about
the wire in orchestration.sources.yahoo_http. This module decides what to ask for, one symbol at a
time, and what a failure means:
- transient (429, 5xx, Yahoo's error page, truncated JSON, a timeout): asked again with a fresh
  `Ticker` after a backoff measured in minutes (Retry-After wins when Yahoo sends one);
- permanent (no such symbol, no data for the range): the symbol fails alone, with Yahoo's reason;
- the run must stop (the circuit breaker opened on sustained 429s, or the budget is spent): the
  symbol and every one after it are *deferred*, and the next run starts with them;
- anything else raised inside yfinance: the symbol fails and the traceback goes to the log.
Only closed sessions are kept, and currencies are checked against universe.yml.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from orchestration.freshness import Clock, latest_closed_session
from orchestration.normalize.estimates import empty_estimates, empty_vendor_figures
from orchestration.normalize.prices import empty_prices
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.statements import empty_statements
from orchestration.normalize.yahoo import (
    ESTIMATE_MODULES,
    earnings_trend_items,
    estimate_rows,
    events_in,
    price_currency_mismatch,
    prices_from_history,
    profile_row,
    quote_summary_result,
    release_dates,
    statement_rows,
    vendor_figure_rows,
)
from orchestration.sources.base import Fetched, Instrument, StatementPlan
from orchestration.sources.pace import Backoff
from orchestration.sources.retry import RequestBudget, RetryPolicy
from orchestration.sources.yahoo_http import (
    STOPPED,
    TRANSIENT,
    CircuitBreaker,
    YahooNotFound,
    YahooSession,
    process_pace,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# (statement, period type) -> the Ticker method and its `freq`; one fundamentals request each
STATEMENT_CALLS = [
    ("income", "quarterly", "get_income_stmt", "quarterly"),
    ("balance", "quarterly", "get_balance_sheet", "quarterly"),
    ("cashflow", "quarterly", "get_cash_flow", "quarterly"),
    ("income", "annual", "get_income_stmt", "yearly"),
    ("balance", "annual", "get_balance_sheet", "yearly"),
    ("cashflow", "annual", "get_cash_flow", "yearly"),
]


@dataclass(frozen=True)
class YahooSettings:
    request_budget: int = 20_000  # true HTTP requests one asset may make in a run
    requests_per_hour: float = 1_500  # the machine's pace, well under the ~2,000/h Yahoo tolerates from one address
    max_attempts: int = 4  # per symbol and call, for transient failures
    base_delay_seconds: float = 60.0  # backoff: jittered up to base x 2^attempt ...
    max_delay_seconds: float = 900.0  # ... and at most this
    breaker_threshold: int = 3  # 429s in a row that stop the run
    timeout_seconds: int = 20
    cache_dir: str | None = None  # yfinance's time-zone and cookie caches (a folder the project owns)
    pace_file: str | None = None  # the pace every process of the machine shares (None: this process's own)


_CACHE_DIR: str | None = None


def _use_cache_dir(cache_dir: str | None) -> None:
    """yfinance's caches live where the project says, set once per process before first use."""
    global _CACHE_DIR
    if cache_dir and _CACHE_DIR is None:
        import yfinance

        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        yfinance.set_tz_cache_location(cache_dir)  # all of its caches: time zones, cookies
        _CACHE_DIR = cache_dir


def _raised_inside_yfinance(error: BaseException) -> bool:
    """Whether the exception came out of yfinance's own code (a payload it could not read)."""
    trace, inside = error.__traceback__, False
    while trace is not None:
        inside = inside or f"{os.sep}yfinance{os.sep}" in trace.tb_frame.f_code.co_filename
        trace = trace.tb_next
    return inside


class _Deferred(Exception):
    """Internal: the run stopped asking (breaker open, budget spent) at this symbol."""


class _Refused(Exception):
    """Internal: what came back for this symbol cannot be used (the reason is the message)."""


class YahooSource:
    name = "yahoo"
    fetches_are_free = False

    def __init__(
        self,
        settings: YahooSettings | None = None,
        session: YahooSession | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ):
        import yfinance  # the library whose own code makes every request, over our session

        self.yf = yfinance
        self.settings = settings or YahooSettings()
        _use_cache_dir(self.settings.cache_dir)
        # yfinance hides exceptions by default: a failed call would come back as an empty frame,
        # indistinguishable from "no data". We want to see them.
        yfinance.config.debug.hide_exceptions = False
        if session is None:
            # a 429 pauses every process of the machine, on the retry backoff's own scale (60 s x 2^n, at most 15 min)
            backoff = Backoff(self.settings.base_delay_seconds, self.settings.max_delay_seconds)
            session = YahooSession(process_pace(self.settings.requests_per_hour, self.settings.pace_file, backoff))
        self.session = session
        # the budget and the breaker are per source, i.e. per asset run
        self.session.budget = RequestBudget(self.settings.request_budget)
        self.session.breaker = CircuitBreaker(self.settings.breaker_threshold)
        self.retry = RetryPolicy(
            max_attempts=self.settings.max_attempts,
            base_delay_seconds=self.settings.base_delay_seconds,
            max_delay_seconds=self.settings.max_delay_seconds,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        self.now = now

    # ---------------------------------------------------------------- the one way to ask

    def _ticker(self, symbol: str) -> Any:
        return self.yf.Ticker(symbol, session=self.session)

    def _ask(self, symbol: str, call: Callable[[Any], T]) -> T:
        """`call(fresh Ticker)`, again after a backoff while the failure is transient.

        yfinance marks data as fetched before its request, so a Ticker whose request failed would
        answer None the next time: every attempt gets a new one.
        """
        for attempt in range(self.retry.max_attempts):
            try:
                return call(self._ticker(symbol))
            except STOPPED as error:
                raise _Deferred(str(error)) from None
            except TRANSIENT as error:
                if attempt == self.retry.max_attempts - 1:
                    raise
                wait = max(getattr(error, "retry_after", None) or 0.0, self.retry.delay(attempt))
                self.retry.slept.append(wait)
                self.retry.sleep(wait)
        raise AssertionError("unreachable")

    def _each(self, symbols: Sequence[str], fetch: Callable[[str], None]) -> tuple[dict[str, str], dict[str, str]]:
        """Run `fetch` per symbol; return (failures, deferred), each symbol -> why."""
        failures: dict[str, str] = {}
        deferred: dict[str, str] = {}
        for number, symbol in enumerate(symbols):
            try:
                fetch(symbol)
            except _Deferred as error:
                deferred.update({s: str(error) for s in symbols[number:]})
                break
            except _Refused as error:
                failures[symbol] = str(error)
            except TRANSIENT as error:
                failures[symbol] = f"gave up after {self.retry.max_attempts} attempts: {error}"
            except (YahooNotFound, self.yf.exceptions.YFException) as error:
                failures[symbol] = f"{type(error).__name__}: {error}"
            except Exception as error:
                if not _raised_inside_yfinance(error):
                    raise  # a bug of ours is not a symbol's failure: it fails the run, with its traceback
                log.exception("yfinance failed on %s", symbol)  # on a payload it could not read
                failures[symbol] = f"unexpected {type(error).__name__} inside yfinance: {error} (traceback in the run log)"
        return failures, deferred

    def _fetched(self, frames: list[pd.DataFrame], empty: pd.DataFrame, before: dict[str, int], **kwargs) -> Fetched:
        """What a fetch returns: the frames as one, the requests it made (by endpoint), the rest as given."""
        frame = pd.concat(frames, ignore_index=True) if frames else empty
        used = {k: v - before.get(k, 0) for k, v in self.session.requests.items() if v - before.get(k, 0)}
        return Fetched(frame, requests=sum(used.values()), requests_by_endpoint=used, **kwargs)

    # ---------------------------------------------------------------- prices

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        """Each symbol from its start (None: full history), closed sessions only. A split or a
        dividend inside the re-fetched overlap restates older history: then the whole history is
        fetched again and replaces the stored one."""
        before = dict(self.session.requests)
        by_symbol = {instrument.symbol: instrument for instrument in instruments}
        frames, warnings = [], []
        for instrument in instruments:
            self._known_timezone(instrument)

        def fetch(symbol: str) -> None:
            instrument = by_symbol[symbol]
            start = starts.get(symbol)
            frame, currency = self._ask(symbol, lambda t: self._history(t, start))
            events = events_in(frame) if start is not None else []
            if events:
                warnings.append(f"{symbol}: {', '.join(events)} inside the overlap: full history fetched again")
                frame, currency = self._ask(symbol, lambda t: self._history(t, None))
            mismatch = price_currency_mismatch(instrument, currency)
            if mismatch:
                raise _Refused(mismatch)
            frames.append(self._closed_sessions(prices_from_history(frame, instrument), instrument))

        failures, deferred = self._each(list(by_symbol), fetch)
        return self._fetched(frames, empty_prices(), before, failures=failures, deferred=deferred, warnings=warnings)

    def _history(self, ticker: Any, start: date | None) -> tuple[pd.DataFrame, str | None]:
        frame = ticker.history(
            start=start.isoformat() if start else None,
            period=None if start else "max",
            interval="1d",
            auto_adjust=False,  # keep the traded close; Adj Close comes as its own column
            actions=True,
            repair=False,
            timeout=self.settings.timeout_seconds,
        )
        return frame, (ticker.history_metadata or {}).get("currency")

    def _fresh_fundamentals(self) -> None:
        """Each company's statements start afresh: after one failed fundamentals request yfinance
        splits every later one into chunks for the rest of the process (2.7x the requests), and it
        keeps the last 64 responses in memory, which a long-lived process would serve again."""
        from yfinance.data import YfData

        YfData().fundamentals_use_chunked = False
        YfData.cache_get.cache_clear()

    def _known_timezone(self, instrument: Instrument) -> None:
        """yfinance looks up each symbol's time zone with an extra chart request unless its cache
        has it: universe.yml knows it already."""
        if instrument.timezone:
            cache = self.yf.cache.get_tz_cache()
            if cache.lookup(instrument.symbol) is None:
                cache.store(instrument.symbol, instrument.timezone)

    def _closed_sessions(self, rows: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
        """Drop the bar of a session that has not closed yet: its close is not final."""
        if rows.empty or not instrument.calendar:
            return rows
        closed = latest_closed_session(instrument.calendar, Clock(self.now()))
        return rows[rows["date"] <= closed].reset_index(drop=True)

    # ---------------------------------------------------------------- profiles

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        """Each listing's `Ticker.info`: a quoteSummary and a quote request."""
        before = dict(self.session.requests)
        frames, warnings = [], []

        def fetch(symbol: str) -> None:
            row, missing = profile_row(symbol, self._ask(symbol, lambda t: t.info), snapshot_date)
            if len(missing) == len(row.columns) - 2:
                raise _Refused("Yahoo returned no profile (unknown symbol?)")
            if missing:
                warnings.append(f"{symbol}: Ticker.info lacks {', '.join(missing)} (recorded as null)")
            frames.append(row)

        failures, deferred = self._each(list(symbols), fetch)
        fetched = self._fetched(frames, empty_profiles(), before, failures=failures, deferred=deferred, warnings=warnings)
        return fetched

    # ---------------------------------------------------------------- statements

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        """Per company: its earnings calendar (one quoteSummary request), the three quarterly
        statements, and the three annual ones when the plan says they can have changed."""
        before = dict(self.session.requests)
        by_symbol = {plan.symbol: plan for plan in plans}
        frames, next_update, last_update = [], {}, {}
        today = self.now().date()

        def fetch(symbol: str) -> None:
            plan = by_symbol[symbol]
            try:
                dates = release_dates(self._ask(symbol, lambda t: t.calendar))
            except YahooNotFound:
                dates = []  # no calendar (an ETF, a fund): statements still come
            releases = sorted({*plan.releases, *(d for d in dates if d <= today)})
            calls = [c for c in STATEMENT_CALLS if c[1] == "quarterly" or plan.annual]
            rows = []
            self.session.reported_currencies.pop(symbol, None)
            self._fresh_fundamentals()
            for statement, period_type, method, freq in calls:
                table = self._ask(symbol, lambda t: getattr(t, method)(freq=freq, pretty=False))
                rows.append(statement_rows(symbol, statement, period_type, table, plan.currency, releases, plan.shares_per_listing_unit))
            reported = self.session.reported_currencies.get(symbol)
            if reported and reported.most_common(1)[0][0] != plan.currency:
                raise _Refused(f"Yahoo reports {symbol}'s statements in {reported.most_common(1)[0][0]}, "
                               f"universe.yml says {plan.currency}")  # fmt: skip
            rows = [r for r in rows if len(r)]
            if not rows:
                raise _Refused("Yahoo returned no statements")
            frames.extend(rows)
            upcoming = [d for d in dates if d > today]
            if upcoming:
                next_update[symbol] = upcoming[0]
            if releases:
                last_update[symbol] = releases[-1]

        failures, deferred = self._each(list(by_symbol), fetch)
        fetched = self._fetched(frames, empty_statements(), before, failures=failures, deferred=deferred,
                                next_update=next_update, last_update=last_update)  # fmt: skip
        return fetched


    # ---------------------------------------------------------------- analysts' consensus, quoted figures

    def fetch_estimates(self, symbols: Sequence[str]) -> Fetched:
        """Per symbol, one quoteSummary request carrying the consensus (earningsTrend) and the
        modules of the figures Yahoo quotes; yfinance's own parsing gives the estimate frames."""
        before = dict(self.session.requests)
        frames, figures = [], []

        def fetch(symbol: str) -> None:
            at = self.now().astimezone(timezone.utc).replace(tzinfo=None)  # when Yahoo was asked
            result, estimates, revenue, trend = self._ask(symbol, self._estimates)
            vendor = vendor_figure_rows(symbol, at, result)
            if len(vendor):
                figures.append(vendor)
            items = earnings_trend_items(result)
            if not items:
                raise _Refused("Yahoo returned no earningsTrend (no analysts cover it?)")
            frames.append(estimate_rows(symbol, at, items, estimates, revenue, trend))

        failures, deferred = self._each(list(symbols), fetch)
        vendor_figures = pd.concat(figures, ignore_index=True) if figures else empty_vendor_figures()
        return self._fetched(frames, empty_estimates(), before, failures=failures, deferred=deferred,
                             vendor_figures=vendor_figures)  # fmt: skip

    @staticmethod
    def _estimates(ticker: Any) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """One request instead of two: `Ticker.earnings_estimate` and friends would ask for
        earningsTrend alone, and the quoted figures would need a second quoteSummary request (or
        three with `Ticker.info`, which adds modules and a quote). yfinance's `Analysis._fetch` is
        its own quoteSummary request path (crumb and cookie handling included) and takes a module
        list; handing its `_earnings_trend` cache the answer's trend then lets yfinance's own
        parsing (`_get_periodic_df`, yfinance 1.7) read the estimates without a second request.
        Both hooks are private: tests/sources/test_estimates_recorded.py replays real answers
        through them, so a yfinance that renames them fails there, not in production quietly."""
        analysis = ticker._analysis
        result = quote_summary_result(analysis._fetch(ESTIMATE_MODULES))
        trend = earnings_trend_items(result)
        if not trend:
            return result, None, None, None
        analysis._earnings_trend = trend
        return result, ticker.earnings_estimate, ticker.revenue_estimate, ticker.eps_trend
