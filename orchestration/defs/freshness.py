"""Freshness of every series, in sessions of its own exchange: freshness.data_freshness + a check.

The dbt model marts.mart_data_freshness publishes it (documented and tested there, beside the
other marts); this asset is its source, upstream of it in the asset graph."""


from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from orchestration.defs.resources import WAREHOUSE_WRITER, RunSettings, WarehouseResource
from orchestration.defs.ingest import PRICES_KEY, PROFILES_KEY, STATEMENTS_KEY
from orchestration.freshness import (
    Freshness,
    StatementsHeld,
    annual_report_window_days,
    fundamentals_freshness,
    series_freshness,
)
from orchestration.instruments import FX_CALENDAR
from orchestration.defs.catalog import OWNERS, PYTHON_DUCKDB
from orchestration.warehouse import transaction

FRESHNESS_KEY = dg.AssetKey(["freshness", "data_freshness"])
FRESHNESS_COLUMNS = ["symbol", "dataset", "exchange_calendar", "last_data_date", "expected_data_date",
                     "sessions_behind", "status", "detail", "evaluated_at"]  # fmt: skip


@dg.asset(
    key=FRESHNESS_KEY,
    group_name="freshness",
    deps=[PRICES_KEY, PROFILES_KEY, STATEMENTS_KEY],
    automation_condition=dg.AutomationCondition.eager(),
    check_specs=[
        dg.AssetCheckSpec(
            "all_data_fresh",
            asset=FRESHNESS_KEY,
            description="Every listing, benchmark and FX pair has its exchange's latest closed session; "
            "profiles are current and statements hold every fiscal period that is due. Failed rows are listed.",
        )
    ],
    description="One row per (symbol, dataset): last data date, the latest session that has closed on the "
    "symbol's exchange (XNYS, XHKG; 24/5 for FX), sessions behind, and fresh | stale | missing. "
    "Evaluated at VALUATION_AS_OF when set. Published as marts.mart_data_freshness by dbt.",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    pool=WAREHOUSE_WRITER,
)
def data_freshness(duckdb: WarehouseResource, run_settings: RunSettings) -> dg.MaterializeResult:
    universe = run_settings.universe()
    clock = run_settings.clock()
    with duckdb.get_connection() as conn:
        last_price = dict(conn.execute("select symbol, max(date) from raw.prices group by symbol").fetchall())
        last_profile = dict(conn.execute("select symbol, max(snapshot_date) from raw.company_profiles group by symbol").fetchall())
        # Only income and cash-flow periods date a fiscal period (orchestration.freshness.StatementsHeld);
        # balance rows include instants such as a cover page's share count "as of" any day.
        held = {symbol: StatementsHeld(*dates) for symbol, *dates in conn.execute(
            "select symbol, "
            "max(period_end) filter (where statement in ('income', 'cashflow') and period_type = 'quarterly'), "
            "max(period_end) filter (where statement in ('income', 'cashflow') and period_type = 'annual'), "
            "max(period_end) filter (where statement = 'balance') "
            "from raw.financial_statements group by symbol"
        ).fetchall()}  # fmt: skip
        last_release = dict(conn.execute(
            "select symbol, max(last_release) from raw.fetch_log where dataset = 'financial_statements' group by symbol"
        ).fetchall())  # fmt: skip

    calendars = {name: exchange.calendar for name, exchange in universe.exchanges.items()}
    rows: list[Freshness] = []
    for company, listing in universe.listings:
        cal = calendars[listing.exchange]
        rows.append(series_freshness(listing.symbol, "prices", cal, last_price.get(listing.symbol), clock))
        rows.append(series_freshness(listing.symbol, "profile", cal, last_profile.get(listing.symbol), clock))
        if listing.primary:
            rows.append(fundamentals_freshness(
                listing.symbol, cal, clock, fiscal_year_end_month=company.fiscal_year_end_month,
                held=held.get(listing.symbol, StatementsHeld()), last_release=last_release.get(listing.symbol),
                annual_window_days=annual_report_window_days(company.country),
            ))  # fmt: skip
    for benchmark in universe.benchmarks:
        rows.append(series_freshness(benchmark.symbol, "prices", calendars[benchmark.exchange], last_price.get(benchmark.symbol), clock))
    for pair in universe.fx_pairs:
        rows.append(series_freshness(pair.symbol, "prices", FX_CALENDAR, last_price.get(pair.symbol), clock))

    evaluated_at = clock.utc if run_settings.clock_is_injected else datetime.now(timezone.utc).replace(tzinfo=None)
    frame = pd.DataFrame(
        [(r.symbol, r.dataset, r.calendar, r.last_data_date, r.expected_data_date, r.sessions_behind, r.status,
          r.detail, evaluated_at) for r in rows],
        columns=FRESHNESS_COLUMNS,
    )  # fmt: skip
    with duckdb.get_connection() as conn:
        with transaction(conn):
            conn.execute("create schema if not exists freshness")
            conn.register("freshness_frame", frame)
            conn.execute(
                "create or replace table freshness.data_freshness as select symbol, dataset, exchange_calendar, "
                "cast(last_data_date as date) as last_data_date, cast(expected_data_date as date) as expected_data_date, "
                "cast(sessions_behind as integer) as sessions_behind, status, detail, "
                "cast(evaluated_at as timestamp) as evaluated_at from freshness_frame"
            )
            conn.unregister("freshness_frame")

    not_fresh = frame[frame["status"] != "fresh"]
    counts = frame.groupby("status").size().to_dict()
    return dg.MaterializeResult(
        metadata={"evaluated_at": str(evaluated_at), "dagster/row_count": int(sum(counts.values())),
                  **{f"rows_{k}": int(v) for k, v in counts.items()}},  # fmt: skip
        check_results=[
            dg.AssetCheckResult(
                check_name="all_data_fresh",
                passed=not_fresh.empty,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "stale": ", ".join(f"{r.symbol} {r.dataset} ({r.detail})" for r in not_fresh.itertuples() if r.status == "stale") or "none",
                    "missing": ", ".join(f"{r.symbol} {r.dataset}" for r in not_fresh.itertuples() if r.status == "missing") or "none",
                    "evaluated_at": str(evaluated_at),
                },
            )
        ],
    )
