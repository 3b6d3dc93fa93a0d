"""Publish the marts to the read-only serving copy after each build."""

from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.defs.resources import WAREHOUSE_WRITER, RunSettings, WarehouseResource
from orchestration.defs.catalog import OWNERS
from orchestration.defs.dbt import dbt_mart_keys, incremental_unique_keys
from orchestration.warehouse.publish import publish_serving_copy


@dg.asset(
    key=["serving", "marts"],
    group_name="serving",
    deps=dbt_mart_keys(),
    automation_condition=dg.AutomationCondition.eager(),
    description="Every table of schema marts, copied to warehouse/serving.duckdb and swapped in atomically: "
    "BI tools and SQL users read it read-only and never block, or see half of, a build. After an "
    "incremental build, the file the last publish replaced (the spare), or a copy of the serving file "
    "when a reader may still hold the spare, is patched with the rows built since.",
    owners=OWNERS,
    kinds={"duckdb"},
    pool=WAREHOUSE_WRITER,  # it reads the working file under the writer's lock
)
def serving_marts(duckdb: WarehouseResource, run_settings: RunSettings) -> dg.MaterializeResult:
    serving_path = Path(run_settings.serving_path)
    with duckdb.get_connection() as conn:
        published = publish_serving_copy(
            conn, serving_path, incremental_keys=incremental_unique_keys(), keep_spare=settings.serving_keeps_spare()
        )
    return dg.MaterializeResult(
        metadata={
            "path": str(serving_path),
            "published_at": str(published["published_at"]),
            "publish_mode": published["mode"],
            "patched_from": published["patched_from"] or "-",
            "rows_written": published["rows_written"],
            "tables": len(published["rows"]),
            **{f"rows_{table}": count for table, count in published["rows"].items()},
        }
    )
