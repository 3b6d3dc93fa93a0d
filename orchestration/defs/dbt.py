"""The dbt project as Dagster assets: staging -> intermediate -> marts, with dbt tests as asset checks."""

import contextlib
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration import settings
from orchestration.defs.catalog import OWNERS
from orchestration.defs.resources import WAREHOUSE_WRITER, WarehouseResource, warehouse_locked
from orchestration.warehouse.schema import dated_by

# The dbt installed beside this Python, whether or not the virtualenv is on PATH. dagster-dbt's
# preparer runs `dbt` from PATH, so this one is put first there too.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
if shutil.which("dbt") != DBT_EXECUTABLE:
    os.environ["PATH"] = os.pathsep.join([str(Path(DBT_EXECUTABLE).parent), os.environ.get("PATH", "")])

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def _manifest_is_current() -> bool:
    """True when the manifest is newer than every file of the dbt project."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return False
    target = dbt_project.project_dir / dbt_project.target_path
    sources = (
        path
        for path in dbt_project.project_dir.rglob("*")
        if path.is_file()
        and target not in path.parents
        and not {"logs", "dbt_packages"} & set(path.parts)
        and not path.name.startswith(".")  # dbt's own .user.yml
    )
    return all(path.stat().st_mtime < manifest.stat().st_mtime for path in sources)


# `make setup` prepares the manifest (`dagster-dbt project prepare-and-package`). A manifest older
# than a file of the project (an edit or a checkout since then, a test run without make) would
# describe a different graph than the one dbt builds, so it is prepared again on load, by
# dagster-dbt's own preparer (`dbt parse`, guarded against concurrent loaders such as the UI's code
# server and run workers). Not `prepare_if_dev()`: under `dagster dev` that parses in every process
# that loads the code, each run worker and step included, about 10 s each on 2 cores.
if not _manifest_is_current():
    dbt_project.preparer.prepare(dbt_project)


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by layer (staging, intermediate, marts, reference) in the UI, and rebuild
    each model when what it depends on updates (Declarative Automation)."""

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        return dg.AutomationCondition.eager()

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


# What DuckDB says when another process holds the file dbt opens.
DUCKDB_LOCK_MESSAGE = "could not set lock on file"

# Target folders of failed or killed builds kept for their dbt.log (about 8 MB each).
KEPT_FAILED_TARGETS = 5


def prune_target_folders(target: Path, op_name: str, keep: int = KEPT_FAILED_TARGETS) -> None:
    """Remove the target folders of earlier builds but the newest `keep`. dagster-dbt names each
    invocation's folder <op name>-<run id>-<uuid>; a successful build removes its own, so what is
    left here failed or was killed (the fault catalogue kills builds by the hundred)."""

    def modified(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:  # removed by a concurrent build meanwhile
            return 0.0

    folders = sorted(target.glob(f"{op_name}-*"), key=modified, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=LayerTranslator(),
            pool=WAREHOUSE_WRITER)  # fmt: skip
def valuation_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: WarehouseResource) -> Iterator:
    # dbt would fail at once on another process's lock: wait for it as every other step does
    # (lock_wait_seconds), and fail with the same explained error when it is still held.
    duckdb.wait_until_writable()
    prune_target_folders(dbt_project.project_dir / dbt_project.target_path, context.op_execution_context.op.name)
    invocation = dbt.cli(["build"], context=context, raise_on_error=False)
    # dbt holds the DuckDB file while it builds: the row counts are read once it has let go.
    log_path = build_log_path(context)
    with open(log_path, "w") as console, contextlib.redirect_stdout(console):
        events = list(invocation.stream())
    show_what_warned_or_failed(log_path)
    context.log.info(f"dbt's console log of this build, every node: {log_path}")
    yield from with_row_counts(context, events, duckdb)
    error = invocation.get_error()
    if error is None:
        # dagster-dbt gives each invocation a target folder of its own (artifacts, dbt.log, a copy
        # of the partial-parse file): what it reported is in Dagster's event log now, so a
        # successful build's folder goes instead of piling up; a failed one stays for its dbt.log.
        shutil.rmtree(invocation.target_path, ignore_errors=True)
        return
    context.log.error(f"dbt's artifacts and dbt.log of this build: {invocation.target_path}")
    if DUCKDB_LOCK_MESSAGE in str(error).lower():  # taken between the wait and dbt's own connection
        lock_line = next(line for line in str(error).splitlines() if DUCKDB_LOCK_MESSAGE in line.lower())
        raise warehouse_locked(duckdb.database, lock_line.strip()) from error
    raise error


# dbt's console, a line per node and test (about 330 in the demo's build), goes to the run's own
# folder; the console shows only what warned or failed, with dbt's tally, so that the account of
# the run comes first. The same lines are dagster-dbt's, which writes each event's message to stdout.
WORTH_SHOWING = re.compile(r"\b(WARN|ERROR|FAIL)\b|^(Warning|Failure|Error|Runtime Error|Database Error) in |"
                           r"Got \d+ results?|^Done\. |^Completed with")


def build_log_path(context: dg.AssetExecutionContext) -> Path:
    """The file dbt's console of this build goes to: in the run's folder of the instance's storage."""
    path = Path(context.instance.storage_directory()) / context.run.run_id / "dbt_build.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def show_what_warned_or_failed(log_path: Path) -> None:
    for line in log_path.read_text().splitlines():
        if WORTH_SHOWING.search(line):
            print(line, flush=True)


def with_row_counts(context: dg.AssetExecutionContext, events: list, duckdb: WarehouseResource) -> Iterator:
    """dbt's events, each table model's output with its row count (`dagster/row_count`) and, where
    its rows are dated, the first and last date (shown in the UI)."""
    outputs = [event for event in events if isinstance(event, dg.Output)]
    extra: dict[str, dict] = {}
    if outputs:
        with duckdb.get_connection() as conn:
            columns: dict[str, list[str]] = {}
            for schema, table, column in conn.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "semi join duckdb_tables() using (database_name, schema_name, table_name) order by column_index"
            ).fetchall():
                columns.setdefault(f"{schema}.{table}", []).append(column)
            for event in outputs:
                relation = ".".join(context.asset_key_for_output(event.output_name).path[-2:])
                if relation not in columns:
                    continue  # a view, or a model dbt did not build
                dated = dated_by(columns[relation])
                dates = f", cast(min({dated}) as varchar), cast(max({dated}) as varchar)" if dated else ""
                row = conn.execute(f"select count(*){dates} from {relation}").fetchone()
                extra[event.output_name] = {"dagster/row_count": row[0]}
                if dated and row[1] is not None:
                    extra[event.output_name] |= {"first_date": row[1], "last_date": row[2]}
    for event in events:
        if isinstance(event, dg.Output) and event.output_name in extra:
            event = event.with_metadata({**event.metadata, **extra[event.output_name]})
        yield event


def dbt_mart_keys() -> list[dg.AssetKey]:
    """The dbt models of the marts layer (what the serving copy publishes)."""
    return [key for key in valuation_dbt_models.keys if key.path[0] == "marts"]


def incremental_unique_keys() -> dict[str, list[str]]:
    """Each incremental model of the marts layer and its unique key, from dbt's manifest: what the
    serving copy is patched by (orchestration/warehouse/publish.py)."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    return {
        node["alias"]: [node["config"]["unique_key"]] if isinstance(node["config"]["unique_key"], str)
        else list(node["config"]["unique_key"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
        and node["config"]["materialized"] == "incremental"
    }  # fmt: skip
