"""The dbt project as Dagster assets: staging -> intermediate -> marts, with dbt tests as asset checks."""

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration import settings

# The dbt installed beside this Python, whether or not the virtualenv is on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def _parse_manifest() -> None:
    dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


# `dagster dev` re-parses on every load to pick up model edits; any other loader parses once,
# when there is no manifest yet, so every entry point sees the same graph.
if dbt_project.preparer.using_dagster_dev() or not dbt_project.manifest_path.exists():
    _parse_manifest()


class LayerTranslator(DagsterDbtTranslator):
    """Group dbt assets by layer (staging, intermediate, marts, reference) in the UI."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=LayerTranslator())
def valuation_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    yield from dbt.cli(["build"], context=context).stream()
