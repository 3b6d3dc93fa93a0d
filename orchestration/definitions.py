"""The one Definitions object: `dagster dev`, `dagster asset materialize` and the tests all load it."""

import dagster as dg

from orchestration.defs.dbt import dbt_resource, valuation_dbt_models
from orchestration.defs.freshness import data_freshness
from orchestration.defs.ingest import raw_assets
from orchestration.defs.resources import MarketDataResource, warehouse_resource
from orchestration.defs.schedules import jobs, schedules
from orchestration.defs.serving import serving_marts

defs = dg.Definitions(
    assets=[*raw_assets, valuation_dbt_models, data_freshness, serving_marts],
    jobs=jobs,
    schedules=schedules,
    resources={
        "duckdb": warehouse_resource(),
        "market_data": MarketDataResource(),
        "dbt": dbt_resource(),
    },
)
