"""The Yahoo Finance source: yfinance 1.x, batched, incremental, rate-limit aware.

Everything Yahoo-specific about shapes lives in orchestration.normalize.yahoo; this module makes
the requests: batches, retries with backoff and jitter, a request budget per run, one bad symbol
never failing the others, and optional recording of what came back (`record_dir`) in the
snapshot layout, so that the sample source can replay a live run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from orchestration.normalize.prices import empty_prices
from orchestration.normalize.profiles import empty_profiles
from orchestration.normalize.statements import empty_statements
from orchestration.normalize.yahoo import (
    download_errors,
    is_transient,
    prices_from_download,
    profile_row,
    publication_dates,
    statement_rows,
)
from orchestration.sources.base import Fetched, Instrument
from orchestration.sources.recording import SnapshotRecorder
from orchestration.sources.retry import BudgetExhausted, RequestBudget, RetryPolicy, Transient

log = logging.getLogger(__name__)

# (statement, period type) -> the Ticker method and its `freq`
STATEMENT_CALLS = [
    ("income", "quarterly", "get_income_stmt", "quarterly"),
    ("income", "annual", "get_income_stmt", "yearly"),
    ("balance", "quarterly", "get_balance_sheet", "quarterly"),
    ("balance", "annual", "get_balance_sheet", "yearly"),
    ("cashflow", "quarterly", "get_cash_flow", "quarterly"),
    ("cashflow", "annual", "get_cash_flow", "yearly"),
]


@dataclass(frozen=True)
class YahooSettings:
    batch_size: int = 50  # symbols per yf.download call
    request_budget: int = 20_000  # HTTP requests per run, all datasets together
    max_attempts: int = 5
    base_delay_seconds: float = 2.0
    max_delay_seconds: float = 60.0
    earnings_dates_limit: int = 12  # next 4 quarters and last 8
    timeout_seconds: int = 20
    record_dir: str | None = None


class _LogCapture(logging.Handler):
    """Collects the `yfinance` logger's error lines: yf.download reports failures only there."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _captured_yfinance_errors() -> Iterator[_LogCapture]:
    logger = logging.getLogger("yfinance")
    capture = _LogCapture()
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)


def _transient(error: BaseException) -> bool:
    name = type(error).__name__
    return name == "YFRateLimitError" or isinstance(error, (ConnectionError, TimeoutError)) or is_transient(
        f"{name} {error}"
    )


class YahooSource:
    name = "yahoo"
    fetches_are_free = False

    def __init__(
        self,
        settings: YahooSettings | None = None,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        if client is None:
            import yfinance as client  # the network edge; tests pass a fake shaped like it
        self.client = client
        self.settings = settings or YahooSettings()
        config = getattr(client, "config", None)
        if config is not None:
            # yfinance hides exceptions by default: a rate-limited statement call would come back
            # as an empty frame, indistinguishable from "no data". We want to see them.
            config.debug.hide_exceptions = False
        self.budget = RequestBudget(self.settings.request_budget)
        self.retry = RetryPolicy(
            max_attempts=self.settings.max_attempts,
            base_delay_seconds=self.settings.base_delay_seconds,
            max_delay_seconds=self.settings.max_delay_seconds,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        self.recorder = SnapshotRecorder(self.settings.record_dir) if self.settings.record_dir else None

    # ---------------------------------------------------------------- prices

    def fetch_prices(self, instruments: Sequence[Instrument], starts: Mapping[str, date | None]) -> Fetched:
        """Batches of symbols sharing a start date; a new symbol (start None) gets its full history."""
        used_before = self.budget.used
        by_start: dict[date | None, list[Instrument]] = {}
        for instrument in instruments:
            by_start.setdefault(starts.get(instrument.symbol), []).append(instrument)
        frames, failures = [], {}
        batches = [
            (start, group[i : i + self.settings.batch_size])
            for start, group in by_start.items()
            for i in range(0, len(group), self.settings.batch_size)
        ]
        for number, (start, batch) in enumerate(batches):
            try:
                frame, batch_failures = self._download_batch(batch, start)
            except BudgetExhausted as error:
                for _, rest in batches[number:]:
                    failures.update({instrument.symbol: str(error) for instrument in rest if instrument.symbol not in failures})
                break
            frames.append(frame)
            failures.update(batch_failures)
        prices = pd.concat(frames, ignore_index=True) if frames else empty_prices()
        if self.recorder:
            self.recorder.prices(prices)
        return Fetched(prices, failures=failures, requests=self.budget.used - used_before)

    def _download_batch(self, batch: list[Instrument], start: date | None) -> tuple[pd.DataFrame, dict[str, str]]:
        """One batch, retrying only the symbols whose failure was transient."""
        pending = {instrument.symbol: instrument for instrument in batch}
        frames, failures, last_error = [], {}, {}
        for attempt in range(self.settings.max_attempts):
            if attempt:
                wait = self.retry.delay(attempt - 1)
                self.retry.slept.append(wait)
                self.retry.sleep(wait)
            self.budget.spend(len(pending))  # yf.download makes one chart request per symbol
            try:
                frame, errors = self._download(sorted(pending), start)
            except Exception as error:
                if _transient(error):
                    frame, errors = None, {symbol: f"{type(error).__name__}: {error}" for symbol in pending}
                elif len(pending) > 1:
                    # yf.download fails whole when one ticker's frame cannot be aligned with the
                    # others (duplicated dates): isolate the symbols so one bad one fails alone.
                    return self._download_one_by_one(list(pending.values()), start, frames, failures)
                else:
                    failures.update({symbol: f"{type(error).__name__}: {error}" for symbol in pending})
                    return (pd.concat(frames, ignore_index=True) if frames else empty_prices()), failures
            frames.append(prices_from_download(frame, [i for s, i in pending.items() if s not in errors]))
            failures.update({s: e for s, e in errors.items() if not is_transient(e)})
            pending = {s: i for s, i in pending.items() if s in errors and is_transient(errors[s])}
            last_error.update({s: errors[s] for s in pending})
            if not pending:
                break
        for symbol in pending:
            failures[symbol] = f"gave up after {self.settings.max_attempts} attempts: {last_error[symbol]}"
        return pd.concat(frames, ignore_index=True), failures

    def _download(self, symbols: list[str], start: date | None) -> tuple[pd.DataFrame, dict[str, str]]:
        """One yf.download call, and the per-symbol errors it only logs."""
        with _captured_yfinance_errors() as capture:
            frame = self.client.download(
                tickers=symbols,
                start=start.isoformat() if start else None,
                period=None if start else "max",
                interval="1d",
                auto_adjust=False,  # keep the traded close; Adj Close comes as its own column
                actions=True,
                group_by="column",
                threads=True,
                progress=False,
                timeout=self.settings.timeout_seconds,
            )
        return frame, {s: e for s, e in download_errors(capture.messages).items() if s in symbols}

    def _download_one_by_one(
        self, instruments: list[Instrument], start: date | None, frames: list, failures: dict[str, str]
    ) -> tuple[pd.DataFrame, dict[str, str]]:
        for instrument in instruments:
            frame, single_failures = self._download_batch([instrument], start)
            frames.append(frame)
            failures.update(single_failures)
        return pd.concat(frames, ignore_index=True) if frames else empty_prices(), failures

    # ---------------------------------------------------------------- per-ticker calls

    def _call(self, request: Callable[[], Any]) -> Any:
        """One request through the retry policy: transient failures are retried, others raised."""

        def attempt() -> Any:
            try:
                return request()
            except Exception as error:
                if _transient(error):
                    raise Transient(f"{type(error).__name__}: {error}") from error
                raise

        return self.retry.call(attempt, self.budget)

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        used_before = self.budget.used
        frames, failures, warnings = [], {}, []
        for number, symbol in enumerate(symbols):
            try:
                info = self._call(lambda: self.client.Ticker(symbol).info)
            except BudgetExhausted as error:
                failures.update({s: str(error) for s in symbols[number:]})
                break
            except Exception as error:
                failures[symbol] = f"{type(error).__name__}: {error}"
                continue
            row, missing = profile_row(symbol, info, snapshot_date)
            if len(missing) == len(row.columns) - 2:
                failures[symbol] = "Yahoo returned no profile (unknown symbol?)"
                continue
            if missing:
                warnings.append(f"{symbol}: Ticker.info lacks {', '.join(missing)} (recorded as null)")
            frames.append(row)
        profiles = pd.concat(frames, ignore_index=True) if frames else empty_profiles()
        if self.recorder:
            self.recorder.profiles(profiles)
        for warning in warnings:
            log.warning(warning)
        return Fetched(profiles, failures=failures, requests=self.budget.used - used_before, warnings=warnings)

    def fetch_statements(self, symbols: Sequence[str]) -> Fetched:
        used_before = self.budget.used
        frames, failures, next_update, last_update = [], {}, {}, {}
        for number, symbol in enumerate(symbols):
            try:
                frame, upcoming, latest = self._statements_of(symbol)
            except BudgetExhausted as error:
                failures.update({s: str(error) for s in symbols[number:]})
                break
            except Exception as error:
                failures[symbol] = f"{type(error).__name__}: {error}"
                continue
            if frame.empty:
                failures[symbol] = "Yahoo returned no statements"
                continue
            frames.append(frame)
            if upcoming:
                next_update[symbol] = upcoming
            if latest:
                last_update[symbol] = latest
        statements = pd.concat(frames, ignore_index=True) if frames else empty_statements()
        if self.recorder:
            self.recorder.statements(statements)
        return Fetched(
            statements,
            failures=failures,
            requests=self.budget.used - used_before,
            next_update=next_update,
            last_update=last_update,
        )

    def _statements_of(self, symbol: str) -> tuple[pd.DataFrame, date | None, date | None]:
        ticker = self.client.Ticker(symbol)
        info = self._call(lambda: ticker.info) or {}
        currency = info.get("financialCurrency") or info.get("currency")
        earnings = self._call(lambda: ticker.get_earnings_dates(limit=self.settings.earnings_dates_limit))
        published = publication_dates(earnings)
        frames = []
        for statement, period_type, method, freq in STATEMENT_CALLS:
            table = self._call(lambda: getattr(ticker, method)(freq=freq, pretty=False))
            frames.append(statement_rows(symbol, statement, period_type, table, currency, published))
        frame = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else empty_statements()
        return frame, _next_release(earnings), (published[-1] if published else None)


def _next_release(earnings: pd.DataFrame | None) -> date | None:
    """The next scheduled earnings date (a row with no reported EPS yet)."""
    if earnings is None or earnings.empty or "Reported EPS" not in earnings:
        return None
    upcoming = pd.DatetimeIndex(earnings.index)[pd.isna(earnings["Reported EPS"].to_numpy())]
    return min(upcoming).date() if len(upcoming) else None
