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

RAW_ASSETS = ["prices", "stock_splits", "company_profiles", "financial_statements", "consensus_estimates", "vendor_figures"]

# The raw tables of data (not the bookkeeping ones) and every table of the marts.
BUILT_TABLES = """
select schema_name, table_name, list(column_name order by column_index)
from duckdb_columns() semi join duckdb_tables() using (database_name, schema_name, table_name)
where (schema_name = 'raw' and table_name in ('prices', 'stock_splits', 'company_profiles', 'financial_statements',
                                               'consensus_estimates', 'vendor_figures', 'rejected_rows'))
    or schema_name = 'marts'
group by all
order by schema_name desc, table_name
"""

# The seed analysis's day (Alibaba's February 2025 re-rating), shown beside the clock's day.
SEED_ANALYSIS_DATE = "2025-02-14"
# The first session after the sample's consensus snapshot (taken 2025-02-24 09:35 UTC, before New York's open).
CONSENSUS_DATE = "2025-02-25"

# Each company once (as analysis/pe_three_bases.sql counts it), on its latest day on or before a
# date: P/E on its three earnings bases, each with what it rests on.
EARNINGS_BASES_ON = """
    select
        company.company_name,
        valuation.symbol,
        valuation.date,
        valuation.pe_ttm,
        valuation.pe_ttm_basis,
        valuation.pe_ttm_adjusted,
        valuation.adjusted_earnings_basis,
        valuation.pe_forward,
        valuation.forward_eps_snapshot_date
    from marts.fct_valuation_daily as valuation
    inner join marts.dim_listing as listing using (symbol)
    inner join marts.dim_company as company on listing.company_id = company.company_id
    where valuation.date <= cast(? as date)
    qualify row_number() over (
        partition by company.company_id
        order by valuation.date desc, valuation.pe_ttm is null, not listing.is_primary, listing.symbol
    ) = 1
    order by company.company_name
"""

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
            if "rows_inserted" not in meta:  # loaded with another table (vendor figures with their consensus)
                lines.append(f"{'raw.' + table:<24}{_value(meta, 'rows_received') or 0:>9,}  received, "
                             f"{_value(meta, 'rows_rejected') or 0:,} rejected; {_value(meta, 'dagster/row_count') or 0:,} rows in the table")  # fmt: skip
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


def earnings_bases_table(conn: duckdb.DuckDBPyConnection, day: str) -> list[str]:
    """P/E on reported, adjusted and forward earnings, side by side, each with its basis; null as such."""
    lines = [f"{'company':<31}{'listing':<9}{'date':<12}{'reported':>9}  {'':<12}{'adjusted':>9}  {'':<52}"
             f"{'forward':>8}  consensus of"]  # fmt: skip

    def pe(value: float | None) -> str:
        return f"{value:.1f}" if value is not None else "null"

    for name, symbol, date_, reported, reported_basis, adjusted, adjusted_basis, forward, snapshot in conn.execute(
        EARNINGS_BASES_ON, [day]
    ).fetchall():
        lines.append(f"{name[:30]:<31}{symbol:<9}{str(date_):<12}{pe(reported):>9}  {reported_basis or '-':<12}"
                     f"{pe(adjusted):>9}  {adjusted_basis or '-':<52}{pe(forward):>8}  {snapshot or '-'}")  # fmt: skip
    return lines


def reconciliation_table(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Yahoo's quoted figures beside ours (marts.mart_vendor_reconciliation), with the reasons."""
    rows = conn.execute(
        "select symbol, snapshot_date, measure, vendor_module, vendor_value, warehouse_value, relative_difference, "
        "coalesce(reason, 'agrees') from marts.mart_vendor_reconciliation order by symbol, snapshot_date, measure, vendor_module"
    ).fetchall()
    lines = [f"{'listing':<9}{'snapshot':<12}{'measure':<27}{'Yahoo module':<22}{'Yahoo':>14}{'ours':>14}{'diff':>9}  reason"]
    for symbol, snapshot, measure, module, vendor, ours, difference, reason in rows:
        scale = 1e9 if measure.endswith("_usd") else 1

        def shown(value: float | None) -> str:
            return "null" if value is None else f"{value / scale:,.2f}"

        lines.append(f"{symbol:<9}{str(snapshot):<12}{measure + (' (bn)' if scale > 1 else ''):<27}{module:<22}"
                     f"{shown(vendor):>14}{shown(ours):>14}{(f'{difference:+.1%}' if difference is not None else '-'):>9}  {reason}")  # fmt: skip
    return lines if rows else ["none (no vendor snapshot loaded)"]


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
    for day in (SEED_ANALYSIS_DATE, CONSENSUS_DATE):
        lines += ["", f"P/E on three earnings bases on {day}: reported (GAAP / IFRS), the company's adjusted, the consensus", ""]
        lines += earnings_bases_table(conn, day)
    lines += ["", "Yahoo's own figures beside ours (marts.mart_vendor_reconciliation; the explanation column says why)", ""]
    lines += reconciliation_table(conn)
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
