"""Writes to the raw layer. Each call is one transaction: a crash leaves the old state whole."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd

from orchestration.failpoints import failpoint
from orchestration.warehouse.schema import ALL_TABLES, FINANCIAL_STATEMENTS, PRICES, RawTable, create_table_sql, dated_by


@dataclass(frozen=True)
class UpsertResult:
    inserted: int  # keys not seen before
    updated: int  # keys whose values changed
    unchanged: int  # keys already present with the same values
    held: int = 0  # keys whose stored row the table's replace_only_if rule kept


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All writes inside commit together or not at all."""
    conn.execute("begin transaction")
    try:
        yield
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def ensure_raw_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("create schema if not exists raw")
    for table in ALL_TABLES:
        _migrate(conn, table)
        conn.execute(create_table_sql(table))


def _migrate(conn: duckdb.DuckDBPyConnection, table: RawTable) -> None:
    """Bring a table an earlier version created to today's definition (idempotent)."""
    columns = dict(
        conn.execute(
            "select column_name, is_nullable from duckdb_columns() where schema_name = 'raw' and table_name = ?",
            [table.name],
        ).fetchall()
    )
    if not columns:
        return
    if not table.key and set(table.columns) - set(columns):
        conn.execute(f"drop table {table.qualified}")  # configuration, rewritten whole on every run
    if table is PRICES and not columns.get("close", True):
        conn.execute("alter table raw.prices alter column close drop not null")  # adjusted-only days
    if table is PRICES and "vintage_date" not in columns:
        conn.execute("alter table raw.prices add column vintage_date date")
    if table is PRICES and "adj_close_basis" not in columns:
        conn.execute("alter table raw.prices add column adj_close_basis varchar")
    if table is FINANCIAL_STATEMENTS:
        for column in ("accn", "form"):  # the filing of an EDGAR fact
            if column not in columns:
                conn.execute(f"alter table raw.financial_statements add column {column} varchar")


def _check_columns(table: RawTable, frame: pd.DataFrame) -> None:
    if list(frame.columns) != table.data_columns:
        raise ValueError(
            f"frame for {table.qualified} has columns {list(frame.columns)}, expected {table.data_columns}"
        )


def _stage(conn: duckdb.DuckDBPyConnection, table: RawTable, frame: pd.DataFrame) -> None:
    """Cast `frame` into a temp table `incoming` with the table's own types, so comparisons are type-exact."""
    _check_columns(table, frame)
    columns = ", ".join(table.data_columns)
    conn.register("incoming_frame", frame)
    # Declared from the schema, not `create ... as select ... limit 0`: with DuckDB 2.0, a table
    # created that way and then filled with more than a row group inside one transaction was
    # seen as empty by the anti-join below, and an upsert of 300,000 rows wrote none.
    body = ", ".join(f"{name} {type_}" for name, type_ in table.columns.items())
    conn.execute(f"create or replace temp table incoming ({body})")
    conn.execute(f"insert into incoming ({columns}) select {columns} from incoming_frame")
    conn.unregister("incoming_frame")


def upsert(
    conn: duckdb.DuckDBPyConnection, table: RawTable, frame: pd.DataFrame, source: str, update_existing: bool = True
) -> UpsertResult:
    """Insert new keys, replace keys whose values changed, leave identical rows untouched.

    Call it inside `transaction(conn)`, together with whatever must commit with it.
    Leaving identical rows alone keeps `_loaded_at` meaningful and makes a re-run a no-op.
    `update_existing=False` inserts new keys only and keeps every stored row (counted as held):
    for a load whose input is known to be incomplete.
    A nullable key column compares with `is not distinct from`, so a null key part (an unknown
    filing date) still identifies its row.
    """
    if not table.key:
        raise ValueError(f"{table.qualified} has no key; use replace_table")
    if frame.duplicated(subset=list(table.key)).any():
        raise ValueError(f"frame for {table.qualified} repeats keys; validate before upserting")
    # `=` where a key column cannot be null: DuckDB joins on it far faster than on `is not distinct
    # from` (a day's price batch against 6.3 M stored rows: 1 ms against 22 ms)
    same_key = " and ".join(
        f"t.{c} = s.{c}" if "not null" in table.columns[c] else f"t.{c} is not distinct from s.{c}" for c in table.key
    )
    value_columns = [c for c in table.data_columns if c not in table.key and c not in table.provenance]
    values_differ = " or ".join(f"t.{c} is distinct from s.{c}" for c in value_columns) or "false"
    columns = ", ".join(table.data_columns)
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)

    _stage(conn, table, frame)
    held = 0
    keep_stored = "true" if not update_existing else (f"not ({table.replace_only_if})" if table.replace_only_if else None)
    if keep_stored:
        held = conn.execute(
            f"delete from incoming as s using {table.qualified} as t "
            f"where {same_key} and ({values_differ}) and {keep_stored}"
        ).fetchone()[0]
    updated = conn.execute(
        f"delete from {table.qualified} as t using incoming as s where {same_key} and ({values_differ})"
    ).fetchone()[0]
    failpoint(f"upsert.{table.name}.after_delete")
    # Written in date order (a landed batch comes symbol by symbol): a table's row groups then each
    # hold a span of dates, and the key joins above skip every row group outside the batch's dates
    # (DuckDB narrows the scan to the join keys' range). A daily load's upserts at 5,000 listings
    # x 20 years: 9.7 -> 1.2 s.
    dated = dated_by(table.data_columns)
    written = conn.execute(
        f"insert into {table.qualified} ({columns}, _source, _loaded_at) "
        f"select {', '.join('s.' + c for c in table.data_columns)}, ?, ? from incoming as s "
        f"where not exists (select 1 from {table.qualified} as t where {same_key})"
        + (f" order by s.{dated}" if dated else ""),
        [source, loaded_at],
    ).fetchone()[0]
    conn.execute("drop table incoming")
    failpoint(f"upsert.{table.name}.before_commit")
    return UpsertResult(inserted=written - updated, updated=updated, unchanged=len(frame) - written - held, held=held)


def replace_table(conn: duckdb.DuckDBPyConnection, tables: dict[RawTable, pd.DataFrame], source: str) -> list[RawTable]:
    """Replace whole tables (configuration snapshots) in one transaction; return those that changed.

    A table whose content is already identical is left alone, so its `_loaded_at` says when the
    configuration last changed and downstream incremental models rebuild only then.
    """
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    changed = []
    with transaction(conn):
        for table, frame in tables.items():
            _stage(conn, table, frame)
            columns = ", ".join(table.data_columns)
            differences = conn.execute(
                f"select count(*) from ((select {columns} from {table.qualified} except all select * from incoming) "
                f"union all (select * from incoming except all select {columns} from {table.qualified}))"
            ).fetchone()[0]
            if differences:
                conn.execute(f"delete from {table.qualified}")
                conn.execute(
                    f"insert into {table.qualified} ({columns}, _source, _loaded_at) "
                    f"select {columns}, ?, ? from incoming",
                    [source, loaded_at],
                )
                changed.append(table)
            conn.execute("drop table incoming")
    return changed
