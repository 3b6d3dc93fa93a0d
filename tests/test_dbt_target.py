"""dbt's per-invocation target folders do not pile up in dbt_project/target."""

import os

from orchestration.defs.dbt import dbt_project, prune_target_folders
from tests.conftest import FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, run_pipeline


def test_a_successful_build_leaves_no_target_folder_of_its_own(tmp_path):
    target = dbt_project.project_dir / dbt_project.target_path
    result = run_pipeline(tmp_path / "valuation.duckdb", FIXTURE_SNAPSHOT, FIXTURE_UNIVERSE, as_of="2025-01-31")

    # dagster-dbt names each invocation's folder <op name>-<first 7 characters of the run id>-<uuid>
    prefix = f"valuation_dbt_models-{result.run_id[:7]}-"
    left = sorted(path.name for path in target.iterdir() if path.name.startswith(prefix))
    assert left == []


def test_only_the_newest_failed_target_folders_are_kept(tmp_path):
    # eight folders left by failed builds, one minute apart, and one of another op and the manifest
    for minute in range(8):
        folder = tmp_path / f"valuation_dbt_models-run{minute}-abc"
        folder.mkdir()
        (folder / "dbt.log").write_text("failed")
        os.utime(folder, (1_000_000 + 60 * minute, 1_000_000 + 60 * minute))
    (tmp_path / "other_op-run0-abc").mkdir()
    (tmp_path / "manifest.json").write_text("{}")

    prune_target_folders(tmp_path, "valuation_dbt_models", keep=5)

    kept = sorted(path.name for path in tmp_path.iterdir())
    newest_five = [f"valuation_dbt_models-run{minute}-abc" for minute in (3, 4, 5, 6, 7)]
    assert kept == sorted(["manifest.json", "other_op-run0-abc", *newest_five])
