"""Print what the pipeline did and built, in its own words.

- what the last run loaded into each raw table (inserted, updated, unchanged, rejected by reason,
  symbols the source did not have), read from the materializations in Dagster's instance;
- rows per table and date ranges; the latest valuation of each company; rejected input;
- freshness as of the clock (a replayed sample is judged as of its own last day);
- where the serving copy for SQL and BI tools is.

`python -m orchestration.summary sample-end DIR` prints a snapshot's last price date (the demo's clock).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import yaml

from orchestration import settings
from orchestration.sources.sample import last_price_date
from orchestration.warehouse.schema import dated_by

RAW_ASSETS = ["prices", "stock_splits", "company_profiles", "financial_statements"]

# The raw tables of data (not the bookkeeping ones) and every table of the marts.
BUILT_TABLES = """
select schema_name, table_name, list(column_name order by column_index)
from duckdb_columns() semi join duckdb_tables() using (database_name, schema_name, table_name)
where (schema_name = 'raw' and table_name in ('prices', 'stock_splits', 'company_profiles', 'financial_statements', 'rejected_rows'))
    or schema_name = 'marts'
group by all
order by schema_name desc, table_name
"""

# The seed analysis's day (Alibaba's February 2025 re-rating), shown beside the clock's day.
SEED_ANALYSIS_DATE = "2025-02-14"

# Each listing on its latest trading day on or before a date: the valuation, its bases, and for a
# figure that is null the input that is missing (the first of them, in the order they are needed).
VALUATION_ON = """
    with latest as (
        select valuation.*, max_ttm_age.days as max_ttm_age_days
        from marts.fct_valuation_daily as valuation
        cross join (select ? as days) as max_ttm_age
        where valuation.date <= cast(? as date)
        qualify row_number() over (partition by valuation.symbol order by valuation.date desc) = 1
    ),
    explained as (
        select
            company.company_name,
            listing.symbol,
            latest.date,
            latest.trading_currency,
            latest.market_cap_usd,
            latest.market_cap_local,
            latest.pe_ttm,
            latest.shares_basis,
            latest.ttm_basis,
            latest.pe_ttm_basis,
            case
                when latest.date is null then 'no price on or before the day'
                when latest.close is null then 'no traded close (only a dividend-adjusted one)'
                when latest.shares_outstanding is null then 'no share count known'
                when latest.market_cap_usd is null then 'no ' || latest.trading_currency || ' FX rate on the day'
            end as market_cap_missing,
            case
                when latest.date is null or latest.close is null then 'no traded close'
                when latest.fundamentals_period_end is null then 'no complete TTM earnings known'
                when latest.date - latest.fundamentals_period_end > latest.max_ttm_age_days
                    then 'TTM of ' || latest.fundamentals_period_end || ' older than ' || latest.max_ttm_age_days || ' days'
                when known.ttm_eps_diluted is null and known.ttm_net_income is null then 'no TTM EPS or net income'
                when latest.ttm_eps is null and latest.ttm_net_income_usd is null and reporting_fx.units_per_usd is null
                    then 'no ' || company.reporting_currency || ' FX rate on the day'
                when latest.ttm_eps is null and latest.market_cap_usd is null then 'no TTM EPS, and no market cap'
                when latest.pe_ttm is null then 'TTM earnings not positive'
            end as pe_missing
        from marts.dim_listing as listing
        inner join marts.dim_company as company on listing.company_id = company.company_id
        left join latest on listing.symbol = latest.symbol
        -- what was known in the reporting currency, before any conversion
        asof left join intermediate.int_fundamentals_point_in_time as known
            on known.company_id = listing.company_id and latest.date >= known.known_from
        left join intermediate.int_fx_rates_daily as reporting_fx
            on reporting_fx.rate_date = latest.date and reporting_fx.currency = company.reporting_currency
    )
    select * from explained
    order by market_cap_usd desc nulls last, company_name, symbol
"""


def ttm_max_age_days() -> int:
    """The dbt project's own limit on a TTM's age (dbt_project.yml), so the summary names the same rule."""
    project = yaml.safe_load((Path(__file__).parent.parent / "dbt_project" / "dbt_project.yml").read_text())
    return int(project["vars"]["ttm_max_age_days"])


def valuation_table(conn: duckdb.DuckDBPyConnection, day: str, max_ttm_age_days: int) -> list[str]:
    """Every listing on its latest trading day on or before `day`: market cap in USD and in its
    trading currency, P/E, the bases they rest on, and what is missing where one is null."""
    lines = [f"{'company':<31}{'listing':<9}{'date':<12}{'cap USD bn':>11}{'cap local bn':>17}{'P/E ttm':>8}"
             f"  {'shares basis':<30}{'TTM basis':<14}{'P/E basis':<12}missing"]  # fmt: skip
    for row in conn.execute(VALUATION_ON, [max_ttm_age_days, day]).fetchall():
        (name, symbol, date_, currency, cap_usd, cap_local, pe, shares_basis, ttm_basis, pe_basis,
         cap_missing, pe_missing) = row  # fmt: skip
        cap = f"{cap_usd / 1e9:,.1f}" if cap_usd is not None else "null"
        local = f"{currency} {cap_local / 1e9:,.1f}" if cap_local is not None else "null"
        missing = "; ".join(f"{what}: {why}" for what, why in (("market cap", cap_missing), ("P/E", pe_missing)) if why)
        lines.append(f"{name[:30]:<31}{symbol:<9}{str(date_ or '-'):<12}{cap:>11}{local:>17}"
                     f"{(f'{pe:.1f}' if pe is not None else 'null'):>8}  {shares_basis or '-':<30}"
                     f"{ttm_basis or '-':<14}{pe_basis or '-':<12}{missing}")  # fmt: skip
    return lines


def _value(metadata: dict, name: str):
    entry = metadata.get(name)
    return None if entry is None else entry.value


def last_run_story() -> list[str]:
    """What the latest materialization of each raw asset loaded, from Dagster's own records."""
    if not os.environ.get("DAGSTER_HOME"):
        return []
    import dagster as dg

    lines = ["", "What the last run loaded (from its materializations in the Dagster instance)", "",
             f"{'raw table':<24}{'received':>9}{'inserted':>9}{'updated':>8}{'unchanged':>10}{'rejected':>9}  by reason"]  # fmt: skip
    missing: list[str] = []
    with dg.DagsterInstance.get() as instance:
        for table in RAW_ASSETS:
            event = instance.get_latest_materialization_event(dg.AssetKey(["raw", table]))
            if event is None or event.asset_materialization is None:
                continue
            meta = event.asset_materialization.metadata
            if table == "stock_splits":
                lines.append(f"{'raw.' + table:<24}{_value(meta, 'split_events') or 0:>9,}  split events")
                continue
            reasons = _value(meta, "rejected_by_reason") or {}
            lines.append(
                f"{'raw.' + table:<24}{_value(meta, 'rows_received') or 0:>9,}{_value(meta, 'rows_inserted') or 0:>9,}"
                f"{_value(meta, 'rows_updated') or 0:>8,}{_value(meta, 'rows_unchanged') or 0:>10,}"
                f"{_value(meta, 'rows_rejected') or 0:>9,}  {', '.join(f'{r} {n}' for r, n in sorted(reasons.items())) or '-'}"
            )  # fmt: skip
            by_reason: dict[str, list[str]] = {}
            for symbol, why in sorted((_value(meta, "failures") or {}).items()):
                by_reason.setdefault(why, []).append(symbol)
            missing += [f"  {table:<22}{why}: {' '.join(symbols)}" for why, symbols in sorted(by_reason.items())]
    if missing:
        lines += ["", "Asked for but not delivered by the source (the rest loaded)", "", *missing]
    return lines


def summarize(conn: duckdb.DuckDBPyConnection) -> str:
    lines = last_run_story()
    lines += ["", "What was built", "", f"{'table':<32}{'rows':>10}  date range"]
    for schema, table, columns in conn.execute(BUILT_TABLES).fetchall():
        date_column = dated_by(columns)
        rows = conn.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
        span = ""
        if date_column and rows:
            first, last = conn.execute(f"select min({date_column}), max({date_column}) from {schema}.{table}").fetchone()
            span = f"{first} .. {last}"
        lines.append(f"{schema + '.' + table:<32}{rows:>10,}  {span}")
    clock = os.environ.get("VALUATION_AS_OF")
    today = clock or str(settings.parse_clock(None).date_in("UTC"))
    for day in dict.fromkeys([SEED_ANALYSIS_DATE, today]):
        lines += ["", f"Valuation of every listing on {day} (its latest trading day on or before it)", ""]
        lines += valuation_table(conn, day, ttm_max_age_days())
    rejected = conn.execute(
        "select dataset, reason, count(*) from raw.rejected_rows group by all order by all"
    ).fetchall()
    lines += ["", "Input rejected or held back (raw.rejected_rows, each with its file and line)", ""]
    lines += [f"{dataset:<22}{reason:<30}{count:>6}" for dataset, reason, count in rejected] or ["none"]
    lines += ["", f"Freshness as of {clock + ' (VALUATION_AS_OF)' if clock else 'now'}: sessions of each exchange", ""]
    for dataset, status, count, symbols in conn.execute(
        "select dataset, status, count(*), string_agg(symbol, ' ' order by symbol) "
        "from marts.mart_data_freshness group by all order by all"
    ).fetchall():
        lines.append(f"{dataset:<14}{status:<9}{count:>4}   {symbols if status != 'fresh' else ''}")
    lines += ["", f"Serving copy for SQL and BI tools (read-only, swapped whole on each publish): {settings.serving_path()}"]
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["sample-end"]:
        if len(sys.argv) != 3:
            sys.exit("usage: python -m orchestration.summary sample-end SNAPSHOT_DIR")
        print(last_price_date(sys.argv[2]) or "")
        return
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        print(summarize(conn))


if __name__ == "__main__":
    main()
