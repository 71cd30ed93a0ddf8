"""The pipeline database: connections with the project's macros, and idempotent partition writes."""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from warehouse import ddl

SQL_DIR = Path(__file__).parent / "sql"


def sql(name: str, **schemas: str) -> str:
    """The text of `warehouse/sql/<name>.sql` (e.g. `marts/workers`); `schemas` fill `{placeholders}` of schema names.

    Raises FileNotFoundError naming the file when there is none.
    """
    text = (SQL_DIR / f"{name}.sql").read_text()
    return text.format(**schemas) if schemas else text


def load_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary macros: they live in the connection, so neither database file depends on them."""
    for statement in _macro_statements():  # parsed once per process: a run connects about a hundred times
        con.execute(statement)


@functools.cache
def _macro_statements() -> list[duckdb.Statement]:
    with duckdb.connect() as parser:
        return parser.extract_statements((SQL_DIR / "macros.sql").read_text())


# DuckDB's own settings for every connection (docs/HELPERS.md): bounded memory, spilling to disk beyond it.
MEMORY_LIMIT_ENV, TEMP_DIR_ENV, THREADS_ENV = ("JAMSOSTEK_DUCKDB_MEMORY_LIMIT", "JAMSOSTEK_DUCKDB_TEMP_DIR",
                                               "JAMSOSTEK_DUCKDB_THREADS")
MEMORY_FRACTION = 0.4  # of the machine's memory: the pipeline database, plus Python, Arrow and Splink's own database
TEMP_DIR_NAME = "duckdb_tmp"  # beside the database file: spilled intermediates (DuckDB deletes them on close)


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's RAM, or the container's (cgroup) limit if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def _memory_text(value: str | int | float) -> str:
    """A DuckDB memory setting: bytes as a number, DuckDB's own text ("8GB", "500MiB"), or a share of the
    machine's memory ("40%")."""
    if isinstance(value, (int, float)):
        return f"{int(value) // 2**20}MiB"
    text = str(value).strip()
    if text.endswith("%"):
        share = float(text[:-1]) / 100
        if not 0 < share <= 1:
            raise ValueError(f"DuckDB memory limit {value!r}: a share of the machine's memory must be in (0%, 100%]")
        return f"{int(machine_memory() * share) // 2**20}MiB"
    return text


def duckdb_settings(path: Path | str | None = None, *, memory_limit: str | int | None = None,
                    temp_directory: Path | str | None = None, threads: int | str | None = None) -> dict[str, str]:
    """The settings a connection to the database at `path` gets: {memory_limit, temp_directory[, threads]}.

    Each argument left None falls back to its environment variable, then to a default sized to the machine:
    - memory_limit (JAMSOSTEK_DUCKDB_MEMORY_LIMIT): "8GB", "500MiB", bytes, or a share such as "40%";
      default MEMORY_FRACTION of the machine's memory (cgroup limit included). Beyond it DuckDB spills.
    - temp_directory (JAMSOSTEK_DUCKDB_TEMP_DIR): where DuckDB spills; default `duckdb_tmp` beside the
      database file (the warehouse directory). Several processes may share it (DuckDB names its files per
      process) and DuckDB removes what it wrote on close. Required for an in-memory database (path None).
    - threads (JAMSOSTEK_DUCKDB_THREADS): default DuckDB's own (one per core).
    """
    memory_limit = memory_limit if memory_limit is not None else os.environ.get(MEMORY_LIMIT_ENV) or None
    temp_directory = temp_directory if temp_directory is not None else os.environ.get(TEMP_DIR_ENV) or None
    threads = threads if threads is not None else os.environ.get(THREADS_ENV) or None
    if temp_directory is None:
        if path is None or str(path) == ":memory:":
            raise ValueError("an in-memory DuckDB database needs a temp_directory to spill to")
        temp_directory = Path(path).parent / TEMP_DIR_NAME
    chosen = {
        "memory_limit": _memory_text(memory_limit if memory_limit is not None else f"{MEMORY_FRACTION:.0%}"),
        "temp_directory": str(Path(temp_directory).resolve()),
    }
    if threads is not None:
        if not str(threads).strip().isdigit() or int(threads) < 1:
            raise ValueError(f"DuckDB threads {threads!r}: a whole number of at least 1")
        chosen["threads"] = str(int(threads))
    return chosen


def configure(con: duckdb.DuckDBPyConnection, settings: dict[str, str]) -> None:
    """Apply `duckdb_settings(...)` to an open connection (e.g. a second, in-memory database such as Splink's).

    The temp directory is set only when it differs from the one in force: DuckDB refuses to switch it once
    it has been used, even to the same one, and connections to one file in one process share its settings.
    """
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    try:
        con.execute(f"SET memory_limit = {quoted(settings['memory_limit'])}")
    except duckdb.Error as error:
        raise ValueError(f"DuckDB memory limit {settings['memory_limit']!r} (argument or {MEMORY_LIMIT_ENV}): "
                         f"{error}; write it like 8GB, 500MiB or 40%") from None
    if "threads" in settings:
        con.execute(f"SET threads = {int(settings['threads'])}")
    if con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] != settings["temp_directory"]:
        con.execute(f"SET temp_directory = {quoted(settings['temp_directory'])}")


# Databases this process holds open for a while (a run): path -> the connection that holds it.
_held: dict[str, duckdb.DuckDBPyConnection] = {}


def _key(path: Path | str) -> str:
    return str(Path(path).resolve())


@contextmanager
def hold(path: Path | str) -> Iterator[None]:
    """Keep the database at `path` open in this process while the block runs (a Dagster run, in the
    process that executes its steps): every `connect` to it inside shares this open database instead of
    opening the file again, which cost 25-60 ms a time, and a run connects well over a hundred times.

    Inside the block a read-only `connect` is read-write too (DuckDB opens one file one way per process);
    the process holds the writer lock meanwhile. Other processes cannot open the file until the block
    ends. Nested holds of one path are one hold.
    """
    key = _key(path)
    if key in _held:
        yield
        return
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(key)
    try:
        configure(con, duckdb_settings(path))
        ddl.declare(con)  # every pipeline table exists, with the columns its declaration names
        _held[key] = con
        yield
    finally:
        _held.pop(key, None)
        con.close()


def held(path: Path | str) -> duckdb.DuckDBPyConnection | None:
    """The connection holding the database at `path` open in this process (`hold`), if any."""
    return _held.get(_key(path))


@contextmanager
def connect(path: Path | str, *, read_only: bool = False, memory_limit: str | int | None = None,
            temp_directory: Path | str | None = None, threads: int | str | None = None,
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the pipeline database with the layer schemas and macros; always closed after use.

    Every connection has a memory limit and a spill directory (and optionally a thread count): see
    `duckdb_settings` for the arguments, their environment variables and their machine-sized defaults.
    While the process holds the database (`hold`), the connection is a new one to that open database
    (its own temp tables and macros) and `read_only` is not enforced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = duckdb_settings(path, memory_limit=memory_limit, temp_directory=temp_directory, threads=threads)
    holder = held(path)
    con = holder.cursor() if holder is not None else duckdb.connect(str(path), read_only=read_only)
    try:
        configure(con, settings)
        if not read_only and holder is None:  # a hold declared them when it opened
            ddl.declare(con)  # every pipeline table exists, with the columns its declaration names
        load_macros(con)
        yield con
    finally:
        con.close()


@contextmanager
def scratch(con: duckdb.DuckDBPyConnection, prefix: str, *, use: bool = False) -> Iterator[str]:
    """A new on-disk DuckDB database attached to `con` for one piece of work; yields its catalog name.

    For working tables too big for memory: DuckDB writes a file database's tables compressed and reads them
    back under the memory limit, where TEMP tables spill uncompressed (at 50 million registrations identity's
    temp tables filled 36 GB of spill in five minutes). The file goes in the connection's spill directory
    (an absolute one: `connect` sets it), else the system's temp folder, and is deleted afterwards, failure
    or not. `use`: the scratch is the connection's default catalog inside (unqualified CREATE TABLE lands
    there); the previous default is restored on the way out.
    """
    spill = first(con, "SELECT current_setting('temp_directory')")[0]
    folder = Path(spill) if spill and Path(spill).is_absolute() else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}_{uuid.uuid4().hex}"  # unique within the database instance
    path = folder / f"{name}.duckdb"
    home = first(con, "SELECT current_database()")[0]
    # READ_WRITE: a scratch is written also when `con` reads the pipeline database read-only
    con.execute(f"""ATTACH '{str(path).replace("'", "''")}' AS {name} (READ_WRITE)""")
    try:
        if use:
            con.execute(f"USE {name}")
        yield name
    finally:
        if use:
            con.execute(f"USE {home}")
        con.execute(f"DETACH {name}")
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)


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

    Call inside `transaction`. The table must be declared (warehouse/ddl.py): its shape never comes from the
    query; `select_sql` must yield `snapshot_date` (and `source` when given). Returns the rows written.
    Raises LookupError naming the table when it does not exist.
    """
    params = params or []
    key_sql, key_params = "snapshot_date = ?", [snapshot_date]
    if source is not None:
        key_sql, key_params = key_sql + " AND source = ?", key_params + [source]
    _require(con, table)
    con.execute(f"DELETE FROM {table} WHERE {key_sql}", key_params)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({select_sql})", params)
    return first(con, f"SELECT count(*) FROM {table} WHERE {key_sql}", key_params)[0]


def replace_table(con: duckdb.DuckDBPyConnection, table: str, select_sql: str, params: list | None = None) -> int:
    """Replace an unpartitioned table whole: a declared one keeps its declaration (types, comments); reference
    data, whose shape is its CSV file's, is recreated from the query."""
    if table in ddl.declared():
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM ({select_sql})", params or [])
    else:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_sql}", params or [])
    return first(con, f"SELECT count(*) FROM {table}")[0]


def _require(con: duckdb.DuckDBPyConnection, table: str) -> None:
    schema, name = table.split(".")
    if not first(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                      "AND schema_name = ? AND table_name = ?", [schema, name])[0]:
        raise LookupError(f"{table} is not declared: add its CREATE TABLE to warehouse/sql/ddl/{schema}.sql "
                          "(a landing source's raw and staging tables come from sources/catalog.py).")


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
