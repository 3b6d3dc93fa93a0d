"""SIGKILL at random and at named points of real runs: each raw table holds the old or the new
state, never a mix, and the next run converges to the uninterrupted result."""

import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, REPO_ROOT
from tests.faults.conftest import record

pytestmark = pytest.mark.faults
RUNS = int(os.environ.get("FAULT_RUNS", "20"))
RAW_TABLES = ["prices", "financial_statements", "company_profiles", "rejected_rows", "universe_companies",
              "universe_listings", "universe_peer_groups", "universe_benchmarks", "universe_fx_pairs"]  # fmt: skip
MARTS = ["fct_valuation_daily", "mart_peer_valuation", "mart_relative_performance", "mart_capex", "dim_listing"]
FAILPOINTS = [
    "upsert.prices.after_delete",
    "upsert.prices.before_commit",
    "load.prices.between_rows_and_rejects",
    "upsert.rejected_rows.before_commit",
    "upsert.financial_statements.after_delete",
    "load.financial_statements.between_rows_and_rejects",
]


def run(warehouse: Path, snapshot: Path, raw_only: bool, failpoint: str | None = None, kill_after: float | None = None) -> int:
    env = {**os.environ, "VALUATION_FAILPOINT": failpoint or ""}
    command = [sys.executable, "-m", "tests.faults.run_pipeline", "--warehouse", str(warehouse),
               "--snapshot", str(snapshot), "--universe", str(FIXTURE_UNIVERSE)] + (["--raw-only"] if raw_only else [])  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # the run and its dbt child, mid-flight
    return process.wait(timeout=600)


def state(warehouse: Path, schema: str, tables: list[str], exclude: str | None = "_loaded_at") -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        present = {t for (t,) in conn.execute("select table_name from duckdb_tables() where schema_name = ?", [schema]).fetchall()}
        return {
            t: conn.execute(f"select * {f'exclude ({exclude})' if exclude else ''} from {schema}.{t} order by all").fetchall()
            if t in present
            else None
            for t in tables
        }


def copy(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    return target


def changed_snapshot(tmp_path: Path) -> Path:
    """The fixture with a correction, a new day, a new filing and a new bad row."""
    snapshot = tmp_path / "snapshot_b"
    shutil.copytree(FIXTURE_SNAPSHOT, snapshot)
    prices = snapshot / "prices" / "us_fixture.csv"
    prices.write_text(prices.read_text().replace("2025-01-08,ACME,USD,101,103,100,102,102,", "2025-01-08,ACME,USD,101,103,100,102.5,102.5,")
                      + "2025-01-13,ACME,USD,104,106,103,105,105,1000,,,raw,fixture\n"
                      + "2025-01-13,DRGN,USD,81,84,80,83,83,-7,,,raw,fixture\n")  # fmt: skip
    with open(snapshot / "fundamentals" / "fixture_statements.csv", "a") as f:
        f.write("ACME,Q4 FY2024,quarterly,2024-07-01,2024-09-30,2025-01-07,revenue,540,USD,million,revenue,fixture\n")
    return snapshot


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    snapshot_b = changed_snapshot(tmp)
    raw_old = tmp / "raw_old.duckdb"
    assert run(raw_old, FIXTURE_SNAPSHOT, raw_only=True) == 0
    raw_new = copy(raw_old, tmp / "raw_new.duckdb")
    assert run(raw_new, snapshot_b, raw_only=True) == 0
    built_old = tmp / "built_old.duckdb"
    assert run(built_old, FIXTURE_SNAPSHOT, raw_only=False) == 0
    built_new = copy(built_old, tmp / "built_new.duckdb")
    shutil.copy(tmp / "serving.duckdb", tmp / "serving_old.duckdb")
    assert run(built_new, snapshot_b, raw_only=False) == 0
    return {
        "tmp": tmp, "snapshot_b": snapshot_b, "raw_old": raw_old, "built_old": built_old,
        "old": state(raw_old, "raw", RAW_TABLES), "new": state(raw_new, "raw", RAW_TABLES),
        "marts_new": state(built_new, "marts", MARTS, exclude=None),
        "serving_old": state(tmp / "serving_old.duckdb", "marts", MARTS, exclude=None),
    }  # fmt: skip


# The incremental marts end with built_at, which says when a row was built.
BUILT_AT_LAST = {"fct_valuation_daily", "mart_relative_performance", "mart_peer_valuation_daily"}


def _without_built_at(tables: dict) -> dict:
    """Everything but the incremental marts' built_at must match."""
    return {t: [tuple(v for i, v in enumerate(row) if not (t in BUILT_AT_LAST and i == len(row) - 1)) for row in rows]
            if rows is not None else None for t, rows in tables.items()}  # fmt: skip


def test_kill_during_ingest_leaves_old_or_new_state_and_the_next_run_converges(states):
    old, new = states["old"], states["new"]
    assert old["prices"] != new["prices"] and old["financial_statements"] != new["financial_statements"]

    def one(seed: int) -> tuple[int, int, list[str]]:
        warehouse = copy(states["raw_old"], states["tmp"] / f"ingest_{seed}.duckdb")
        failpoint = FAILPOINTS[seed] if seed < len(FAILPOINTS) else None
        kill_after = None if failpoint else random.Random(seed).uniform(1.0, 6.0)
        run(warehouse, states["snapshot_b"], raw_only=True, failpoint=failpoint, kill_after=kill_after)
        after_kill = state(warehouse, "raw", RAW_TABLES)
        problems = [f"seed {seed} ({failpoint}): {t} is a mix" for t in RAW_TABLES if after_kill[t] not in (old[t], new[t])]
        if run(warehouse, states["snapshot_b"], raw_only=True) != 0:
            problems.append(f"seed {seed}: the re-run failed")
        final = state(warehouse, "raw", RAW_TABLES)
        # measured first, asserted after the table is recorded: a failing case still shows its loss
        compared = sum(len(rows) for rows in final.values())
        lost = sum(len(set(new[t] or []) - set(final[t] or [])) for t in RAW_TABLES)
        if final != new:
            problems.append(f"seed {seed}: the re-run did not converge")
        return compared, lost, problems

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, range(RUNS)))
    record("SIGKILL during ingest (6 failpoints in transactions + random)", RUNS,
           sum(c for c, _, _ in results), sum(lost for _, lost, _ in results))  # fmt: skip
    assert [p for _, _, problems in results for p in problems] == []
    assert sum(lost for _, lost, _ in results) == 0


def test_kill_during_a_full_build_converges_and_serving_is_never_half_published(states):
    marts_new = _without_built_at(states["marts_new"])

    def one(seed: int) -> tuple[int, int, list[str]]:
        folder = states["tmp"] / f"build_{seed}"
        folder.mkdir()
        warehouse = copy(states["built_old"], folder / "valuation.duckdb")
        shutil.copy(states["tmp"] / "serving_old.duckdb", warehouse.parent / "serving.duckdb")
        run(warehouse, states["snapshot_b"], raw_only=False, kill_after=random.Random(1000 + seed).uniform(3.0, 14.0))
        serving = _without_built_at(state(warehouse.parent / "serving.duckdb", "marts", MARTS, exclude=None))
        problems = []
        if serving not in (_without_built_at(states["serving_old"]), marts_new):
            problems.append(f"seed {seed}: the serving copy is neither the old nor the new publication")
        if run(warehouse, states["snapshot_b"], raw_only=False) != 0:
            problems.append(f"seed {seed}: the re-run failed")
        final = _without_built_at(state(warehouse, "marts", MARTS, exclude=None))
        compared = sum(len(rows) for rows in final.values())
        lost = sum(len(set(marts_new[t] or []) - set(final[t] or [])) for t in MARTS)
        if final != marts_new:
            problems.append(f"seed {seed}: the re-run did not converge")
        return compared, lost, problems

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, range(RUNS)))
    record("SIGKILL during a full build (dbt, freshness, publish)", RUNS,
           sum(c for c, _, _ in results), sum(lost for _, lost, _ in results))  # fmt: skip
    assert [p for _, _, problems in results for p in problems] == []
    assert sum(lost for _, lost, _ in results) == 0
