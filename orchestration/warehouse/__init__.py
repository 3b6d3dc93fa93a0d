"""DuckDB access: raw-layer DDL, the one keyed upsert, whole-table replace."""

from orchestration.warehouse.store import ensure_raw_schema, replace_table, transaction, upsert

__all__ = ["ensure_raw_schema", "replace_table", "transaction", "upsert"]
