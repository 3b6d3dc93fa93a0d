"""The scale benchmark: a synthetic market through the real pipeline, measured.

    python -m benchmarks.scale                      # 5,000 listings x 20 years, 3 runs each
    python -m benchmarks.scale --scale 0.01 --years 2 --runs 1   # a smoke run (CI)

Generates a SYNTHETIC market (benchmarks/synthetic.py; its own DuckDB file under
benchmarks/work/, never the sample's or the demo's), then measures, each the median of --runs:

1. raw load of the full history as a first live run takes it: the landing assets fetch every
   listing bucket into the landing zone, the raw assets load what landed (real Dagster
   materializations), rows per second, and each step's seconds;
2. full `dbt build --full-refresh` of every model and test: seconds, peak memory of the tree;
3. a daily refresh: one new trading day for every listing, fetched into the landing zone by
   landing/prices and loaded by raw/prices, then `dbt build` (incremental), and the serving
   copy published;
4. the analysis/ queries on the serving file (ms; the symbols they name are swapped for
   synthetic ones of the same kind);
5. baselines: the P/E and market-cap panel in plain pandas; the compiled SQL of every dbt model
   and test run directly in DuckDB without dbt.

Prints a table and writes it as JSON to benchmarks/results/. Times are wall-clock on this
machine; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd

from benchmarks import synthetic
from orchestration import settings
from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
from orchestration.landing import bucket_keys
from orchestration.universe import Universe, load_universe

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "benchmarks" / "work"
RESULTS = REPO / "benchmarks" / "results"
DBT = str(Path(sys.executable).parent / "dbt")
HISTORY_END = date(2026, 10, 30)  # a Friday; the daily refreshes add the sessions after it
TARGETS = {
    "full_build_seconds": 60.0,
    "full_build_peak_memory_gib": 4.0,
    "daily_refresh_share_of_full_build": 0.05,
    "pipeline_over_direct_duckdb": 1.5,
    "query_ms": 100.0,
}

QUIET = {"console": {"config": {"log_level": "WARNING"}}}
# The market the SyntheticMarketData resource serves; set once per benchmark, before any run.
MARKET: synthetic.SyntheticMarket | None = None


class SyntheticMarketData(MarketDataResource):
    """The raw assets' market_data resource, serving the synthetic market as of `last`."""

    last: str = str(HISTORY_END)

    def get_source(self) -> synthetic.SyntheticSource:
        assert MARKET is not None, "generate the market first"
        return synthetic.SyntheticSource(MARKET, date.fromisoformat(self.last))


# ---------------------------------------------------------------- measuring


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_measured(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, str]:
    """Run a command; return (seconds, peak RSS of its process tree in bytes, output)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, _tree_rss_bytes(process.pid))
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - started
    text = "".join(output)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{text[-4000:]}")
    return seconds, peak, text


@contextmanager
def timed(into: list[float]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    into.append(time.perf_counter() - started)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------- the pipeline's steps


@dataclass
class Bench:
    listings: int
    years: int
    runs: int
    seed: int
    work: Path
    universe: Universe = field(init=False)

    @property
    def warehouse(self) -> Path:
        return self.work / "synthetic.duckdb"

    @property
    def serving(self) -> Path:
        return self.work / "serving.duckdb"

    @property
    def first(self) -> date:
        return date(HISTORY_END.year - self.years, HISTORY_END.month, HISTORY_END.day)

    def env(self, as_of: date) -> dict[str, str]:
        return {
            **os.environ,
            "VALUATION_WAREHOUSE": str(self.warehouse),
            "VALUATION_SERVING": str(self.serving),
            "VALUATION_UNIVERSE": str(self.work / "universe.yml"),
            "VALUATION_AS_OF": f"{as_of}T23:00:00+00:00",  # after both markets' close
            "DBT_TARGET_PATH": str(self.work / "dbt_target"),
            "DBT_LOG_PATH": str(self.work / "dbt_logs"),
        }

    def use_env(self, as_of: date) -> None:
        os.environ.update(self.env(as_of))

    def dbt(self, *args: str, as_of: date) -> tuple[float, int, str]:
        return run_measured(
            [DBT, *args, "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR)],
            self.env(as_of),
            settings.DBT_PROJECT_DIR,
        )

    def materialize(self, assets: list, last: date, config: dict | None = None) -> dg.ExecuteInProcessResult:
        self.use_env(last)
        result = dg.materialize(
            assets,
            resources={
                "duckdb": WarehouseResource(database=str(self.warehouse), lock_wait_seconds=60),
                "market_data": SyntheticMarketData(last=str(last)),
                "run_settings": run_settings(),
            },
            run_config={"ops": config or {}, "loggers": QUIET},
            raise_on_error=True,
        )
        return result

    def land(self, assets: list, last: date) -> None:
        """The landing assets over every listing bucket in one run (a backfill would run one per bucket)."""
        keys = bucket_keys()
        self.use_env(last)
        dg.materialize(
            assets,
            resources={"market_data": SyntheticMarketData(last=str(last)), "run_settings": run_settings()},
            run_config={"loggers": QUIET},
            tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
            raise_on_error=True,
        )

    def load_history(self) -> dict:
        """The full history the way a first live run takes it: every bucket fetched into the landing
        zone (CSV, as Yahoo's answers are kept), then loaded from there."""
        from orchestration.defs.ingest import raw_financial_statements, raw_prices, raw_universe
        from orchestration.defs.landing import landing_financial_statements, landing_prices

        for path in (self.warehouse, self.warehouse.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.work / "landing", ignore_errors=True)
        # as `make run` does: the loads write the landing state the fetches read (here: nothing held)
        self.materialize([raw_universe, raw_prices, raw_financial_statements], HISTORY_END)
        started = time.perf_counter()
        self.land([landing_prices, landing_financial_statements], HISTORY_END)
        landed = time.perf_counter()
        self.materialize([raw_universe, raw_prices, raw_financial_statements], HISTORY_END)
        seconds = time.perf_counter() - started
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            prices = conn.execute("select count(*) from raw.prices").fetchone()[0]
            statements = conn.execute("select count(*) from raw.financial_statements").fetchone()[0]
        return {"seconds": seconds, "landing_seconds": landed - started, "load_seconds": seconds - (landed - started),
                "price_rows": prices, "statement_rows": statements}  # fmt: skip

    def refresh_day(self, day: date) -> dict:
        """One new session for every listing: the incremental fetch of every bucket into the landing
        zone, the load of what landed, then the dbt models downstream of raw.prices."""
        from orchestration.defs.ingest import raw_prices
        from orchestration.defs.landing import landing_prices

        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            before = conn.execute("select count(*) from raw.prices").fetchone()[0]
        started = time.perf_counter()
        self.land([landing_prices], day)
        self.materialize([raw_prices], day)
        ingest = time.perf_counter() - started
        # what Dagster's automation rebuilds after a price load: the models downstream of raw.prices
        build, peak, _ = self.dbt("build", "--select", "source:raw.prices+", as_of=day)
        started = time.perf_counter()
        self.publish(day)
        publish = time.perf_counter() - started
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            after = conn.execute("select count(*) from raw.prices").fetchone()[0]
            valuation_rows = conn.execute(
                "select count(*) from marts.fct_valuation_daily where date = ?", [day]
            ).fetchone()[0]
        return {
            "day": str(day),
            "ingest_seconds": ingest,
            "build_seconds": build,
            "build_peak_bytes": peak,
            "publish_seconds": publish,
            "new_price_rows": after - before,
            "valuation_rows_for_day": valuation_rows,
        }

    def publish(self, as_of: date) -> None:
        from orchestration.warehouse.publish import publish_serving_copy

        self.use_env(as_of)
        with duckdb.connect(str(self.warehouse)) as conn:
            publish_serving_copy(conn, self.serving)

    def freshness(self, as_of: date) -> None:
        """Freshness is evaluated by a Dagster asset over the raw layer (freshness.data_freshness) and
        published by the dbt model mart_data_freshness: materialize the one, build the other."""
        from orchestration.defs.freshness import data_freshness

        self.use_env(as_of)
        dg.materialize(
            [data_freshness],
            resources={"duckdb": WarehouseResource(database=str(self.warehouse), lock_wait_seconds=60),
                       "run_settings": run_settings()},
            run_config={"loggers": QUIET},
            raise_on_error=True,
        )
        self.dbt("build", "--select", "mart_data_freshness", as_of=as_of)


# ---------------------------------------------------------------- queries and baselines


def analysis_queries(universe: Universe) -> dict[str, str]:
    """analysis/*.sql with the real symbols they name swapped for synthetic ones of the same kind:
    a company with an ADS and a Hong Kong listing for Alibaba's pair, its benchmark for ^HSI."""
    dual = next(c for c in universe.companies if len(c.listings) == 2)
    ads, hong_kong = dual.listings
    swaps = {"'BABA'": f"'{ads.symbol}'", "'9988.HK'": f"'{hong_kong.symbol}'"}
    queries = {}
    for path in sorted((REPO / "analysis").glob("*.sql")):
        sql = path.read_text()
        for real, fake in swaps.items():
            sql = sql.replace(real, fake)
        queries[path.stem] = sql
    return queries


def time_queries(serving: Path, queries: dict[str, str], repeats: int) -> dict[str, dict]:
    results = {}
    with duckdb.connect(str(serving), read_only=True) as conn:
        for name, sql in queries.items():
            rows = len(conn.execute(sql).fetchall())  # warm-up, as a dashboard's first load
            times = []
            for _ in range(repeats):
                with timed(times):
                    conn.execute(sql).fetchall()
            results[name] = {"ms": median(times) * 1000, "rows": rows}
    return results


def pandas_panel(warehouse: Path) -> tuple[float, int]:
    """The P/E and market-cap panel as a user would write it in pandas, from the raw tables.

    TTM EPS = the last four quarters' diluted EPS, usable from the filing date; shares = the
    latest reported ordinary shares; both joined to each price as of its date (merge_asof);
    EPS converted to the trading currency at the day's FX rate. Returns (seconds, rows).
    """
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        listings = conn.execute(
            "select symbol, company_id, trading_currency, shares_per_listing_unit from raw.universe_listings"
        ).df()
        companies = conn.execute("select company_id, reporting_currency from raw.universe_companies").df()
        prices = conn.execute("select symbol, date, close from raw.prices").df()
        statements = conn.execute(
            "select symbol, period_end, filed_date, line_item, value from raw.financial_statements "
            "where line_item in ('DilutedEPS', 'OrdinarySharesNumber')"
        ).df()
    primary = listings.drop_duplicates("company_id")  # statements come through the first listing
    statements = statements.merge(primary[["symbol", "company_id"]], on="symbol")
    wide = statements.pivot_table(index=["company_id", "period_end", "filed_date"], columns="line_item", values="value").reset_index()
    wide = wide.sort_values(["company_id", "period_end"])
    wide["ttm_eps"] = wide.groupby("company_id")["DilutedEPS"].transform(lambda s: s.rolling(4).sum())
    wide["available_from"] = pd.to_datetime(wide["filed_date"])
    wide = wide.merge(companies, on="company_id")

    fx = prices[prices["symbol"].isin(["USDHKD=X", "CNY=X"])].copy()
    fx["currency"] = fx["symbol"].map({"USDHKD=X": "HKD", "CNY=X": "CNY"})
    fx["date"] = pd.to_datetime(fx["date"])
    fx = fx.rename(columns={"close": "units_per_usd"}).sort_values("date")

    panel = prices.merge(listings, on="symbol")
    panel["date"] = pd.to_datetime(panel["date"])
    panel = pd.merge_asof(
        panel.sort_values("date"),
        wide[["company_id", "available_from", "ttm_eps", "OrdinarySharesNumber", "reporting_currency"]].sort_values("available_from"),
        left_on="date", right_on="available_from", by="company_id", direction="backward",
    )  # fmt: skip

    def rate(frame: pd.DataFrame, currency_column: str) -> pd.Series:
        out = pd.Series(1.0, index=frame.index)
        for currency, quotes in fx.groupby("currency"):
            rows = frame[frame[currency_column] == currency]
            matched = pd.merge_asof(rows[["date"]].reset_index(), quotes[["date", "units_per_usd"]], on="date",
                                    tolerance=pd.Timedelta(days=7)).set_index("index")  # fmt: skip
            out.loc[matched.index] = matched["units_per_usd"]
        return out

    panel = panel.sort_values("date").reset_index(drop=True)
    local_per_usd = rate(panel, "trading_currency")
    reporting_per_usd = rate(panel, "reporting_currency")
    panel["market_cap_local"] = panel["OrdinarySharesNumber"] * panel["close"] / panel["shares_per_listing_unit"]
    panel["market_cap_usd"] = panel["market_cap_local"] / local_per_usd
    ttm_eps_local = panel["ttm_eps"] / reporting_per_usd * local_per_usd * panel["shares_per_listing_unit"]
    panel["pe_ttm"] = (panel["close"] / ttm_eps_local).where(ttm_eps_local > 0)
    return time.perf_counter() - started, len(panel)


def compiled_nodes(target: Path) -> list[dict]:
    """Models and tests of the last dbt run in execution order, with their compiled SQL."""
    manifest = json.loads((target / "manifest.json").read_text())
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = []
    for result in sorted(run_results["results"], key=lambda r: r["timing"][0]["started_at"] if r["timing"] else ""):
        node = manifest["nodes"].get(result["unique_id"])
        if node and node["resource_type"] in ("model", "test") and result.get("compiled_code"):
            nodes.append({**node, "compiled_code": result["compiled_code"], "execution_time": result["execution_time"]})
    return nodes


def direct_duckdb(warehouse: Path, nodes: list[dict]) -> float:
    """The same compiled SQL, run in DuckDB directly: views, tables, and each test's query."""
    started = time.perf_counter()
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(f"set threads = {os.cpu_count()}")
        for node in nodes:
            sql = node["compiled_code"]
            if node["resource_type"] == "test":
                conn.execute(f"select count(*) from ({sql}) as failures").fetchall()
                continue
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            conn.execute(f"create or replace {kind} {relation} as {sql}")
    return time.perf_counter() - started


# ---------------------------------------------------------------- the run


def next_sessions(after: date, count: int) -> list[date]:
    """The next `count` days both synthetic exchanges trade (a refresh day for every listing)."""
    us, hong_kong = set(synthetic.sessions("XNYS").tolist()), set(synthetic.sessions("XHKG").tolist())
    days = sorted(day for day in us & hong_kong if day > after)
    return days[:count]


def gib(n: float) -> float:
    return n / 2**30


def run(bench: Bench, log: Callable[[str], None]) -> dict:
    global MARKET
    bench.work.mkdir(parents=True, exist_ok=True)
    companies = synthetic.synthetic_companies(bench.listings)
    (bench.work / "universe.yml").write_text(synthetic.universe_yaml(companies))
    bench.use_env(HISTORY_END)
    bench.universe = load_universe(bench.work / "universe.yml")
    refresh_days = next_sessions(HISTORY_END, bench.runs)

    log(f"generating {bench.listings} synthetic listings x {bench.years} years (seed {bench.seed}) ...")
    started = time.perf_counter()
    MARKET = synthetic.SyntheticMarket(
        bench.seed,
        bench.universe.instruments(),
        {c.primary_listing.symbol: c.reporting_currency for c in bench.universe.companies},
        bench.first,
        refresh_days[-1],
    )
    log(f"  generated in {time.perf_counter() - started:.1f} s")

    loads = []
    for n in range(bench.runs):
        loads.append(bench.load_history())
        log(f"raw load {n + 1}/{bench.runs}: {loads[-1]['seconds']:.1f} s (landing {loads[-1]['landing_seconds']:.1f} s, "
            f"load {loads[-1]['load_seconds']:.1f} s)")
    rows = loads[-1]["price_rows"] + loads[-1]["statement_rows"]

    bench.freshness(HISTORY_END)  # the dbt build reads what it evaluated (source freshness.data_freshness)
    builds = []
    for n in range(bench.runs):
        seconds, peak, _ = bench.dbt("build", "--full-refresh", as_of=HISTORY_END)
        builds.append({"seconds": seconds, "peak_bytes": peak})
        log(f"full build {n + 1}/{bench.runs}: {seconds:.1f} s, peak {gib(peak):.2f} GiB")
    target = bench.work / "dbt_target"
    nodes = compiled_nodes(target)
    slowest = sorted(nodes, key=lambda n: n["execution_time"], reverse=True)[:8]

    panel_pipeline = []
    for n in range(bench.runs):
        seconds, _, _ = bench.dbt("run", "--full-refresh", "--select", "+fct_valuation_daily", as_of=HISTORY_END)
        panel_pipeline.append(seconds)
    panel_pandas = []
    for n in range(bench.runs):
        seconds, panel_rows = pandas_panel(bench.warehouse)
        panel_pandas.append(seconds)
        log(f"pandas panel {n + 1}/{bench.runs}: {seconds:.1f} s ({panel_rows} rows)")
    direct = []
    for n in range(bench.runs):
        direct.append(direct_duckdb(bench.warehouse, nodes))
        log(f"direct DuckDB {n + 1}/{bench.runs}: {direct[-1]:.1f} s")
    bench.dbt("build", "--full-refresh", as_of=HISTORY_END)  # back to dbt's own state

    bench.freshness(HISTORY_END)
    refreshes = []
    for day in refresh_days:
        refreshes.append(bench.refresh_day(day))
        r = refreshes[-1]
        log(f"daily refresh {day}: ingest {r['ingest_seconds']:.1f} s + build {r['build_seconds']:.1f} s "
            f"(+ publish {r['publish_seconds']:.1f} s), {r['new_price_rows']} new rows")  # fmt: skip

    bench.freshness(refresh_days[-1])
    bench.publish(refresh_days[-1])
    queries = time_queries(bench.serving, analysis_queries(bench.universe), repeats=max(5, bench.runs))

    full_build = median([b["seconds"] for b in builds])
    refresh = median([r["ingest_seconds"] + r["build_seconds"] for r in refreshes])
    with duckdb.connect(str(bench.warehouse), read_only=True) as conn:
        valuation_rows = conn.execute("select count(*) from marts.fct_valuation_daily").fetchone()[0]
    return {
        "synthetic": True,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__},
        "scale": {"listings": bench.listings, "companies": len(companies), "years": bench.years,
                  "first_date": str(bench.first), "last_date": str(HISTORY_END), "seed": bench.seed,
                  "runs": bench.runs, "landing_buckets": len(bucket_keys()),
                  "price_rows": loads[-1]["price_rows"], "statement_rows": loads[-1]["statement_rows"],
                  "fct_valuation_daily_rows": valuation_rows},  # fmt: skip
        "raw_load": {"seconds": median([l["seconds"] for l in loads]),
                     "rows_per_second": rows / median([l["seconds"] for l in loads]), "runs": loads},  # fmt: skip
        "full_build": {"seconds": full_build, "peak_memory_gib": gib(median([b["peak_bytes"] for b in builds])),
                       "runs": builds,
                       "slowest_nodes": [{"node": n["unique_id"], "seconds": n["execution_time"]} for n in slowest]},  # fmt: skip
        "daily_refresh": {"seconds": refresh, "share_of_full_build": refresh / full_build,
                          "publish_seconds": median([r["publish_seconds"] for r in refreshes]), "runs": refreshes},  # fmt: skip
        "queries": queries,
        "baselines": {
            "valuation_panel_pipeline_seconds": median(panel_pipeline),
            "valuation_panel_pandas_seconds": median(panel_pandas),
            "pandas_over_pipeline": median(panel_pandas) / median(panel_pipeline),
            "direct_duckdb_seconds": median(direct),
            "pipeline_over_direct_duckdb": full_build / median(direct),
        },
        "targets": TARGETS,
    }


def table(result: dict) -> str:
    s, b, t = result["scale"], result["baselines"], TARGETS
    build, refresh = result["full_build"], result["daily_refresh"]

    def verdict(ok: bool) -> str:
        return "meets target" if ok else "MISSES target"

    lines = [
        f"SYNTHETIC market: {s['listings']:,} listings ({s['companies']:,} companies) x {s['years']} years, "
        f"{s['price_rows']:,} price rows, {s['statement_rows']:,} statement rows; median of {s['runs']} run(s)",
        "",
        f"{'measure':<44}{'value':>14}  target",
        f"{'raw load (rows/s)':<44}{result['raw_load']['rows_per_second']:>14,.0f}",
        f"{'raw load (s)':<44}{result['raw_load']['seconds']:>14.1f}",
        f"{'full dbt build (s)':<44}{build['seconds']:>14.1f}  < {t['full_build_seconds']:.0f} s: "
        f"{verdict(build['seconds'] < t['full_build_seconds'])}",
        f"{'full dbt build peak memory (GiB)':<44}{build['peak_memory_gib']:>14.2f}  < {t['full_build_peak_memory_gib']:.0f} GiB: "
        f"{verdict(build['peak_memory_gib'] < t['full_build_peak_memory_gib'])}",
        f"{'daily refresh: ingest + build (s)':<44}{refresh['seconds']:>14.1f}",
        f"{'daily refresh / full build':<44}{refresh['share_of_full_build']:>14.1%}  < {t['daily_refresh_share_of_full_build']:.0%}: "
        f"{verdict(refresh['share_of_full_build'] < t['daily_refresh_share_of_full_build'])}",
        f"{'daily refresh: publish serving copy (s)':<44}{refresh['publish_seconds']:>14.1f}",
        f"{'direct DuckDB, same SQL (s)':<44}{b['direct_duckdb_seconds']:>14.1f}",
        f"{'full build / direct DuckDB':<44}{b['pipeline_over_direct_duckdb']:>14.2f}  < {t['pipeline_over_direct_duckdb']}: "
        f"{verdict(b['pipeline_over_direct_duckdb'] < t['pipeline_over_direct_duckdb'])}",
        f"{'valuation panel, pipeline (dbt run) (s)':<44}{b['valuation_panel_pipeline_seconds']:>14.1f}",
        f"{'valuation panel, pandas (s)':<44}{b['valuation_panel_pandas_seconds']:>14.1f}",
        f"{'pandas / pipeline':<44}{b['pandas_over_pipeline']:>14.2f}  > 1: {verdict(b['pandas_over_pipeline'] > 1)}",
    ]
    for name, query in result["queries"].items():
        lines.append(
            f"{'query ' + name + ' (ms)':<44}{query['ms']:>14.1f}  < {t['query_ms']:.0f} ms: {verdict(query['ms'] < t['query_ms'])}"
        )
    lines += ["", "slowest dbt nodes of a full build:"]
    lines += [f"  {n['seconds']:6.1f} s  {n['node']}" for n in build["slowest_nodes"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 5,000 listings (default 1.0)")
    parser.add_argument("--years", type=int, default=20, help="years of daily history (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measure; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=WORK, help="where the synthetic warehouse is built")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the JSON result")
    args = parser.parse_args(argv)
    listings = max(4, round(5000 * args.scale))
    bench = Bench(listings, args.years, args.runs, args.seed, args.work / f"{listings}x{args.years}")
    if bench.work.exists():
        shutil.rmtree(bench.work)
    result = run(bench, lambda line: print(line, flush=True))
    print()
    print(table(result))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale_{listings}x{args.years}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
