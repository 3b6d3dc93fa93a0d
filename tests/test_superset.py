"""`make superset` for real: Superset's own environment (superset/.venv, which `make test` installs)
runs superset/setup_superset.py over a serving copy of the market sample; every analysis/*.sql saved
in it answers, through Superset's API, what the same SQL answers run directly on the file."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.sample

SUPERSET_PYTHON = REPO_ROOT / "superset" / ".venv" / "bin" / "python"
SETUP = REPO_ROOT / "superset" / "setup_superset.py"
ANALYSIS = sorted((REPO_ROOT / "analysis").glob("*.sql"))
READY = "superset ready: "
START_TIMEOUT = 600  # seconds: a fresh metadata database takes about a minute on 2 cores


@dataclass
class Superset:
    url: str
    api: requests.Session
    saved: dict[str, Any]  # the ids setup_superset.py reports
    serving: Path
    pid: int

    def get(self, path: str) -> Any:
        response = self.api.get(f"{self.url}{path}", timeout=120)
        assert response.ok, f"GET {path}: {response.status_code} {response.text[:2000]}"
        return response.json()

    def put(self, path: str, body: dict[str, Any]) -> Any:
        response = self.api.put(f"{self.url}{path}", json=body, timeout=120)
        assert response.ok, f"PUT {path}: {response.status_code} {response.text[:2000]}"
        return response.json()

    def sql_lab(self, sql: str) -> requests.Response:
        """Runs `sql` in SQL Lab on the serving database, synchronously, without a row limit below
        the query's own rows."""
        return self.api.post(
            f"{self.url}/api/v1/sqllab/execute/",
            json={"database_id": self.saved["database_id"], "sql": sql, "runAsync": False,
                  "queryLimit": 100000, "client_id": os.urandom(5).hex()},
            timeout=300,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-60:])


@pytest.fixture(scope="module")
def superset(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Superset]:
    assert SUPERSET_PYTHON.exists(), (
        f"Superset's environment {SUPERSET_PYTHON.parent.parent} is missing: `make test` installs it "
        "(or `make superset/.venv/.installed`)"
    )
    work = tmp_path_factory.mktemp("superset")
    serving = work / "serving.duckdb"  # a copy of its own: the test publishes over it
    shutil.copyfile(sample_warehouse.parent / "serving.duckdb", serving)
    port = free_port()
    log = work / "setup.log"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(SUPERSET_PYTHON), str(SETUP), "--serving", str(serving), "--port", str(port),
             "--home", str(work / "home")],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: setup script, gunicorn and its worker
        )
    try:
        saved = None
        while saved is None:
            ready = [line for line in log.read_text(errors="replace").splitlines() if line.startswith(READY)]
            if ready:
                saved = json.loads(ready[0][len(READY):].split(" ", 1)[1])
            elif process.poll() is not None:
                pytest.fail(f"setup_superset.py exited with {process.returncode}:\n{log_tail(log)}")
            elif time.monotonic() - started > START_TIMEOUT:
                pytest.fail(f"Superset not ready in {START_TIMEOUT} s:\n{log_tail(log)}")
            else:
                time.sleep(1)
        print(f"\nSuperset initialised, started and provisioned in {time.monotonic() - started:.0f} s")

        url = f"http://127.0.0.1:{port}"
        api = requests.Session()
        token = api.post(f"{url}/api/v1/security/login", timeout=60,
                         json={"username": "admin", "password": "admin", "provider": "db"}).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        api.headers["X-CSRFToken"] = api.get(f"{url}/api/v1/security/csrf_token/", timeout=60).json()["result"]
        api.headers["Referer"] = url
        yield Superset(url, api, saved, serving, process.pid)
    finally:
        # The whole group, by the group's id (the setup script's own pid), however it was started.
        for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue


def direct(serving: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """The same SQL, run with duckdb on the file, read-only: column names and rows."""
    with duckdb.connect(str(serving), read_only=True) as conn:
        cursor = conn.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()


def same_value(got: Any, expected: Any, epoch_ms: bool = False) -> bool:
    """A value of Superset's JSON against duckdb's: dates and timestamps come as ISO strings (SQL
    Lab) or epoch milliseconds (chart data), floats within a relative 1e-9."""
    if isinstance(expected, dt.date) and got is not None:
        moment = expected if isinstance(expected, dt.datetime) else dt.datetime.combine(expected, dt.time())
        if epoch_ms:
            return got == moment.replace(tzinfo=dt.UTC).timestamp() * 1000
        parsed = dt.datetime.fromisoformat(got)
        return parsed == moment if isinstance(expected, dt.datetime) else parsed.date() == expected
    if isinstance(expected, float) and got is not None:
        return got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    return got == expected


def assert_same_rows(got: list[list[Any]], expected: list[tuple], what: str, epoch_ms: bool = False) -> None:
    assert len(got) == len(expected), f"{what}: {len(got)} rows through Superset, {len(expected)} directly"
    # Compared in the query's order, which every analysis query makes total.
    for index, (row, want) in enumerate(zip(got, expected, strict=True)):
        assert all(same_value(g, w, epoch_ms) for g, w in zip(row, want, strict=True)), (
            f"{what}, row {index}: Superset {row} != duckdb {want}"
        )


def dataset_of(superset: Superset, stem: str) -> dict[str, Any]:
    return superset.get(f"/api/v1/dataset/{superset.saved['datasets'][stem]}")["result"]


def chart_of(superset: Superset, stem: str) -> dict[str, Any]:
    return superset.get(f"/api/v1/chart/{superset.saved['charts'][stem]}")["result"]


def test_the_serving_copy_is_registered_read_only(superset: Superset) -> None:
    database = superset.get(f"/api/v1/database/{superset.saved['database_id']}/connection")["result"]
    assert database["sqlalchemy_uri"] == f"duckdb:///{superset.serving}"
    assert json.loads(database["extra"])["engine_params"]["connect_args"] == {"read_only": True}
    assert database["allow_dml"] is False


def test_every_analysis_query_is_a_dataset_with_a_chart_on_the_dashboard(superset: Superset) -> None:
    assert sorted(superset.saved["datasets"]) == [path.stem for path in ANALYSIS]
    for path in ANALYSIS:
        dataset = dataset_of(superset, path.stem)
        assert dataset["sql"] == path.read_text().strip().rstrip(";"), path.name
        assert dataset["kind"] == "virtual"
        columns, _ = direct(superset.serving, path.read_text())
        assert [c["column_name"] for c in dataset["columns"]] == columns, path.name
        chart = chart_of(superset, path.stem)
        assert chart["query_context"], f"{path.name}: the chart has no saved query"
    charts = superset.get(f"/api/v1/dashboard/{superset.saved['dashboard_id']}/charts")["result"]
    assert sorted(c["id"] for c in charts) == sorted(superset.saved["charts"].values())


@pytest.mark.parametrize("stem", [path.stem for path in ANALYSIS])
def test_sql_lab_answers_the_saved_query_as_duckdb_does(superset: Superset, stem: str) -> None:
    sql = dataset_of(superset, stem)["sql"]
    response = superset.sql_lab(sql)
    assert response.ok, f"{stem}: {response.status_code} {response.text[:2000]}"
    answer = response.json()
    assert answer["status"] == "success"
    columns, rows = direct(superset.serving, sql)
    assert [c["column_name"] for c in answer["columns"]] == columns
    assert rows, f"{stem}: no rows on the sample, nothing compared"
    got = [[record[c] for c in columns] for record in answer["data"]]
    assert_same_rows(got, rows, f"{stem} in SQL Lab")


@pytest.mark.parametrize("stem", [path.stem for path in ANALYSIS])
def test_each_chart_draws_the_rows_of_its_query(superset: Superset, stem: str) -> None:
    """The chart's saved query (what a dashboard, report or the chart API runs) over the virtual
    dataset: a table shows the query's rows; a line chart has, for each x and line, the query's value."""
    chart = chart_of(superset, stem)
    params = json.loads(chart["params"])
    result = superset.get(f"/api/v1/chart/{chart['id']}/data/")["result"][0]
    assert result["status"] == "success", result
    columns, rows = direct(superset.serving, dataset_of(superset, stem)["sql"])
    if params["viz_type"] == "table":
        assert result["colnames"] == params["all_columns"] == columns
        got = [[record[c] for c in columns] for record in result["data"]]
        assert_same_rows(got, rows, f"{stem} chart", epoch_ms=True)
        return
    x, series, metric = params["x_axis"], params["groupby"][0], params["metrics"][0]
    grain = params["time_grain_sqla"]
    assert grain in ("P1D", "P1Y"), f"{stem}: a time grain this test does not know, {grain}"
    # MAX of one row per (day, line), or the latest row's value in each (year, line)
    if metric["expressionType"] == "SIMPLE":
        assert metric["aggregate"] == "MAX" and grain == "P1D", metric
        column, latest = metric["column"]["column_name"], False
    else:
        column, latest = metric["label"], True
        assert metric["sqlExpression"] == f"arg_max({column}, {x})", metric
    expected: dict[tuple[Any, Any], tuple[Any, Any]] = {}  # (bucket, line) -> (x, value)
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        day = record[x].replace(month=1, day=1) if grain == "P1Y" else record[x]
        day = dt.datetime.combine(day, dt.time()) if not isinstance(day, dt.datetime) else day
        key = (day.replace(tzinfo=dt.UTC).timestamp() * 1000, record[series])
        if key in expected:
            assert latest, f"{stem}: two rows for {key}, the chart's MAX would hide one"
            assert expected[key][0] != record[x], f"{stem}: two rows for {key} on {record[x]}"
            if expected[key][0] > record[x]:
                continue
        expected[key] = (record[x], record[column])
    expected = {key: value for key, (_, value) in expected.items() if value is not None}
    got = {(record[x], line): value for record in result["data"] for line, value in record.items()
           if line != x and value is not None}
    assert got.keys() == expected.keys()
    assert all(same_value(got[key], expected[key]) for key in expected)


def test_writes_through_sql_lab_fail(superset: Superset) -> None:
    """Refused by Superset (the database allows no DML), and by DuckDB too when Superset lets it
    through (the file is opened read-only)."""
    writes = ["create table main.written as select 1 as x", "insert into main.publication select * from main.publication",
              "drop table marts.dim_company"]
    for sql in writes:
        response = superset.sql_lab(sql)
        assert not response.ok and "DML_NOT_ALLOWED_ERROR" in response.text, (sql, response.text[:500])
    database = f"/api/v1/database/{superset.saved['database_id']}"
    superset.put(database, {"allow_dml": True})
    try:
        for sql in writes:
            response = superset.sql_lab(sql)
            assert not response.ok and "read-only mode" in response.text, (sql, response.text[:500])
    finally:
        superset.put(database, {"allow_dml": False})
    assert direct(superset.serving, "select count(*) from main.publication")[1] == [(1,)]
    assert direct(superset.serving, "select count(*) from information_schema.tables where table_name = 'written'")[1] == [(0,)]


def open_files(pid: int) -> list[str]:
    """What the processes of the group `pid` have open (Linux)."""
    paths = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pid:
                continue
            paths += [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except (OSError, ProcessLookupError):
            continue
    return paths


def test_a_republished_serving_copy_is_read_by_the_next_query(superset: Superset) -> None:
    """The pipeline publishes by renaming a new file over the old one. Superset opens the file for
    each query (NullPool), so the next query and chart refresh read the new publication, and no
    process keeps the replaced file open."""
    before = superset.sql_lab("select tables_published from main.publication").json()["data"]
    new = superset.serving.with_name(".serving.duckdb.tmp")
    shutil.copyfile(superset.serving, new)
    with duckdb.connect(str(new)) as conn:
        conn.execute("update main.publication set tables_published = tables_published + 1000")
        conn.execute("delete from marts.dim_company where company_id = (select min(company_id) from marts.dim_company)")
    os.replace(new, superset.serving)

    after = superset.sql_lab("select tables_published from main.publication").json()["data"]
    assert after == [{"tables_published": before[0]["tables_published"] + 1000}]
    chart = superset.get(f"/api/v1/chart/{superset.saved['charts']['market_caps_by_currency']}/data/")["result"][0]
    assert chart["rowcount"] == len(direct(superset.serving, (REPO_ROOT / "analysis" / "market_caps_by_currency.sql").read_text())[1])
    if Path("/proc/self/fd").is_dir():
        assert not [path for path in open_files(superset.pid) if "serving.duckdb" in path]
