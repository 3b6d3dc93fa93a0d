"""A real pipeline run in its own process, for the fault tests to kill: python -m tests.faults.run_pipeline."""

import argparse
import os

import dagster as dg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--universe", required=True)
    parser.add_argument("--raw-only", action="store_true", help="the ingest assets only, no dbt")
    args = parser.parse_args()
    os.environ.update({"VALUATION_WAREHOUSE": args.warehouse, "VALUATION_UNIVERSE": args.universe,
                       "VALUATION_AS_OF": "2025-01-31"})  # fmt: skip

    from orchestration.defs.dbt import dbt_resource
    from orchestration.defs.ingest import raw_assets
    from orchestration.defs.resources import MarketDataResource, WarehouseResource, run_settings
    from orchestration.definitions import pipeline_assets

    assets = raw_assets if args.raw_only else pipeline_assets
    result = dg.materialize(
        assets,
        resources={"duckdb": WarehouseResource(database=args.warehouse),
                   "market_data": MarketDataResource(source="sample", sample_dir=args.snapshot),
                   "dbt": dbt_resource(), "run_settings": run_settings()},  # fmt: skip
    )
    raise SystemExit(0 if result.success else 1)


if __name__ == "__main__":
    main()
