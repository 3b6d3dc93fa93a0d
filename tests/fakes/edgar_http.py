"""The SEC EDGAR test double at the HTTP edge: a `requests` transport adapter that answers from files.

Only the network is replaced: the production `requests.Session` (headers, gzip, status handling) and
the source's classification, pace and retries run as they do live. Answers:
- the real recorded responses of ../shared/edgar-recorded (company_tickers.json, companyfacts and
  submissions of Tesla and Snowflake), served by URL path;
- `extra`: further payloads by path (scripted ones, e.g. a 20-F filer, labelled as scripted where used);
- `faults`: per path, a list of scripted answers given first (429, 403, 500, truncated JSON,
  a timeout), then the file. A path with no file answers 404, as the SEC does for an unknown CIK.
Every request is recorded (`hits`), with the User-Agent it carried.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDED_DIR = REPO_ROOT.parent / "shared" / "edgar-recorded"
TESLA_CIK, SNOWFLAKE_CIK = 1318605, 1640147


def recorded_path(url_path: str) -> Path | None:
    if url_path == "/files/company_tickers.json":
        return RECORDED_DIR / "company_tickers.json"
    name = url_path.rsplit("/", 1)[-1]
    if url_path.startswith("/api/xbrl/companyfacts/"):
        return RECORDED_DIR / "companyfacts" / name
    if url_path.startswith("/submissions/"):
        return RECORDED_DIR / "submissions" / name
    return None


class ReplayAdapter(BaseAdapter):
    def __init__(self, extra: dict[str, object] | None = None, faults: dict[str, list] | None = None):
        super().__init__()
        self.extra = dict(extra or {})
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.hits: list[tuple[str, str, object]] = []  # (path, user agent, status)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        path = urlsplit(request.url).path
        agent = request.headers.get("User-Agent", "")
        fault = self.faults.get(path, [])
        if fault:
            answer = fault.pop(0)
            if answer == "timeout":
                self.hits.append((path, agent, "timeout"))
                raise requests.exceptions.ReadTimeout(f"scripted timeout on {path}")
            if answer == "truncated":
                body = self._body(path)
                self.hits.append((path, agent, "truncated"))
                return self._response(request, 200, body[: len(body) // 2])
            self.hits.append((path, agent, answer))
            headers = {"Retry-After": "1"} if answer == 429 else {}
            return self._response(request, int(answer), b'{"message": "scripted"}', headers)
        body = self._body(path)
        status = 200 if body is not None else 404
        self.hits.append((path, agent, status))
        return self._response(request, status, body if body is not None else b"<html>Not Found</html>")

    def _body(self, path: str) -> bytes | None:
        if path in self.extra:
            payload = self.extra[path]
            return payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        file = recorded_path(path)
        return file.read_bytes() if file is not None and file.exists() else None

    @staticmethod
    def _response(request, status: int, body: bytes, headers: dict | None = None) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response._content = body
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
        response.url = request.url
        response.request = request
        response.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 403: "Forbidden"}.get(status, "")
        return response

    def close(self):
        pass

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.hits]


def replay_session(adapter: ReplayAdapter) -> requests.Session:
    session = requests.Session()
    session.mount("https://", adapter)
    return session
