"""analytics.duckdb as analysts meet it: idempotent, swapped in whole under an open reader, intact after a kill -9,
readable by DuckDB 1.4, with a Parquet copy of each table and the trend against the national targets."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.publish import OPEN, PUBLICATION, PUBLISHED_SCHEMA, STORAGE_VERSION, parquet_dir, tier_tables
from warehouse.db import sql
from pipelines.cli import run_snapshot
from pipelines.definitions import defs
from warehouse.partitions import ensure_snapshots
from warehouse.resources import Warehouse
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, TEST_KEY, copy_warehouse, make_warehouse

EARLIER = date(2025, 1, 10)  # uses the 2024-12-31 registry file; SAMPLE_DATE (2025-06-08) uses it too
PROJECT = Path(__file__).resolve().parents[1]


def dump(path: Path, schemas: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
    """Every table of a DuckDB file (or of some schemas), rows in a fixed order; not the publication's own id."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall()
                for s, t in tables if (schemas is None or s in schemas) and t != PUBLICATION}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two snapshots published one after the other; the warehouse as it stood after the first is kept aside."""
    root = tmp_path_factory.mktemp("publish")
    landing = root / "landing"
    shutil.copytree(CONTRACT_SAMPLE, landing)
    shutil.copytree(landing / SAMPLE_DATE.isoformat(), landing / EARLIER.isoformat())
    warehouse = make_warehouse(landing, root / "warehouse")
    run_snapshot(warehouse, EARLIER)
    after_first = copy_warehouse(warehouse, root / "after_first")
    run_snapshot(warehouse, SAMPLE_DATE)
    return {"after_first": after_first, "final": warehouse,
            "first_dump": dump(after_first.analytics_db), "final_dump": dump(warehouse.analytics_db),
            "final_published": dump(warehouse.pipeline_db, (PUBLISHED_SCHEMA,))}


def test_materialising_a_snapshot_twice_gives_identical_tables(runs):
    warehouse = runs["final"]
    pipeline_before = dump(warehouse.pipeline_db)
    run_snapshot(warehouse, SAMPLE_DATE)
    assert dump(warehouse.analytics_db) == runs["final_dump"]
    assert dump(warehouse.pipeline_db) == pipeline_before


def test_analytics_holds_every_published_snapshot_and_the_trend(runs):
    tables = runs["final_dump"]
    assert set(tables) == {f"main.{t}" for t in tier_tables(OPEN)}
    assert [r[0] for r in tables["main.snapshots"]] == [EARLIER, SAMPLE_DATE]
    with duckdb.connect(str(runs["final"].analytics_db), read_only=True) as con:
        commented = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
        assert all(commented[t] for t in tier_tables(OPEN)), commented
        uncommented = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN "
                                  "('coverage_trend', 'coverage_vs_targets') AND comment IS NULL").fetchall()
        assert uncommented == []


# --- atomic swap, under an analyst's open connection ---------------------------------------------------------

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0], flush=True)
sys.stdin.readline()  # held open while the pipeline publishes
print(con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0], flush=True)
"""


def snapshots_seen_by_a_new_process(analytics: Path) -> int:
    out = subprocess.run([sys.executable, "-c", READER, str(analytics)], input="\n", capture_output=True,
                         text=True, timeout=120, check=True)
    return int(out.stdout.split()[0])


def test_an_open_reader_keeps_working_and_a_new_connection_sees_the_new_file(runs, tmp_path):
    warehouse = copy_warehouse(runs["after_first"], tmp_path)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse.analytics_db)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1"
        run_snapshot(warehouse, SAMPLE_DATE)  # publishes while the analyst's connection is open
        out, err = reader.communicate("\n", timeout=120)
        assert reader.returncode == 0, err
        assert out.strip() == "1"  # the old connection still reads the old file, without an error
    finally:
        reader.kill()
    assert snapshots_seen_by_a_new_process(warehouse.analytics_db) == 2
    assert dump(warehouse.analytics_db) == runs["final_dump"]


# --- kill -9 in the middle of a run ------------------------------------------------------------------------

RUNNER = """
import sys
from datetime import date
from pipelines.cli import run_snapshot
from warehouse.resources import Warehouse
run_snapshot(Warehouse(landing_dir=sys.argv[1], warehouse_dir=sys.argv[2], pseudonym_key=sys.argv[3]),
             date.fromisoformat(sys.argv[4]))
"""


def _step_started(home: Path, step_key: str) -> bool:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(limit=1)
        return bool(runs) and any(r.step_key == step_key and r.dagster_event and r.dagster_event.event_type_value == "STEP_START"
                                  for r in instance.all_logs(runs[0].run_id))


@pytest.mark.parametrize("moment", ["marts__coverage_by_region", "publish__snapshot", "building analytics.duckdb"])
def test_kill_9_leaves_the_published_state_and_the_rerun_matches(runs, tmp_path, moment):
    """The run for the second snapshot is killed with SIGKILL: in the middle of the marts (some replaced, some
    not), as the published rows are copied, or while the new analytics.duckdb is being written."""
    warehouse = copy_warehouse(runs["after_first"], tmp_path)
    home = tmp_path / "dagster_home"  # a plain instance, so the test can watch the run's steps
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    building = warehouse.analytics_db.with_name("analytics.duckdb.building")
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(warehouse.landing), str(warehouse.analytics_db.parent),
                             TEST_KEY, SAMPLE_DATE.isoformat()], cwd=PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not (building.exists() if moment.startswith("building") else _step_started(home, moment)):
            assert proc.poll() is None, f"the run ended before {moment}: {proc.stderr.read()[-2000:]}"
            assert time.monotonic() < deadline, f"{moment} not reached"
            time.sleep(0.01 if moment.startswith("building") else 0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    # the analysts' copy is the previous one, whole; the published rows are either all old or all new
    assert dump(warehouse.analytics_db) == runs["first_dump"]
    published = dump(warehouse.pipeline_db, (PUBLISHED_SCHEMA,))  # also: the database recovers from its WAL
    assert published in (dump(runs["after_first"].pipeline_db, (PUBLISHED_SCHEMA,)), runs["final_published"])

    run_snapshot(warehouse, SAMPLE_DATE)  # the rerun, as the sensor or a person would start it
    assert dump(warehouse.analytics_db) == runs["final_dump"]
    assert dump(warehouse.pipeline_db, (PUBLISHED_SCHEMA,)) == runs["final_published"]
    assert not building.exists() and not Path(f"{building}.wal").exists()


# --- Parquet, and DuckDB 1.4 ---------------------------------------------------------------------------------

def test_a_parquet_file_per_table_beside_it_with_the_same_rows(runs):
    warehouse = runs["final"]
    folder = parquet_dir(warehouse)
    assert folder.parent == warehouse.analytics_db.parent
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted([*tier_tables(OPEN), PUBLICATION])
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        for table in tier_tables(OPEN):
            expected = pl.from_arrow(con.sql(f"SELECT * FROM {table}").to_arrow_table())
            got = pl.read_parquet(folder / f"{table}.parquet")  # another reader than DuckDB
            assert got.columns == expected.columns
            assert got.sort(pl.all()).equals(expected.sort(pl.all())), table
    assert not (folder.parent / "parquet.building").exists()


DUCKDB_14 = """
import json, sys, duckdb
path, folder = sys.argv[1], sys.argv[2]
with duckdb.connect(path, read_only=True) as con:
    tables = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for (t,) in con.execute("SHOW TABLES").fetchall()}
    comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'coverage_trend'").fetchall()[0][0]
    parquet = {t: con.execute(f"SELECT count(*) FROM read_parquet('{folder}/{t}.parquet')").fetchall()[0][0] for t in tables}
print(json.dumps({"version": duckdb.__version__, "tables": tables, "parquet": parquet, "comment": comment}))
"""


@pytest.fixture(scope="session")
def duckdb_14_python() -> Path:
    """A Python with DuckDB 1.4 from PyPI, in a venv outside the project (cached between runs)."""
    venv = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jamsostek-tests" / "duckdb-1.4"
    python = venv / "bin" / "python"
    if not (python.exists() and subprocess.run([str(python), "-c", "import duckdb"], capture_output=True).returncode == 0):
        shutil.rmtree(venv, ignore_errors=True)
        # from the interpreter the project's venv was made from: it has venv and ensurepip
        made = subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)],
                              capture_output=True, text=True, timeout=300)
        pip = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "duckdb==1.4.*"], capture_output=True, text=True, timeout=600) if made.returncode == 0 else made
        if pip.returncode != 0:
            reason = f"cannot make a DuckDB 1.4 venv in {venv} (offline?): {str(pip.stderr)[-300:]}"
            pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    return python


@pytest.mark.slow
def test_analytics_and_parquet_open_in_duckdb_1_4(runs, duckdb_14_python, tmp_path):
    warehouse = runs["final"]
    out = subprocess.run([str(duckdb_14_python), "-c", DUCKDB_14, str(warehouse.analytics_db), str(parquet_dir(warehouse))],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.4.")
    expected = {t.split(".")[1]: len(rows) for t, rows in runs["final_dump"].items()}
    expected[PUBLICATION] = 1
    assert seen["tables"] == expected and seen["parquet"] == expected
    assert seen["comment"].startswith("Where coverage is heading")

    # the test can fail: a file in DuckDB 2.0's own format is refused by 1.4
    native = tmp_path / "native.duckdb"
    with duckdb.connect(str(native)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    refused = subprocess.run([str(duckdb_14_python), "-c", f"import duckdb; duckdb.connect('{native}', read_only=True)"],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "version" in refused.stderr.lower()
    assert STORAGE_VERSION == "v1.4.0"


# --- the trend against the targets -------------------------------------------------------------------------

def test_trend_growth_and_required_growth_by_hand(runs):
    with duckdb.connect(str(runs["final"].analytics_db), read_only=True) as con:
        (c1, p1), (c2, p2) = con.execute("SELECT covered_workers, coverage_pct FROM coverage_by_region "
                                         "WHERE level = 'city' ORDER BY snapshot_date").fetchall()
        rows = con.execute("""SELECT snapshot_date, target_pct_this_year, growth_window_days,
                                     covered_workers_growth_pct_per_year, required_growth_pct_per_year,
                                     required_pp_per_year, final_target_year, participant_growth_target_pct
                              FROM coverage_trend ORDER BY snapshot_date""").fetchall()
    first, second = rows
    assert first[1] == second[1] == 32.15  # RPJMN 2025
    assert first[2] is None and first[3] is None  # nothing a month or more before the first snapshot
    days = (SAMPLE_DATE - EARLIER).days
    assert second[2] == days
    assert second[3] == pytest.approx(100 * ((c2 / c1) ** (365.25 / days) - 1))
    years = (date(2045, 12, 31) - SAMPLE_DATE).days / 365.25
    assert second[4] == pytest.approx(100 * ((99.5 / p2) ** (1 / years) - 1))
    assert second[5] == pytest.approx((99.5 - p2) / years)
    assert second[6] == 2045 and second[7] == 20


def test_target_for_a_year_between_targets_is_interpolated(tmp_path):
    with duckdb.connect(str(tmp_path / "t.duckdb")) as con:
        con.execute("CREATE SCHEMA publish; CREATE SCHEMA reference")
        con.execute("""CREATE TABLE reference.coverage_targets AS SELECT * FROM read_csv(?, header = true,
                       columns = {'indicator': 'VARCHAR', 'year': 'INTEGER', 'value': 'DOUBLE', 'source': 'VARCHAR',
                       'note': 'VARCHAR'})""", [str(PROJECT / "reference" / "targets.csv")])
        con.execute("""CREATE TABLE publish.coverage_by_region AS SELECT * FROM (VALUES
                       (DATE '2024-06-30', 'city', 100, 30, 30.0), (DATE '2027-03-31', 'city', 100, 40, 40.0),
                       (DATE '2029-12-31', 'city', 100, 44, 44.0), (DATE '2046-01-01', 'city', 100, 99, 99.0))
                       t(snapshot_date, level, eligible_workforce, covered_workers, coverage_pct)""")
        con.execute("CREATE TABLE publish.coverage_by_segment AS SELECT DATE '2024-06-30' AS snapshot_date, 1 AS active_registrations")
        got = {d.year: (t, s) for d, t, s in con.execute(
            f"SELECT snapshot_date, target_pct_this_year, target_source FROM ({sql('marts/coverage_trend', src='publish')})").fetchall()}
    assert got[2024] == (None, None)  # before the first target year
    assert got[2027][0] == pytest.approx(34.99 + (43.92 - 34.99) / 3)
    assert got[2027][1] == "between RKP 2026 2026 and RPJMN 2025-2029 2029"
    assert got[2029] == (43.92, "RPJMN 2025-2029 2029")
    assert got[2046] == (99.5, "RPJPN 2025-2045 2045")


def test_edited_targets_reach_analytics_and_a_broken_file_is_refused(runs, tmp_path):
    warehouse = copy_warehouse(runs["final"], tmp_path)
    reference = tmp_path / "reference"
    shutil.copytree(PROJECT / "reference", reference)
    targets = reference / "targets.csv"
    targets.write_text(targets.read_text().replace("coverage_pct,2025,32.15", "coverage_pct,2025,30.5"))
    edited = Warehouse(landing_dir=warehouse.landing_dir, warehouse_dir=warehouse.warehouse_dir,
                       reference_dir=str(reference), pseudonym_key=TEST_KEY)
    # the Definitions' own assets; these three re-run
    selection = dg.AssetSelection.assets(["reference", "coverage_targets"], ["marts", "coverage_trend"],
                                         ["publish", "analytics"])
    instance = ensure_snapshots(SAMPLE_DATE)
    result = dg.materialize(defs.assets, selection=selection, partition_key=SAMPLE_DATE.isoformat(), resources={"warehouse": edited},
                            instance=instance)
    assert result.success
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        assert {t for (t,) in con.execute("SELECT DISTINCT target_pct_this_year FROM coverage_trend").fetchall()} == {30.5}

    targets.write_text(targets.read_text() + "coverage_pct,2029,45,somebody,a second 2029 target\n")
    result = dg.materialize(defs.assets, selection=selection, partition_key=SAMPLE_DATE.isoformat(),
                            resources={"warehouse": edited}, instance=instance, raise_on_error=False)
    failure = [e for e in result.all_events if e.is_step_failure][0].step_failure_data.error
    assert f"{targets}: two coverage_pct targets for 2029" in str(failure.cause.message if failure.cause else failure.message)
