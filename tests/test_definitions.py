"""A snapshot of the Definitions: an accidental change to the asset graph fails here."""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs

EXPECTED_ASSETS = {
    "landing": ["landing/company_profiles", "landing/consensus_estimates", "landing/financial_statements", "landing/prices"],
    "raw": ["raw/company_profiles", "raw/consensus_estimates", "raw/financial_statements", "raw/prices", "raw/stock_splits",
            "raw/universe_benchmarks", "raw/universe_companies", "raw/universe_fx_pairs", "raw/universe_listings",
            "raw/universe_peer_groups", "raw/vendor_figures"],
    "reference": ["reference/line_item_metrics"],
    "staging": ["staging/stg_company_profiles", "staging/stg_consensus_estimates", "staging/stg_financial_statements",
                "staging/stg_prices", "staging/stg_rejected_rows", "staging/stg_stock_splits", "staging/stg_universe_benchmarks",
                "staging/stg_universe_companies", "staging/stg_universe_fx_pairs", "staging/stg_universe_listings",
                "staging/stg_universe_peer_groups", "staging/stg_vendor_figures"],
    "intermediate": ["intermediate/int_financial_metrics", "intermediate/int_forward_eps_point_in_time",
                     "intermediate/int_fundamentals_point_in_time", "intermediate/int_fundamentals_ttm",
                     "intermediate/int_fx_rates_daily", "intermediate/int_listing_states",
                     "intermediate/int_share_counts_point_in_time"],
    "marts": ["marts/bridge_company_peer_group", "marts/dim_company", "marts/dim_listing",
              "marts/fct_valuation_daily", "marts/mart_capex", "marts/mart_data_freshness",
              "marts/mart_peer_valuation", "marts/mart_peer_valuation_daily", "marts/mart_relative_performance",
              "marts/mart_vendor_reconciliation"],
    "freshness": ["freshness/data_freshness"],
    "serving": ["serving/marts"],
}  # fmt: skip


def test_asset_graph_by_group():
    graph = defs.resolve_asset_graph()
    groups: dict[str, list[str]] = {}
    for key in graph.materializable_asset_keys:
        groups.setdefault(graph.get(key).group_name, []).append(key.to_user_string())
    assert {group: sorted(keys) for group, keys in groups.items()} == EXPECTED_ASSETS


def test_the_graph_runs_from_raw_through_the_marts():
    graph = defs.resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(next(k for k in graph.materializable_asset_keys if k.path == ["marts", "fct_valuation_daily"]))
    assert {"raw/prices", "raw/financial_statements", "raw/universe_listings", "raw/universe_fx_pairs"} <= {
        k.to_user_string() for k in upstream
    }


def test_dbt_tests_are_asset_checks_on_the_marts():
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("marts/fct_valuation_daily", "unique_combination_fct_valuation_daily_symbol__date") in checks
    assert ("marts/dim_listing", "unique_dim_listing_symbol") in checks
    assert ("marts/fct_valuation_daily", "market_cap_jumps_without_a_split") in checks
    assert ("freshness/data_freshness", "all_data_fresh") in checks
    # where EDGAR and Yahoo disagree on one figure, a warning lists it (the filing's value is used)
    assert ("intermediate/int_financial_metrics", "fundamentals_source_differences") in checks
    assert {("raw/prices", "fetch_complete"), ("raw/financial_statements", "fetch_complete"),
            ("raw/consensus_estimates", "fetch_complete"), ("raw/consensus_estimates", "input_accepted")} <= checks


def test_the_freshness_evaluation_feeds_the_dbt_mart_that_publishes_it():
    graph = defs.resolve_asset_graph()
    mart = graph.get(next(k for k in graph.materializable_asset_keys if k.path == ["marts", "mart_data_freshness"]))
    assert {k.to_user_string() for k in mart.parent_keys} == {"freshness/data_freshness"}
    evaluation = graph.get(next(k for k in graph.materializable_asset_keys if k.path == ["freshness", "data_freshness"]))
    assert {"raw/prices", "raw/company_profiles", "raw/financial_statements"} <= {k.to_user_string() for k in evaluation.parent_keys}
    serving = graph.get(next(k for k in graph.materializable_asset_keys if k.path == ["serving", "marts"]))
    assert mart.key in serving.parent_keys

def test_landing_is_partitioned_by_listing_bucket_and_feeds_the_raw_loads():
    graph = defs.resolve_asset_graph()
    for dataset in ("prices", "company_profiles", "financial_statements", "consensus_estimates"):
        landing = graph.get(dg.AssetKey(["landing", dataset]))
        assert landing.partitions_def.get_partition_keys() == [f"bucket-{k}-of-8" for k in range(1, 9)]
        assert landing.key in graph.get(dg.AssetKey(["raw", dataset])).parent_keys


def test_schedules_and_jobs():
    assert sorted(s.name for s in defs.schedules) == [
        "fundamentals_before_us_open", "fx_after_ny_close", "hk_after_close", "us_after_close"]  # fmt: skip


def test_the_dagster_cli_loads_the_same_definitions(tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_asset_is_described_owned_and_kinded_for_the_ui():
    import dagster as dg
    import yaml

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and node.owners == ["team:valuation-warehouse"] and node.kinds, key.to_user_string()
    # a raw table's columns and types, as DuckDB creates them (orchestration/warehouse/schema.py)
    prices = {c.name: c.type for c in graph.get(dg.AssetKey(["raw", "prices"])).metadata["dagster/column_schema"].columns}
    assert (prices["symbol"], prices["date"], prices["close"], prices["vintage_date"]) == ("varchar", "date", "double", "date")
    # a mart's columns carry the descriptions of its dbt YAML
    documented = yaml.safe_load((Path(__file__).parents[1] / "dbt_project/models/marts/fct_valuation_daily.yml").read_text())
    pe_doc = next(c["description"] for c in documented["models"][0]["columns"] if c["name"] == "pe_ttm")
    columns = graph.get(dg.AssetKey(["marts", "fct_valuation_daily"])).metadata["dagster/column_schema"].columns
    assert next(c.description for c in columns if c.name == "pe_ttm") == pe_doc
