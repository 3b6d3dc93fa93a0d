"""Print what the pipeline built: rows per table, date ranges, latest market cap of each company."""

from __future__ import annotations

import duckdb

from orchestration import settings

TABLES = [
    ("raw", "prices", "date"),
    ("raw", "stock_splits", "ex_date"),
    ("raw", "company_profiles", "snapshot_date"),
    ("raw", "financial_statements", "period_end"),
    ("raw", "rejected_rows", None),
    ("marts", "dim_company", None),
    ("marts", "bridge_company_peer_group", None),
    ("marts", "dim_listing", None),
    ("marts", "fct_valuation_daily", "date"),
    ("marts", "mart_peer_valuation", "as_of_date"),
    ("marts", "mart_relative_performance", "as_of_date"),
    ("marts", "mart_capex", "fiscal_period_end"),
    ("marts", "mart_data_freshness", None),
]

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


def summarize(conn: duckdb.DuckDBPyConnection) -> str:
    lines = ["", "What was built", "", f"{'table':<32}{'rows':>10}  date range"]
    for schema, table, date_column in TABLES:
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
    lines += ["", "Freshness (trading sessions of each exchange; VALUATION_AS_OF sets the clock)", ""]
    for dataset, status, count, evaluated_at in conn.execute(
        "select dataset, status, count(*), max(evaluated_at) from marts.mart_data_freshness group by all order by all"
    ).fetchall():
        lines.append(f"{dataset:<14}{status:<9}{count:>4}   evaluated at {evaluated_at:%Y-%m-%d %H:%M} UTC")
    return "\n".join(lines)


def main() -> None:
    with duckdb.connect(str(settings.warehouse_path()), read_only=True) as conn:
        print(summarize(conn))


if __name__ == "__main__":
    main()
