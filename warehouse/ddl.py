"""The pipeline database's tables, declared before anything writes them.

Two kinds of declaration: the files `warehouse/sql/ddl/<schema>.sql` (CREATE TABLE IF NOT EXISTS with types,
and COMMENT ON the table and its columns), and, for every landing source of `sources/catalog.py`, its
`raw.<source>` table (every contract column as text) and `staging.<source>` table (typed by column kind).
`declare(con)` creates what is missing and adds columns declared since an older database was made, so a
database from an earlier version keeps working; a write to a table nobody declared fails (warehouse.db).
"""

from __future__ import annotations

import functools
from pathlib import Path

import duckdb

from sources import SOURCES, Source
from sources.spec import SQL_TYPES

DDL_DIR = Path(__file__).parent / "sql" / "ddl"
LAYER_SCHEMAS = ("raw", "reference", "staging", "identity", "marts")  # one per layer, in the order data flows

# The columns every raw and staging row of a source starts with: which snapshot, file and data row it is.
ROW_ORIGIN = (("snapshot_date", "DATE"), ("source_file", "VARCHAR"), ("source_row", "BIGINT"))


def _source_ddl(source: Source) -> str:
    origin = list(ROW_ORIGIN) + ([("cut_off_date", "DATE")] if source.delivery == "registry" else [])
    raw = origin + [(c.name, "VARCHAR") for c in source.columns]
    staged = list(ROW_ORIGIN) + [(c.name, SQL_TYPES[c.kind]) for c in source.columns]

    def table(name: str, columns: list[tuple[str, str]], comment: str) -> str:
        body = ",\n    ".join(f"{c} {t}" for c, t in columns)
        return f"CREATE TABLE IF NOT EXISTS {name} (\n    {body}\n);\nCOMMENT ON TABLE {name} IS '{_quote(comment)}';\n"

    return (table(f"raw.{source.name}", raw, f"{source.description} Every row exactly as received, as text.")
            + table(f"staging.{source.name}", staged,
                    f"{source.description} Typed and checked; rows that break a rule are in staging.quarantine."))


def _quote(text: str) -> str:
    return text.replace("'", "''")


@functools.cache
def ddl_text() -> str:
    """Every declaration, in one script: the source tables, then the files in schema order."""
    parts = [_source_ddl(s) for s in SOURCES]
    parts += [(DDL_DIR / f"{schema}.sql").read_text() for schema in LAYER_SCHEMAS if (DDL_DIR / f"{schema}.sql").exists()]
    return "\n".join(parts)


@functools.cache
def declared() -> dict[str, tuple[tuple[str, str], ...]]:
    """`schema.table` -> its declared (column, type) pairs, learnt by running the script on an empty database."""
    with duckdb.connect() as scratch:
        for schema in LAYER_SCHEMAS:
            scratch.execute(f"CREATE SCHEMA {schema}")
        scratch.execute(ddl_text())
        rows = scratch.execute("""SELECT schema_name || '.' || table_name, list((column_name, data_type) ORDER BY column_index)
                                  FROM duckdb_columns() WHERE database_name = current_database() GROUP BY 1""").fetchall()
    return {table: tuple(tuple(c) for c in columns) for table, columns in rows}


def declare(con: duckdb.DuckDBPyConnection) -> None:
    """Create the declared tables that are missing and add declared columns an older table lacks.

    One catalogue query when everything is in place already; the script runs only when something differs.
    """
    have: dict[str, dict[str, str]] = {table: dict(columns) for table, columns in con.execute(
        """SELECT schema_name || '.' || table_name, list((column_name, data_type)) FROM duckdb_columns()
           WHERE database_name = current_database() GROUP BY 1""").fetchall()}
    wanted = declared()
    changed = [f"{table}.{c} is {have[table][c]}, declared {t}" for table, columns in wanted.items() if table in have
               for c, t in columns if c in have[table] and have[table][c] != t]
    if changed:  # e.g. a column's kind changed in sources/catalog.py after a first run: never convert silently
        raise TypeError(f"the pipeline database disagrees with the declarations: {'; '.join(changed)}. Drop those "
                        "tables (DROP TABLE <table>) and rerun the snapshots they held, or restore the declaration.")
    if all(table in have and {c for c, _ in columns} <= set(have[table]) for table, columns in wanted.items()):
        return
    for schema in LAYER_SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute(ddl_text())
    for table, columns in wanted.items():
        for column, column_type in columns:
            if table in have and column not in have[table]:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {column_type}')
