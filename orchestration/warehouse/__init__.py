"""DuckDB access: raw-layer DDL, the one keyed upsert, whole-table replace."""

from orchestration.warehouse.schema import ALL_TABLES, RawTable
from orchestration.warehouse.store import UpsertResult, ensure_raw_schema, replace_table, transaction, upsert

__all__ = ["ALL_TABLES", "RawTable", "UpsertResult", "ensure_raw_schema", "replace_table", "transaction", "upsert"]
