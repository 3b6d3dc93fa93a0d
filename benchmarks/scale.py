"""The scale benchmark: a synthetic market through the real pipeline, measured.

    python -m benchmarks.scale                      # 5,000 listings x 20 years, 3 runs each
    python -m benchmarks.scale --scale 0.01 --years 2 --runs 1   # a smoke run (CI)
    python -m benchmarks.scale --curve 0.25,0.5,1,2 --runs 1     # a growth curve, extrapolated

Generates a SYNTHETIC market (benchmarks/synthetic.py; its own DuckDB file under
benchmarks/work/, never the sample's or the demo's), then measures, each the median of --runs:

1. raw load of the full history as a first live run takes it: the landing assets fetch every
   listing bucket into the landing zone, the raw assets load what landed (real Dagster
   materializations), rows per second, and each step's seconds;
2. full `dbt build --full-refresh` of every model and test: seconds, peak memory of the tree;
3. a daily refresh: one new trading day for every listing, fetched into the landing zone by
   landing/prices and loaded by raw/prices, then `dbt build` (incremental), and the serving
   copy published; its share of the full build counts all three. Then the sizes of the
   warehouse file, the serving file and the landing zone;
4. the analysis/ queries on the serving file (ms; the symbols they name are swapped for
   synthetic ones of the same kind): through duckdb on one open connection, and through
   SQLAlchemy as warehouse/README.md tells BI tools to connect (a new connection per query);
5. baselines: the valuation panel of `dbt run --select +fct_valuation_daily` computed in plain
   pandas from the raw tables (benchmarks/pandas_panel.py); the compiled SQL of every dbt model
   and test run directly in DuckDB without dbt.

Prints a table and writes it as JSON to benchmarks/results/. With --curve, measures each scale
in turn and prints a growth table with a linear extrapolation to 70,000 listings x 30 years
(benchmarks/results/growth_<years>y.json). Times are wall-clock on this machine; nothing here
asserts a time.
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
import sqlalchemy

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
    "full_build_peak_memory_gib": 3.0,
    "daily_refresh_share_of_full_build": 0.05,
    "pipeline_over_direct_duckdb": 1.5,
    "query_ms": 100.0,
}
TARGET_SCALE = (5000, 20)  # listings x years the targets are set for
EXTRAPOLATE_TO = (70_000, 30)

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
    def landing(self) -> Path:
        return self.work / "landing"

    @property
    def first(self) -> date:
        return date(HISTORY_END.year - self.years, HISTORY_END.month, HISTORY_END.day)

    def env(self, as_of: date) -> dict[str, str]:
        return {
            **os.environ,
            "VALUATION_WAREHOUSE": str(self.warehouse),
            "VALUATION_SERVING": str(self.serving),
            "VALUATION_UNIVERSE": str(self.work / "universe.yml"),
            "VALUATION_LANDING_DIR": str(self.landing),
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
        shutil.rmtree(self.landing, ignore_errors=True)
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
        publish_mode = self.publish(day)
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
            "publish_mode": publish_mode,
            "new_price_rows": after - before,
            "valuation_rows_for_day": valuation_rows,
        }

    def publish(self, as_of: date) -> str:
        """The serving/marts asset's publish (after an incremental build the spare or a copy of the
        serving file patched, else the whole file written); returns how it published."""
        from orchestration.defs.dbt import incremental_unique_keys
        from orchestration.warehouse.publish import publish_serving_copy

        self.use_env(as_of)
        with WarehouseResource(database=str(self.warehouse)).get_connection() as conn:  # the asset's connection, its memory budget
            return publish_serving_copy(conn, self.serving, incremental_keys=incremental_unique_keys())["mode"]

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
    """Each query on one open read-only connection: a warm-up, then the median of `repeats`."""
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


def time_queries_sqlalchemy(serving: Path, queries: dict[str, str], repeats: int) -> dict[str, dict]:
    """Each query as a BI tool sends it with warehouse/README.md's recipe (duckdb-engine, NullPool,
    read_only): every query checks out a new connection, so each time includes opening the file."""
    engine = sqlalchemy.create_engine(
        f"duckdb:///{serving}", connect_args={"read_only": True}, poolclass=sqlalchemy.pool.NullPool
    )

    def fetch(statement: sqlalchemy.TextClause) -> list:
        with engine.connect() as conn:
            return conn.execute(statement).fetchall()

    results = {}
    for name, sql in queries.items():
        statement = sqlalchemy.text(sql)
        rows = len(fetch(statement))  # warm-up
        times = []
        for _ in range(repeats):
            with timed(times):
                fetch(statement)
        results[name] = {"ms": median(times) * 1000, "rows": rows}
    engine.dispose()
    return results


def pandas_panel(warehouse: Path) -> dict:
    """The valuation panel in plain pandas (benchmarks/pandas_panel.py: what it computes and leaves
    out), computed and written to a DuckDB table as `dbt run` writes the mart, in a process of its
    own as `dbt run` is: its wall-clock time (`write_seconds` of it writing) and peak memory. A failure,
    such as running out of memory at a large scale, is recorded rather than ending the benchmark."""
    command = [sys.executable, "-W", "ignore", "-m", "benchmarks.pandas_panel", str(warehouse)]
    try:
        seconds, peak, output = run_measured(command, dict(os.environ), REPO)
    except RuntimeError as error:
        return {"error": str(error)[-2000:]}
    inside = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
    return {"seconds": seconds, "inside_seconds": inside["seconds"], "write_seconds": inside["write_seconds"],
            "rows": inside["rows"], "peak_bytes": peak}


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


def tree_bytes(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (0 when it does not exist)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else 0


def disk_usage(bench: Bench) -> dict[str, int]:
    wal = bench.warehouse.with_suffix(".duckdb.wal")
    return {
        # a DuckDB file keeps its high-water mark: this one has had several full refreshes
        "warehouse_bytes": tree_bytes(bench.warehouse) + tree_bytes(wal),
        "serving_bytes": tree_bytes(bench.serving),
        # the file the last publish replaced, which the next one patches (orchestration/warehouse/publish.py)
        "serving_spare_bytes": tree_bytes(bench.serving.with_name(f".{bench.serving.name}.spare")),
        "landing_bytes": tree_bytes(bench.landing),
    }


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

    # yesterday's serving copy, which a daily publish starts from, and the day before's, which
    # yesterday's publish kept as the spare that the next one patches when no reader holds it
    bench.publish(HISTORY_END)
    bench.publish(HISTORY_END)
    refreshes = []
    for day in refresh_days:
        refreshes.append(bench.refresh_day(day))
        r = refreshes[-1]
        log(f"daily refresh {day}: ingest {r['ingest_seconds']:.1f} s + build {r['build_seconds']:.1f} s "
            f"+ publish {r['publish_seconds']:.1f} s ({r['publish_mode']}), {r['new_price_rows']} new rows")  # fmt: skip

    bench.freshness(refresh_days[-1])
    bench.publish(refresh_days[-1])
    MARKET = None  # nothing fetches any more; a curve's next point needs the memory
    repeats = max(5, bench.runs)
    queries = analysis_queries(bench.universe)
    through_duckdb = time_queries(bench.serving, queries, repeats)
    through_sqlalchemy = time_queries_sqlalchemy(bench.serving, queries, repeats)
    disk = disk_usage(bench)

    # the baselines last: the synthetic market is gone from memory, and direct DuckDB rewrites dbt's tables
    panel_pipeline = []
    for n in range(bench.runs):
        seconds, peak, _ = bench.dbt("run", "--full-refresh", "--select", "+fct_valuation_daily", as_of=refresh_days[-1])
        panel_pipeline.append({"seconds": seconds, "peak_bytes": peak})
    with duckdb.connect(str(bench.warehouse), read_only=True) as conn:
        panel_rows = conn.execute("select count(*) from marts.fct_valuation_daily").fetchone()[0]
    panel_pandas = []
    for n in range(bench.runs):
        panel_pandas.append(pandas_panel(bench.warehouse))
        p = panel_pandas[-1]
        log(f"pandas panel {n + 1}/{bench.runs}: " + (f"{p['seconds']:.1f} s, peak {gib(p['peak_bytes']):.2f} GiB "
            f"({p['rows']} rows; fct_valuation_daily {panel_rows})" if "error" not in p else f"FAILED: {p['error'][-300:]}"))  # fmt: skip
    direct = []
    for n in range(bench.runs):
        direct.append(direct_duckdb(bench.warehouse, nodes))
        log(f"direct DuckDB {n + 1}/{bench.runs}: {direct[-1]:.1f} s")

    full_build = median([b["seconds"] for b in builds])
    refresh_parts = {part: median([r[f"{part}_seconds"] for r in refreshes]) for part in ("ingest", "build", "publish")}
    refresh = median([r["ingest_seconds"] + r["build_seconds"] + r["publish_seconds"] for r in refreshes])
    pandas_ok = [p for p in panel_pandas if "error" not in p]
    pipeline_seconds = median([p["seconds"] for p in panel_pipeline])
    pandas_seconds = median([p["seconds"] for p in pandas_ok]) if pandas_ok else None
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
                          **{f"{part}_seconds": seconds for part, seconds in refresh_parts.items()},
                          "publish_mode": refreshes[-1]["publish_mode"],
                          "counts": "ingest + build + publish", "runs": refreshes},  # fmt: skip
        "disk": disk,
        "queries": {name: {**through_duckdb[name], "sqlalchemy_ms": through_sqlalchemy[name]["ms"],
                           "sqlalchemy_rows": through_sqlalchemy[name]["rows"]} for name in queries},  # fmt: skip
        "baselines": {
            "valuation_panel_pipeline_seconds": pipeline_seconds,
            "valuation_panel_pipeline_peak_gib": gib(median([p["peak_bytes"] for p in panel_pipeline])),
            "valuation_panel_rows": panel_rows,
            "valuation_panel_pandas_seconds": pandas_seconds,
            "valuation_panel_pandas_write_seconds": median([p["write_seconds"] for p in pandas_ok]) if pandas_ok else None,
            "valuation_panel_pandas_peak_gib": gib(median([p["peak_bytes"] for p in pandas_ok])) if pandas_ok else None,
            "valuation_panel_pandas_rows": pandas_ok[-1]["rows"] if pandas_ok else None,
            "valuation_panel_pandas_runs": panel_pandas,
            "pandas_over_pipeline": pandas_seconds / pipeline_seconds if pandas_ok else None,
            "direct_duckdb_seconds": median(direct),
            "pipeline_over_direct_duckdb": full_build / median(direct),
        },
        "targets": TARGETS,
        "target_scale": {"listings": TARGET_SCALE[0], "years": TARGET_SCALE[1]},
    }


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def table(result: dict) -> str:
    s, b, t = result["scale"], result["baselines"], TARGETS
    build, refresh, disk = result["full_build"], result["daily_refresh"], result["disk"]
    at_target = (s["listings"], s["years"]) == TARGET_SCALE
    pandas_ratio = b["pandas_over_pipeline"]

    def row(measure: str, value: str, target: str = "") -> str:
        return f"{measure:<48}{value:>14}  {target}".rstrip()

    lines = [
        f"SYNTHETIC market: {s['listings']:,} listings ({s['companies']:,} companies) x {s['years']} years, "
        f"{s['price_rows']:,} price rows, {s['statement_rows']:,} statement rows; median of {s['runs']} run(s)",
        "The targets are set for 5,000 listings x 20 years on 2 cores: "
        + ("the verdicts apply." if at_target else "at this scale the verdicts are indicative only."),
        "",
        row("measure", "value", "target"),
        row("raw load (rows/s)", f"{result['raw_load']['rows_per_second']:,.0f}"),
        row("raw load (s)", f"{result['raw_load']['seconds']:.1f}"),
        row("full dbt build (s)", f"{build['seconds']:.1f}",
            f"< {t['full_build_seconds']:.0f} s: {verdict(build['seconds'] < t['full_build_seconds'])}"),
        row("full dbt build peak memory (GiB)", f"{build['peak_memory_gib']:.2f}",
            f"< {t['full_build_peak_memory_gib']:.0f} GiB: {verdict(build['peak_memory_gib'] < t['full_build_peak_memory_gib'])}"),
        row("daily refresh: ingest (s)", f"{refresh['ingest_seconds']:.1f}"),
        row("daily refresh: dbt build (s)", f"{refresh['build_seconds']:.1f}"),
        row(f"daily refresh: publish serving copy, {refresh['publish_mode']} (s)", f"{refresh['publish_seconds']:.1f}"),
        row("daily refresh: ingest + build + publish (s)", f"{refresh['seconds']:.1f}"),
        row("daily refresh / full build", f"{refresh['share_of_full_build']:.1%}",
            f"< {t['daily_refresh_share_of_full_build']:.0%}: "
            f"{verdict(refresh['share_of_full_build'] < t['daily_refresh_share_of_full_build'])}"),
        row("warehouse file (GiB)", f"{gib(disk['warehouse_bytes']):.3f}"),
        row("serving file (GiB)", f"{gib(disk['serving_bytes']):.3f}"),
        row("serving spare, the last file replaced (GiB)", f"{gib(disk.get('serving_spare_bytes', 0)):.3f}"),
        row("landing zone (GiB)", f"{gib(disk['landing_bytes']):.3f}"),
        row("direct DuckDB, same SQL (s)", f"{b['direct_duckdb_seconds']:.1f}"),
        row("full build / direct DuckDB", f"{b['pipeline_over_direct_duckdb']:.2f}",
            f"< {t['pipeline_over_direct_duckdb']}: {verdict(b['pipeline_over_direct_duckdb'] < t['pipeline_over_direct_duckdb'])}"),
        row("valuation panel, pipeline: dbt run, tables written (s)", f"{b['valuation_panel_pipeline_seconds']:.1f}"),
        row("valuation panel, pipeline peak memory (GiB)", f"{b['valuation_panel_pipeline_peak_gib']:.2f}"),
    ]
    if pandas_ratio is None:
        lines.append(row("valuation panel, pandas", "FAILED", "(see baselines.valuation_panel_pandas_runs)"))
    else:
        lines += [
            row("valuation panel, pandas: computed and written (s)", f"{b['valuation_panel_pandas_seconds']:.1f}"),
            row("... of which writing its table (s)", f"{b['valuation_panel_pandas_write_seconds']:.1f}"),
            row("valuation panel, pandas peak memory (GiB)", f"{b['valuation_panel_pandas_peak_gib']:.2f}"),
            row("pandas / pipeline", f"{pandas_ratio:.2f}", f"> 1: {verdict(pandas_ratio > 1)}"),
        ]
    lines += ["", f"{'query (ms)':<30}{'duckdb':>10}  {'target':<22}{'SQLAlchemy*':>12}  target"]
    for name, query in result["queries"].items():
        lines.append(
            f"{name:<30}{query['ms']:>10.1f}  {verdict(query['ms'] < t['query_ms']):<22}"
            f"{query['sqlalchemy_ms']:>12.1f}  {verdict(query['sqlalchemy_ms'] < t['query_ms'])}"
        )
    lines += [
        f"target: < {t['query_ms']:.0f} ms each. duckdb: one open read-only connection, warm. *SQLAlchemy: warehouse/README.md's",
        "recipe (duckdb-engine, NullPool, read_only), a new connection per query as a BI tool makes: includes connecting.",
        "",
        "slowest dbt nodes of a full build:",
    ]
    lines += [f"  {n['seconds']:6.1f} s  {n['node']}" for n in build["slowest_nodes"]]
    return "\n".join(lines)


# ---------------------------------------------------------------- the growth curve


def growth_row(result: dict) -> dict:
    s, disk = result["scale"], result["disk"]
    per_1000 = 1000 / s["listings"]
    disk_gib = gib(sum(disk.values()))
    return {
        "listings": s["listings"],
        "years": s["years"],
        "price_rows": s["price_rows"],
        "raw_load_seconds": result["raw_load"]["seconds"],
        "full_build_seconds": result["full_build"]["seconds"],
        "peak_memory_gib": result["full_build"]["peak_memory_gib"],
        "daily_refresh_seconds": result["daily_refresh"]["seconds"],
        "warehouse_gib": gib(disk["warehouse_bytes"]),
        "serving_gib": gib(disk["serving_bytes"]),
        "landing_gib": gib(disk["landing_bytes"]),
        "full_build_seconds_per_1000_listings": result["full_build"]["seconds"] * per_1000,
        "disk_gib_per_1000_listings": disk_gib * per_1000,
    }


def growth_table(rows: list[dict]) -> str:
    columns = [  # (heading, key, format)
        ("listings", "listings", "{:,}"), ("price rows", "price_rows", "{:,}"),
        ("raw load s", "raw_load_seconds", "{:.1f}"), ("full build s", "full_build_seconds", "{:.1f}"),
        ("peak GiB", "peak_memory_gib", "{:.2f}"), ("refresh s", "daily_refresh_seconds", "{:.1f}"),
        ("warehouse GiB", "warehouse_gib", "{:.3f}"), ("serving GiB", "serving_gib", "{:.3f}"),
        ("build s/1k", "full_build_seconds_per_1000_listings", "{:.1f}"),
        ("disk GiB/1k", "disk_gib_per_1000_listings", "{:.3f}"),
    ]  # fmt: skip
    lines = ["  ".join(f"{heading:>13}" for heading, _, _ in columns)]
    lines += ["  ".join(f"{form.format(row[key]):>13}" for _, key, form in columns) for row in rows]
    lines.append("refresh = ingest + dbt build + publish of one new day; build s/1k = full build seconds per 1,000 "
                 "listings; disk GiB/1k = warehouse + serving (+ its spare, from 2026-12-05) + landing per 1,000 listings")  # fmt: skip
    return "\n".join(lines)


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(intercept, slope) of y against x by least squares; through the origin from a single point."""
    if len(xs) == 1:
        return 0.0, ys[0] / xs[0]
    slope, intercept = np.polyfit(xs, ys, 1)
    return float(intercept), float(slope)


def memory_limit_bytes() -> float:
    """DuckDB's memory_limit of the dbt profile and the pipeline (VALUATION_DUCKDB_MEMORY_LIMIT)."""
    text = settings.duckdb_memory_limit().strip()
    number, unit = re.fullmatch(r"([\d.]+)\s*([A-Za-z]*)", text).groups()
    units = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
    return float(number) * units[unit.upper()]


FITTED = {  # measure -> what it is, for the extrapolation
    "full_build_seconds": "full dbt build (s)",
    "daily_refresh_seconds": "daily refresh, ingest + build + publish (s)",
    "raw_load_seconds": "raw load of the history (s)",
    "peak_memory_gib": "full build peak memory (GiB)",
    "warehouse_gib": "warehouse file (GiB)",
    "serving_gib": "serving file (GiB)",
    "landing_gib": "landing zone (GiB)",
}


def extrapolate(rows: list[dict], listings: int, years: int) -> dict:
    """Each measure fitted linearly on price rows (listings x years x sessions a year), at the price
    rows of `listings` x `years`, themselves fitted on listing-years (the benchmarks' and FX pairs'
    rows are the intercept)."""
    rows_intercept, rows_per_listing_year = linear_fit([r["listings"] * r["years"] for r in rows],
                                                       [r["price_rows"] for r in rows])  # fmt: skip
    target_rows = rows_intercept + rows_per_listing_year * listings * years
    xs = [r["price_rows"] for r in rows]
    fits = {}
    for measure in FITTED:
        intercept, slope = linear_fit(xs, [r[measure] for r in rows])
        fits[measure] = {"intercept": intercept, "slope_per_million_rows": slope * 1e6,
                         "predicted": intercept + slope * target_rows}  # fmt: skip
    limit = memory_limit_bytes()
    return {
        "listings": listings,
        "years": years,
        "method": "least-squares line y = a + b x price rows over the measured points (through 0 from one point)",
        "basis": {"points": [{"listings": r["listings"], "years": r["years"], "price_rows": r["price_rows"]} for r in rows],
                  "price_rows_per_listing_year": rows_per_listing_year, "price_rows": target_rows,
                  "times_largest_point": target_rows / max(xs)},  # fmt: skip
        "fits": fits,
        "duckdb_memory_limit_bytes": limit,
        # DuckDB holds its buffers up to the limit and spills the rest to its temp directory: larger
        # universes plateau there, at the peak of the largest point (points measured under another
        # limit, as older saved ones may be, say nothing about this one)
        "peak_memory_at_limit_gib": max(rows, key=lambda r: r["price_rows"])["peak_memory_gib"],
        # the serving file twice: the publish keeps the file it replaced as the next one's spare
        "disk_gib": sum(fits[m]["predicted"] for m in ("warehouse_gib", "serving_gib", "serving_gib", "landing_gib")),
    }  # fmt: skip


def extrapolation_text(e: dict) -> str:
    basis, fits = e["basis"], e["fits"]
    points = ", ".join(f"{p['listings']:,} x {p['years']}y = {p['price_rows']:,}" for p in basis["points"])
    lines = [
        f"Extrapolation to {e['listings']:,} listings x {e['years']} years: a LINEAR FIT ON PRICE ROWS, y = a + b x rows, "
        "least squares over the points above",
        f"  basis: {len(basis['points'])} point(s) ({points} price rows); "
        f"{basis['price_rows_per_listing_year']:.1f} price rows per listing-year as measured, so "
        f"{basis['price_rows']:,.0f} price rows, {basis['times_largest_point']:.1f}x the largest point",
    ]
    for measure, label in FITTED.items():
        fit = fits[measure]
        predicted = f"{fit['predicted']:>12,.1f}" if fit["slope_per_million_rows"] > 0 else f"{'n/a':>12}"
        lines.append(f"  {label:<46}{predicted}   (a = {fit['intercept']:,.3f}, "
                     f"b = {fit['slope_per_million_rows']:,.4f} per million rows)")  # fmt: skip
    if any(fit["slope_per_million_rows"] <= 0 for fit in fits.values()):
        lines.append("  n/a: the fit falls with more rows (fixed costs and noise dominate these points): no extrapolation")
    limit_gib = gib(e["duckdb_memory_limit_bytes"])
    lines += [
        f"  peak memory at DuckDB's memory_limit ({limit_gib:.2f} GiB): about {e['peak_memory_at_limit_gib']:.1f} GiB, "
        "the peak of the largest point (DuckDB's buffers stop at the limit; dbt's process adds little). It spills beyond the limit to its temp",
        "    directory, so the linear memory figure is what the build would take without the limit; with it, expect the "
        "spill on disk and build times above the fit",
        f"  disk: warehouse + serving (and its spare) + landing = {e['disk_gib']:,.1f} GiB (plus DuckDB's spill files during a build)",
        f"  so that universe needs: a full build of {minutes(fits['full_build_seconds'])}, a daily refresh of "
        f"{minutes(fits['daily_refresh_seconds'])}, a first load of {minutes(fits['raw_load_seconds'])}, "
        f"about {e['peak_memory_at_limit_gib']:.1f} GiB of memory and {e['disk_gib']:,.0f} GiB of disk",
    ]
    return "\n".join(lines)


def minutes(fit: dict) -> str:
    return f"{fit['predicted'] / 60:,.1f} min" if fit["slope_per_million_rows"] > 0 else "n/a"


def growth_result(results: list[dict], years: int) -> dict:
    rows = [growth_row(result) for result in results]
    return {
        "synthetic": True,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": results[-1]["machine"],
        "years": years,
        "growth": rows,
        "extrapolation": extrapolate(rows, *EXTRAPOLATE_TO),
        "points": results,
    }


# ---------------------------------------------------------------- the command


def listings_at(scale: float) -> int:
    return max(4, round(5000 * scale))


def measure_point(scale: float, args: argparse.Namespace, keep_work: bool) -> dict:
    """One scale, measured in its own work folder; the folder goes afterwards unless `keep_work`."""
    listings = listings_at(scale)
    bench = Bench(listings, args.years, args.runs, args.seed, args.work / f"{listings}x{args.years}")
    if bench.work.exists():
        shutil.rmtree(bench.work)
    result = run(bench, lambda line: print(line, flush=True))
    print()
    print(table(result))
    write_json(args.out / f"scale_{listings}x{args.years}.json", result)
    if not keep_work:
        shutil.rmtree(bench.work)
    return result


def write_json(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten to {path}", flush=True)


def curve(scales: list[float], args: argparse.Namespace) -> None:
    results = []
    for n, scale in enumerate(scales):
        print(f"\n==== growth curve point {n + 1}/{len(scales)}: scale {scale} ({listings_at(scale):,} listings x "
              f"{args.years} years) ====", flush=True)  # fmt: skip
        results.append(measure_point(scale, args, keep_work=False))
        growth = growth_result(results, args.years)
        write_json(args.out / f"growth_{args.years}y.json", growth)  # after every point: a later failure keeps these
    print_growth(growth, args.runs)


def growth_of_saved_points(args: argparse.Namespace) -> None:
    """The growth table and extrapolation over every point saved in --out for --years (each
    scale_<listings>x<years>.json, as each measured point writes it): points measured in separate
    runs, e.g. the largest one alone, make one curve."""
    saved = [json.loads(path.read_text()) for path in args.out.glob(f"scale_*x{args.years}.json")]
    results = sorted((r for r in saved if "disk" in r), key=lambda r: r["scale"]["listings"])  # this format only
    if not results:
        raise SystemExit(f"no measured points of {args.years} years in {args.out}")
    growth = growth_result(results, args.years)
    write_json(args.out / f"growth_{args.years}y.json", growth)
    print_growth(growth, max(r["scale"]["runs"] for r in results))


def print_growth(growth: dict, runs: int) -> None:
    print(f"\nGROWTH, SYNTHETIC market, {growth['years']} years, {runs} run(s) per point, {growth['machine']['cpus']} cores:")
    print(growth_table(growth["growth"]))
    print()
    print(extrapolation_text(growth["extrapolation"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 5,000 listings (default 1.0)")
    parser.add_argument("--curve", help="fractions of 5,000 listings, comma-separated (e.g. 0.25,0.5,1,2): measure "
                        "each in turn, then print the growth table and the extrapolation")  # fmt: skip
    parser.add_argument("--years", type=int, default=20, help="years of daily history (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measure; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=WORK, help="where the synthetic warehouse is built")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the JSON result")
    parser.add_argument("--growth-of-saved-points", action="store_true", help="measure nothing: the growth table and "
                        "extrapolation over the points saved in --out (measured in separate runs)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.growth_of_saved_points:
        growth_of_saved_points(args)
    elif args.curve:
        curve([float(scale) for scale in args.curve.split(",")], args)
    else:
        measure_point(args.scale, args, keep_work=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
