"""The serving copy: the marts in a file of their own that BI tools and SQL users open read-only.

DuckDB allows one writer per file, and a reader holding the working file would block the
pipeline. So the pipeline never serves its working file: it writes the marts into a new file
beside the serving copy and renames it over the old one. The rename is atomic: a reader already
connected keeps reading the old file to the end of its session, a new connection sees the new
file whole, and the pipeline never waits on either.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb


def publish_serving_copy(conn: duckdb.DuckDBPyConnection, serving_path: Path, schema: str = "marts") -> dict:
    """Copy every table of `schema` from the pipeline's connection into `serving_path`, atomically."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = serving_path.with_name(f".{serving_path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
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
