"""dbt's per-invocation target folders do not pile up in dbt_project/target."""

from orchestration.defs.dbt import dbt_project
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, run_pipeline


def test_a_successful_build_leaves_no_target_folder_of_its_own(tmp_path):
    target = dbt_project.project_dir / dbt_project.target_path
    result = run_pipeline(tmp_path / "valuation.duckdb", FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")

    # dagster-dbt names each invocation's folder <op name>-<first 7 characters of the run id>-<uuid>
    prefix = f"valuation_dbt_models-{result.run_id[:7]}-"
    left = sorted(path.name for path in target.iterdir() if path.name.startswith(prefix))
    assert left == []
