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

import duckdb

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

LATEST_MARKET_CAPS = """
    with latest as (
        select
            company_id, symbol, date, market_cap_usd, pe_ttm, shares_basis, ttm_basis,
            row_number() over (partition by company_id order by date desc, symbol) as recency
        from marts.fct_valuation_daily
        where market_cap_usd is not null or pe_ttm is not null
    )
    select
        company.company_id,
        company.company_name,
        latest.symbol,
        latest.date,
        latest.market_cap_usd,
        latest.pe_ttm,
        latest.shares_basis,
        latest.ttm_basis
    from marts.dim_company as company
    left join latest on company.company_id = latest.company_id and latest.recency = 1
    order by latest.market_cap_usd desc nulls last, company.company_id
"""


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
    lines += ["", "Latest valuation of each company (the last day with a market cap or a P/E)", ""]
    lines.append(f"{'company':<34}{'listing':<9}{'date':<12}{'market cap (USD bn)':>20}{'P/E ttm':>9}"
                 f"  {'share count basis':<22}TTM basis")  # fmt: skip
    for _, name, symbol, day, market_cap_usd, pe_ttm, basis, ttm_basis in conn.execute(LATEST_MARKET_CAPS).fetchall():
        if day is None:
            lines.append(f"{name:<34}{'-':<9}{'-':<12}{'null':>20}{'null':>9}  no share count and no TTM in the data")
            continue
        cap = f"{market_cap_usd / 1e9:,.1f}" if market_cap_usd is not None else "null"
        pe = f"{pe_ttm:.1f}" if pe_ttm is not None else "null"
        lines.append(f"{name:<34}{symbol:<9}{str(day):<12}{cap:>20}{pe:>9}  {basis or 'no share count':<22}"
                     f"{ttm_basis or 'no complete TTM'}")  # fmt: skip
    rejected = conn.execute(
        "select dataset, reason, count(*) from raw.rejected_rows group by all order by all"
    ).fetchall()
    lines += ["", "Input rejected or held back (raw.rejected_rows, each with its file and line)", ""]
    lines += [f"{dataset:<22}{reason:<30}{count:>6}" for dataset, reason, count in rejected] or ["none"]
    clock = os.environ.get("VALUATION_AS_OF")
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
