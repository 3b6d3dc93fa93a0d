"""Thin ingest assets: decide what to fetch, fetch, validate, upsert, report."""


import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone

import dagster as dg
import duckdb
import pandas as pd
from pydantic import Field

from orchestration.defs.catalog import OWNERS, PYTHON_DUCKDB, table_metadata
from orchestration.defs.landing import LANDING_ESTIMATES_KEY, LANDING_PRICES_KEY, LANDING_PROFILES_KEY, LANDING_STATEMENTS_KEY
from orchestration.defs.resources import WAREHOUSE_WRITER, MarketDataResource, RunSettings, WarehouseResource
from orchestration.failpoints import failpoint
from orchestration.freshness import session_open_local
from orchestration.ingest_policy import StatementsFetch, select_symbols
from orchestration.landing import DATASETS, LandedBatch, LandingState, landed_fetch, merge_fetched, statement_fetch_fields
from orchestration.normalize import Validated, validate_prices, validate_profiles, validate_statements
from orchestration.normalize.estimates import empty_vendor_figures, validate_estimates, validate_vendor_figures
from orchestration.normalize.prices import choose_prices
from orchestration.normalize.splits import empty_splits, splits_from_prices, validate_splits
from orchestration.sources import Fetched, MarketDataSource, SampleSource, StatementPlan
from orchestration.warehouse import ensure_raw_schema, replace_table, transaction, upsert
from orchestration.warehouse.schema import (
    COMPANY_PROFILES,
    CONSENSUS_ESTIMATES,
    FETCH_LOG,
    FINANCIAL_STATEMENTS,
    LANDED_BATCHES,
    PRICES,
    REJECTED_ROWS,
    STOCK_SPLITS,
    UNIVERSE_BENCHMARKS,
    UNIVERSE_COMPANIES,
    UNIVERSE_FX_PAIRS,
    UNIVERSE_LISTINGS,
    UNIVERSE_PEER_GROUPS,
    UNIVERSE_TABLES,
    VENDOR_FIGURES,
    RawTable,
)

RAW = "raw"
FETCH_COMPLETE = "fetch_complete"
INPUT_ACCEPTED = "input_accepted"
# Rejections that hold back input which may be right (the stored value stays): someone must look.
HELD_BACK_REASONS = ("unreadable_file", "conflicting_duplicate", "implausible_move", "implausible_value")
UNIVERSE_KEYS = {table: dg.AssetKey([RAW, table.name]) for table in UNIVERSE_TABLES}
# universe.yml is read again every morning before the first market's fetch (and by every full run).
UNIVERSE_DAILY = dg.AutomationCondition.on_cron("0 6 * * *", "UTC")


def _status(symbol: str, fetched: Fetched) -> tuple[str, str | None]:
    if symbol in fetched.deferred:
        return "deferred", fetched.deferred[symbol]
    if symbol in fetched.failures:
        return "failed", fetched.failures[symbol]
    return "ok", None


def _fetch_log(dataset: str, symbols: list[str], fetched: Fetched, source: str, fetched_at: datetime) -> pd.DataFrame:
    """One row per symbol asked for: ok, failed with the source's reason, or deferred (the run
    stopped asking before it; the next run starts with it)."""
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


class _AlreadyLoaded(Exception):
    """Internal: a concurrent load upserted this batch first (nothing was written here)."""


def _load(
    conn: duckdb.DuckDBPyConnection,
    table: RawTable,
    validated: Validated,
    fetch_log: pd.DataFrame,
    fetched: Fetched,
    source: str,
    date_column: str,
    also: tuple[tuple[RawTable, Validated], ...] = (),
    batch: LandedBatch | None = None,
) -> tuple[dict, pd.DataFrame]:
    """Upsert good rows, rejects, the fetch log and the landed batch's record in one transaction;
    return the metadata and what this load rejected (its rows, those of `also`, its unreadable files)."""
    rejected = pd.concat(
        [validated.rejected, *(v.rejected for _, v in also), _quarantined_files(table.name, fetched)],
        ignore_index=True,
    ).drop_duplicates(ignore_index=True)
    with transaction(conn):
        if batch is not None and conn.execute(
            "select count(*) from raw.landed_batches where batch_id = ?", [batch.batch_id]
        ).fetchall()[0][0]:
            raise _AlreadyLoaded(batch.batch_id)  # another load took it since this one listed it
        for other, other_rows in also:
            upsert(conn, other, other_rows.rows, source, update_existing=not fetched.quarantined)
        # An unreadable file may have held the best version of any stored row: a load missing one
        # adds new days but restates nothing (`rows_held_stored`), until the file is readable again.
        result = upsert(conn, table, validated.rows, source, update_existing=not fetched.quarantined)
        failpoint(f"load.{table.name}.between_rows_and_rejects")
        upsert(conn, REJECTED_ROWS, rejected, source)
        upsert(conn, FETCH_LOG, fetch_log, source)
        if batch is not None:
            record = [(batch.batch_id, table.name, batch.landed_at, batch.manifest["rows"])]
            upsert(conn, LANDED_BATCHES, pd.DataFrame(record, columns=LANDED_BATCHES.data_columns), source)
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
                     owners=OWNERS, kinds=PYTHON_DUCKDB, metadata=table_metadata(table),
                     automation_condition=UNIVERSE_DAILY)  # fmt: skip
        for table, key in UNIVERSE_KEYS.items()
    ],
    name="raw_universe",
    pool=WAREHOUSE_WRITER,
)
def raw_universe(duckdb: WarehouseResource, run_settings: RunSettings) -> Iterator[dg.MaterializeResult]:
    universe = run_settings.universe()
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


class LoadConfig(dg.Config):
    """Which symbols a load covers: all of them by default. A large snapshot can be replayed in
    parts (the benchmark does); landed batches are always loaded whole."""

    symbols: list[str] | None = Field(default=None, description="only these symbols (must be in universe.yml)")

    def select(self, symbols: list[str]) -> list[str]:
        try:
            return select_symbols(symbols, self.symbols)
        except ValueError as error:
            raise dg.Failure(str(error)) from None


PRICES_KEY = dg.AssetKey([RAW, "prices"])
SPLITS_KEY = dg.AssetKey([RAW, "stock_splits"])
PROFILES_KEY = dg.AssetKey([RAW, "company_profiles"])
ESTIMATES_KEY = dg.AssetKey([RAW, CONSENSUS_ESTIMATES.name])
VENDOR_FIGURES_KEY = dg.AssetKey([RAW, VENDOR_FIGURES.name])
STATEMENTS_KEY = dg.AssetKey([RAW, "financial_statements"])
# A raw table loads when a batch of its dataset lands (the universe changing alone is not a reason).
LOAD_WHEN_LANDED = dg.AutomationCondition.eager().ignore(dg.AssetSelection.assets(*UNIVERSE_KEYS.values()))


@dataclasses.dataclass
class _Input:
    """One unit a load upserts in one transaction: the snapshot (sample source), or one landed batch."""

    fetched: Fetched
    asked: list[str]
    fetched_at: datetime
    batch: LandedBatch | None = None


def _inputs(
    dataset: str,
    duckdb: WarehouseResource,
    market_data: MarketDataResource,
    symbols: list[str],
    read: Callable[[MarketDataSource, list[str]], Fetched],
    only: list[str] | None = None,
    source: MarketDataSource | None = None,
) -> Iterator[_Input]:
    """What a load upserts: the sample snapshot, replayed whole every time; or, from a live source,
    the landed batches not loaded yet, oldest first, each read back by the same reader as the sample.
    One at a time: a batch is read when the load reaches it (a first load lands the whole history,
    which as text cells takes several times its size on disk in memory)."""
    source = source or market_data.get_source()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if source.fetches_are_free:
        yield _Input(read(source, symbols), symbols, now)
        return
    if only is not None:
        raise dg.Failure("`symbols` selects within a replayed snapshot: landed batches are loaded whole")
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        loaded = {b for (b,) in conn.execute("select batch_id from raw.landed_batches where dataset = ?", [dataset]).fetchall()}
    wanted = set(symbols)
    for batch in market_data.landing_zone().batches(dataset, loaded):
        asked = [s for s in batch.manifest["asked"] if s in wanted]  # a listing since removed is not loaded
        yield _Input(landed_fetch(batch, read(SampleSource(batch.path), asked), asked), asked, batch.landed_at, batch)


def _write_landing_state(conn: duckdb.DuckDBPyConnection, market_data: MarketDataResource) -> None:
    """What the next fetches need to know, read off the warehouse just loaded (orchestration.landing)."""
    overlap = market_data.price_overlap_days
    last_dates = conn.execute("select symbol, max(date) from raw.prices group by symbol").fetchall()
    # Every symbol's overlap starts on or after `since`: a constant bound, so the scan reads the
    # row groups of those dates only (the loads write in date order).
    since = min((d for _, d in last_dates), default=date.max) - timedelta(days=int(overlap))
    recent = conn.execute(
        "with w as (select symbol, max(date) as last from raw.prices where date >= ? group by symbol) "
        "select p.symbol, p.date, p.close, p.adj_close from raw.prices p join w using (symbol) "
        f"where p.date >= ? and p.date >= w.last - interval {int(overlap)} day order by 1, 2",
        [since, since],
    ).fetchall()
    edgar_filings = conn.execute(
        "select symbol, max(filed_date), arg_max(accn, filed_date) from raw.financial_statements "
        "where _source = 'edgar' and filed_date is not null group by symbol"
    ).fetchall()
    profiles, estimates = (conn.execute(
        "select symbol, max(fetched_at)::date from raw.fetch_log "
        "where dataset = ? and status = 'ok' group by symbol", [dataset]
    ).fetchall() for dataset in ("company_profiles", "consensus_estimates"))  # fmt: skip
    market_data.landing_zone().write_state(
        LandingState(
            loaded_at=datetime.now(timezone.utc).isoformat(),
            price_last_dates={s: d.isoformat() for s, d in last_dates},
            recent_closes=[[s, d.isoformat(), c, a] for s, d, c, a in recent],
            deferred={dataset: _deferred_symbols(conn, dataset) for dataset in DATASETS},
            profiles_fetched={s: d.isoformat() for s, d in profiles},
            estimates_fetched={s: d.isoformat() for s, d in estimates},
            statement_fetches={s: statement_fetch_fields(f) for s, f in _last_statement_fetches(conn).items()},
            releases={s: [d.isoformat() for d in days] for s, days in _known_releases(conn).items()},
            edgar_last_filings={s: [d.isoformat(), a] for s, d, a in edgar_filings},
        )
    )


def _load_each(
    dataset: str,
    table: RawTable,
    duckdb: WarehouseResource,
    market_data: MarketDataResource,
    inputs: Iterator[_Input],
    validate: Callable[[Fetched], tuple[Validated, tuple]],
    date_column: str,
    every_symbol_has_rows: bool = False,
    source: MarketDataSource | None = None,
) -> tuple[dict, Fetched, pd.DataFrame, int]:
    """Each input validated and upserted in its own transaction, in order (a later fetch restates an
    earlier one); then the landing state. Returns the summed metadata, all inputs as one fetch
    without their rows (for the checks), what was rejected, and how many symbols were asked."""
    source = source or market_data.get_source()
    totals: dict = {}
    rejected_all = []
    loaded: list[tuple[list[str], Fetched]] = []  # what was asked and how it went; the rows are in the warehouse
    loaded_symbols: set[str] = set()
    for item in inputs:
        validated, also = validate(item.fetched)
        if every_symbol_has_rows:
            item.fetched = _empty_as_failures(item, validated)
        fetch_log = _fetch_log(dataset, item.asked, item.fetched, source.name, item.fetched_at)
        try:
            with duckdb.get_connection() as conn:
                ensure_raw_schema(conn)
                metadata, rejected = _load(conn, table, validated, fetch_log, item.fetched, source.name, date_column, also, item.batch)
        except _AlreadyLoaded:
            del item, validated, also  # before the next batch is read
            continue
        loaded.append((item.asked, dataclasses.replace(item.fetched, frame=pd.DataFrame(), splits=None, vendor_figures=None)))
        loaded_symbols |= set(validated.rows["symbol"]) if len(validated.rows) else set()
        totals = _add_metadata(totals, metadata)
        rejected_all.append(rejected)
        del item, validated, also  # before the next batch is read
    if not source.fetches_are_free:
        with duckdb.get_connection() as conn:
            ensure_raw_schema(conn)
            _write_landing_state(conn, market_data)
        totals["batches_loaded"] = len(loaded)
    if not loaded:
        totals = {"source": source.name, "batches_loaded": 0, "rows_received": 0}
    # statuses over all batches, the last fetch that asked for a symbol deciding (not summed per batch)
    merged = merge_fetched(loaded)
    totals.update(symbols_loaded=len(loaded_symbols), symbols_failed=len(merged.failures), symbols_deferred=len(merged.deferred))
    for name, statuses in (("failures", merged.failures), ("deferred", merged.deferred)):
        totals.pop(name, None)
        if statuses:
            totals[name] = dict(sorted(statuses.items()))
    rejected = pd.concat(rejected_all, ignore_index=True) if rejected_all else _quarantined_files(dataset, Fetched(pd.DataFrame()))
    return totals, merged, rejected, len({s for asked, _ in loaded for s in asked})


def _empty_as_failures(item: _Input, validated: Validated) -> Fetched:
    """A symbol fetched whose every row was rejected loaded nothing: a failure, named, not a pass.
    (Not for prices: an incremental fetch may rightly bring nothing new.)"""
    fetched = item.fetched
    loaded = set(validated.rows["symbol"]) if len(validated.rows) else set()
    empty = {
        symbol: "fetched, but every row was rejected (see raw.rejected_rows)"
        for symbol in item.asked
        if symbol not in fetched.failures and symbol not in fetched.deferred and symbol not in loaded
        and symbol not in fetched.unchanged  # asked, and rightly nothing to fetch (EDGAR: no new filing)
    }
    return dataclasses.replace(fetched, failures={**fetched.failures, **empty}) if empty else fetched


def _add_metadata(total: dict, more: dict) -> dict:
    """Metadata of several loads as one: counts summed, lists and maps joined, the date range widened."""
    out = dict(total)
    for key, value in more.items():
        if key not in out or key == "dagster/row_count":
            out[key] = value
        elif key == "first_date":
            out[key] = min(out[key], value)
        elif key == "last_date":
            out[key] = max(out[key], value)
        elif isinstance(value, bool) or isinstance(value, str):
            out[key] = value
        elif isinstance(value, (int, float)):
            out[key] = out[key] + value
        elif isinstance(value, dict):
            joined = dict(out[key])
            for k, v in value.items():
                joined[k] = joined.get(k, 0) + v if isinstance(v, int) and isinstance(joined.get(k), int) else v
            out[key] = joined
        elif isinstance(value, list):
            out[key] = out[key] + value
    return out


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            PRICES_KEY,
            group_name="raw",
            deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS], LANDING_PRICES_KEY],
            description="Daily bars of listings, benchmarks and FX pairs: traded close (on today's split basis) "
            "and adjusted close. Every row is validated before the choice among downloads. Loaded from the "
            "landed batches not loaded yet (a live source) or the whole snapshot (the sample).",
            owners=OWNERS,
            kinds=PYTHON_DUCKDB,
            metadata=table_metadata(PRICES),
            automation_condition=LOAD_WHEN_LANDED,
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
    pool=WAREHOUSE_WRITER,
)
def raw_prices(
    config: LoadConfig, duckdb: WarehouseResource, market_data: MarketDataResource, run_settings: RunSettings
) -> Iterator:
    universe = run_settings.universe()
    instruments = {i.symbol: i for i in universe.instruments(None, True)}
    symbols = config.select(list(instruments))
    currencies = {listing.symbol: listing.currency for _, listing in universe.listings}
    as_of = run_settings.as_of_date()
    inputs = _inputs("prices", duckdb, market_data, symbols,
                     lambda source, asked: source.fetch_prices([instruments[s] for s in asked], {}), config.symbols)  # fmt: skip
    split_events = 0

    def validate(fetched: Fetched) -> tuple[Validated, tuple]:
        nonlocal split_events
        events = [f for f in (fetched.splits, splits_from_prices(fetched.frame)) if f is not None and len(f)]
        splits = validate_splits(pd.concat(events, ignore_index=True) if events else empty_splits())
        split_events += len(splits.rows)
        # Every row is validated before any choice among downloads is made.
        validated = validate_prices(fetched.frame, as_of, currencies, set(zip(splits.rows["symbol"], splits.rows["ex_date"])))
        choice = choose_prices(validated.rows, splits.rows)
        rejected = pd.concat([validated.rejected, choice.rejected], ignore_index=True)
        return Validated(rows=choice.rows, rejected=rejected), ((STOCK_SPLITS, splits),)

    metadata, fetched, rejected, asked = _load_each("prices", PRICES, duckdb, market_data, inputs, validate, "date")
    yield dg.MaterializeResult(asset_key=SPLITS_KEY, metadata={"split_events": split_events})
    yield dg.MaterializeResult(
        asset_key=PRICES_KEY,
        metadata=metadata,
        check_results=[_fetch_check(PRICES_KEY, fetched, asked), _input_check(PRICES_KEY, rejected)],
    )


@dg.asset(
    key=PROFILES_KEY,
    group_name="raw",
    deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS], LANDING_PROFILES_KEY],
    check_specs=_fetch_check_spec(PROFILES_KEY),
    description="Snapshots of each listing's profile (a subset of Yahoo's Ticker.info); history accumulates.",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    metadata=table_metadata(COMPANY_PROFILES),
    automation_condition=LOAD_WHEN_LANDED,
    pool=WAREHOUSE_WRITER,
)
def raw_company_profiles(
    config: LoadConfig, duckdb: WarehouseResource, market_data: MarketDataResource, run_settings: RunSettings
) -> dg.MaterializeResult:
    universe = run_settings.universe()
    as_of = run_settings.as_of_date()
    symbols = config.select([listing.symbol for _, listing in universe.listings])
    expected = {listing.symbol: (listing.currency, company.reporting_currency) for company, listing in universe.listings}
    inputs = _inputs("company_profiles", duckdb, market_data, symbols,
                     lambda source, asked: source.fetch_profiles(asked, as_of), config.symbols)  # fmt: skip
    metadata, fetched, rejected, asked = _load_each(
        "company_profiles", COMPANY_PROFILES, duckdb, market_data, inputs,
        lambda fetched: (validate_profiles(fetched.frame, as_of, expected), ()), "snapshot_date", every_symbol_has_rows=True,
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[_fetch_check(PROFILES_KEY, fetched, asked), _input_check(PROFILES_KEY, rejected)],
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ESTIMATES_KEY,
            group_name="raw",
            deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS], LANDING_ESTIMATES_KEY],
            description="Analysts' consensus per listing and period (0q, +1q, 0y, +1y) as the source showed it "
            "on each snapshot date (Yahoo's earningsTrend): EPS and revenue estimates, analysts, currency, and "
            "the EPS estimate 7/30/60/90 days before. Append-only per snapshot date: the history of estimates "
            "accumulates. Read only through dbt.",
            owners=OWNERS,
            kinds=PYTHON_DUCKDB,
            metadata=table_metadata(CONSENSUS_ESTIMATES),
            automation_condition=LOAD_WHEN_LANDED,
        ),
        dg.AssetSpec(
            VENDOR_FIGURES_KEY,
            group_name="raw",
            deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS]],
            description="The figures the source itself quotes on each snapshot date (Yahoo's marketCap, "
            "trailingPE, forwardPE, ...), long, by quoteSummary module with the currency the module states. "
            "Loaded with the consensus they came with; kept to be reconciled with ours, never used in them.",
            owners=OWNERS,
            kinds=PYTHON_DUCKDB,
            metadata=table_metadata(VENDOR_FIGURES),
        ),
    ],
    check_specs=_fetch_check_spec(ESTIMATES_KEY),
    name="raw__consensus_estimates",
    pool=WAREHOUSE_WRITER,
)
def raw_consensus_estimates(
    config: LoadConfig, duckdb: WarehouseResource, market_data: MarketDataResource, run_settings: RunSettings
) -> Iterator:
    universe = run_settings.universe()
    as_of = run_settings.as_of_date()
    # every listing of the universe's companies (not FX pairs, not benchmarks)
    symbols = config.select([listing.symbol for _, listing in universe.listings])
    inputs = _inputs("consensus_estimates", duckdb, market_data, symbols,
                     lambda source, asked: source.fetch_estimates(asked), config.symbols)  # fmt: skip
    figures = {"rows_received": 0, "rows_rejected": 0}

    def validate(fetched: Fetched) -> tuple[Validated, tuple]:
        vendor = validate_vendor_figures(fetched.vendor_figures if fetched.vendor_figures is not None else empty_vendor_figures(), as_of)
        figures["rows_received"] += len(vendor.rows) + len(vendor.rejected)
        figures["rows_rejected"] += len(vendor.rejected)
        return validate_estimates(fetched.frame, as_of), ((VENDOR_FIGURES, vendor),)

    metadata, fetched, rejected, asked = _load_each(
        "consensus_estimates", CONSENSUS_ESTIMATES, duckdb, market_data, inputs, validate, "snapshot_date",
        every_symbol_has_rows=True,
    )  # fmt: skip
    with duckdb.get_connection() as conn:
        ensure_raw_schema(conn)
        figures["dagster/row_count"] = conn.execute(f"select count(*) from {VENDOR_FIGURES.qualified}").fetchone()[0]
    yield dg.MaterializeResult(asset_key=VENDOR_FIGURES_KEY, metadata=figures)
    yield dg.MaterializeResult(
        asset_key=ESTIMATES_KEY,
        metadata=metadata,
        check_results=[_fetch_check(ESTIMATES_KEY, fetched, asked), _input_check(ESTIMATES_KEY, rejected)],
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


def _known_releases(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """Earnings dates earlier fetches knew (the fetches keep those that have passed)."""
    rows = conn.execute(
        "select symbol, list(distinct day order by day) from ("
        "  select symbol, next_release as day from raw.fetch_log where dataset = 'financial_statements'"
        "  union all select symbol, last_release from raw.fetch_log where dataset = 'financial_statements'"
        ") where day is not null group by symbol"
    ).fetchall()
    return {symbol: tuple(days) for symbol, days in rows}


@dg.asset(
    key=STATEMENTS_KEY,
    group_name="raw",
    deps=[UNIVERSE_KEYS[UNIVERSE_LISTINGS], LANDING_STATEMENTS_KEY],
    check_specs=_fetch_check_spec(STATEMENTS_KEY),
    description="Income, balance and cash-flow statements, long; every filing's version is kept. "
    "Loaded from the landed batches not loaded yet (a live source) or the whole snapshot (the sample).",
    owners=OWNERS,
    kinds=PYTHON_DUCKDB,
    metadata=table_metadata(FINANCIAL_STATEMENTS),
    automation_condition=LOAD_WHEN_LANDED,
    pool=WAREHOUSE_WRITER,
)
def raw_financial_statements(
    config: LoadConfig, duckdb: WarehouseResource, market_data: MarketDataResource, run_settings: RunSettings
) -> dg.MaterializeResult:
    universe = run_settings.universe()
    as_of = run_settings.as_of_date()
    symbols = config.select(universe.fundamentals_symbols)
    currencies = {company.primary_listing.symbol: company.reporting_currency for company in universe.companies}
    # the statements' own source (VALUATION_FUNDAMENTALS_SOURCE; unset: the market data source)
    source = market_data.get_fundamentals_source()
    inputs = _inputs("financial_statements", duckdb, market_data, symbols,
                     lambda source, asked: source.fetch_statements([StatementPlan(s, currencies[s]) for s in asked]),
                     config.symbols, source)  # fmt: skip
    metadata, fetched, rejected, asked = _load_each(
        "financial_statements", FINANCIAL_STATEMENTS, duckdb, market_data, inputs,
        lambda fetched: (validate_statements(fetched.frame, as_of, universe.currencies), ()), "period_end",
        every_symbol_has_rows=True, source=source,
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[_fetch_check(STATEMENTS_KEY, fetched, asked), _input_check(STATEMENTS_KEY, rejected)],
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

raw_assets = [raw_universe, raw_prices, raw_company_profiles, raw_financial_statements, raw_consensus_estimates, rejected_rows]
