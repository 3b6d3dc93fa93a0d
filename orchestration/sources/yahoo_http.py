"""The HTTP edge of the Yahoo source: every request yfinance makes passes through `YahooSession`.

yfinance 1.x sends its requests through a curl_cffi `Session` handed to it with `session=`. This
subclass is where the project meets the network, so it is where requests are
- counted, by endpoint (the true HTTP count, cookie and crumb requests included);
- paced, by the machine's pace (orchestration.sources.pace): every process that asks Yahoo from
  this machine shares one rate, and a 429 one of them gets pauses them all;
- budgeted, in true HTTP requests per run;
- stopped, by a circuit breaker after a sustained run of 429s (no request leaves while it is open);
- classified: a 429 raises `YahooRateLimited`; a 5xx, Yahoo's "down" page, truncated JSON, a
  timeout or a second 401 in a row raise `YahooUnavailable` (transient); a 400 or 404 on a data
  endpoint raises `YahooNotFound` with Yahoo's own description (permanent).

Raising at the edge keeps yfinance from turning one 4xx into a re-authentication and a retry of
its own (four more requests each time), and keeps a failure visible as an exception rather than
as a log line. A first 401 is passed through: yfinance renews its crumb and asks once more, which
is what a 401 needs. Tests subclass this session and override `_send` only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from curl_cffi import requests as curl_requests

from orchestration.normalize.yahoo import timeseries_currencies
from orchestration.sources.pace import Backoff, RateLimiter, SharedPace
from orchestration.sources.retry import BudgetExhausted, RequestBudget, retry_after_seconds

# (host suffix or None, path prefix) -> endpoint name, first match wins
ENDPOINTS = (
    (None, "/v8/finance/chart/", "chart"),
    (None, "/ws/fundamentals-timeseries/", "fundamentals-timeseries"),
    (None, "/v10/finance/quoteSummary/", "quoteSummary"),
    (None, "/v7/finance/quote", "quote"),
    (None, "/v1/test/getcrumb", "getcrumb"),
    (None, "/v1/finance/visualization", "visualization"),
    ("fc.yahoo.com", "", "cookie"),
    ("guce.yahoo.com", "", "consent"),
    ("consent.yahoo.com", "", "consent"),
)
DATA_ENDPOINTS = {"chart", "fundamentals-timeseries", "quoteSummary", "quote", "visualization"}
DOWN_PAGE_MARKERS = ("Will be right back", "<html", "<!DOCTYPE")


def endpoint_of(url: str) -> str:
    parts = urlsplit(url)
    for host, path, name in ENDPOINTS:
        if (host is None or parts.hostname == host) and parts.path.startswith(path):
            return name
    return "other"


def symbol_of(url: str) -> str | None:
    """The symbol a chart, fundamentals or quoteSummary URL is about (the last path segment)."""
    endpoint = endpoint_of(url)
    if endpoint in {"chart", "fundamentals-timeseries", "quoteSummary"}:
        return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    return None


class YahooHttpError(Exception):
    """A Yahoo answer that is not data. Deliberately not an OSError: yfinance retries those itself."""

    def __init__(self, endpoint: str, url: str, status: int | None, detail: str):
        self.endpoint, self.url, self.status, self.detail = endpoint, url, status, detail
        super().__init__(f"{endpoint} HTTP {status if status is not None else '-'}: {detail}")


class YahooRateLimited(YahooHttpError):
    """429 Too Many Requests; `retry_after` in seconds when Yahoo said so."""

    def __init__(self, endpoint: str, url: str, retry_after: float | None):
        self.retry_after = retry_after
        super().__init__(endpoint, url, 429, "Too Many Requests" + (f" (Retry-After {retry_after:g} s)" if retry_after else ""))


class YahooUnavailable(YahooHttpError):
    """Worth asking again later: a 5xx, Yahoo's error page, a truncated body, a timeout, a lost crumb."""


class YahooNotFound(YahooHttpError):
    """Yahoo has no such data (400/404 with its own description): asking again will not help."""


class CircuitOpen(RuntimeError):
    """Yahoo kept answering 429: the run stops asking; what it did not reach is deferred."""


Pace = RateLimiter | SharedPace
_PROCESS_PACES: dict[str | None, Pace] = {}


def process_pace(per_hour: float, pace_file: str | None = None, backoff: Backoff | None = None) -> Pace:
    """The pace of this process's requests: the machine's (`SharedPace` over `pace_file`, what every
    run uses), or one kept in this process's memory when no file is given. One object per file and
    process, re-paced when the configured rate or backoff changes."""
    pace = _PROCESS_PACES.get(pace_file)
    if pace is None:
        pace = SharedPace(pace_file, per_hour) if pace_file else RateLimiter(per_hour)
        _PROCESS_PACES[pace_file] = pace
    pace.per_hour = per_hour
    if backoff is not None:
        pace.backoff = backoff
    return pace


@dataclass
class CircuitBreaker:
    """Opens after `threshold` rate-limited answers in a row; stays open for the rest of the run."""

    threshold: int = 3
    consecutive_429: int = 0
    open: bool = False

    def record(self, status: int) -> None:
        if status == 429:
            self.consecutive_429 += 1
            self.open = self.open or self.consecutive_429 >= self.threshold
        else:
            self.consecutive_429 = 0


def _yahoo_description(response) -> str:
    """Yahoo's own reason from an error body: chart.error, quoteSummary.error, finance.error."""
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return response.content[:200].decode("utf-8", "replace").strip() or response.reason or ""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and isinstance(value.get("error"), dict):
                return str(value["error"].get("description") or value["error"].get("code"))
    return str(body)[:200]


class YahooSession(curl_requests.Session):
    """curl_cffi session with the project's accounting, pacing, budget and classification."""

    def __init__(
        self,
        limiter: Pace,
        budget: RequestBudget | None = None,
        breaker: CircuitBreaker | None = None,
        impersonate: str = "chrome",
        **kwargs,
    ):
        super().__init__(impersonate=impersonate, **kwargs)
        self.limiter = limiter
        self.budget = budget or RequestBudget(10**9)
        self.breaker = breaker or CircuitBreaker()
        self.requests: Counter = Counter()  # endpoint -> HTTP requests sent
        self.statuses: Counter = Counter()  # (endpoint, status) -> answers
        # symbol -> currency codes of the amounts Yahoo sent (yfinance's frames drop them)
        self.reported_currencies: dict[str, Counter] = {}
        self._last_401: str | None = None

    def request(self, method, url, *args, **kwargs):  # noqa: D401 - curl_cffi's signature
        endpoint = endpoint_of(url)
        if self.breaker.open:
            raise CircuitOpen(f"Yahoo answered 429 {self.breaker.consecutive_429} times in a row: not asking again this run")
        self.budget.spend(1)
        self.limiter.wait()
        self.requests[endpoint] += 1
        try:
            response = self._send(method, url, *args, **kwargs)
        except curl_requests.exceptions.RequestException as error:
            # timeouts, resets, DNS: the request may succeed later
            self.statuses[(endpoint, "network")] += 1
            raise YahooUnavailable(endpoint, url, None, f"{type(error).__name__}: {error}") from None
        status = int(response.status_code)
        self.statuses[(endpoint, status)] += 1
        # a 429 pauses every process of the machine; the first other answer ends the run of them
        self.limiter.answered(status, retry_after_seconds(response.headers.get("retry-after")) if status == 429 else None)
        self.breaker.record(status)
        self._classify(endpoint, url, status, response)
        if endpoint == "fundamentals-timeseries":
            counts = timeseries_currencies(json.loads(response.content))
            self.reported_currencies.setdefault(symbol_of(url) or "", Counter()).update(counts)
        return response

    def _send(self, method, url, *args, **kwargs):
        """The network. Tests override this and nothing else."""
        return super().request(method, url, *args, **kwargs)

    def _classify(self, endpoint: str, url: str, status: int, response) -> None:
        if status == 429:
            raise YahooRateLimited(endpoint, url, retry_after_seconds(response.headers.get("retry-after")))
        if status >= 500:
            raise YahooUnavailable(endpoint, url, status, _yahoo_description(response))
        if endpoint not in DATA_ENDPOINTS:
            return  # cookie, consent and crumb: yfinance reads them as it wants
        if status == 401:
            path = urlsplit(url).path
            second = self._last_401 == path
            self._last_401 = path
            if second:
                raise YahooUnavailable(endpoint, url, status, "401 twice in a row (crumb not accepted)")
            return  # the first one: yfinance renews its crumb and asks again
        self._last_401 = None
        if status in (400, 404):
            raise YahooNotFound(endpoint, url, status, _yahoo_description(response))
        text = response.content[:400].decode("utf-8", "replace")
        if any(marker in text for marker in DOWN_PAGE_MARKERS):
            raise YahooUnavailable(endpoint, url, status, "an HTML page instead of data (Yahoo is down?)")
        try:
            json.loads(response.content)
        except ValueError:
            raise YahooUnavailable(endpoint, url, status, "truncated or malformed JSON") from None


TRANSIENT = (YahooRateLimited, YahooUnavailable)
STOPPED = (CircuitOpen, BudgetExhausted)
