"""Fault scenarios: a reader on the working file, and hostile symbols reaching SQL."""

import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from orchestration.defs.ingest import raw_prices, raw_universe
from orchestration.defs.resources import MarketDataResource, WarehouseLockedError, WarehouseResource, run_settings
from orchestration.normalize import choose_prices, validate_prices
from orchestration.universe import UniverseError, parse_universe
from orchestration.warehouse import ensure_raw_schema, transaction, upsert
from orchestration.warehouse.schema import PRICES
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, query
from tests.servers import free_port, running_server

HOSTILE = ["X'; drop table raw.prices; --", 'A"B', "1; delete from raw.prices", "--", "Robert'); DROP TABLE"]


def test_a_reader_on_the_working_file_gives_a_clear_error_not_a_hang(tmp_path, monkeypatch):
    warehouse = tmp_path / "valuation.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}, read_only=True); "
                               "print('ready', flush=True); time.sleep(120)"],  # fmt: skip
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "ready"
        monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
        began = time.monotonic()
        result = dg.materialize(
            [raw_universe, raw_prices],
            resources={"duckdb": WarehouseResource(database=str(warehouse), lock_wait_seconds=2),
                       "market_data": MarketDataResource(source="sample", sample_dir=str(FIXTURE_SNAPSHOT)),
                       "run_settings": run_settings()},
            raise_on_error=False,
        )  # fmt: skip
        waited = time.monotonic() - began
        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.cause.message if failure.step_failure_data.error.cause else failure.step_failure_data.error.message
        assert "is locked by another process" in message and "serving.duckdb read-only" in message
        assert waited < 60, f"failed after {waited:.0f} s: no hang"
    finally:
        reader.kill()
        reader.wait()


def test_the_lock_error_is_raised_by_the_resource_itself(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
                                                     "print('ready', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLockedError, match="locked by another process"):
            with WarehouseResource(database=str(warehouse), lock_wait_seconds=0.5).get_connection():
                pass
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("symbol", [s for s in HOSTILE if s != "--"])  # "--" is within [A-Z0-9.^=-]: data, below
def test_hostile_symbols_are_refused_by_the_universe(symbol):
    text = FIXTURE_UNIVERSE.read_text().replace("{symbol: ACME,", "{symbol: " + repr(symbol).replace("\\'", "''") + ",")
    with pytest.raises(UniverseError, match="has characters outside"):
        parse_universe(text)


def test_hostile_values_from_a_source_reach_sql_only_as_data(tmp_path):
    # Were a source to send such symbols anyway, they travel as bound data, never as SQL.
    frame = pd.DataFrame(
        [{"symbol": s, "date": "2025-01-06", "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "adj_close": 1.0,
          "volume": 1.0, "dividends": None, "stock_splits": None, "currency": "USD'; --", "price_basis": "raw"}
         for s in HOSTILE]
    )  # fmt: skip
    validated = validate_prices(frame, pd.Timestamp("2025-01-31").date(), {})
    chosen = choose_prices(validated.rows, pd.DataFrame({"symbol": [], "ex_date": [], "split_ratio": []})).rows
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        ensure_raw_schema(conn)
        with transaction(conn):
            upsert(conn, PRICES, chosen, "sample'; drop table raw.prices; --")
    stored = query(tmp_path / "w.duckdb", "select symbol, currency, _source from raw.prices order by symbol")
    assert sorted(s for s, _, _ in stored) == sorted(HOSTILE)
    assert {(c, src) for _, c, src in stored} == {("USD'; --", "sample'; drop table raw.prices; --")}
    tables = {t for (t,) in query(tmp_path / "w.duckdb", "select table_name from duckdb_tables() where schema_name = 'raw'")}
    assert "prices" in tables and "rejected_rows" in tables


def _listening_addresses(port: int) -> set[str]:
    """The local addresses TCP sockets LISTEN on at `port`, read from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                packed = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
                found.add(str(ipaddress.ip_address(packed)))
    return found


@pytest.mark.parametrize("host, expected", [(None, {"127.0.0.1"}), ("0.0.0.0", {"0.0.0.0"})])
def test_make_dashboard_listens_on_localhost_unless_told_otherwise(tmp_path, host, expected):
    port = free_port()
    env = {**os.environ, "DASHBOARD_PORT": str(port), "VALUATION_SERVING": str(tmp_path / "serving.duckdb")}
    env.pop("DASHBOARD_HOST", None)
    if host:
        env["DASHBOARD_HOST"] = host
    with running_server(["make", "-o", "setup", "dashboard"], f"http://127.0.0.1:{port}/_stcore/health", env):
        assert _listening_addresses(port) == expected


def test_make_ui_listens_on_localhost_only(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    # Telemetry off, and no run may start: a schedule tick or the automation sensor during the test queues only.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\nconcurrency:\n  runs:\n    max_concurrent_runs: 0\n")
    port = free_port()
    env = {**os.environ, "VALUATION_WAREHOUSE": str(tmp_path / "valuation.duckdb")}
    env.pop("UI_HOST", None)
    command = ["make", "-o", "setup", "ui", f"UI_PORT={port}", f"DAGSTER_HOME={home}"]
    with running_server(command, f"http://127.0.0.1:{port}/server_info", env, timeout_seconds=180):
        assert _listening_addresses(port) == {"127.0.0.1"}


def _step_failure(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    """(class name, message) of the exception that failed the run's step."""
    failure = next(e for e in result.all_events if e.is_step_failure)
    error = failure.step_failure_data.error
    while error.cause is not None and error.cls_name in ("DagsterExecutionStepExecutionError",):
        error = error.cause
    return error.cls_name, error.message


def _materialize_dbt_while_held(tmp_path, monkeypatch, lock_wait_seconds: float) -> tuple[dg.ExecuteInProcessResult, float, str]:
    """Build the dbt models while another process holds the warehouse open for writing."""
    from orchestration.defs.dbt import dbt_resource, valuation_dbt_models

    warehouse = tmp_path / "valuation.duckdb"
    duckdb.connect(str(warehouse)).close()
    monkeypatch.setenv("VALUATION_WAREHOUSE", str(warehouse))  # dbt's profile reads it
    monkeypatch.setenv("VALUATION_UNIVERSE", str(FIXTURE_UNIVERSE))
    monkeypatch.setenv("VALUATION_AS_OF", "2025-01-31")
    monkeypatch.delenv("VALUATION_SOURCE", raising=False)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
                                                     "print('ready', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        began = time.monotonic()
        result = dg.materialize(
            [valuation_dbt_models],
            resources={"duckdb": WarehouseResource(database=str(warehouse), lock_wait_seconds=lock_wait_seconds),
                       "dbt": dbt_resource()},
            raise_on_error=False,
        )  # fmt: skip
        return result, time.monotonic() - began, str(warehouse)
    finally:
        holder.kill()
        holder.wait()


def test_dbt_waits_for_the_warehouse_lock_then_gives_the_explained_error(tmp_path, monkeypatch):
    result, waited, warehouse = _materialize_dbt_while_held(tmp_path, monkeypatch, lock_wait_seconds=1.5)
    assert not result.success
    cls_name, message = _step_failure(result)
    assert cls_name == "WarehouseLockedError"
    assert message.startswith(f"orchestration.defs.resources.WarehouseLockedError: the working warehouse {warehouse} "
                              "is locked by another process (IO Error: Could not set lock on file")  # fmt: skip
    assert "serving.duckdb read-only instead" in message
    assert 1.5 <= waited < 60, f"waited {waited:.1f} s: the configured 1.5 s, then failed"


def test_a_lock_dbt_meets_itself_is_translated_to_the_explained_error(tmp_path, monkeypatch):
    # The lock taken between the wait and dbt's own connection: dbt fails on DuckDB's message.
    monkeypatch.setattr(WarehouseResource, "wait_until_writable", lambda self: None)
    result, _, warehouse = _materialize_dbt_while_held(tmp_path, monkeypatch, lock_wait_seconds=0.5)
    assert not result.success
    cls_name, message = _step_failure(result)
    assert cls_name == "WarehouseLockedError"
    assert f"the working warehouse {warehouse} is locked by another process (" in message
    assert "Could not set lock on file" in message and "serving.duckdb read-only instead" in message
