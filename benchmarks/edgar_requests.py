"""True HTTP requests a first and a daily EDGAR fundamentals run make, by endpoint, and the time at the pace.

The real EdgarSource runs over the tests' transport adapter (tests/fakes/edgar_http.py), which
counts every HTTP request at the wire. The companies are synthetic (clearly not filings): each has
a scripted companyfacts payload of one quarter and a submissions index whose latest 10-Q or 10-K
falls on day `i % 63` of a quarter of 63 trading days, so on a given day one company in 63 has
filed since the last load (earnings seasons bunch filings; a day of a season asks more, one
outside it fewer).

- first run: company_tickers.json once, then one companyfacts per company;
- daily run: the CIK list is cached (asked again every `tickers_max_age_days`, 30); one submissions
  per company, and companyfacts again only for a company with a new filing.
Measured on `--sample` companies and scaled per company (company_tickers.json is not scaled).

    python -m benchmarks.edgar_requests --symbols 5000
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from orchestration.sources import EdgarSettings, EdgarSource, StatementPlan
from orchestration.universe import load_universe
from tests.fakes.edgar_http import RECORDED_DIR, ReplayAdapter, replay_session

TODAY = date(2025, 12, 31)
QUARTER_DAYS = 63
ONCE = ("company_tickers",)
RESULTS = Path(__file__).resolve().parent / "results" / "edgar_requests.json"


def _cik(i: int) -> int:
    return 9_000_000 + i


def build_market(symbols: list[str]) -> ReplayAdapter:
    """Scripted SEC answers for synthetic companies S00000...: a CIK each, one quarter of facts, and
    a filing index whose latest filing is `i % 63` days old."""
    tickers = {str(i): {"cik_str": _cik(i), "ticker": s, "title": f"Synthetic {s}"} for i, s in enumerate(symbols)}
    extra: dict[str, object] = {"/files/company_tickers.json": tickers}
    for i, symbol in enumerate(symbols):
        filed = TODAY - timedelta(days=i % QUARTER_DAYS)
        fact = {"val": 1e9, "start": "2025-07-01", "end": "2025-09-30", "accn": f"{_cik(i):010d}-25-000001",
                "fy": 2025, "fp": "Q3", "form": "10-Q", "filed": (TODAY - timedelta(days=40)).isoformat()}  # fmt: skip
        extra[f"/api/xbrl/companyfacts/CIK{_cik(i):010d}.json"] = {"cik": _cik(i), "facts": {"us-gaap": {"Revenues": {"units": {"USD": [fact]}}}}}
        extra[f"/submissions/CIK{_cik(i):010d}.json"] = {"cik": str(_cik(i)), "filings": {"recent": {
            "accessionNumber": [f"{_cik(i):010d}-25-{i:06d}", f"{_cik(i):010d}-25-000001"],
            "filingDate": [filed.isoformat(), (TODAY - timedelta(days=120)).isoformat()],
            "form": ["10-Q", "10-Q"]}}}  # fmt: skip
    return ReplayAdapter(extra=extra)


def measure(symbols: list[str], run: str, cache_dir: str) -> Counter:
    adapter = build_market(symbols)
    source = EdgarSource(EdgarSettings(user_agent="benchmark bench@example.com", requests_per_second=0,
                                       request_budget=10**9, cache_dir=cache_dir),
                         session=replay_session(adapter), sleep=lambda s: None)  # fmt: skip
    if run == "first":
        plans = [StatementPlan(s, "USD") for s in symbols]
    else:
        # loaded yesterday: the last filing the warehouse holds is the latest one filed before today
        plans = []
        for i, s in enumerate(symbols):
            age = i % QUARTER_DAYS
            last = TODAY - timedelta(days=age) if age else TODAY - timedelta(days=120)
            accn = f"{_cik(i):010d}-25-{i:06d}" if age else f"{_cik(i):010d}-25-000001"
            plans.append(StatementPlan(s, "USD", last_filed=last, last_accn=accn))
    fetched = source.fetch_statements(plans)
    assert not fetched.failures, fetched.failures
    return Counter(fetched.requests_by_endpoint)


def scaled(counts: Counter, factor: float) -> dict[str, int]:
    out = {k: (v if k in ONCE else round(v * factor)) for k, v in sorted(counts.items())}
    out["total"] = sum(out.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=5000)
    parser.add_argument("--sample", type=int, default=252, help="companies actually run through the source")
    args = parser.parse_args()
    universe = load_universe(Path(__file__).resolve().parents[1] / "universe.yml")
    per_second = EdgarSettings().requests_per_second
    sample = [f"S{i:05d}" for i in range(args.sample)]
    # the universe's companies the SEC serves: all but Tencent (no CIK: it files in Hong Kong)
    served = [s for s in universe.fundamentals_symbols if not s.endswith(".HK")]
    sizes = {"universe": len(served), f"{args.symbols}": args.symbols}
    facts_bytes = {p.name: p.stat().st_size for p in sorted((RECORDED_DIR / "companyfacts").glob("*.json"))} if RECORDED_DIR.exists() else {}
    table: dict = {"requests_per_second": per_second, "measured_sample": args.sample, "sizes": {},
                   "recorded_companyfacts_bytes": facts_bytes}  # fmt: skip
    print(f"\nEDGAR: true HTTP requests by endpoint ({args.sample} synthetic companies run, scaled per company)\n")
    print(f"{'size':>9} {'run':<6}{'tickers':>10}{'submissions':>13}{'companyfacts':>14}{'total':>9}{'minutes at pace':>17}")
    with tempfile.TemporaryDirectory() as cache:
        for run in ("first", "daily"):
            counts = measure(sample, run, cache)  # the daily run finds the first run's cached CIK list
            for label, size in sizes.items():
                row = scaled(counts, size / args.sample)
                table["sizes"].setdefault(label, {"companies": size})[run] = row
                print(f"{size:>9,} {run:<6}{row.get('company_tickers', 0):>10,}{row.get('submissions', 0):>13,}"
                      f"{row.get('companyfacts', 0):>14,}{row['total']:>9,}{row['total'] / per_second / 60:>17.1f}")  # fmt: skip
    if facts_bytes:
        mean = sum(facts_bytes.values()) / len(facts_bytes)
        print(f"\ncompanyfacts bytes (recorded, uncompressed): {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in facts_bytes.items())}; "
              f"a first run at {args.symbols:,} companies of that mean size: {mean * args.symbols / 1e9:.1f} GB")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(table, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
