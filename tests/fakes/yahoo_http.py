"""Yahoo at the HTTP layer: a test double of yfinance's curl_cffi session.

`ReplaySession` is the production `YahooSession` (counting, pacing, budget, circuit breaker and
classification all real) with `_send` replaced: instead of the network it answers from
- the real responses recorded against the live API in ../shared/yahoo-recorded (by host, path
  and symbol: yfinance sends other query parameters than the recorder did);
- payloads built here in Yahoo's own formats (`add_chart`, `add_timeseries`, `add_summary`) for
  the fixture universe's made-up symbols, with the shapes read off the recorded responses;
- scripted faults, queued per endpoint and symbol: 429 (with and without Retry-After), 401
  Invalid Crumb, 5xx, Yahoo's HTML error page, a timeout, truncated JSON.

Everything above `_send` is yfinance's own code: chart parsing, the timezone cache, cookie and
crumb handling, `info` assembly, fundamentals-timeseries parsing.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
from collections import defaultdict
from datetime import date, datetime, time, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from curl_cffi.requests.exceptions import Timeout
from curl_cffi.requests.models import Headers, Response

from orchestration.sources.pace import Backoff
from orchestration.sources.yahoo_http import RateLimiter, YahooSession, endpoint_of, symbol_of

RECORDED_DIR = Path(os.environ.get("YAHOO_RECORDED_DIR", Path(__file__).resolve().parents[3] / "shared" / "yahoo-recorded"))

# The recording served for a symbol when there are several (the others: `serve_recording`).
DEFAULT_CHART = {
    "AAPL": "chart/chart-AAPL-2020-08-31-to-2020-11-07.json",
    "MSFT": "chart/historical-via-chart-MSFT-dividends-2021-02-01-to-2022-01-31.csv.json",
    "NVDA": "chart/historical-via-chart-NVDA-split-2021-02-01-to-2022-01-31.csv.json",
    "TSLA": "chart/historical-via-chart-dividends-TSLA-no-dividends.json",
    "AMZN": "chart/chart-AMZN-2020-01-01-to-2020-01-03.json",
    "BABA": "chart/chart-BABA-2020-01-01-to-2020-01-03.json",
    "GOOG": "chart/chart-GOOG-2020-01-01-to-2020-01-03.json",
    "EURUSD=X": "chart/chart-EURUSD=X-2020-01-01-to-2020-01-03.json",
    "^VXAPL": "chart/chart-^VXAPL-2020-01-01-to-2020-01-03.json",
    "BEKE": "chart/chart-BEKE-2020-01-01-to-2020-01-03.json",
    "SI": "chart/historical-via-chart-SI-2020-01-01-to-2020-01-03.json",
}
STATEMENT_FILES = {"financials": "financials", "balance-sheet": "balance-sheet", "cash-flow": "cash-flow"}
# A requested type that tells which statement a fundamentals-timeseries request is for.
STATEMENT_MARKERS = {"TotalRevenue": "financials", "TotalAssets": "balance-sheet", "OperatingCashFlow": "cash-flow"}

FAULTS = ("429", "429-retry-after", "401", "500", "503", "html", "timeout", "truncated")
DOWN_PAGE = b"<!DOCTYPE html><html><head><title>Yahoo</title></head><body>Will be right back...</body></html>"


def fresh_yfinance() -> None:
    """Forget yfinance's process-wide state (its one YfData with cookie and crumb, the cached cookie),
    so a test counts the requests a fresh process makes."""
    import yfinance
    from yfinance.data import SingletonMeta, YfData

    SingletonMeta._instances.pop(YfData, None)
    yfinance.cache.get_cookie_cache().store("curlCffi", None)


def set_session_cookie(jar: http.cookiejar.CookieJar) -> None:
    """What fc.yahoo.com's answer does to a client: a 404 that sets Yahoo's A3 session cookie, which yfinance keeps."""
    jar.set_cookie(http.cookiejar.Cookie(
        0, "A3", "d=AQABBReplay", None, False, ".yahoo.com", True, True, "/", True, True,
        int(datetime.now(timezone.utc).timestamp()) + 365 * 86400, False, None, None, {}))  # fmt: skip


def recording(name: str) -> dict:
    return json.loads((RECORDED_DIR / name).read_text())


def _response(url: str, status: int, body: bytes, content_type: str, headers: dict | None = None) -> Response:
    response = Response()
    response.url = url
    response.status_code = status
    response.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
                       500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "")  # fmt: skip
    response.ok = 200 <= status < 400
    response.headers = Headers({"content-type": content_type, **(headers or {})})
    response.content = body
    return response


def _from_recording(url: str, name: str) -> Response:
    """A recorded response as curl_cffi would hand it over (content-length/-encoding dropped)."""
    record = recording(name)["response"]
    headers = record.get("headers", {})
    content_type = headers.get("content-type", "application/json")
    if isinstance(content_type, list):
        content_type = content_type[0]
    if "bodyJson" in record:
        body = json.dumps(record["bodyJson"], separators=(",", ":")).encode()
    else:
        body = (record.get("bodyText") or record.get("body") or "").encode()
    return _response(url, int(record["status"]), body, content_type)


def _json(url: str, payload: dict, status: int = 200) -> Response:
    return _response(url, status, json.dumps(payload, separators=(",", ":")).encode(), "application/json;charset=utf-8")


class ReplaySession(YahooSession):
    """YahooSession answering from recordings, built payloads and scripted faults."""

    def __init__(self, limiter: RateLimiter | None = None, **kwargs):
        # unpaced, and a 429 pauses nothing: the source's own backoff is what these tests look at
        super().__init__(limiter or RateLimiter(0, Backoff(base_seconds=0, max_seconds=0)), **kwargs)
        self.charts: dict[str, dict] = {}  # symbol -> built chart result
        self.timeseries: dict[str, dict[str, list[dict]]] = defaultdict(dict)  # symbol -> type -> points
        self.summaries: dict[str, dict] = {}  # symbol -> module -> payload
        self.recordings: dict[tuple[str, str], str] = {}  # (endpoint, symbol) -> recording to serve
        self.faults: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        self.log: list[tuple[str, str | None, int | str]] = []  # (endpoint, symbol, status) of every answer
        self.chart_params: list[tuple[str, dict]] = []  # (symbol, query) of every chart request

    # ------------------------------------------------------------- what Yahoo knows

    def serve_recording(self, endpoint: str, symbol: str, name: str) -> None:
        self.recordings[(endpoint, symbol)] = name

    def fail(self, endpoint: str, symbol: str | None, *faults: str) -> None:
        """Answer the next requests to `endpoint` about `symbol` (None: any) with these faults."""
        for fault in faults:
            assert fault in FAULTS, fault
        self.faults[(endpoint, symbol)].extend(faults)

    def add_chart(
        self,
        symbol: str,
        tz: str,
        bars: list[tuple],
        currency: str = "USD",
        instrument_type: str = "EQUITY",
        dividends: dict[str, float] | None = None,
        splits: dict[str, tuple[int, int]] | None = None,
        close_time: time = time(16, 0),
    ) -> None:
        """Daily bars (date, open, high, low, close, adjclose, volume), stamped at the session
        open as Yahoo does; dividends and splits (numerator, denominator) by date."""
        zone = ZoneInfo(tz)

        def stamp(day: str, at: time = time(9, 30)) -> int:
            return int(datetime.combine(date.fromisoformat(day), at, zone).timestamp())

        events: dict = {}
        if dividends:
            events["dividends"] = {str(stamp(d)): {"amount": a, "date": stamp(d)} for d, a in dividends.items()}
        if splits:
            events["splits"] = {
                str(stamp(d)): {"date": stamp(d), "numerator": n, "denominator": m, "splitRatio": f"{n}:{m}"}
                for d, (n, m) in splits.items()
            }
        self.charts[symbol] = {
            "meta": {"currency": currency, "symbol": symbol, "instrumentType": instrument_type,
                     "exchangeTimezoneName": tz, "timezone": tz, "gmtoffset": 0, "priceHint": 2,
                     "dataGranularity": "1d", "range": "", "validRanges": ["1d", "5d", "1mo", "1y", "max"]},
            "timestamps": [stamp(b[0]) for b in bars],
            "closes_at": [stamp(b[0], close_time) for b in bars],
            "bars": bars,
            "events": events,
        }  # fmt: skip

    def add_timeseries(self, symbol: str, freq: str, values: dict[str, dict[str, float]], currency: str) -> None:
        """values: line item (yfinance's name, e.g. TotalRevenue) -> {period end: value}."""
        period_type = {"quarterly": "3M", "annual": "12M"}[freq]
        for item, points in values.items():
            self.timeseries[symbol][f"{freq}{item}"] = [
                {"dataId": 1, "asOfDate": end, "periodType": period_type, "currencyCode": currency,
                 "reportedValue": {"raw": value, "fmt": str(value)}}
                for end, value in sorted(points.items())
            ]  # fmt: skip
            self.timeseries[symbol][f"{freq}{item}:timestamps"] = [  # midnight UTC of each asOfDate, as Yahoo sends
                int(datetime.combine(date.fromisoformat(end), time(0), timezone.utc).timestamp()) for end in sorted(points)
            ]

    def add_summary(self, symbol: str, **modules: dict) -> None:
        self.summaries.setdefault(symbol, {}).update(modules)

    # ------------------------------------------------------------- the wire

    def _send(self, method, url, *args, params=None, **kwargs):
        endpoint, symbol = endpoint_of(url), symbol_of(url)
        query = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()} | dict(params or {})
        if endpoint == "quote":
            symbol = str(query.get("symbols", ""))
        response = self._fault(endpoint, symbol, url) or self._answer(endpoint, symbol, url, query)
        self.log.append((endpoint, symbol, response.status_code))
        return response

    def _fault(self, endpoint: str, symbol: str | None, url: str) -> Response | None:
        for key in ((endpoint, symbol), (endpoint, None)):
            if self.faults.get(key):
                fault = self.faults[key].pop(0)
                break
        else:
            return None
        if fault == "timeout":
            self.log.append((endpoint, symbol, "timeout"))
            raise Timeout("Operation timed out after 30000 milliseconds")
        if fault == "429":
            return _response(url, 429, b"Too Many Requests\r\n", "text/plain")
        if fault == "429-retry-after":
            return _response(url, 429, b"Too Many Requests\r\n", "text/plain", {"retry-after": "120"})
        if fault == "401":
            return _json(url, {"finance": {"result": None, "error": {"code": "Unauthorized", "description": "Invalid Crumb"}}}, 401)
        if fault in ("500", "503"):
            return _response(url, int(fault), b"upstream connect error", "text/plain")
        if fault == "html":
            return _response(url, 200, DOWN_PAGE, "text/html")
        if fault == "truncated":
            good = self._answer(endpoint, symbol, url, {})
            return _response(url, good.status_code, good.content[: len(good.content) // 2], "application/json")
        raise AssertionError(fault)

    def _answer(self, endpoint: str, symbol: str | None, url: str, query: dict) -> Response:
        if endpoint == "cookie":
            set_session_cookie(self.cookies.jar)
            return _response(url, 404, b"<html>404</html>", "text/html")
        if endpoint == "consent":
            return _response(url, 200, b"<html><body>no consent form here</body></html>", "text/html")
        if endpoint == "getcrumb":
            return _from_recording(url, "getcrumb/getCrumb-getcrumb.json")
        if (endpoint, symbol) in self.recordings:
            return _from_recording(url, self.recordings[(endpoint, symbol)])
        if endpoint == "chart":
            return self._chart(url, symbol, query)
        if endpoint == "fundamentals-timeseries":
            return self._timeseries(url, symbol, query)
        if endpoint == "quoteSummary":
            return self._summary(url, symbol, query)
        if endpoint == "quote":
            return self._quote(url, symbol)
        return _response(url, 404, b"not recorded", "text/plain")

    def _chart(self, url: str, symbol: str, query: dict) -> Response:
        if symbol in self.charts:
            return _json(url, {"chart": {"result": [self._built_chart(symbol, query)], "error": None}})
        if symbol in DEFAULT_CHART:
            return _from_recording(url, DEFAULT_CHART[symbol])
        return _json(url, {"chart": {"result": None, "error": {"code": "Not Found",
                                                               "description": "No data found, symbol may be delisted"}}}, 404)  # fmt: skip

    def _built_chart(self, symbol: str, query: dict) -> dict:
        chart = self.charts[symbol]
        self.chart_params.append((symbol, dict(query)))
        first = int(query.get("period1", 0) or 0)
        last = int(query.get("period2", 2**62) or 2**62)
        now = int(datetime.now(timezone.utc).timestamp())
        keep = [i for i, t in enumerate(chart["timestamps"]) if first <= t < last and t <= now]
        if query.get("range") == "1d":
            keep = keep[-1:]
        bars = [chart["bars"][i] for i in keep]
        stamps = {chart["timestamps"][i] for i in keep}
        result = {"meta": chart["meta"], "timestamp": [chart["timestamps"][i] for i in keep],
                  "indicators": {"quote": [{"open": [b[1] for b in bars], "high": [b[2] for b in bars],
                                            "low": [b[3] for b in bars], "close": [b[4] for b in bars],
                                            "volume": [b[6] for b in bars]}],
                                 "adjclose": [{"adjclose": [b[5] for b in bars]}]}}  # fmt: skip
        events = {kind: {k: v for k, v in items.items() if v["date"] in stamps} for kind, items in chart["events"].items()}
        if any(events.values()):
            result["events"] = {kind: items for kind, items in events.items() if items}
        if not keep:
            result = {"meta": chart["meta"], "indicators": {"quote": [{}]}}
        return result

    def _timeseries(self, url: str, symbol: str, query: dict) -> Response:
        types = str(query.get("type", "")).split(",")
        if symbol in self.timeseries:
            known = self.timeseries[symbol]
            result = [
                {"meta": {"symbol": [symbol], "type": [t]}, "timestamp": known[f"{t}:timestamps"], t: known[t]}
                if t in known else {"meta": {"symbol": [symbol], "type": [t]}}
                for t in types
            ]
            return _json(url, {"timeseries": {"result": result, "error": None}})
        freq = "annual" if types and types[0].startswith("annual") else "quarterly"
        statement = next((s for marker, s in STATEMENT_MARKERS.items() if f"{freq}{marker}" in types), "financials")
        name = f"fundamentals-timeseries/fundamentalsTimeSeries-{symbol}-{statement}-{freq}.json"
        if (RECORDED_DIR / name).exists():
            return _from_recording(url, name)
        return _json(url, {"timeseries": {"result": [{"meta": {"symbol": [symbol], "type": [t]}} for t in types], "error": None}})

    def _summary(self, url: str, symbol: str, query: dict) -> Response:
        modules = str(query.get("modules", "")).split(",")
        if symbol in self.summaries:
            known = self.summaries[symbol]
        elif (RECORDED_DIR / f"quoteSummary/quoteSummary-all-{symbol}.json").exists():
            known = recording(f"quoteSummary/quoteSummary-all-{symbol}.json")["response"]["bodyJson"]["quoteSummary"]["result"][0]
        else:
            return _json(url, {"quoteSummary": {"result": None, "error": {
                "code": "Not Found", "description": f"Quote not found for symbol: {symbol}"}}}, 404)  # fmt: skip
        found = {m: known[m] for m in modules if m in known}
        if not found:
            return _json(url, {"quoteSummary": {"result": None, "error": {"code": "Not Found",
                "description": f"No fundamentals data found for any of the summaryTypes={','.join(modules)}"}}}, 404)  # fmt: skip
        return _json(url, {"quoteSummary": {"result": [found], "error": None}})

    def _quote(self, url: str, symbols: str) -> Response:
        results = []
        for symbol in symbols.split(","):
            name = RECORDED_DIR / f"quote/quote-{symbol}.json"
            if name.exists():
                results += json.loads(name.read_text())["response"]["bodyJson"]["quoteResponse"]["result"]
            elif symbol in self.summaries:
                known = self.summaries[symbol]
                results.append({"symbol": symbol, "quoteType": "EQUITY", **known.get("quoteType", {}),
                                "currency": known.get("summaryDetail", {}).get("currency")})  # fmt: skip
        return _json(url, {"quoteResponse": {"result": results, "error": None}})
