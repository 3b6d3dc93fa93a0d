"""The serving copy: the marts in a file of their own that BI tools and SQL users open read-only.

DuckDB allows one writer per file, and a reader holding the working file would block the
pipeline. So the pipeline never serves its working file: it writes the marts into a new file
beside the serving copy and renames it over the old one. The rename is atomic: a reader already
connected keeps reading the old file to the end of its session, a new connection sees the new
file whole, and the pipeline never waits on either.

The new file is `.serving.duckdb.<pid>.tmp` (and DuckDB's `.wal` beside it while it is written):
the pid keeps concurrent publishers apart. A publish that fails removes its own; one killed
outright leaves them behind, and the next publish removes every one whose process has ended.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import duckdb


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


def publish_serving_copy(conn: duckdb.DuckDBPyConnection, serving_path: Path, schema: str = "marts") -> dict:
    """Copy every table of `schema` from the pipeline's connection into `serving_path`, atomically."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(serving_path)
    temporary = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    try:
        return _publish(conn, serving_path, temporary, schema)
    except BaseException:
        _unlink_with_wal(temporary)  # a failed publish leaves nothing; a killed one, the next removes
        raise


def _publish(conn: duckdb.DuckDBPyConnection, serving_path: Path, temporary: Path, schema: str) -> dict:
    tables = [
        name
        for (name,) in conn.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
            "order by table_name",
            [schema],
        ).fetchall()
    ]
    published_at = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = {}
    conn.execute("attach ? as serving_copy", [str(temporary)])
    try:
        conn.execute(f"create schema serving_copy.{schema}")
        for table in tables:  # names come from the catalog, not from input
            conn.execute(f'create table serving_copy.{schema}."{table}" as select * from {schema}."{table}"')
            rows[table] = conn.execute(f'select count(*) from serving_copy.{schema}."{table}"').fetchone()[0]
        conn.execute(
            "create table serving_copy.main.publication as select ? as published_at, ? as tables_published",
            [published_at, len(tables)],
        )
    finally:
        conn.execute("detach serving_copy")
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, serving_path)
    directory = os.open(serving_path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return {"published_at": published_at, "rows": rows}
