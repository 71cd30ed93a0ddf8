"""The pipeline database: connections with the project's macros, and idempotent partition writes."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

SQL_DIR = Path(__file__).parent / "sql"
LAYER_SCHEMAS = ("raw", "reference", "staging", "identity", "marts")


def sql(name: str, **schemas: str) -> str:
    """The text of `warehouse/sql/<name>.sql` (e.g. `marts/workers`); `schemas` fill `{placeholders}` of schema names.

    Raises FileNotFoundError naming the file when there is none.
    """
    text = (SQL_DIR / f"{name}.sql").read_text()
    return text.format(**schemas) if schemas else text


def load_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary macros: they live in the connection, so neither database file depends on them."""
    con.execute((SQL_DIR / "macros.sql").read_text())


@contextmanager
def connect(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the pipeline database with the layer schemas and macros; always closed after use."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only:
            for schema in LAYER_SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        load_macros(con)
        yield con
    finally:
        con.close()


def first(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> tuple | None:
    """The first row of a query, or None. Reads the whole result: DuckDB 2.0 refuses new work on a
    connection whose previous result was not read to the end."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All writes inside commit together or not at all: a crash leaves the previous state."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_rows(con: duckdb.DuckDBPyConnection, table: str, snapshot_date: date, select_sql: str,
                 params: list | None = None, *, source: str | None = None) -> int:
    """Replace one snapshot's rows of `table` (and of one `source`, for shared tables) with `select_sql`.

    Call inside `transaction`. The table is created from the query's shape on first use;
    `select_sql` must yield `snapshot_date` (and `source` when given). Returns the rows written.
    """
    params = params or []
    key_sql, key_params = "snapshot_date = ?", [snapshot_date]
    if source is not None:
        key_sql, key_params = key_sql + " AND source = ?", key_params + [source]
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM ({select_sql}) LIMIT 0", params)
    con.execute(f"DELETE FROM {table} WHERE {key_sql}", key_params)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({select_sql})", params)
    return first(con, f"SELECT count(*) FROM {table} WHERE {key_sql}", key_params)[0]


def replace_table(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, params: list | None = None) -> int:
    """Replace an unpartitioned table (reference data) whole."""
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_sql}", params or [])
    return first(con, f"SELECT count(*) FROM {table}")[0]


def preview(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, limit: int = 10) -> str:
    """A small markdown table for asset metadata (never of personal columns)."""
    frame = pl.from_arrow(con.sql(f"SELECT * FROM ({sql}) LIMIT {limit}", params=params or []).to_arrow_table())
    return markdown_table(frame.columns, frame.rows())


def markdown_table(columns: list[str] | tuple[str, ...], rows: list[tuple]) -> str:
    """Rows as a markdown table, for metadata a person reads in the Dagster UI; "(no rows)" when empty."""
    if not rows:
        return "(no rows)"
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
