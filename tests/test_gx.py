"""checks.gx: GX suites on real DuckDB files by SQL pushdown, and their Dagster asset checks."""

import subprocess
import sys

import dagster as dg
import duckdb
import great_expectations.expectations as gxe
import pytest
import sqlalchemy as sa

from checks import gx as checks_gx
from checks.gx import GreatExpectationsResource, SuiteOutcome, to_check_result

JUNE_1 = "snapshot_date = DATE '2025-06-01'"
JUNE_8 = "snapshot_date = DATE '2025-06-08'"

# June 1 is clean. June 8 has, in order: two good rows, a NIK with a letter, a 14-digit NIK with
# a negative wage, a row without KPJ whose NIK repeats row 2's and whose status is unknown, and a
# row without NIK.
ROWS = """
    ('00000000001', '7471010101900001', 'Siti Aminah',   'aktif',    3000000, DATE '2025-06-01'),
    ('00000000002', '7471010101900002', 'Budi Santoso',  'aktif',    2500000, DATE '2025-06-01'),
    ('00000000003', '7471010101900003', 'La Ode Ahmad',  'nonaktif',       0, DATE '2025-06-01'),
    ('00000000001', '7471010101900001', 'Siti Aminah',   'aktif',    3000000, DATE '2025-06-08'),
    ('00000000002', '7471010101900002', 'Budi Santoso',  'aktif',    2500000, DATE '2025-06-08'),
    ('00000000003', '747101010190000X', 'La Ode Ahmad',  'nonaktif',       0, DATE '2025-06-08'),
    ('00000000004', '74710101019000',   'Wa Ode Sitti',  'aktif',         -5, DATE '2025-06-08'),
    (NULL,          '7471010101900002', 'Andi Baso',     'pensiun',  1000000, DATE '2025-06-08'),
    ('00000000006', NULL,               'Rahmat',        'aktif',    2000000, DATE '2025-06-08')
"""

SUITE = [
    gxe.ExpectColumnValuesToNotBeNull(column="kpj"),
    gxe.ExpectColumnValuesToMatchRegex(column="nik", regex="^[0-9]{16}$"),
    gxe.ExpectColumnValuesToBeUnique(column="nik"),
    gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["aktif", "nonaktif"]),
    gxe.ExpectColumnValuesToBeBetween(column="upah", min_value=0, max_value=100_000_000),
    gxe.ExpectColumnValuesToNotBeNull(column="nama"),
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "pipeline.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute(
            "CREATE TABLE staging.pu_workers (kpj VARCHAR, nik VARCHAR, nama VARCHAR,"
            " status VARCHAR, upah BIGINT, snapshot_date DATE)"
        )
        con.execute(f"INSERT INTO staging.pu_workers VALUES {ROWS}")
    return str(path)


@pytest.fixture(scope="module")
def gx_resource():
    return GreatExpectationsResource()


def by_column(outcome: SuiteOutcome) -> dict:
    return {(r.expectation_type, r.column): r for r in outcome.results}


def test_unexpected_counts_on_one_partition(db, gx_resource):
    outcome = gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)

    got = {k: (r.success, r.unexpected_count, r.element_count) for k, r in by_column(outcome).items()}
    assert got == {
        ("expect_column_values_to_not_be_null", "kpj"): (False, 1, 6),
        ("expect_column_values_to_match_regex", "nik"): (False, 2, 6),  # the NULL is not judged
        ("expect_column_values_to_be_unique", "nik"): (False, 2, 6),  # both copies count
        ("expect_column_values_to_be_in_set", "status"): (False, 1, 6),
        ("expect_column_values_to_be_between", "upah"): (False, 1, 6),
        ("expect_column_values_to_not_be_null", "nama"): (True, 0, 6),
    }
    assert [r.column for r in outcome.results] == ["kpj", "nik", "nik", "status", "upah", "nama"]
    assert outcome.unexpected_total == 7
    assert not outcome.success and len(outcome.failed) == 5
    assert all(r.error is None for r in outcome.results)

    results = by_column(outcome)
    regex = results[("expect_column_values_to_match_regex", "nik")]
    assert sorted(regex.partial_unexpected) == ["74710101019000", "747101010190000X"]
    assert results[("expect_column_values_to_be_in_set", "status")].partial_unexpected == ("pensiun",)
    assert results[("expect_column_values_to_be_between", "upah")].partial_unexpected == (-5,)


def test_clean_partition_passes(db, gx_resource):
    outcome = gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_1, suite_name="pu")

    assert outcome.success
    assert outcome.suite_name == "pu" and outcome.where == JUNE_1
    assert outcome.element_count == 3 and outcome.unexpected_total == 0

    result = to_check_result(outcome, check_name="pu_workers_valid")
    assert result.passed
    assert result.metadata["unexpected_total"].value == 0
    assert result.metadata["rows_validated"].value == 3


def test_where_restricts_the_batch(db, gx_resource):
    unique = [gxe.ExpectColumnValuesToBeUnique(column="nik")]
    whole = gx_resource.validate(db, "staging.pu_workers", unique)
    june_1 = gx_resource.validate(db, "staging.pu_workers", unique, where=JUNE_1)

    assert whole.element_count == 9 and whole.where is None
    assert whole.results[0].unexpected_count == 5  # ...01 twice, ...02 three times
    assert june_1.element_count == 3 and june_1.success


def test_check_result_masks_personal_data(db, gx_resource):
    outcome = gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)

    result = to_check_result(outcome, check_name="pu_workers_valid")
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    samples = result.metadata["unexpected_samples"].value
    table = result.metadata["expectations"].value
    assert "7471***" in samples and "(16 chars)" in samples and "(14 chars)" in samples
    assert "74710101019000" not in samples and "747101010190000X" not in samples
    assert "'pensiun'" in samples and "-5" in samples  # not personal: shown as is
    assert "| expect_column_values_to_match_regex | nik | FAIL | 2 | 6 |" in table
    assert result.metadata["unexpected_total"].value == 7
    assert result.metadata["failed_expectations"].value == 5
    assert result.metadata["partition_filter"].value == JUNE_8

    # Callers choose what is sensitive: status masked, nik shown.
    custom = to_check_result(
        outcome,
        check_name="pu_workers_valid",
        sensitive_columns={"status"},
        blocking_severity=dg.AssetCheckSeverity.WARN,
    )
    samples = custom.metadata["unexpected_samples"].value
    assert "747101010190000X" in samples and "pensiun" not in samples and "p*** (7 chars)" in samples
    assert custom.severity == dg.AssetCheckSeverity.WARN


def test_expectation_gx_cannot_evaluate_fails_the_check(db, gx_resource):
    outcome = gx_resource.validate(
        db, "staging.pu_workers", [gxe.ExpectColumnValuesToNotBeNull(column="no_such_column")]
    )

    [result] = outcome.results
    assert not result.success and "no_such_column" in result.error
    check = to_check_result(outcome, check_name="c")
    assert not check.passed and "error" in check.metadata["expectations"].value


def test_file_is_not_locked_after_validation(db, gx_resource):
    gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)

    # In this process DuckDB refuses a read-write open while a read-only one is alive ...
    with duckdb.connect(db) as con:
        con.execute("DELETE FROM staging.pu_workers WHERE kpj IS NULL")
    # ... and another process cannot take the write lock while any process holds the file.
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('DELETE FROM staging.pu_workers')"
    subprocess.run([sys.executable, "-c", code, db], check=True)
    with duckdb.connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.pu_workers").fetchone() == (0,)


def test_validation_runs_in_duckdb_not_pandas(db, gx_resource):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        outcome = gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)

    datasource = checks_gx._datasource(checks_gx.Path(db).resolve())
    assert type(datasource).__name__ == "SQLDatasource"
    assert datasource.get_execution_engine().dialect_name == "duckdb"
    assert outcome.results[1].unexpected_count == 2
    # DuckDB computed the counts: one aggregate over the partition holds the regex test ...
    [aggregate] = [s for s in statements if "match_regex.unexpected_count" in s]
    assert "sum(CASE WHEN" in aggregate and "nik ~" in aggregate and JUNE_8 in aggregate
    # ... and nothing but aggregates or samples of at most a few rows came back to Python.
    # (The bare batch query is run once, unread, for its column names.)
    bare = 'SELECT * FROM "staging"."pu_workers" WHERE ' + JUNE_8
    for s in statements:
        assert s == bare or "LIMIT" in s or "count(" in s or "sum(" in s, s


def test_batch_rows_are_never_all_read(tmp_path, gx_resource):
    # A tripwire column errors when its last row is computed: reading the whole batch into
    # Python would trip it; aggregates that do not reference it never compute it.
    db = str(tmp_path / "big.duckdb")
    with duckdb.connect(db) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute(
            "CREATE TABLE staging.t AS"
            " SELECT i, lpad(i::VARCHAR, 16, '0') AS nik FROM range(1000000) r(i)"
        )
        con.execute(
            "CREATE VIEW staging.v AS SELECT nik,"
            " CASE WHEN i = 999999 THEN error('whole batch read') END AS tripwire FROM staging.t"
        )
        with pytest.raises(duckdb.InvalidInputException, match="whole batch read"):
            con.execute("SELECT * FROM staging.v").fetchall()

    regex = [gxe.ExpectColumnValuesToMatchRegex(column="nik", regex="^[0-9]{16}$")]
    outcome = gx_resource.validate(db, "staging.v", regex)

    assert outcome.results[0].error is None
    assert outcome.success and outcome.element_count == 1_000_000


def test_asset_checks_in_dagster(tmp_path):
    db = str(tmp_path / "pipeline.duckdb")

    @dg.asset
    def pu_workers() -> None:
        """Registrations of wage-earning workers (PU), all snapshot dates."""
        with duckdb.connect(db) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS staging")
            con.execute(
                "CREATE OR REPLACE TABLE staging.pu_workers (kpj VARCHAR, nik VARCHAR,"
                " nama VARCHAR, status VARCHAR, upah BIGINT, snapshot_date DATE)"
            )
            con.execute(f"INSERT INTO staging.pu_workers VALUES {ROWS}")

    @dg.asset_check(asset=pu_workers)
    def june_1_valid(gx: GreatExpectationsResource) -> dg.AssetCheckResult:
        outcome = gx.validate(db, "staging.pu_workers", SUITE, where=JUNE_1)
        return to_check_result(outcome, check_name="june_1_valid")

    @dg.asset_check(asset=pu_workers, blocking=True)
    def june_8_valid(gx: GreatExpectationsResource) -> dg.AssetCheckResult:
        outcome = gx.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)
        return to_check_result(outcome, check_name="june_8_valid")

    result = dg.materialize(
        [pu_workers, june_1_valid, june_8_valid],
        resources={"gx": GreatExpectationsResource()},
        raise_on_error=False,
    )

    # The blocking check failed with severity ERROR, so the run fails (downstream would not run).
    assert not result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"june_1_valid", "june_8_valid"}
    good, bad = evaluations["june_1_valid"], evaluations["june_8_valid"]
    assert good.passed and good.asset_key == dg.AssetKey("pu_workers")
    assert good.metadata["unexpected_total"].value == 0
    assert good.metadata["rows_validated"].value == 3
    assert not bad.passed and bad.severity == dg.AssetCheckSeverity.ERROR
    assert bad.metadata["unexpected_total"].value == 7
    assert bad.metadata["rows_validated"].value == 6
    assert "| expect_column_values_to_be_unique | nik | FAIL | 2 | 6 |" in bad.metadata["expectations"].value
    assert "7471***" in bad.metadata["unexpected_samples"].value


def test_validation_inside_a_hold_uses_the_held_database(db, gx_resource):
    from warehouse import db as warehouse_db

    # a run holds the pipeline database read-write; a read-only open of it in the same process would be refused
    with warehouse_db.hold(db):
        holder = warehouse_db.held(db)
        holder.execute("DELETE FROM staging.pu_workers WHERE kpj IS NULL")
        outcome = gx_resource.validate(db, "staging.pu_workers", SUITE, where=JUNE_8)
    got = by_column(outcome)[("expect_column_values_to_not_be_null", "kpj")]
    assert (got.success, got.unexpected_count, got.element_count) == (True, 0, 5)  # sees the held connection's write
    test_file_is_not_locked_after_validation(db, gx_resource)  # and nothing holds the file once the hold ends
