"""The Yahoo test double served over local HTTP, for runs in processes the test does not own.

A test (or a benchmark) starts `YahooDouble` on 127.0.0.1: a threaded HTTP server in its own
process whose answers are the `ReplaySession`'s of tests/fakes/yahoo_http.py (Yahoo's formats, the
recorded responses, scripted faults). Every answer is recorded as a `Hit`, with its wall-clock
moment: what arrived from all processes together, measured where Yahoo would measure it.

In the processes that ask (the run workers of `dagster dev`, which load tests/fakes/dagster_location.py),
`HttpYahooSession` is the production `YahooSession` (pacing, budget, breaker, classification) with
only the network replaced: a request for https://query2.finance.yahoo.com/v8/... goes to
<YAHOO_DOUBLE_URL>/query2.finance.yahoo.com/v8/... instead, and fc.yahoo.com's session cookie is
set on the client, as its answer would. No internet is involved.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from curl_cffi import requests as curl_requests
from curl_cffi.requests.exceptions import Timeout

from orchestration.landing import listing_bucket
from orchestration.sources.yahoo_http import YahooSession, endpoint_of, symbol_of
from tests.fakes.yahoo_http import ReplaySession, set_session_cookie

DOUBLE_URL_VARIABLE = "YAHOO_DOUBLE_URL"
PID_HEADER = "X-Test-Pid"


@dataclass(frozen=True)
class Hit:
    at: float  # wall-clock seconds when the answer was made
    endpoint: str
    symbol: str | None
    status: int | str
    pid: int  # the asking process (a run worker)


class YahooDouble:
    """Yahoo on http://127.0.0.1:<port>, answering from `session` (a ReplaySession to fill with
    charts and faults before or while runs ask)."""

    def __init__(self) -> None:
        self.session = ReplaySession()
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> YahooDouble:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path, _, query = self.path.lstrip("/").partition("?")
                # the client's request line is percent-encoded (^GSPC arrives as %5EGSPC); Yahoo's paths are not
                original = "https://" + unquote(path) + (f"?{query}" if query else "")
                endpoint, symbol = endpoint_of(original), symbol_of(original)
                pid = int(self.headers.get(PID_HEADER, "0"))
                with double._lock:
                    try:
                        response = double.session._send("GET", original)
                        status, body, headers = int(response.status_code), response.content, dict(response.headers)
                    except Timeout:
                        status, body, headers = 504, b"timeout", {"content-type": "text/plain"}
                    if endpoint == "quote":
                        symbol = double.session.log[-1][1]
                    double.hits.append(Hit(time.time(), endpoint, symbol, status, pid))
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "content-encoding", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass  # every request is in `hits`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="yahoo-double", daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------- what arrived

    def data_hits(self, since: float = 0.0) -> list[Hit]:
        """Every answered request since `since` (cookie and crumb included: Yahoo counts them too)."""
        with self._lock:
            return [hit for hit in self.hits if hit.at >= since]

    def charts_by_bucket(self, since: float = 0.0) -> dict[str, int]:
        counts: dict[str, int] = {}
        for hit in self.data_hits(since):
            if hit.endpoint == "chart" and hit.symbol:
                bucket = listing_bucket(hit.symbol)
                counts[bucket] = counts.get(bucket, 0) + 1
        return counts


def most_in_any_window(moments: list[float], window_seconds: float) -> int:
    """The largest number of moments inside any window of `window_seconds` (a sliding window)."""
    moments = sorted(moments)
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= window_seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def requests_per_minute(moments: list[float]) -> float:
    """The rate the moments arrived at, from the first to the last, per minute."""
    moments = sorted(moments)
    if len(moments) < 2 or moments[-1] == moments[0]:
        return 0.0
    return (len(moments) - 1) / (moments[-1] - moments[0]) * 60


class HttpYahooSession(YahooSession):
    """The production session, asking the double at $YAHOO_DOUBLE_URL instead of Yahoo."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trust_env = False  # never through a proxy of the environment: the double is on this machine

    def _send(self, method, url, *args, headers=None, **kwargs):
        parts = urlsplit(url)
        forwarded = f"{os.environ[DOUBLE_URL_VARIABLE]}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        headers = {**(headers or {}), PID_HEADER: str(os.getpid())}
        response = curl_requests.Session.request(self, method, forwarded, *args, headers=headers, **kwargs)
        if endpoint_of(url) == "cookie":
            set_session_cookie(self.cookies.jar)  # fc.yahoo.com's Set-Cookie is for .yahoo.com, not for 127.0.0.1
        return response
