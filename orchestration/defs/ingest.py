"""Thin ingest assets: fetch from the source, validate, upsert, report."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.defs.resources import MarketDataResource
from orchestration.normalize import Validated, validate_prices, validate_profiles, validate_statements
from orchestration.universe import Universe, load_universe
from orchestration.warehouse import ensure_raw_schema, replace_table, transaction, upsert
from orchestration.warehouse.schema import (
    COMPANY_PROFILES,
    FINANCIAL_STATEMENTS,
    PRICES,
    REJECTED_ROWS,
    UNIVERSE_BENCHMARKS,
    UNIVERSE_COMPANIES,
    UNIVERSE_FX_PAIRS,
    UNIVERSE_LISTINGS,
    UNIVERSE_PEER_GROUPS,
    UNIVERSE_TABLES,
    RawTable,
)

RAW = "raw"


def _load(conn, table: RawTable, validated: Validated, source: str, date_column: str) -> dict:
    """Upsert good rows and rejects in one transaction; return materialization metadata."""
    with transaction(conn):
        result = upsert(conn, table, validated.rows, source)
        upsert(conn, REJECTED_ROWS, validated.rejected, source)
    rows = validated.rows
    metadata = {
        "source": source,
        "rows_received": len(rows) + len(validated.rejected),
        "rows_inserted": result.inserted,
        "rows_updated": result.updated,
        "rows_unchanged": result.unchanged,
        "rows_rejected": len(validated.rejected),
        "table_row_count": conn.execute(f"select count(*) from {table.qualified}").fetchone()[0],
        "symbols": int(rows["symbol"].nunique()) if len(rows) else 0,
    }
    if len(rows):
        metadata["first_date"] = str(min(rows[date_column]))
        metadata["last_date"] = str(max(rows[date_column]))
    if len(validated.rejected):
        metadata["rejected_by_reason"] = validated.rejected.groupby("reason").size().to_dict()
    return metadata


def _universe() -> Universe:
    return load_universe(settings.universe_path())


UNIVERSE_KEYS = {table: dg.AssetKey([RAW, table.name]) for table in UNIVERSE_TABLES}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="raw", description=f"{table.qualified}: from universe.yml, replaced whole on each run.")
        for table, key in UNIVERSE_KEYS.items()
    ],
    name="raw_universe",
)
def raw_universe(duckdb: DuckDBResource) -> Iterator[dg.MaterializeResult]:
    universe = _universe()
    exchanges = universe.exchanges
    tables = {
        UNIVERSE_COMPANIES: pd.DataFrame(
            [(c.company_id, c.name, c.country, c.sector, c.industry, c.reporting_currency, c.fiscal_year_end_month)
             for c in universe.companies],
            columns=UNIVERSE_COMPANIES.data_columns,
        ),
        UNIVERSE_LISTINGS: pd.DataFrame(
            [(l.symbol, c.company_id, l.exchange, exchanges[l.exchange].calendar, exchanges[l.exchange].timezone,
              l.currency, l.shares_per_listing_unit, l.primary, l.benchmark)
             for c, l in universe.listings],
            columns=UNIVERSE_LISTINGS.data_columns,
        ),
        UNIVERSE_PEER_GROUPS: pd.DataFrame(
            [(c.company_id, g, universe.peer_groups[g]) for c in universe.companies for g in c.peer_groups],
            columns=UNIVERSE_PEER_GROUPS.data_columns,
        ),
        UNIVERSE_BENCHMARKS: pd.DataFrame(
            [(b.symbol, b.name, b.exchange) for b in universe.benchmarks], columns=UNIVERSE_BENCHMARKS.data_columns
        ),
        UNIVERSE_FX_PAIRS: pd.DataFrame(
            [(p.symbol, p.base_currency, p.quote_currency) for p in universe.fx_pairs],
            columns=UNIVERSE_FX_PAIRS.data_columns,
        ),
    }
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        changed = replace_table(conn, tables, source="universe.yml")
    for table, frame in tables.items():
        yield dg.MaterializeResult(
            asset_key=UNIVERSE_KEYS[table],
            metadata={"table_row_count": len(frame), "changed": table in changed},
        )


@dg.asset(key=[RAW, "prices"], group_name="raw", deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
          description="Daily bars of listings, benchmarks and FX pairs: traded close and adjusted close.")
def raw_prices(duckdb: DuckDBResource, market_data: MarketDataResource) -> dg.MaterializeResult:
    universe = _universe()
    source = market_data.get_source()
    frame = source.fetch_prices(universe.price_symbols)
    currencies = {listing.symbol: listing.currency for _, listing in universe.listings}
    validated = validate_prices(frame, settings.as_of_date(), currencies)
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        metadata = _load(conn, PRICES, validated, source.name, "date")
    missing = sorted(set(universe.price_symbols) - set(validated.rows["symbol"]))
    metadata["symbols_without_data"] = ", ".join(missing) or "none"
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(key=[RAW, "company_profiles"], group_name="raw", deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
          description="Daily snapshot of each listing's profile (a subset of Yahoo's Ticker.info); history accumulates.")
def raw_company_profiles(duckdb: DuckDBResource, market_data: MarketDataResource) -> dg.MaterializeResult:
    universe = _universe()
    source = market_data.get_source()
    as_of = settings.as_of_date()
    frame = source.fetch_profiles([listing.symbol for _, listing in universe.listings], as_of)
    validated = validate_profiles(frame, as_of)
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        metadata = _load(conn, COMPANY_PROFILES, validated, source.name, "snapshot_date")
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(key=[RAW, "financial_statements"], group_name="raw", deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
          description="Income, balance and cash-flow statements, long; every filing's version is kept.")
def raw_financial_statements(duckdb: DuckDBResource, market_data: MarketDataResource) -> dg.MaterializeResult:
    universe = _universe()
    source = market_data.get_source()
    frame = source.fetch_statements(universe.fundamentals_symbols)
    validated = validate_statements(frame, settings.as_of_date())
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        metadata = _load(conn, FINANCIAL_STATEMENTS, validated, source.name, "period_end")
    return dg.MaterializeResult(metadata=metadata)


raw_assets = [raw_universe, raw_prices, raw_company_profiles, raw_financial_statements]
