"""The SEC EDGAR fundamentals source: XBRL `companyfacts` of each company, every vintage kept.

A fundamentals source only (VALUATION_FUNDAMENTALS_SOURCE=edgar): prices, profiles and estimates
stay with VALUATION_SOURCE. No fallback: a company EDGAR cannot serve (Tencent: no CIK, it files in
Hong Kong) fails with its reason, it is not fetched from Yahoo behind the user's back.

What it asks (https, JSON):
- `company_tickers.json` (www.sec.gov/files): ticker -> CIK, cached in the project's cache dir
  and asked again once it is `tickers_max_age_days` old (a stale copy is used, with a warning,
  when the SEC cannot be reached);
- per company never loaded: `companyfacts` (data.sec.gov/api/xbrl/companyfacts/CIK##########.json);
- per company loaded before (the plan's `last_filed` / `last_accn`): `submissions` first
  (data.sec.gov/submissions/CIK##########.json) and `companyfacts` only when `filings.recent`
  lists a 10-K/10-Q/20-F (or an amendment) the warehouse has not loaded; otherwise the company is
  `unchanged` (asked, nothing to fetch: not a failure).

The wire, as the Yahoo source's (orchestration.sources.yahoo_http), over `requests` (installed
with yfinance, synchronous like the rest of the pipeline; a transport adapter is the one place a
test replaces the network, under the real Session): every request carries the User-Agent the SEC
requires (VALUATION_SEC_USER_AGENT: a name and a contact address), is paced by a limiter every
process of the machine shares (its own SQLite file, not Yahoo's: another service, another limit;
at most 10 requests per second), budgeted and counted by endpoint. A 429, a 403 (the SEC's answer
to a client over its rate), a 5xx, a timeout or a truncated JSON body is asked again after a
jittered backoff (a 429/403 also pauses every process of the machine); a 404 (an unknown CIK)
fails that company alone; after sustained 429/403s the circuit opens and the rest is deferred.

Untested against recorded payloads: 20-F filers (none recorded; a scripted 20-F payload in the
documented shape is in tests/sources/test_edgar_recorded.py), error answers (scripted), `submissions`
pagination (`filings.files`: only `recent` is read, enough for a daily check).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import requests

from orchestration.normalize.edgar import (
    ciks_from_tickers,
    has_new_filing,
    load_concepts,
    reports_currency,
    sec_ticker,
    statement_rows,
)
from orchestration.normalize.statements import empty_statements
from orchestration.sources.base import Fetched, Instrument, SourceError, StatementPlan
from orchestration.sources.pace import Backoff, RateLimiter
from orchestration.sources.retry import BudgetExhausted, RequestBudget, RetryPolicy, retry_after_seconds
from orchestration.sources.yahoo_http import CircuitBreaker, process_pace

log = logging.getLogger(__name__)

TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
DATA_URL = "https://data.sec.gov"
ENDPOINTS = (("/files/company_tickers.json", "company_tickers"), ("/submissions/", "submissions"),
             ("/api/xbrl/companyfacts/", "companyfacts"))  # fmt: skip


def endpoint_of(url: str) -> str:
    path = urlsplit(url).path
    return next((name for prefix, name in ENDPOINTS if path.startswith(prefix)), "other")


def _cik10(cik: int) -> str:
    return f"CIK{cik:010d}"


def new_http_session() -> requests.Session:
    """The network. Tests replace this function (a Session with a replaying transport adapter)."""
    return requests.Session()


class EdgarHttpError(Exception):
    def __init__(self, endpoint: str, url: str, status: int | None, detail: str):
        self.endpoint, self.url, self.status, self.detail = endpoint, url, status, detail
        super().__init__(f"{endpoint} HTTP {status if status is not None else '-'}: {detail}")


class EdgarRateLimited(EdgarHttpError):
    """429, or 403 (the SEC's answer to a client above its rate): ask again later, slower."""

    def __init__(self, endpoint: str, url: str, status: int, retry_after: float | None):
        self.retry_after = retry_after
        super().__init__(endpoint, url, status, "rate limited" + (f" (Retry-After {retry_after:g} s)" if retry_after else ""))


class EdgarUnavailable(EdgarHttpError):
    """A 5xx, a timeout, a reset or a truncated body: worth asking again."""


class EdgarNotFound(EdgarHttpError):
    """404: no such CIK (or no XBRL facts for it). Asking again will not help."""


class EdgarCircuitOpen(RuntimeError):
    """The SEC kept refusing: the run stops asking; what it did not reach is deferred."""


TRANSIENT = (EdgarRateLimited, EdgarUnavailable)
STOPPED = (EdgarCircuitOpen, BudgetExhausted)


@dataclass(frozen=True)
class EdgarSettings:
    user_agent: str | None = None  # required by the SEC: "Name contact@example.com" (VALUATION_SEC_USER_AGENT)
    requests_per_second: float = 8.0  # the machine's pace, under the SEC's 10 per second
    request_budget: int = 50_000  # HTTP requests one asset may make in a run
    max_attempts: int = 4
    base_delay_seconds: float = 5.0  # backoff: jittered up to base x 2^attempt ...
    max_delay_seconds: float = 600.0  # ... and at most this (the SEC blocks an abusive client ~10 min)
    breaker_threshold: int = 5  # 429/403s in a row that stop the run
    timeout_seconds: int = 30
    cache_dir: str | None = None  # company_tickers.json is kept here
    pace_file: str | None = None  # the SEC pace every process of the machine shares (None: this process's own)
    tickers_max_age_days: int = 30


class EdgarHttp:
    """The HTTP edge: User-Agent, pace, budget, breaker, counting, classification."""

    def __init__(self, settings: EdgarSettings, session: requests.Session, pace):
        if not settings.user_agent:
            raise SourceError("the edgar source needs VALUATION_SEC_USER_AGENT (the SEC requires a User-Agent "
                              "naming you and a contact address, e.g. 'Jane Doe jane@example.com')")  # fmt: skip
        self.settings = settings
        self.session = session
        self.session.headers.update({"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"})
        self.pace = pace
        self.budget = RequestBudget(settings.request_budget)
        self.breaker = CircuitBreaker(settings.breaker_threshold)
        self.requests: Counter = Counter()
        self.statuses: Counter = Counter()

    def get_json(self, url: str) -> dict:
        endpoint = endpoint_of(url)
        if self.breaker.open:
            raise EdgarCircuitOpen(f"the SEC refused {self.breaker.consecutive_429} requests in a row: not asking again this run")
        self.budget.spend(1)
        self.pace.wait()
        self.requests[endpoint] += 1
        try:
            response = self.session.get(url, timeout=self.settings.timeout_seconds)
        except requests.RequestException as error:  # timeouts, resets, DNS
            self.statuses[(endpoint, "network")] += 1
            raise EdgarUnavailable(endpoint, url, None, f"{type(error).__name__}: {error}") from None
        status = int(response.status_code)
        self.statuses[(endpoint, status)] += 1
        limited = status in (429, 403)
        retry_after = retry_after_seconds(response.headers.get("Retry-After")) if limited else None
        self.pace.answered(429 if limited else status, retry_after)  # a refusal pauses every process
        self.breaker.record(429 if limited else status)
        if limited:
            raise EdgarRateLimited(endpoint, url, status, retry_after)
        if status >= 500:
            raise EdgarUnavailable(endpoint, url, status, response.reason or "server error")
        if status == 404:
            raise EdgarNotFound(endpoint, url, status, "not found")
        if status != 200:
            raise EdgarUnavailable(endpoint, url, status, response.reason or "unexpected status")
        try:
            return json.loads(response.content)
        except ValueError:
            raise EdgarUnavailable(endpoint, url, status, "truncated or malformed JSON") from None


class _Refused(Exception):
    """Internal: this company cannot be served (the reason is the message)."""


class _Deferred(Exception):
    """Internal: the run stopped asking (breaker open, budget spent) at this company."""


class EdgarSource:
    name = "edgar"
    fetches_are_free = False

    def __init__(
        self,
        settings: EdgarSettings | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        today: Callable[[], date] = date.today,
    ):
        self.settings = settings or EdgarSettings()
        backoff = Backoff(self.settings.base_delay_seconds, self.settings.max_delay_seconds)
        per_hour = self.settings.requests_per_second * 3600
        # the machine's SEC pace (its own file); without one, this source's own (never Yahoo's in-memory one)
        pace = process_pace(per_hour, self.settings.pace_file, backoff) if self.settings.pace_file else RateLimiter(per_hour, backoff)
        self.http = EdgarHttp(self.settings, session or new_http_session(), pace)
        self.retry = RetryPolicy(self.settings.max_attempts, self.settings.base_delay_seconds,
                                 self.settings.max_delay_seconds, sleep, rng or random.Random())  # fmt: skip
        self.today = today
        self.concepts = load_concepts()
        self._ciks: dict[str, int] | None = None
        self.warnings: list[str] = []

    # ---------------------------------------------------------------- the one way to ask

    def _ask(self, url: str) -> dict:
        for attempt in range(self.retry.max_attempts):
            try:
                return self.http.get_json(url)
            except STOPPED as error:
                raise _Deferred(str(error)) from None
            except TRANSIENT as error:
                if attempt == self.retry.max_attempts - 1:
                    raise
                wait = max(getattr(error, "retry_after", None) or 0.0, self.retry.delay(attempt))
                self.retry.slept.append(wait)
                self.retry.sleep(wait)
        raise AssertionError("unreachable")

    # ---------------------------------------------------------------- CIKs

    def _tickers_cache(self) -> Path | None:
        return Path(self.settings.cache_dir) / "company_tickers.json" if self.settings.cache_dir else None

    def ciks(self) -> dict[str, int]:
        """ticker -> CIK, from the cached company_tickers.json while it is young enough."""
        if self._ciks is not None:
            return self._ciks
        cache = self._tickers_cache()
        fresh = cache is not None and cache.exists() and (time.time() - cache.stat().st_mtime) < self.settings.tickers_max_age_days * 86400
        if fresh:
            self._ciks = ciks_from_tickers(json.loads(cache.read_text()))
            return self._ciks
        try:
            payload = self._ask(TICKERS_URL)
        except (*TRANSIENT, EdgarNotFound, _Deferred) as error:
            if cache is not None and cache.exists():
                self.warnings.append(f"company_tickers.json could not be refreshed ({error}): using the cached copy")
                self._ciks = ciks_from_tickers(json.loads(cache.read_text()))
                return self._ciks
            raise
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache.with_suffix(".tmp")
            temporary.write_text(json.dumps(payload))
            temporary.replace(cache)
        self._ciks = ciks_from_tickers(payload)
        return self._ciks

    # ---------------------------------------------------------------- the protocol

    def fetch_statements(self, plans: Sequence[StatementPlan]) -> Fetched:
        before = dict(self.http.requests)
        frames: list[pd.DataFrame] = []
        failures: dict[str, str] = {}
        deferred: dict[str, str] = {}
        unchanged: dict[str, str] = {}
        self.warnings = []
        try:
            ciks = self.ciks()
        except (*TRANSIENT, EdgarNotFound) as error:
            reason = f"the CIK list (company_tickers.json) could not be fetched: {error}"
            return self._fetched(frames, before, failures={p.symbol: reason for p in plans})
        except _Deferred as error:
            return self._fetched(frames, before, deferred={p.symbol: str(error) for p in plans})
        for number, plan in enumerate(plans):
            try:
                cik = ciks.get(sec_ticker(plan.symbol))
                if cik is None:
                    raise _Refused(_no_cik_reason(plan.symbol))
                if plan.last_filed is not None:
                    submissions = self._ask(f"{DATA_URL}/submissions/{_cik10(cik)}.json")
                    if not has_new_filing(submissions, plan.last_filed, plan.last_accn):
                        unchanged[plan.symbol] = f"no filing since {plan.last_filed.isoformat()} ({plan.last_accn})"
                        continue
                facts = self._ask(f"{DATA_URL}/api/xbrl/companyfacts/{_cik10(cik)}.json")
                if not reports_currency(facts, plan.currency):
                    raise _Refused(f"companyfacts of CIK {cik} has no figures in {plan.currency} (universe.yml's reporting currency)")
                frame, warnings = statement_rows(plan.symbol, facts, plan.currency, plan.fiscal_year_end_month, self.concepts)
                self.warnings.extend(warnings)
                if frame.empty:
                    raise _Refused(f"companyfacts of CIK {cik} has none of the concepts of edgar_concepts.csv")
                frames.append(frame)
            except _Deferred as error:
                deferred.update({p.symbol: str(error) for p in plans[number:]})
                break
            except _Refused as error:
                failures[plan.symbol] = str(error)
            except TRANSIENT as error:
                failures[plan.symbol] = f"gave up after {self.retry.max_attempts} attempts: {error}"
            except EdgarNotFound as error:
                failures[plan.symbol] = f"EDGAR has no such company: {error}"
        return self._fetched(frames, before, failures=failures, deferred=deferred, unchanged=unchanged)

    def _fetched(self, frames: list[pd.DataFrame], before: dict[str, int], **kwargs) -> Fetched:
        frame = pd.concat(frames, ignore_index=True) if frames else empty_statements()
        used = {k: v - before.get(k, 0) for k, v in self.http.requests.items() if v - before.get(k, 0)}
        return Fetched(frame, requests=sum(used.values()), requests_by_endpoint=used, warnings=list(self.warnings), **kwargs)

    # EDGAR is a fundamentals source only: the market data of a run comes from VALUATION_SOURCE.
    def fetch_prices(self, instruments: Sequence[Instrument], starts) -> Fetched:
        raise SourceError("the edgar source gives fundamentals only: prices come from VALUATION_SOURCE")

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> Fetched:
        raise SourceError("the edgar source gives fundamentals only: profiles come from VALUATION_SOURCE")

    def fetch_estimates(self, symbols: Sequence[str]) -> Fetched:
        raise SourceError("the edgar source gives fundamentals only: estimates come from VALUATION_SOURCE")


def _no_cik_reason(symbol: str) -> str:
    if symbol.upper().endswith(".HK"):
        return "no SEC CIK: files in Hong Kong"
    return f"no SEC CIK: {sec_ticker(symbol)} is not in the SEC's company_tickers.json"
