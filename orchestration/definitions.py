"""The one Definitions object: `dagster dev`, `dagster asset materialize` and the tests all load it."""

import dagster as dg

from orchestration.defs.dbt import dbt_resource, valuation_dbt_models
from orchestration.defs.freshness import data_freshness
from orchestration.defs.ingest import raw_assets
from orchestration.defs.landing import landing_assets
from orchestration.defs.resources import market_data_resource, run_settings, warehouse_resource
from orchestration.defs.schedules import jobs, schedules
from orchestration.defs.serving import serving_marts

# Everything a replay of the sample (or of landed batches) runs, in one run; the partitioned
# landing assets fetch from a live source, one listing bucket per run, before it.
pipeline_assets = [*raw_assets, valuation_dbt_models, data_freshness, serving_marts]

defs = dg.Definitions(
    assets=[*landing_assets, *pipeline_assets],
    jobs=jobs,
    schedules=schedules,
    resources={
        "duckdb": warehouse_resource(),
        "market_data": market_data_resource(),
        "run_settings": run_settings(),
        "dbt": dbt_resource(),
    },
)
