"""The one-writer queue and the run queue as declared: which assets take the warehouse_writer pool,
what the fetch jobs carry, and what an instance built from orchestration/dagster.yaml enforces."""

import shutil

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.resources import WAREHOUSE_WRITER
from tests.conftest import REPO_ROOT


def _ops() -> dict[str, dg.AssetsDefinition]:
    return {a.node_def.name: a for a in defs.assets if isinstance(a, dg.AssetsDefinition)}


def test_every_asset_that_opens_the_warehouse_takes_the_writer_pool_and_no_other_does():
    ops = _ops()
    writers = {name for name, a in ops.items() if "duckdb" in a.required_resource_keys}
    pooled = {name for name, a in ops.items() if a.node_def.pool == WAREHOUSE_WRITER}
    assert writers == pooled
    # the raw loads, the dbt build, the freshness evaluation and the publish: the fetches stay free
    assert writers == {"raw_universe", "raw__prices", "raw__company_profiles", "raw__financial_statements", "raw__consensus_estimates",
                       "valuation_dbt_models", "freshness__data_freshness", "serving__marts"}  # fmt: skip
    assert {name for name in ops if name.startswith("landing__")}.isdisjoint(pooled)


def test_the_fetch_jobs_carry_the_tag_the_run_queue_limits_and_run_in_one_process():
    for job in defs.jobs:
        assert job.tags == {"valuation/fetch": "yahoo"}, job.name
        assert job.executor_def is dg.in_process_executor, job.name


def test_the_committed_instance_settings_limit_the_pool_to_one_and_fetch_runs_to_a_tick(tmp_path):
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 10
        assert queue.tag_concurrency_limits == [{"key": "valuation/fetch", "limit": 8}]
        assert instance.global_op_concurrency_default_limit == 1
        assert instance.run_coordinator.dequeue_use_threads and instance.run_coordinator.dequeue_num_workers == 4
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == 5
        # the pool's limit as a step claiming a slot sees it: one
        instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_WRITER)
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_WRITER).slot_count == 1
