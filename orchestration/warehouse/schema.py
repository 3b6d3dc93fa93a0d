"""DDL of the raw layer (schema `raw`), the contract between the ingest assets and dbt.

Column lists here are the one definition of each raw table: the normalizers produce frames
with exactly these columns (less the `_source` / `_loaded_at` bookkeeping added on upsert).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # identity-hashed: tables key dicts
class RawTable:
    name: str
    columns: dict[str, str]  # column -> DuckDB type, in order
    key: tuple[str, ...]  # natural key of an upsert; empty for tables replaced whole
    # SQL over the stored row `t` and the incoming row `s`: a changed row is replaced only where true
    replace_only_if: str | None = None
    # columns that say where a row came from, not what it says: a row equal in everything else is unchanged
    provenance: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return f"raw.{self.name}"

    @property
    def data_columns(self) -> list[str]:
        return list(self.columns)


# The column that dates a table's rows, the first of these it has (what its date range is read from).
DATE_COLUMNS = ("date", "as_of_date", "fiscal_period_end", "period_end", "ex_date", "snapshot_date")


def dated_by(columns: list[str]) -> str | None:
    return next((column for column in DATE_COLUMNS if column in columns), None)


BOOKKEEPING_COLUMNS = {"_source": "varchar not null", "_loaded_at": "timestamp not null"}

PRICES = RawTable(
    name="prices",
    columns={
        "symbol": "varchar not null",
        "date": "date not null",  # exchange-local trading date
        "open": "double",
        "high": "double",
        "low": "double",
        "close": "double",  # as traded, on today's split basis; null where only an adjusted close is known
        "adj_close": "double",
        "volume": "double",
        "dividends": "double",
        "stock_splits": "double",
        "currency": "varchar not null",  # USD, HKD; index_points; HKD_per_USD for FX
        # how `close` was obtained: raw (a traded close) | from_dividends (recovered from an adjusted
        # download and its dividends) | from_overlap (from its ratio to traded downloads on both
        # sides) | adjusted (no traded close: close is null) | index | fx
        "price_basis": "varchar not null",
        "vintage_date": "date",  # the download the row was chosen from, dated by its last day
        # how `adj_close` was obtained: download (the download's own adjusted close) | chained (the
        # traded close's return chained from the last adjusted close) | unadjusted (index, FX) | null
        "adj_close_basis": "varchar",
    },
    key=("symbol", "date"),
    provenance=("vintage_date",),
    # A stored row is replaced only by one at least as good: a traded close is never replaced by a
    # recovered or missing one, nor by an older download (a file that could not be read leaves the
    # other downloads to fill its days: they must not overwrite what it gave).
    replace_only_if=(
        "(case s.price_basis when 'adjusted' then 1 when 'from_dividends' then 2 when 'from_overlap' then 2 else 3 end, "
        "coalesce(s.vintage_date, date '1900-01-01')) >= "
        "(case t.price_basis when 'adjusted' then 1 when 'from_dividends' then 2 when 'from_overlap' then 2 else 3 end, "
        "coalesce(t.vintage_date, date '1900-01-01'))"
    ),
)

STOCK_SPLITS = RawTable(
    name="stock_splits",
    columns={
        "symbol": "varchar not null",
        "ex_date": "date not null",  # first session on the split-adjusted basis, exchange-local
        "split_ratio": "double not null",  # new shares per old share of the listed instrument
    },
    key=("symbol", "ex_date"),
)

COMPANY_PROFILES = RawTable(
    name="company_profiles",
    columns={
        "symbol": "varchar not null",
        "snapshot_date": "date not null",
        "name": "varchar",
        "exchange": "varchar",
        "currency": "varchar",
        "financial_currency": "varchar",
        "sector": "varchar",
        "industry": "varchar",
        "country": "varchar",
        "shares_outstanding": "double",
        "market_cap": "double",
        "trailing_pe": "double",
        "forward_pe": "double",
        "enterprise_value": "double",
    },
    key=("symbol", "snapshot_date"),
)

FINANCIAL_STATEMENTS = RawTable(
    name="financial_statements",
    columns={
        "symbol": "varchar not null",
        "statement": "varchar not null",  # income | balance | cashflow
        "period_type": "varchar not null",  # quarterly | annual
        "fiscal_period": "varchar",
        "period_start": "date",
        "period_end": "date not null",
        "filed_date": "date",  # publication date where the source gives one
        "line_item": "varchar not null",  # the source's own name; mapped to metrics in dbt
        "value": "double not null",  # in base units: currency units, shares, or currency per share
        "currency": "varchar",  # null for share counts
        "unit": "varchar not null",  # amount | shares | per_share | per_ads
        # the filing that reported the figure, where the source names it (SEC EDGAR: accession
        # number and form, e.g. 0000950170-22-012936, 10-Q); null for Yahoo and the market sample
        "accn": "varchar",
        "form": "varchar",
    },
    # A restated figure arrives with a later filing date: both versions are kept.
    key=("symbol", "statement", "period_type", "period_end", "line_item", "filed_date"),
)

# Analysts' consensus as the source showed it on a snapshot date (Yahoo's earningsTrend), kept
# per snapshot: no free source keeps the history of estimates, so the warehouse builds it.
CONSENSUS_PERIODS = ("0q", "+1q", "0y", "+1y")  # this quarter, next quarter, this fiscal year, next
CONSENSUS_ESTIMATES = RawTable(
    name="consensus_estimates",
    columns={
        "symbol": "varchar not null",
        "snapshot_date": "date not null",  # UTC date of snapshot_at
        "snapshot_at": "timestamp not null",  # UTC: when the source was asked
        "period": "varchar not null",  # one of CONSENSUS_PERIODS
        "end_date": "date",  # the period's end
        "eps_avg": "double",
        "eps_low": "double",
        "eps_high": "double",
        "eps_year_ago": "double",
        "eps_analysts": "integer",
        "eps_currency": "varchar",  # the estimate's own currency (BABA: CNY per ADS, beside a USD price)
        "revenue_avg": "double",
        "revenue_low": "double",
        "revenue_high": "double",
        "revenue_analysts": "integer",
        "revenue_currency": "varchar",
        "eps_trend_current": "double",  # the average EPS estimate now, and as it stood before the snapshot
        "eps_trend_7d_ago": "double",
        "eps_trend_30d_ago": "double",
        "eps_trend_60d_ago": "double",
        "eps_trend_90d_ago": "double",
        "eps_trend_currency": "varchar",
    },
    key=("symbol", "snapshot_date", "period"),
    # two snapshots of one day: the later one stands; replaying an earlier one restates nothing
    replace_only_if="s.snapshot_at >= t.snapshot_at",
)

# What the source itself quotes on a snapshot date (Yahoo's quoteSummary modules), long: kept to be
# reconciled with our figures in dbt, never used in them.
VENDOR_MODULES = ("defaultKeyStatistics", "summaryDetail", "financialData", "price")
VENDOR_FIGURES = RawTable(
    name="vendor_figures",
    columns={
        "symbol": "varchar not null",
        "snapshot_date": "date not null",  # UTC date of snapshot_at
        "snapshot_at": "timestamp not null",  # UTC
        "module": "varchar not null",  # one of VENDOR_MODULES
        "field": "varchar not null",  # Yahoo's own field name: marketCap, forwardPE, ...
        "value": "double",
        # the currency the module states for itself (summaryDetail and price: currency, financialData:
        # financialCurrency; defaultKeyStatistics states none: null), on every row of the module
        "currency": "varchar",
    },
    key=("symbol", "snapshot_date", "module", "field"),
    replace_only_if="s.snapshot_at >= t.snapshot_at",
)

REJECTED_ROWS = RawTable(
    name="rejected_rows",
    columns={
        "dataset": "varchar not null",
        "symbol": "varchar",
        "reason": "varchar not null",
        "payload": "varchar not null",  # the original row as JSON
    },
    key=("dataset", "symbol", "reason", "payload"),
)

FETCH_LOG = RawTable(
    name="fetch_log",
    columns={
        "symbol": "varchar not null",
        "dataset": "varchar not null",  # prices | company_profiles | financial_statements | consensus_estimates
        "fetched_at": "timestamp not null",
        "source": "varchar not null",
        "status": "varchar not null",  # ok | failed
        "reason": "varchar",  # why a fetch failed
        "next_release": "date",  # statements: next scheduled earnings date known then
        "last_release": "date",  # statements: latest past earnings release known then
    },
    key=("symbol", "dataset", "fetched_at"),
)

# Landed batches (orchestration.landing) a load has upserted, recorded in the load's transaction:
# each batch is loaded exactly once, however often a load runs or crashes.
LANDED_BATCHES = RawTable(
    name="landed_batches",
    columns={
        "batch_id": "varchar not null",  # dataset/bucket/folder under the landing zone
        "dataset": "varchar not null",
        "landed_at": "timestamp not null",
        "rows_landed": "bigint not null",
    },
    key=("batch_id",),
)

# universe.yml, loaded whole on every run (configuration, not history).
UNIVERSE_COMPANIES = RawTable(
    name="universe_companies",
    columns={
        "company_id": "varchar not null",
        "company_name": "varchar not null",
        "country": "varchar not null",
        "sector": "varchar",
        "industry": "varchar",
        "reporting_currency": "varchar not null",
        "fiscal_year_end_month": "integer not null",
    },
    key=(),
)
UNIVERSE_LISTINGS = RawTable(
    name="universe_listings",
    columns={
        "symbol": "varchar not null",
        "company_id": "varchar not null",
        "exchange": "varchar not null",
        "exchange_calendar": "varchar not null",
        "exchange_timezone": "varchar not null",
        "session_open_local": "varchar not null",  # HH:MM, exchange-local: when a session opens
        "trading_currency": "varchar not null",
        "shares_per_listing_unit": "double not null",
        "is_primary": "boolean not null",
        "benchmark_symbol": "varchar",
    },
    key=(),
)
UNIVERSE_PEER_GROUPS = RawTable(
    name="universe_peer_groups",
    columns={"company_id": "varchar not null", "peer_group": "varchar not null", "description": "varchar"},
    key=(),
)
UNIVERSE_BENCHMARKS = RawTable(
    name="universe_benchmarks",
    columns={"symbol": "varchar not null", "benchmark_name": "varchar not null", "exchange": "varchar not null"},
    key=(),
)
UNIVERSE_FX_PAIRS = RawTable(
    name="universe_fx_pairs",
    columns={"symbol": "varchar not null", "base_currency": "varchar not null", "quote_currency": "varchar not null"},
    key=(),
)

UNIVERSE_TABLES = (UNIVERSE_COMPANIES, UNIVERSE_LISTINGS, UNIVERSE_PEER_GROUPS, UNIVERSE_BENCHMARKS, UNIVERSE_FX_PAIRS)
ALL_TABLES = (PRICES, STOCK_SPLITS, COMPANY_PROFILES, FINANCIAL_STATEMENTS, CONSENSUS_ESTIMATES, VENDOR_FIGURES, REJECTED_ROWS, FETCH_LOG, LANDED_BATCHES, *UNIVERSE_TABLES)


def create_table_sql(table: RawTable) -> str:
    columns = {**table.columns, **BOOKKEEPING_COLUMNS}
    body = ",\n  ".join(f"{name} {type_}" for name, type_ in columns.items())
    return f"create table if not exists {table.qualified} (\n  {body}\n)"
