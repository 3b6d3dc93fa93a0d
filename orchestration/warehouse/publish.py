"""The serving copy: the marts in a file of their own that BI tools and SQL users open read-only.

DuckDB allows one writer per file, and a reader holding the working file would block the
pipeline. So the pipeline never serves its working file: it writes the marts into a new file
beside the serving copy and renames it over the old one. The rename is atomic: a reader already
connected keeps reading the old file to the end of its session, a new connection sees the new
file whole, and the pipeline never waits on either.

A daily build changes a few days of history. So when the publisher is told each incremental mart's
unique key, it does not write every table again: it copies the current serving file (a plain file
copy, sequential and far cheaper than DuckDB writing the tables) and patches the copy with the rows
built since that file was published, then swaps it in the same way. Whatever cannot be patched
(a table rebuilt whole, one whose columns changed, rows that left a mart without a rebuild) is
written whole in the copy. Every row written in a copy leaves the space of the row it replaced
behind (a copy never shrinks), so once the rows written in copies since the last full publish
pass half of all rows, the publish writes a new file instead. That is decided before copying
when the published file already tells it (after a full refresh, a copy patched with every table
rewritten was twice the size of a fresh file, and every later copy paid for it).

A copy still costs a read and a write of the whole file (10-14 s for 5.5 GiB). So the swap keeps
the file it replaces as `.serving.duckdb.spare`, a name no reader opens, and the next publish
patches that file in place of a copy, by the rows of the builds since it was published (two
publications' worth), unless a reader connected before the swap may still read it: any process
of this machine with a descriptor of it open (/proc; a process whose descriptors cannot be read
is checked by DuckDB's lock instead, which a reader holds while connected unless its process
opened and closed the file again, as POSIX locks go), or a second name for it. Then the copy.
Readers on other machines (a network share) cannot be seen: there, VALUATION_SERVING_SPARE=off
(settings.serving_keeps_spare) keeps no spare and every incremental publish copies.

The new file is `.serving.duckdb.<pid>.tmp` (and DuckDB's `.wal` beside it while it is written):
the pid keeps concurrent publishers apart, and a claimed spare is renamed to that name first. A
publish that fails removes its own; one killed outright leaves them behind, and the next publish
removes every one whose process has ended.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import duckdb


PUBLICATION = "publication"  # main.publication of the serving file: one row, about the publish
# More than this share of a table's rows rebuilt (a full refresh): the table is written whole.
MAX_PATCHED_SHARE = 0.25
# Once the rows written in copies since the last full publish would pass this share of all rows,
# the publish is a full one: a patched file keeps the space of the rows it replaced.
MAX_PATCHED_SINCE_FULL = 0.5


def _process_is_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def remove_stale_temporaries(serving_path: Path) -> list[Path]:
    """Remove the temporary files (and their WALs) of publishers whose process has ended, or of
    this process: a publish of our own is never running while we start another. Returns them."""
    pattern = re.compile(rf"\.{re.escape(serving_path.name)}\.(\d+)\.tmp(\.wal)?")
    removed = []
    for path in serving_path.parent.glob(f".{serving_path.name}.*.tmp*"):
        match = pattern.fullmatch(path.name)
        if not match:
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or not _process_is_alive(pid):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _unlink_with_wal(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def publish_serving_copy(
    conn: duckdb.DuckDBPyConnection,
    serving_path: Path,
    schema: str = "marts",
    incremental_keys: Mapping[str, Sequence[str]] | None = None,
    keep_spare: bool = True,
) -> dict:
    """Publish every table of `schema` from the pipeline's connection to `serving_path`, atomically.

    `incremental_keys` maps each table dbt builds incrementally (delete+insert by its unique key,
    every row stamped with its build's `built_at`) to that key. With it, and a serving copy to
    start from, the publish patches the spare or a copy of that file (_patch_table). Returns when it
    was published, how ("full" or "patched"), from what ("spare", "copy", or None when full), each
    table's rows and the rows written.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(serving_path)
    temporary = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    try:
        published = None
        if incremental_keys and serving_path.exists():
            published = _publish_patched(conn, temporary, schema, incremental_keys, serving_path)
        if published is None:
            _unlink_with_wal(temporary)
            published = _publish_full(conn, temporary, schema)
        _swap_in(temporary, serving_path, keep_spare)
        return published
    except BaseException:
        _unlink_with_wal(temporary)  # a failed publish leaves nothing; a killed one, the next removes
        raise


def _tables(conn: duckdb.DuckDBPyConnection, database: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Each table of `database`.`schema` with its columns (name, type) in order."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in conn.execute(
        "select table_name, column_name, data_type from duckdb_columns() "
        "semi join duckdb_tables() using (database_name, schema_name, table_name) "
        "where database_name = ? and schema_name = ? order by table_name, column_index",
        [database, schema],
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _current_database(conn: duckdb.DuckDBPyConnection) -> str:
    return conn.execute("select current_database()").fetchone()[0]


def _write_whole(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    """Table `table` of the serving copy replaced by the pipeline's (names come from the catalog)."""
    conn.execute(f'drop table if exists serving_copy.{schema}."{table}"')
    conn.execute(f'create table serving_copy.{schema}."{table}" as select * from {schema}."{table}"')
    return conn.execute(f'select count(*) from serving_copy.{schema}."{table}"').fetchone()[0]


def _write_publication(conn: duckdb.DuckDBPyConnection, mode: str, tables: int, patched_since_full: int) -> datetime:
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    conn.execute(f"drop table if exists serving_copy.main.{PUBLICATION}")
    conn.execute(
        f"create table serving_copy.main.{PUBLICATION} as select ? as published_at, ? as tables_published, "
        "? as publish_mode, cast(? as bigint) as rows_patched_since_full",
        [published_at, tables, mode, patched_since_full],
    )
    return published_at


def _publish_full(conn: duckdb.DuckDBPyConnection, temporary: Path, schema: str) -> dict:
    tables = sorted(_tables(conn, _current_database(conn), schema))
    conn.execute("attach ? as serving_copy", [str(temporary)])
    try:
        conn.execute(f"create schema serving_copy.{schema}")
        rows = {table: _write_whole(conn, schema, table) for table in tables}
        published_at = _write_publication(conn, "full", len(tables), 0)
    finally:
        conn.execute("detach serving_copy")
    return {"published_at": published_at, "mode": "full", "patched_from": None, "rows": rows,
            "rows_written": sum(rows.values())}


def _builds_since(conn: duckdb.DuckDBPyConnection, schema: str, table: str, published: str) -> list[datetime]:
    """The builds of the pipeline's `table` since the file attached as `published` was published:
    dbt's delete+insert stamps every row it writes with its build's `built_at`, and that file
    holds the builds published so far, so the rows of any other `built_at` are new or rebuilt."""
    return [
        built_at
        for (built_at,) in conn.execute(
            f'select distinct built_at from {schema}."{table}" '
            f'except select distinct built_at from {published}.{schema}."{table}"'
        ).fetchall()
    ]


def _rows_of(schema: str, table: str, builds: list[datetime]) -> tuple[str, list]:
    """The pipeline's rows of `table` written by `builds`, as a FROM clause and its parameters. As
    constants, the filter reaches the scan, which skips the row groups of other builds (against a
    subquery, every column of every row was read before filtering: 1.5 and 4.7 s for the two big
    marts at 5,000 x 20, against 0.04 and 0.07 s)."""
    if not builds:
        return f'from {schema}."{table}" where false', []
    return f'from {schema}."{table}" where built_at in ({", ".join("?" for _ in builds)})', builds


def _publication(conn: duckdb.DuckDBPyConnection, published: str) -> tuple[datetime, int] | None:
    """When the file attached as `published` was published and the rows written in copies since
    its last full publish; None when it is not a serving copy this publisher wrote."""
    if "rows_patched_since_full" not in dict(_tables(conn, published, "main").get(PUBLICATION, [])):
        return None  # an older version's, or something else
    row = conn.execute(f"select published_at, rows_patched_since_full from {published}.main.{PUBLICATION}").fetchone()
    return None if row is None or None in row else row


# per table: its rows in the pipeline, the rows built since the file (None: written whole), and those builds
Plan = dict[str, tuple[int, int | None, list[datetime]]]


def _patch_plan(conn: duckdb.DuckDBPyConnection, schema: str, keys: Mapping[str, Sequence[str]], published: str) -> Plan:
    """What patching the file attached as `published` would write, per table of the pipeline's `schema`."""
    wanted, present = _tables(conn, _current_database(conn), schema), _tables(conn, published, schema)
    plan = {}
    for table in sorted(wanted):
        rows, changed, builds = conn.execute(f'select count(*) from {schema}."{table}"').fetchone()[0], None, []
        if table in keys and present.get(table) == wanted[table]:
            builds = _builds_since(conn, schema, table, published)
            since, parameters = _rows_of(schema, table, builds)
            changed = conn.execute(f"select count(*) {since}", parameters).fetchone()[0]
        plan[table] = (rows, changed if changed is not None and changed <= MAX_PATCHED_SHARE * rows else None, builds)
    return plan


def _publish_patched(
    conn: duckdb.DuckDBPyConnection, temporary: Path, schema: str, keys: Mapping[str, Sequence[str]], serving_path: Path
) -> dict | None:
    """The spare, else a copy of the current serving file, at `temporary`, brought up to date there;
    None when it should be written whole instead (no usable serving file, or too much written in
    copies since the last full publish)."""
    if _claim_spare(serving_path, temporary):
        published = _patch_spare(conn, temporary, schema, keys)
        if published is not None:
            return published | {"patched_from": "spare"}
        _unlink_with_wal(temporary)
    published = _patch_copy(conn, temporary, schema, keys, serving_path)
    return None if published is None else published | {"patched_from": "copy"}


def _spare_path(serving_path: Path) -> Path:
    return serving_path.with_name(f".{serving_path.name}.spare")


def _claim_spare(serving_path: Path, temporary: Path) -> bool:
    """The file the last swap replaced, renamed to `temporary`, when it is no one's but ours: no
    other name for it (a publish stopped between keeping it and the swap leaves the serving file
    under both names) and no descriptor of it open in any process whose descriptors this one can
    read. DuckDB's lock, which the attach takes next, covers the others."""
    try:
        os.rename(_spare_path(serving_path), temporary)
    except FileNotFoundError:
        return False
    if os.stat(temporary).st_nlink != 1 or _open_by_a_process(temporary):
        _unlink_with_wal(temporary)  # the readers keep their file; the serving file keeps its name
        return False
    return True


def _open_by_a_process(path: Path) -> bool:
    """Whether a process of this machine has `path` open, this one included, as far as /proc shows:
    DuckDB's POSIX lock alone is lost when the reader's process closes any other descriptor of the
    file, and is never seen within one process."""
    file = os.stat(path)
    try:
        processes = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return True  # cannot tell (no /proc): treated as held
    for process in processes:
        try:
            descriptors = os.listdir(f"/proc/{process}/fd")
        except OSError:
            continue  # ended, or another user's: DuckDB's lock speaks for it
        for descriptor in descriptors:
            try:
                opened = os.stat(f"/proc/{process}/fd/{descriptor}")
            except OSError:
                continue
            if (opened.st_dev, opened.st_ino) == (file.st_dev, file.st_ino):
                return True
    return False


def _patch_spare(conn: duckdb.DuckDBPyConnection, temporary: Path, schema: str, keys: Mapping[str, Sequence[str]]) -> dict | None:
    """The claimed spare at `temporary` patched where it is; None when it cannot be."""
    try:
        conn.execute("attach ? as serving_copy", [str(temporary)])
    except duckdb.IOException:
        return None  # a reader in another process connected before the swap still holds it
    try:
        publication = _publication(conn, "serving_copy")
        plan = None if publication is None else _patch_plan(conn, schema, keys, "serving_copy")
        if plan is None or _over_budget(publication, plan):
            return None
        return _patch(conn, schema, keys, publication, plan)
    finally:
        conn.execute("detach serving_copy")


def _patch_copy(
    conn: duckdb.DuckDBPyConnection, temporary: Path, schema: str, keys: Mapping[str, Sequence[str]], serving_path: Path
) -> dict | None:
    """The current serving file copied to `temporary` and patched there; None when it cannot be."""
    try:
        conn.execute("attach ? as serving_published (read_only)", [str(serving_path)])
    except duckdb.IOException:
        return None  # gone, or not a DuckDB file (damaged, or something else at that path): written whole
    try:
        publication = _publication(conn, "serving_published")
        plan = None if publication is None else _patch_plan(conn, schema, keys, "serving_published")
    finally:
        conn.execute("detach serving_published")
    if plan is None or _over_budget(publication, plan):
        return None
    try:
        shutil.copyfile(serving_path, temporary)  # the file swapped in last, whole: it is never written in place
    except FileNotFoundError:
        return None
    conn.execute("attach ? as serving_copy", [str(temporary)])
    try:
        if _publication(conn, "serving_copy") != publication:
            return None  # another publisher swapped a newer file in since the plan: it no longer holds
        return _patch(conn, schema, keys, publication, plan)
    finally:
        conn.execute("detach serving_copy")


def _over_budget(publication: tuple[datetime, int], plan: Plan) -> bool:
    """Whether the rows the plan writes take those written in copies since the last full publish
    past MAX_PATCHED_SINCE_FULL of all rows."""
    total = sum(rows for rows, _, _ in plan.values())
    planned = sum(rows if changed is None else changed for rows, changed, _ in plan.values())
    return publication[1] + planned > MAX_PATCHED_SINCE_FULL * total


def _patch(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    keys: Mapping[str, Sequence[str]],
    publication: tuple[datetime, int],
    plan: Plan,
) -> dict | None:
    """The file attached as serving_copy brought up to the pipeline's `schema` by `plan`."""
    for table in sorted(_tables(conn, "serving_copy", schema).keys() - plan.keys()):
        conn.execute(f'drop table serving_copy.{schema}."{table}"')
    rows, written = {}, 0
    for table, (table_rows, changed, builds) in plan.items():
        if changed is not None and _patch_table(conn, schema, table, keys[table], table_rows, builds):
            rows[table] = table_rows
            written += changed
        else:
            rows[table] = _write_whole(conn, schema, table)
            written += rows[table]
    since_full = publication[1] + written
    if since_full > MAX_PATCHED_SINCE_FULL * sum(rows.values()):
        return None  # rows left a mart without a rebuild: more was written whole than planned
    published_at = _write_publication(conn, "patched", len(plan), since_full)
    return {"published_at": published_at, "mode": "patched", "rows": rows, "rows_written": written}


def _patch_table(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, key: Sequence[str], rows: int, builds: list[datetime]
) -> bool:
    """Bring the serving copy's `table` (`rows` rows in the pipeline's) up to the pipeline's by the
    rows of the builds since it was published (the plan's): the copy's rows of their keys go, they come in (dbt's
    delete+insert replaces whole keys). False when it must be written whole instead: rows can
    also leave a mart without a rebuild (a listing taken out of the universe), which the row
    count shows.
    """
    target = f'serving_copy.{schema}."{table}"'
    since, parameters = _rows_of(schema, table, builds)
    conn.execute(f"create or replace temp table publish_changed as select * {since}", parameters)
    try:
        matches = " and ".join(f'old."{column}" = new."{column}"' for column in key)
        columns = ", ".join(f'"{column}"' for column in key)
        conn.execute(f"delete from {target} as old using (select {columns} from publish_changed) as new where {matches}")
        conn.execute(f"insert into {target} select * from publish_changed")
    finally:
        conn.execute("drop table if exists publish_changed")
    return conn.execute(f"select count(*) from {target}").fetchone()[0] == rows


def _swap_in(temporary: Path, serving_path: Path, keep_spare: bool) -> None:
    """`temporary` renamed over the serving file, which stays as the spare when `keep_spare` (the
    older spare goes; readers holding it keep reading it)."""
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    spare = _spare_path(serving_path)
    spare.unlink(missing_ok=True)
    if keep_spare:
        try:
            os.link(serving_path, spare)
        except OSError:  # no serving file yet, another publisher kept one, or no hard link allowed
            pass  # (a file of another user under protected_hardlinks, a file system without them)
    try:
        os.replace(temporary, serving_path)
    except BaseException:
        spare.unlink(missing_ok=True)  # a second name of the file still serving
        raise
    directory = os.open(serving_path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
