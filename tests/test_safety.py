"""Safe to leave running (issue 15): the published copies cannot be broken by an analyst, runs coordinate through
the writer lock, weak keys and bad settings are refused at start, small cells are suppressed in the open tier,
and every Parquet file names the publication it belongs to."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.publish import (OPEN, PUBLICATION, RESTRICTED, SUPPRESSED, build_analytics, open_tier_problems,
                            parquet_dir, tier_tables)
from pipelines.cli import main, run_snapshot
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, copy_warehouse, hold_lock_elsewhere, make_warehouse
from warehouse.resources import DEMO_PSEUDONYM_KEY

PROJECT = Path(__file__).resolve().parents[1]
GOOD_KEY = "0123456789abcdef0123456789abcdef-safety"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The contract sample published with the default threshold (5), into a folder whose name has apostrophes."""
    root = tmp_path_factory.mktemp("safety") / "O'Brien's warehouses"
    shutil.copytree(CONTRACT_SAMPLE, root / "landing")
    warehouse = make_warehouse(root / "landing", root / "warehouse", disclosure_threshold=5)
    run_snapshot(warehouse, SAMPLE_DATE)
    return warehouse


def tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


# --- configuration --------------------------------------------------------------------------------------

def test_an_apostrophe_in_the_warehouse_path_publishes(published):
    assert "'" in str(published.analytics_db)
    assert published.analytics_db.is_file() and published.restricted_db.is_file()


@pytest.fixture
def env(tmp_path, monkeypatch):
    shutil.copytree(CONTRACT_SAMPLE, tmp_path / "landing")
    monkeypatch.setenv("JAMSOSTEK_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("JAMSOSTEK_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("JAMSOSTEK_PSEUDONYM_KEY", GOOD_KEY)
    return tmp_path


@pytest.mark.parametrize("key, says", [("", "is not set"), (DEMO_PSEUDONYM_KEY, "the published demo key"),
                                       ("short-key", "has 9 bytes")])
def test_run_refuses_an_empty_demo_or_short_key(env, monkeypatch, capsys, key, says):
    monkeypatch.setenv("JAMSOSTEK_PSEUDONYM_KEY", key)
    assert main(["run", "--date", SAMPLE_DATE.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "JAMSOSTEK_PSEUDONYM_KEY" in err and says in err and "Traceback" not in err
    assert not (env / "warehouse").exists()


@pytest.mark.parametrize("variable, value", [("JAMSOSTEK_AREA_CODE", "74.71' OR 1=1 --"),
                                             ("JAMSOSTEK_AREA_CODE", "99.99"),
                                             ("JAMSOSTEK_AREA_CODE", "74"), ("JAMSOSTEK_AREA_CODE", "74.71.01"),
                                             ("JAMSOSTEK_IDENTITY_METHOD", "fuzzy"),
                                             ("JAMSOSTEK_DISCLOSURE_THRESHOLD", "five")])
def test_a_bad_setting_fails_at_start_by_name(env, monkeypatch, capsys, variable, value):
    monkeypatch.setenv(variable, value)
    started = time.monotonic()
    assert main(["run", "--date", SAMPLE_DATE.isoformat()]) == 1
    err = capsys.readouterr().err
    assert variable in err and "Traceback" not in err
    assert time.monotonic() - started < 5 and not (env / "warehouse").exists()


# --- the CLI as a person meets it ---------------------------------------------------------------------------

def test_version_help_and_summary_of_a_date_not_published(published, monkeypatch, capsys):
    with pytest.raises(SystemExit) as out:
        main(["--version"])
    assert out.value.code == 0 and capsys.readouterr().out.startswith("jamsostek ")
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "(default: 0)" in capsys.readouterr().out
    monkeypatch.setenv("JAMSOSTEK_WAREHOUSE_DIR", str(published.analytics_db.parent))
    assert main(["summary", "--date", "2025-01-01"]) == 1
    assert f"published snapshots: {SAMPLE_DATE}" in capsys.readouterr().err
    monkeypatch.setenv("JAMSOSTEK_WAREHOUSE_DIR", str(published.analytics_db.parent / "nowhere"))
    assert main(["summary"]) == 1
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err


def test_cli_prints_no_preview_warning():
    out = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--help"], cwd=PROJECT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "Warning" not in out.stderr, out.stderr


# --- two tiers, small cells ------------------------------------------------------------------------------------

def test_open_tier_has_no_person_level_table_and_restricted_tier_has_them(published):
    assert tables(published.analytics_db) == {*tier_tables(OPEN), PUBLICATION}
    assert {"workers", "record_links"} <= tables(published.restricted_db) == {*tier_tables(RESTRICTED), PUBLICATION}
    with duckdb.connect(str(published.analytics_db), read_only=True) as con:
        columns = {c for (c,) in con.execute("SELECT column_name FROM duckdb_columns()").fetchall()}
    assert not columns & {"person_key", "person_id", "nik", "kpj", "nama", "source_row"}


def test_no_cell_under_the_threshold_in_the_open_tier(published):
    with duckdb.connect(str(published.analytics_db), read_only=True) as con:
        assert open_tier_problems(con, 5) == []
        city = con.execute("SELECT covered_workers, uncovered_workers, coverage_pct, eligible_workforce, suppressed "
                           "FROM coverage_by_region WHERE level = 'city'").fetchall()
        # 4 covered of 24: the count, its complement and the rate are hidden; the workforce stays
        ((covered, uncovered, pct, eligible, suppressed),) = city
        assert (covered, uncovered, pct, eligible) == (None, None, None, 24)
        assert {"covered_workers", "uncovered_workers", "coverage_pct"} <= set(suppressed.split(","))
        counts = con.execute("SELECT count(*) FILTER (WHERE suppressed IS NOT NULL) FROM coverage_by_segment").fetchall()
        assert counts[0][0] > 0
        comment = con.execute(f"SELECT comment FROM duckdb_columns() WHERE table_name = 'coverage_by_region' "
                              f"AND column_name = '{SUPPRESSED}'").fetchall()[0][0]
        assert "fewer than 5 people" in comment


def test_the_disclosure_check_catches_an_unsuppressed_cell(published, tmp_path):
    leaky = tmp_path / "leaky.duckdb"
    shutil.copy(published.analytics_db, leaky)
    os.chmod(leaky, 0o644)
    with duckdb.connect(str(leaky)) as con:
        con.execute("UPDATE coverage_by_region SET covered_workers = 4 WHERE level = 'city'")
        con.execute("CREATE TABLE workers AS SELECT 'k' AS person_key")
        problems = open_tier_problems(con, 5)
    assert any("coverage_by_region.covered_workers: 1 cells under 5" in p for p in problems), problems
    assert any(p.startswith("workers: not an open-tier table") for p in problems), problems


def test_disclosure_check_is_blocking_on_the_published_asset():
    from pipelines.definitions import defs

    specs = {s.name: s for s in defs.resolve_asset_graph().asset_check_keys and
             [s for c in defs.asset_checks or [] for s in c.check_specs]}
    assert specs["disclosure_control"].blocking
    assert specs["disclosure_control"].asset_key == dg.AssetKey(["publish", "analytics"])


# --- the published files --------------------------------------------------------------------------------------

def test_parquet_files_carry_the_publication_id_of_analytics_duckdb(published):
    for tier, db in ((OPEN, published.analytics_db), (RESTRICTED, published.restricted_db)):
        with duckdb.connect(str(db), read_only=True) as con:
            (publication_id,) = con.execute(f"SELECT publication_id FROM {PUBLICATION}").fetchall()[0]
        folder = parquet_dir(published, tier)
        assert folder.is_symlink() and folder.resolve().name.endswith(publication_id)
        files = sorted(folder.glob("*.parquet"))
        assert {f.stem for f in files} == {*tier_tables(tier), PUBLICATION}
        with duckdb.connect() as con:
            ids = {f.name: {k.decode(): v.decode() for k, v in con.execute(
                "SELECT key, value FROM parquet_kv_metadata(?)", [str(f)]).fetchall()}["publication_id"]
                for f in files}
        assert set(ids.values()) == {publication_id}, ids


# root ignores file modes: as root, the reader becomes an ordinary user (nobody) once Python has started
AS_ANALYST = "import os, sys, duckdb\nif os.geteuid() == 0: os.setgid(65534); os.setuid(65534)\n"


def test_a_hidden_count_does_not_come_back_from_its_complement_or_its_rate():
    """covered + not covered = roster: with 2 not covered of 22, both counts and the rate are hidden."""
    from assets.publish import suppressed_select

    with duckdb.connect() as con:
        select = ("SELECT * FROM (VALUES ('OPD-1', 22::BIGINT, 22::BIGINT, 20::BIGINT, 2::BIGINT, 0::BIGINT, 20 / 22 * 100.0,"
                  " 20::BIGINT, 0::BIGINT)) t(kode_opd, staff_on_roster, staff_matched, staff_covered, staff_not_covered,"
                  " staff_not_matched, staff_covered_pct, staff_covered_pu, staff_covered_bpu)")
        columns = con.execute(f"DESCRIBE {select}").fetchall()
        row = con.execute(suppressed_select("opd_coverage", select, [(c, t) for c, t, *_ in columns]),
                          {"threshold": 5}).fetchall()[0]
    named = dict(zip([c for c, *_ in columns] + ["suppressed"], row))
    assert named["staff_on_roster"] == 22 and named["staff_covered"] is None and named["staff_not_covered"] is None
    assert named["staff_covered_pct"] is None


def test_published_files_are_read_only_and_a_read_write_open_is_refused(published):
    assert published.analytics_db.stat().st_mode & 0o777 == 0o444
    assert published.restricted_db.stat().st_mode & 0o777 == 0o440  # personal data: not for every local user
    # root ignores file modes: the reader runs as an ordinary user, on a copy in a folder it can enter
    folder = Path(tempfile.mkdtemp())
    try:
        os.chmod(folder, 0o755)
        copy = folder / "analytics.duckdb"
        shutil.copy2(published.analytics_db, copy)
        reader = AS_ANALYST + "duckdb.connect(sys.argv[1]).execute('CREATE TABLE x AS SELECT 1')"
        out = subprocess.run([sys.executable, "-c", reader, str(copy)], capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "Permission denied" in out.stderr, out.stderr[-500:]
        ok = AS_ANALYST + "print(duckdb.connect(sys.argv[1], read_only=True).sql('SELECT 1').fetchall())"
        assert subprocess.run([sys.executable, "-c", ok, str(copy)], capture_output=True, text=True,
                              timeout=60).returncode == 0
        assert not copy.with_name("analytics.duckdb.wal").exists()
    finally:
        shutil.rmtree(folder)


WRITER_KILLED = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("PRAGMA disable_checkpoint_on_shutdown")
con.execute("SET checkpoint_threshold = '1GB'")
con.execute("CREATE TABLE analyst_scratch AS SELECT range AS i FROM range(1000)")
print("written", flush=True)
os.kill(os.getpid(), 9)
"""


def test_a_stale_wal_an_analyst_left_does_not_harm_later_readers(published, tmp_path):
    """An analyst (here root, whom the file mode does not stop) wrote into the published file and died: the
    `.wal` is left beside it. The next publish clears it; readers then see the new publication, whole."""
    warehouse = copy_warehouse(published, tmp_path)
    warehouse = warehouse.model_copy(update={"disclosure_threshold": 5})
    live = warehouse.analytics_db
    out = subprocess.run([sys.executable, "-c", WRITER_KILLED, str(live)], capture_output=True, text=True, timeout=60)
    assert "written" in out.stdout, out.stderr
    assert Path(f"{live}.wal").exists()
    build_analytics(warehouse)
    assert not Path(f"{live}.wal").exists()
    for _ in range(2):  # later readers, in fresh processes
        reader = ("import sys, duckdb; con = duckdb.connect(sys.argv[1], read_only=True); "
                  "print(sorted(t for (t,) in con.execute('SELECT table_name FROM duckdb_tables()').fetchall()))")
        out = subprocess.run([sys.executable, "-c", reader, str(live)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "analyst_scratch" not in out.stdout and "coverage_by_region" in out.stdout, \
            out.stderr


# --- runs that coordinate ----------------------------------------------------------------------------------

def test_a_second_run_gets_the_lock_message_and_a_dead_holder_frees_it(env, capsys):
    warehouse_dir = env / "warehouse"
    holder = hold_lock_elsewhere(warehouse_dir, "jamsostek run --date 2025-06-08")
    try:
        assert main(["run", "--date", SAMPLE_DATE.isoformat()]) == 1
        err = capsys.readouterr().err
        assert f"is being written by process {holder.pid}" in err and "jamsostek run --date 2025-06-08" in err
        assert "Traceback" not in err and "expectations failed" not in err and "Could not set lock" not in err
        # a Dagster run (the resource takes the same lock) fails at start with the same message
        from pipelines.definitions import defs
        from tests.conftest import make_warehouse as mk
        from warehouse.partitions import ensure_snapshots
        result = defs.resolve_job_def("snapshot_job").execute_in_process(
            partition_key=SAMPLE_DATE.isoformat(), raise_on_error=False, instance=ensure_snapshots(SAMPLE_DATE),
            resources={"warehouse": mk(env / "landing", warehouse_dir)})
        assert not result.success
        errors = [getattr(e.event_specific_data, "error", None) for e in result.all_events if e.is_failure]
        messages = " ".join(err.to_string() for err in errors if err is not None)
        assert "is being written by process" in messages and not result.get_asset_check_evaluations()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    from warehouse.lock import writer_lock
    started = time.monotonic()
    with writer_lock(warehouse_dir):  # the kernel dropped the dead holder's lock
        pass
    assert time.monotonic() - started < 1


# --- a run after a killed run, on one Dagster instance --------------------------------------------------------

def _instance_state(home: Path) -> tuple[list[dg.DagsterRun], int, bool]:
    """The instance's runs (newest first), the slots of the pool `pipeline_db` in use, and whether a step started."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = list(instance.get_runs())
        slots = instance.event_log_storage.get_concurrency_info("pipeline_db").active_slot_count
        stepped = bool(runs) and any(r.dagster_event and r.dagster_event.event_type_value == "STEP_START"
                                     for r in instance.all_logs(runs[0].run_id))
    return runs, slots, stepped


def test_a_run_after_a_killed_run_with_dagster_home_starts_within_a_bounded_time(env):
    """`jamsostek run` with DAGSTER_HOME (the project's dagster.yaml: a pool of one slot) is killed with SIGKILL while
    a step holds the slot: the run stays "started" and keeps the slot. The next `jamsostek run` sees that its
    process is gone, fails it, frees the slot, and runs: its first step starts within seconds, and it succeeds."""
    command = [sys.executable, "-m", "pipelines.cli", "run", "--date", SAMPLE_DATE.isoformat()]
    for attempt in range(5):  # steps take ~0.1 s: a kill can land between two, with the slot free; then again
        home = env / f"dagster_home{attempt}"
        home.mkdir()
        shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
        run_env = {**os.environ, "DAGSTER_HOME": str(home)}  # the landing, warehouse and key of `env`
        first = subprocess.Popen(command, cwd=PROJECT, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True)
        try:
            deadline = time.monotonic() + 300
            while True:
                assert first.poll() is None, f"the first run ended before it was killed: {first.stderr.read()[-2000:]}"
                assert time.monotonic() < deadline, "the first run never started a step"
                runs, slots, stepped = _instance_state(home)
                if stepped and slots == 1:
                    break
                time.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        (killed,), slots, _ = _instance_state(home)
        if slots == 1:
            break
    assert killed.status == dg.DagsterRunStatus.STARTED and slots == 1  # what used to block the next run forever

    started = time.monotonic()
    second = subprocess.Popen(command, cwd=PROJECT, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        out, err = second.communicate(timeout=300)
    finally:
        if second.poll() is None:
            second.kill()
    elapsed = time.monotonic() - started
    assert second.returncode == 0, err[-3000:]
    assert f"snapshot {SAMPLE_DATE}" in out and "Traceback" not in err

    with dg.DagsterInstance.from_config(str(home)) as instance:
        failed = instance.get_run_by_id(killed.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        messages = " ".join(r.message or "" for r in instance.all_logs(killed.run_id))
        assert f"(process {first.pid}) is gone" in messages
        (rerun,) = [r for r in instance.get_runs() if r.run_id != killed.run_id]
        assert rerun.status == dg.DagsterRunStatus.SUCCESS
        first_step = min(r.timestamp for r in instance.all_logs(rerun.run_id)
                         if r.dagster_event and r.dagster_event.event_type_value == "STEP_START")
        assert instance.event_log_storage.get_concurrency_info("pipeline_db").active_slot_count == 0
    # bounded: the second run's first step starts within a minute of its launch (start-up ~5-10 s on 2 cores),
    # and the whole run (~15-30 s here) is done well within the 5 minutes it is given
    assert first_step - (time.time() - (time.monotonic() - started)) < 60, first_step
    print(f"\nrun after a killed run: first step after {first_step - (time.time() - (time.monotonic() - started)):.1f} s, "
          f"done in {elapsed:.1f} s")
