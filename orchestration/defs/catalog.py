"""What the Dagster UI shows about every asset of the project: owner, kinds, a raw table's columns."""

import dagster as dg

from orchestration.warehouse.schema import RawTable

OWNERS = ["team:valuation-warehouse"]
PYTHON_DUCKDB = {"python", "duckdb"}


def table_metadata(table: RawTable) -> dict:
    """A raw table's columns and DuckDB types, and its name, as Dagster's standard table metadata."""
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, kind.split()[0], constraints=dg.TableColumnConstraints(nullable="not null" not in kind))
                     for name, kind in table.columns.items()]  # fmt: skip
        ),
        "dagster/table_name": table.qualified,
    }
