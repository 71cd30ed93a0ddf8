"""Great Expectations 1.x suites on DuckDB tables by SQL pushdown, reported as asset checks.

`dagster-ge` needs GX < 1.0, so we drive GX ourselves: an ephemeral GX context (nothing written
to disk), one SQL datasource per DuckDB file opened read-only, and a query asset per validation
(`SELECT * FROM schema.table [WHERE ...]`). Every metric is computed by DuckDB; no rows are
pulled into pandas.

Two gaps between GX 1.24 and duckdb_engine are closed here, on our own engines only:
  * `_buffer_results`: GX reads a query's rows after it has left the connection context; the
    rollback SQLAlchemy issues on close discards DuckDB's pending result, and GX then fails with
    IndexError in `resolve_metric_bundle` (GX issues #10738, #11579). We buffer each result as
    soon as it executes, except the bare batch query GX runs only to learn its column names.
  * `_prepare_engine`: GX decides regex support from `execution_engine.dialect_module` and only
    knows it for dialects it names; for "duckdb" it is None and regex expectations raise
    NotImplementedError. duckdb_engine's dialect derives from PostgreSQL's and DuckDB's `~` / `!~`
    behave like PostgreSQL's (partial match), so DuckDB engines take GX's postgresql path.

Usage, inside an asset check:
    where = f"snapshot_date = DATE '{context.partition_key}'"
    outcome = gx.validate(db_path, "staging.pu_workers", SUITE, where=where)
    return to_check_result(outcome, check_name=PU_WORKERS_VALID)
Sample values of PERSONAL_DATA_COLUMNS are masked before they reach the UI; pass
`sensitive_columns=PERSONAL_DATA_COLUMNS | {"nama_ibu"}` to mask more.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper

from warehouse import db

if TYPE_CHECKING:
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations import Expectation

SAMPLE_SIZE = 5
# Columns that hold personal data across the pipeline; their sample values are masked unless
# the caller says otherwise. Add table-specific ones (e.g. "nama_ibu") per check.
PERSONAL_DATA_COLUMNS = frozenset({"nik", "kpj", "nama", "tanggal_lahir"})


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's counts over the batch and up to SAMPLE_SIZE offending values (raw)."""

    expectation_type: str
    column: str | None
    success: bool
    unexpected_count: int | None
    element_count: int | None
    partial_unexpected: tuple[Any, ...] = ()
    error: str | None = None  # set when GX could not evaluate the expectation (counts as failed)


@dataclass(frozen=True)
class SuiteOutcome:
    """All expectations of one suite, evaluated on one table (or one partition of it)."""

    suite_name: str
    table: str
    where: str | None
    results: tuple[ExpectationOutcome, ...]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def failed(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(r for r in self.results if not r.success)

    @property
    def unexpected_total(self) -> int:
        return sum(r.unexpected_count or 0 for r in self.results)

    @property
    def element_count(self) -> int | None:
        counts = [r.element_count for r in self.results if r.element_count is not None]
        return max(counts, default=None)


class GreatExpectationsResource(dg.ConfigurableResource):
    """Runs GX suites against a DuckDB file read-only, SQL pushdown."""

    sample_size: int = SAMPLE_SIZE

    def validate(
        self,
        database: str,
        table: str,
        expectations: Sequence[Expectation],
        *,
        where: str | None = None,
        suite_name: str | None = None,
    ) -> SuiteOutcome:
        """Validate `schema.table`, or only its rows matching `where`, a SQL predicate written by
        pipeline code (never user input), e.g. `snapshot_date = DATE '2025-06-08'`.

        The file is opened read-only once for the call and no connection outlives it, so a
        writer can open the file again as soon as this returns; while this process holds the file
        open (`warehouse.db.hold`, a run), the call uses a new connection to it instead.
        """
        import great_expectations as gx

        path = Path(database).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"DuckDB database not found: {path}")
        query = f"SELECT * FROM {_quote_table(table)}" + (f" WHERE {where}" if where else "")
        suite = gx.ExpectationSuite(
            name=suite_name or table,
            # Copies: a suite takes ownership of its expectations; callers reuse theirs.
            expectations=[e.copy(deep=True) for e in expectations],
        )
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": self.sample_size}

        with _gx_lock:
            datasource = _datasource(path)
            asset_name = "batch_" + hashlib.sha1(query.encode()).hexdigest()[:16]
            _unbuffered.add(query)
            try:
                asset = datasource.add_query_asset(asset_name, query=query)
                batch = asset.add_batch_definition_whole_table("whole").get_batch()
                _prepare_engine(batch.data.execution_engine)
                validation = batch.validate(suite, result_format=result_format)
            finally:
                _unbuffered.discard(query)
                if asset_name in {a.name for a in datasource.assets}:
                    datasource.delete_asset(asset_name)
                _dispose_engines(datasource)

        # GX reports in its own order; give them back in the order of the suite.
        order = [_identity(e.configuration) for e in suite.expectations]
        results = sorted(
            validation.results, key=lambda r: _index(order, _identity(r.expectation_config))
        )
        return SuiteOutcome(
            suite_name=suite.name,
            table=table,
            where=where,
            results=tuple(_expectation_outcome(r, self.sample_size) for r in results),
        )


def to_check_result(
    outcome: SuiteOutcome,
    *,
    asset_key: dg.AssetKey | str | Sequence[str] | None = None,
    check_name: str,
    blocking_severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    sensitive_columns: Iterable[str] = PERSONAL_DATA_COLUMNS,
) -> dg.AssetCheckResult:
    """Report a suite outcome as an asset check; values of `sensitive_columns` are masked."""
    sensitive = frozenset(sensitive_columns)
    failed = outcome.failed
    lines = [
        "| expectation | column | result | unexpected | of rows |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    samples = []
    for r in outcome.results:
        verdict = "pass" if r.success else ("error" if r.error else "FAIL")
        lines.append(
            f"| {r.expectation_type} | {r.column or ''} | {verdict} "
            f"| {_count(r.unexpected_count)} | {_count(r.element_count)} |"
        )
        if r.error:
            samples.append(f"{r.expectation_type}({r.column or ''}): error: {r.error}")
        elif not r.success:
            # NULLs say nothing a count does not (expect_column_values_to_not_be_null).
            values = [v for v in r.partial_unexpected if v is not None]
            shown = [_mask(v) if r.column in sensitive else _show(v) for v in values]
            if shown:
                samples.append(f"{r.expectation_type}({r.column or ''}): {', '.join(shown)}")

    metadata: dict[str, Any] = {
        "table": dg.MetadataValue.text(outcome.table),
        "partition_filter": dg.MetadataValue.text(outcome.where or "(whole table)"),
        "unexpected_total": dg.MetadataValue.int(outcome.unexpected_total),
        "failed_expectations": dg.MetadataValue.int(len(failed)),
        "expectations": dg.MetadataValue.md("\n".join(lines)),
        "unexpected_samples": dg.MetadataValue.text("\n".join(samples) or "(none)"),
    }
    if outcome.element_count is not None:
        metadata["rows_validated"] = dg.MetadataValue.int(outcome.element_count)
    return dg.AssetCheckResult(
        passed=outcome.success,
        asset_key=asset_key,
        check_name=check_name,
        severity=blocking_severity,
        metadata=metadata,
        description=(
            f"{len(failed)} of {len(outcome.results)} expectations failed on {outcome.table}"
            if failed
            else f"all {len(outcome.results)} expectations passed on {outcome.table}"
        ),
    )


# --- GX on DuckDB plumbing -----------------------------------------------------------------

# GX contexts are not thread-safe; validations in one process take turns.
_gx_lock = threading.Lock()
_context = None
# The batch's own query. GX runs it bare only to read its column names and never fetches it
# (metrics.util.column_reflection_fallback); buffering it would read the whole batch.
_unbuffered: set[str] = set()


def _gx_context():
    """One ephemeral context per process: in-memory stores, no analytics, no progress bars."""
    global _context
    if _context is None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        _context = gx.get_context(mode="ephemeral", project_config=config)
    return _context


def _datasource(path: Path) -> SQLDatasource:
    """The SQL datasource for one DuckDB file, created on first use and reused afterwards."""
    context = _gx_context()
    name = "duckdb_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    if name in context.data_sources.all():
        return context.data_sources.get(name)
    return context.data_sources.add_sql(
        name,
        connection_string=sa.URL.create("duckdb", database=str(path)).render_as_string(),
        kwargs={
            "creator": lambda: _open(path),
            # One connection for all the queries of a validation (reopening the file for each of
            # GX's ~80 queries a suite cost more than the queries); `validate` disposes of it in
            # `finally`, so nothing holds the file open afterwards, even if a validation fails.
            "poolclass": sa.pool.StaticPool,
        },
    )


def _open(path: Path):
    """A DBAPI connection for GX: the file read-only, or a new connection to it when this process holds it
    open (a run: `warehouse.db.hold`), since DuckDB opens one file one way per process."""
    holder = db.held(path)
    return ConnectionWrapper(holder.cursor() if holder is not None else duckdb.connect(str(path), read_only=True))


def _prepare_engine(execution_engine: SqlAlchemyExecutionEngine) -> None:
    """Make one GX execution engine work on DuckDB (idempotent; touches nothing global)."""
    from sqlalchemy.dialects import postgresql

    if not sa.event.contains(execution_engine.engine, "after_cursor_execute", _buffer_results):
        sa.event.listen(execution_engine.engine, "after_cursor_execute", _buffer_results)
    # GX picks its regex SQL in expectations.metrics.util.get_dialect_regex_expression from
    # `dialect_module`, which SqlAlchemyExecutionEngine.__init__ leaves None for "duckdb". Give
    # this engine the module GX itself would use for PostgreSQL: duckdb_engine's dialect derives
    # from it, and DuckDB's `~`/`!~` are PostgreSQL's partial-match operators. The same module
    # also serves GX as the type module for type expectations, which DuckDB shares with PG.
    if execution_engine.dialect_name == "duckdb" and execution_engine.dialect_module is None:
        execution_engine.dialect_module = postgresql


def _buffer_results(conn, cursor, statement, parameters, context, executemany) -> None:
    """SQLAlchemy `after_cursor_execute` hook: fetch a result completely while it is still there.

    GX's execute_query returns a CursorResult from inside `with get_connection()` and fetches it
    afterwards; by then the connection's close-time rollback has discarded DuckDB's pending
    result. SQLAlchemy's own fully buffered fetch strategy (as used for MSSQL OUTPUT rows) holds
    the rows instead. GX's queries return aggregates or LIMITed samples, so buffers stay small.
    """
    from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

    if context is not None and cursor.description is not None and statement not in _unbuffered:
        context.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(
            cursor, alternate_description=cursor.description
        )


def _dispose_engines(datasource: SQLDatasource) -> None:
    # The datasource keeps an engine of its own (used for connection tests) beside the
    # execution engine's; neither may keep a DuckDB connection after a validation.
    datasource.get_execution_engine().engine.dispose()
    datasource.get_engine().dispose()


def _expectation_outcome(
    result: ExpectationValidationResult, sample_size: int
) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column")
    if column is None and kwargs.get("column_list"):
        column = ", ".join(kwargs["column_list"])
    elif column is None and kwargs.get("column_A"):
        column = f"{kwargs['column_A']}, {kwargs['column_B']}"
    info = result.exception_info or {}
    raised = info.get("raised_exception", False)
    if not raised:  # a bundle of metrics fails as {metric_id: info}; take the first message
        nested = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        raised, info = (True, nested[0]) if nested else (False, info)
    stats = result.result or {}
    return ExpectationOutcome(
        expectation_type=config.type,
        column=column,
        success=bool(result.success) and not raised,
        unexpected_count=stats.get("unexpected_count"),
        element_count=stats.get("element_count"),
        partial_unexpected=tuple(stats.get("partial_unexpected_list") or ())[:sample_size],
        error=info.get("exception_message") if raised else None,
    )


def _identity(config) -> tuple[str, dict]:
    # GX adds the batch id to the kwargs it reports back.
    return config.type, {k: v for k, v in config.kwargs.items() if k != "batch_id"}


def _index(items: list, item: Any) -> int:
    return next((i for i, x in enumerate(items) if x == item), len(items))


def _quote_table(table: str) -> str:
    """`staging.pu_workers` -> `"staging"."pu_workers"`, so names are never read as SQL."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _mask(value: Any) -> str:
    """Length and at most a quarter of the leading characters (4 at most): `7471*** (16 chars)`."""
    text = str(value)
    return f"{text[: min(4, len(text) // 4)]}*** ({len(text)} chars)"
