"""Thin ingest assets: decide what to fetch, fetch, validate, upsert, report."""


import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timezone

import dagster as dg
import duckdb
import pandas as pd
from orchestration.defs.resources import WarehouseResource
from pydantic import Field

from orchestration import settings
from orchestration.defs.catalog import OWNERS, PYTHON_DUCKDB, table_metadata
from orchestration.defs.resources import MarketDataResource
from orchestration.failpoints import failpoint
from orchestration.freshness import session_open_local
from orchestration.ingest_policy import (
    StatementsFetch,
    annual_due,
    deferred_first,
    price_starts,
    profiles_due,
    restated_symbols,
    select_symbols,
    statements_due,
)
from orchestration.normalize import Validated, validate_prices, validate_profiles, validate_statements
from orchestration.normalize.prices import choose_prices
from orchestration.normalize.splits import empty_splits, splits_from_prices, validate_splits
from orchestration.normalize.statements import empty_statements
from orchestration.normalize.profiles import empty_profiles
from orchestration.sources import Fetched, StatementPlan
from orchestration.universe import Universe, load_universe
from orchestration.warehouse import ensure_raw_schema, replace_table, transaction, upsert
from orchestration.warehouse.schema import (
    COMPANY_PROFILES,
    FETCH_LOG,
    FINANCIAL_STATEMENTS,
    PRICES,
    REJECTED_ROWS,
    STOCK_SPLITS,
    UNIVERSE_BENCHMARKS,
    UNIVERSE_COMPANIES,
    UNIVERSE_FX_PAIRS,
    UNIVERSE_LISTINGS,
    UNIVERSE_PEER_GROUPS,
    UNIVERSE_TABLES,
    RawTable,
)

RAW = "raw"
FETCH_COMPLETE = "fetch_complete"
INPUT_ACCEPTED = "input_accepted"
# Rejections that hold back input which may be right (the stored value stays): someone must look.
HELD_BACK_REASONS = ("unreadable_file", "conflicting_duplicate", "implausible_move", "implausible_value")
UNIVERSE_KEYS = {table: dg.AssetKey([RAW, table.name]) for table in UNIVERSE_TABLES}


def _universe() -> Universe:
    return load_universe(settings.universe_path())


def _status(symbol: str, fetched: Fetched) -> tuple[str, str | None]:
    if symbol in fetched.deferred:
        return "deferred", fetched.deferred[symbol]
    if symbol in fetched.failures:
        return "failed", fetched.failures[symbol]
    return "ok", None


def _fetch_log(dataset: str, symbols: list[str], fetched: Fetched, source: str) -> pd.DataFrame:
    """One row per symbol asked for: ok, failed with the source's reason, or deferred (the run
    stopped asking before it; the next run starts with it)."""
    fetched_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [
        (
            symbol,
            dataset,
            fetched_at,
            source,
            *_status(symbol, fetched),
            fetched.next_update.get(symbol),
            fetched.last_update.get(symbol),
        )
        for symbol in dict.fromkeys(symbols)
    ]
    return pd.DataFrame(rows, columns=FETCH_LOG.data_columns)


def _quarantined_files(dataset: str, fetched: Fetched) -> pd.DataFrame:
    """An unreadable file as one rejected row: its path and the reason, none of its rows loaded."""
    return pd.DataFrame(
        [(dataset, None, "unreadable_file", json.dumps({"file": path, "problem": problem}, sort_keys=True))
         for path, problem in sorted(fetched.quarantined.items())],
        columns=REJECTED_ROWS.data_columns,
    ).astype("object")  # fmt: skip


def _load(
    conn: duckdb.DuckDBPyConnection,
    table: RawTable,
    validated: Validated,
    fetch_log: pd.DataFrame,
    fetched: Fetched,
    source: str,
    date_column: str,
    also: tuple[tuple[RawTable, Validated], ...] = (),
) -> tuple[dict, pd.DataFrame]:
    """Upsert good rows, rejects and the fetch log in one transaction; return the metadata and what
    this run rejected (its rows, those of `also`, its unreadable files)."""
    rejected = pd.concat(
        [validated.rejected, *(v.rejected for _, v in also), _quarantined_files(table.name, fetched)],
        ignore_index=True,
    ).drop_duplicates(ignore_index=True)
    with transaction(conn):
        for other, other_rows in also:
            upsert(conn, other, other_rows.rows, source, update_existing=not fetched.quarantined)
        # An unreadable file may have held the best version of any stored row: a load missing one
        # adds new days but restates nothing (`rows_held_stored`), until the file is readable again.
        result = upsert(conn, table, validated.rows, source, update_existing=not fetched.quarantined)
        failpoint(f"load.{table.name}.between_rows_and_rejects")
        upsert(conn, REJECTED_ROWS, rejected, source)
        upsert(conn, FETCH_LOG, fetch_log, source)
    rows = validated.rows
    metadata: dict = {
        "source": source,
        "requests": fetched.requests,
        "rows_received": len(rows) + len(validated.rejected),
        "rows_inserted": result.inserted,
        "rows_updated": result.updated,
        "rows_unchanged": result.unchanged,
        "rows_held_stored": result.held,
        "rows_rejected": len(rejected),
        "dagster/row_count": conn.execute(f"select count(*) from {table.qualified}").fetchone()[0],
        "symbols_loaded": int(rows["symbol"].nunique()) if len(rows) else 0,
        "symbols_failed": len(fetched.failures),
        "symbols_deferred": len(fetched.deferred),
    }
    if fetched.requests_by_endpoint:
        metadata["requests_by_endpoint"] = dict(sorted(fetched.requests_by_endpoint.items()))
    if len(rows):
        metadata["first_date"] = str(min(rows[date_column]))
        metadata["last_date"] = str(max(rows[date_column]))
    if len(rejected):
        metadata["rejected_by_reason"] = rejected.groupby("reason").size().to_dict()
    if fetched.quarantined:
        metadata["files_quarantined"] = dict(sorted(fetched.quarantined.items()))
    if fetched.failures:
        metadata["failures"] = dict(sorted(fetched.failures.items()))
    if fetched.deferred:
        metadata["deferred"] = dict(sorted(fetched.deferred.items()))
    if fetched.warnings:
        metadata["warnings"] = fetched.warnings
    return metadata, rejected


def _fetch_check(asset_key: dg.AssetKey, fetched: Fetched, asked: int) -> dg.AssetCheckResult:
    """Partial success is visible: good symbols are loaded, the failed and deferred ones fail this check."""
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=FETCH_COMPLETE,
        passed=not fetched.failures and not fetched.deferred,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "symbols_asked": asked,
            "symbols_failed": len(fetched.failures),
            "symbols_deferred": len(fetched.deferred),
            "failures": dict(sorted(fetched.failures.items())) or "none",
            "deferred": dict(sorted(fetched.deferred.items())) or "none",
        },
    )


def _deferred_symbols(conn: duckdb.DuckDBPyConnection, dataset: str) -> list[str]:
    """Symbols whose latest fetch of `dataset` was deferred by a stopped run."""
    return [symbol for (symbol,) in conn.execute(
        "select symbol from raw.fetch_log where dataset = ? group by symbol "
        "having max_by(status, fetched_at) = 'deferred'", [dataset]).fetchall()]  # fmt: skip


def _held_back(rejected: pd.DataFrame) -> list[str]:
    """Each held-back input named: the file and line, or the file, and why."""
    named = []
    for reason, symbol, payload in rejected[rejected["reason"].isin(HELD_BACK_REASONS)][
        ["reason", "symbol", "payload"]
    ].itertuples(index=False):
        row = json.loads(payload)
        where = row.get("file") or row.get("vintage") or ""
        line = f":{row['line']}" if row.get("line") else ""
        what = row.get("problem") or " ".join(
            str(row[k]) for k in ("date", "period_end", "line_item", "close", "value") if row.get(k) not in (None, "")
        )
        named.append(f"{reason}: {where}{line} {symbol or ''} {what}".strip())
    return sorted(named)


def _input_check(asset_key: dg.AssetKey, rejected: pd.DataFrame) -> dg.AssetCheckResult:
    """Fails (ERROR) while any input is held back: an unreadable file, conflicting rows, an
    implausible value. The stored data stayed as it was; the list says what to look at."""
    held = _held_back(rejected)
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=INPUT_ACCEPTED,
        passed=not held,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"held_back": len(held), "inputs": "\n".join(held[:200]) or "none"},
    )


def _fetch_check_spec(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            FETCH_COMPLETE,
            asset=key,
            description="Every symbol asked for was fetched; failures are listed (the rest still loads).",
        ),
        dg.AssetCheckSpec(
            INPUT_ACCEPTED,
            asset=key,
            description="No input was held back: no unreadable file, no conflicting rows, no implausible "
            "value. What is held back is listed by file and line; the stored data is left as it was.",
        ),
    ]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="raw", description=f"{table.qualified}: from universe.yml, replaced when it changes.",
                     owners=OWNERS, kinds=PYTHON_DUCKDB, metadata=table_metadata(table))  # fmt: skip
        for table, key in UNIVERSE_KEYS.items()
    ],
    name="raw_universe",
)
def raw_universe(duckdb: WarehouseResource) -> Iterator[dg.MaterializeResult]:
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
              session_open_local(exchanges[l.exchange].calendar), l.currency, l.shares_per_listing_unit, l.primary,
              l.benchmark)
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
    }  # fmt: skip
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        changed = replace_table(conn, tables, source="universe.yml")
    for table, frame in tables.items():
        yield dg.MaterializeResult(
            asset_key=UNIVERSE_KEYS[table],
            metadata={"dagster/row_count": len(frame), "changed": table in changed},
        )


class UniverseSliceConfig(dg.Config):
    """Which part of the universe a run loads (all of it by default).

    A large universe is backfilled in parallel runs, one per batch ("1/8" ... "8/8"): each fetches
    its own symbols, and the writes queue for the warehouse's single writer lock.
    """

    symbols: list[str] | None = Field(default=None, description="only these symbols (must be in universe.yml)")
    batch: str | None = Field(default=None, description="'k/n': only the k-th of n stable slices of the symbols")

    def select(self, symbols: list[str]) -> list[str]:
        try:
            return select_symbols(symbols, self.symbols, self.batch)
        except ValueError as error:
            raise dg.Failure(str(error)) from None


class PricesConfig(UniverseSliceConfig):
    """Which price series a run refreshes: the schedules refresh each market after its own close."""

    exchanges: list[str] | None = Field(default=None, description="listings and benchmarks of these exchanges (all when unset)")
    fx: bool = Field(default=True, description="include the FX pairs")


PRICES_KEY = dg.AssetKey([RAW, "prices"])
SPLITS_KEY = dg.AssetKey([RAW, "stock_splits"])
PROFILES_KEY = dg.AssetKey([RAW, "company_profiles"])
STATEMENTS_KEY = dg.AssetKey([RAW, "financial_statements"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PRICES_KEY,
            group_name="raw",
            deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
            description="Daily bars of listings, benchmarks and FX pairs: traded close (on today's split basis) "
            "and adjusted close. Every row is validated before the choice among downloads. Incremental per "
            "symbol (last loaded date minus an overlap); a new symbol gets its full history.",
            owners=OWNERS,
            kinds=PYTHON_DUCKDB,
            metadata=table_metadata(PRICES),
        ),
        dg.AssetSpec(
            SPLITS_KEY,
            group_name="raw",
            deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
            description="Stock splits per listing (the snapshot's corporate actions; Yahoo's Stock Splits), "
            "loaded with the prices they restate.",
            owners=OWNERS,
            kinds=PYTHON_DUCKDB,
            metadata=table_metadata(STOCK_SPLITS),
        ),
    ],
    check_specs=_fetch_check_spec(PRICES_KEY),
    name="raw__prices",
)
def raw_prices(config: PricesConfig, duckdb: WarehouseResource, market_data: MarketDataResource) -> Iterator:
    universe = _universe()
    instruments = universe.instruments(config.exchanges, config.fx)
    selected = set(config.select([instrument.symbol for instrument in instruments]))
    instruments = [instrument for instrument in instruments if instrument.symbol in selected]
    symbols = [instrument.symbol for instrument in instruments]
    source = market_data.get_source()
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        watermarks = dict(conn.execute("select symbol, max(date) from raw.prices group by symbol").fetchall())
        first = deferred_first(symbols, _deferred_symbols(conn, "prices"))
    position = {symbol: number for number, symbol in enumerate(first)}
    instruments = sorted(instruments, key=lambda instrument: position[instrument.symbol])
    symbols = first
    # A snapshot replays whole at no cost; a live source is asked only for what is new.
    starts = {} if source.fetches_are_free else price_starts(symbols, watermarks, market_data.price_overlap_days)
    fetched = source.fetch_prices(instruments, starts)
    if not source.fetches_are_free:
        fetched = _refetch_restated(duckdb, source, instruments, fetched)
    currencies = {listing.symbol: listing.currency for _, listing in universe.listings}
    events = [frame for frame in (fetched.splits, splits_from_prices(fetched.frame)) if frame is not None and len(frame)]
    splits = validate_splits(pd.concat(events, ignore_index=True) if events else empty_splits())
    split_dates = set(zip(splits.rows["symbol"], splits.rows["ex_date"]))
    # Every row is validated before any choice among downloads is made.
    validated = validate_prices(fetched.frame, settings.as_of_date(), currencies, split_dates)
    choice = choose_prices(validated.rows, splits.rows)
    chosen = Validated(rows=choice.rows, rejected=pd.concat([validated.rejected, choice.rejected], ignore_index=True))
    fetch_log = _fetch_log("prices", symbols, fetched, source.name)
    with duckdb.get_connection() as conn:
        metadata, rejected = _load(
            conn, PRICES, chosen, fetch_log, fetched, source.name, "date", also=((STOCK_SPLITS, splits),)
        )
    metadata["symbols_new"] = sum(1 for start in starts.values() if start is None)
    yield dg.MaterializeResult(asset_key=SPLITS_KEY, metadata={"split_events": len(splits.rows)})
    yield dg.MaterializeResult(
        asset_key=PRICES_KEY,
        metadata=metadata,
        check_results=[_fetch_check(PRICES_KEY, fetched, len(symbols)), _input_check(PRICES_KEY, rejected)],
    )


def _refetch_restated(duckdb: WarehouseResource, source, instruments: list, fetched: Fetched) -> Fetched:
    """Stored closes the overlap no longer matches: fetch those symbols' whole history again."""
    if fetched.frame.empty:
        return fetched
    with duckdb.get_connection() as conn:
        conn.register("fetched_keys", fetched.frame[["symbol", "date"]])
        stored = conn.execute(
            "select p.symbol, p.date, p.close, p.adj_close from raw.prices p join fetched_keys f using (symbol, date)"
        ).df()
        conn.unregister("fetched_keys")
    stored["date"] = pd.to_datetime(stored["date"]).dt.date
    restated = set(restated_symbols(fetched.frame, stored))
    if not restated:
        return fetched
    again = source.fetch_prices([i for i in instruments if i.symbol in restated], {})
    frame = pd.concat([fetched.frame[~fetched.frame["symbol"].isin(restated)], again.frame], ignore_index=True)
    warnings = fetched.warnings + [f"{s}: stored closes no longer match Yahoo's: whole history fetched again" for s in sorted(restated)]
    by_endpoint = dict(fetched.requests_by_endpoint)
    for endpoint, count in again.requests_by_endpoint.items():
        by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    return dataclasses.replace(
        fetched,
        frame=frame,
        failures={**fetched.failures, **again.failures},
        deferred={**fetched.deferred, **again.deferred},
        warnings=warnings,
        requests=fetched.requests + again.requests,
        requests_by_endpoint=by_endpoint,
    )


@dg.asset(
    key=PROFILES_KEY,
    group_name="raw",
    deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
    check_specs=_fetch_check_spec(PROFILES_KEY),
    description="Daily snapshot of each listing's profile (a subset of Yahoo's Ticker.info); history accumulates.",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    metadata=table_metadata(COMPANY_PROFILES),
)
def raw_company_profiles(
    config: UniverseSliceConfig, duckdb: WarehouseResource, market_data: MarketDataResource
) -> dg.MaterializeResult:
    universe = _universe()
    source = market_data.get_source()
    as_of = settings.as_of_date()
    symbols = config.select([listing.symbol for _, listing in universe.listings])
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        last_fetched = dict(conn.execute(
            "select symbol, max(fetched_at)::date from raw.fetch_log "
            "where dataset = 'company_profiles' and status = 'ok' group by symbol").fetchall())  # fmt: skip
        deferred = _deferred_symbols(conn, "company_profiles")
    # A snapshot replays whole; a live source is asked for new listings and then weekly.
    due = deferred_first(
        symbols if source.fetches_are_free else profiles_due(symbols, last_fetched, as_of, market_data.profile_max_age_days),
        deferred,
    )
    fetched = source.fetch_profiles(due, as_of) if due else Fetched(empty_profiles())
    expected = {listing.symbol: (listing.currency, company.reporting_currency) for company, listing in universe.listings}
    validated = validate_profiles(fetched.frame, as_of, expected)
    fetch_log = _fetch_log("company_profiles", due, fetched, source.name)
    with duckdb.get_connection() as conn:
        metadata, rejected = _load(conn, COMPANY_PROFILES, validated, fetch_log, fetched, source.name, "snapshot_date")
    metadata["symbols_due"] = len(due)
    metadata["symbols_not_due"] = len(symbols) - len(due)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[_fetch_check(PROFILES_KEY, fetched, len(due)), _input_check(PROFILES_KEY, rejected)],
    )


def _last_statement_fetches(conn: duckdb.DuckDBPyConnection) -> dict[str, StatementsFetch]:
    rows = conn.execute(
        "with fetches as (select symbol, max(fetched_at) as fetched_at, max_by(next_release, fetched_at) as next_release, "
        "max_by(last_release, fetched_at) as last_release from raw.fetch_log "
        "where dataset = 'financial_statements' and status = 'ok' group by symbol), "
        "quarters as (select symbol, max(period_end) as latest from raw.financial_statements "
        "where period_type = 'quarterly' group by symbol) "
        "select fetches.*, quarters.latest from fetches left join quarters using (symbol)"
    ).fetchall()
    return {
        symbol: StatementsFetch(at.date(), next_release, last_release, latest)
        for symbol, at, next_release, last_release, latest in rows
    }


def _known_releases(conn: duckdb.DuckDBPyConnection, as_of) -> dict[str, tuple]:
    """Earnings dates earlier fetches knew, that have passed by `as_of`: the release dates."""
    rows = conn.execute(
        "select symbol, list(distinct day order by day) from ("
        "  select symbol, next_release as day from raw.fetch_log where dataset = 'financial_statements'"
        "  union all select symbol, last_release from raw.fetch_log where dataset = 'financial_statements'"
        ") where day <= ? group by symbol",
        [as_of],
    ).fetchall()
    return {symbol: tuple(days) for symbol, days in rows}


@dg.asset(
    key=STATEMENTS_KEY,
    group_name="raw",
    deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
    check_specs=_fetch_check_spec(STATEMENTS_KEY),
    description="Income, balance and cash-flow statements, long; every filing's version is kept. "
    "Fetched from a live source only when they can have changed (first run, an earnings date passed, or too old).",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    metadata=table_metadata(FINANCIAL_STATEMENTS),
)
def raw_financial_statements(
    config: UniverseSliceConfig, duckdb: WarehouseResource, market_data: MarketDataResource
) -> dg.MaterializeResult:
    universe = _universe()
    source = market_data.get_source()
    as_of = settings.as_of_date()
    symbols = config.select(universe.fundamentals_symbols)
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        last_fetches = _last_statement_fetches(conn)
        releases = _known_releases(conn, as_of)
        deferred = _deferred_symbols(conn, "financial_statements")
    max_age = market_data.fundamentals_max_age_days
    due = deferred_first(symbols if source.fetches_are_free else statements_due(symbols, last_fetches, as_of, max_age), deferred)
    companies = {company.primary_listing.symbol: company for company in universe.companies}
    plans = [
        StatementPlan(
            symbol,
            companies[symbol].reporting_currency,
            companies[symbol].primary_listing.shares_per_listing_unit,
            annual=annual_due(last_fetches.get(symbol), as_of, companies[symbol].fiscal_year_end_month, max_age),
            releases=releases.get(symbol, ()),
        )
        for symbol in due
    ]
    fetched = source.fetch_statements(plans) if plans else Fetched(empty_statements())
    validated = validate_statements(fetched.frame, as_of, universe.currencies)
    fetch_log = _fetch_log("financial_statements", due, fetched, source.name)
    with duckdb.get_connection() as conn:
        metadata, rejected = _load(conn, FINANCIAL_STATEMENTS, validated, fetch_log, fetched, source.name, "period_end")
    metadata["symbols_due"] = len(due)
    metadata["symbols_not_due"] = len(symbols) - len(due)
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[_fetch_check(STATEMENTS_KEY, fetched, len(due)), _input_check(STATEMENTS_KEY, rejected)],
    )


# Written by every raw load (the loads' rejects), read by dbt: declared so the UI describes it.
rejected_rows = dg.AssetSpec(
    [RAW, REJECTED_ROWS.name],
    group_name="raw",
    description="Input held back or refused on ingest, one row per bad row or unreadable file: the dataset, "
    "symbol, reason, and the original row (its file and line) as JSON. Written by each raw load.",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    metadata=table_metadata(REJECTED_ROWS),
)

raw_assets = [raw_universe, raw_prices, raw_company_profiles, raw_financial_statements, rejected_rows]
