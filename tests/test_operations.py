"""Operations as the pipeline's users meet them: the nightly schedule, the landing sensor, folders that are not
there, one writer under the concurrency pool, and backfills of 30 snapshots through a real `dagster dev`."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest
import yaml

from pipelines.cli import RunFailed, run_snapshot
from pipelines.definitions import defs, landing_sensor, nightly_snapshot
from warehouse.partitions import SNAPSHOTS, TIMEZONE, ensure_snapshots, landing_dates
from pipelines.schedules import NIGHTLY_CRON
from pipelines.sensors import PUBLISHED
from tests.conftest import CONTRACT_SAMPLE, SAMPLE_DATE, make_warehouse
from tests.dagster_dev import DAGSTER, PROJECT, dagster_dev, dagster_environment, lock_errors, step_intervals

WITA = ZoneInfo(TIMEZONE)
POOL = "pipeline_db"


def landing_with(root: Path, dates: list[date]) -> Path:
    """The contract sample delivered on each of `dates` (its registry files cover 2024-12-31 and 2025-06-30)."""
    landing = root / "landing"
    shutil.copytree(CONTRACT_SAMPLE / "civil_registry", landing / "civil_registry")
    for d in dates:
        shutil.copytree(CONTRACT_SAMPLE / SAMPLE_DATE.isoformat(), landing / d.isoformat())
    return landing


# --- the one-writer configuration --------------------------------------------------------------------------

def test_dagster_yaml_limits_every_pool_to_one_op_at_a_time(tmp_path):
    shutil.copy(PROJECT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.global_op_concurrency_default_limit == 1
        config = yaml.safe_load((PROJECT / "dagster.yaml").read_text())
        assert config["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}
        # one run at a time: on SQLite storage two runs can both win a freed slot (docs/operations.md)
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.run_retries_enabled and not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.nux_enabled  # no newsletter prompt over the UI's dialogs


def test_every_step_that_opens_the_pipeline_database_is_in_the_pool():
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).pools == {POOL}, key.to_user_string()
    checks = [c for c in defs.asset_checks]
    assert checks and all(c.node_def.pool == POOL for c in checks)
    assert {node.definition.pool for node in job.graph.node_dict.values()} == {POOL}


def test_runs_execute_in_one_process_unless_asked():
    for job in (defs.resolve_job_def("snapshot_job"), defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def.name == "in_process_unless_asked"
        schema = job.executor_def.config_schema.as_field()
        assert schema.default_value == {"in_process": {}}


# --- the nightly schedule ---------------------------------------------------------------------------------

def test_nightly_schedule_is_at_two_in_the_morning_wita():
    schedule = defs.resolve_schedule_def("nightly_snapshot")
    assert schedule.cron_schedule == NIGHTLY_CRON == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Makassar"
    assert schedule.job_name == "snapshot_job"


def test_nightly_schedule_materialises_the_newest_delivered_snapshot(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 6, 1), date(2025, 6, 8), date(2025, 6, 10)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    # 02:00 WITA on 9 June is 18:00 UTC on 8 June: the 10 June folder is not due yet
    at = datetime(2025, 6, 8, 18, 0, tzinfo=timezone.utc)
    with dg.instance_for_test() as instance:  # on disk: a schedule's context needs an instance it can refer to
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                       resources={"warehouse": warehouse}) as context:
            request = nightly_snapshot(context)
        assert isinstance(request, dg.RunRequest) and request.partition_key == "2025-06-08"
        assert request.tags["jamsostek/trigger"] == "nightly_snapshot"
        # a schedule cannot return partition requests: it adds the partition it runs (the sensor may be off)
        assert instance.get_dynamic_partitions(SNAPSHOTS) == ["2025-06-08"]
        later = datetime(2025, 6, 11, 2, 0, tzinfo=WITA)
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=later,
                                       resources={"warehouse": warehouse}) as context:
            assert nightly_snapshot(context).partition_key == "2025-06-10"
        assert instance.get_dynamic_partitions(SNAPSHOTS) == ["2025-06-08", "2025-06-10"]


def test_nightly_schedule_skips_when_nothing_was_delivered(tmp_path):
    warehouse = make_warehouse(tmp_path / "empty", tmp_path / "warehouse")
    at = datetime(2025, 6, 9, 2, 0, tzinfo=WITA)
    with dg.instance_for_test() as instance, dg.build_schedule_context(
            instance=instance, scheduled_execution_time=at, resources={"warehouse": warehouse}) as context:
        result = nightly_snapshot(context)
        assert instance.get_dynamic_partitions(SNAPSHOTS) == []
    assert isinstance(result, dg.SkipReason) and "No landing folder" in result.skip_message


# --- the landing sensor ----------------------------------------------------------------------------------

def evaluate(warehouse, instance, cursor=None):
    """One tick of the sensor; its partition requests applied to the instance, as the daemon does."""
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"warehouse": warehouse}) as context:
        result = landing_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        assert isinstance(request, dg.AddDynamicPartitionsRequest) and request.partitions_def_name == SNAPSHOTS
        instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return [r.partition_key for r in result.run_requests or []], result.cursor, result


def test_sensor_requests_each_delivered_folder_once_and_only_folders(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 6, 8), date(2025, 1, 10)])
    (landing / "2099-01-01").mkdir()  # dated in the future: waits
    (landing / "notes").mkdir()  # not a snapshot folder
    (landing / "2025-02-30").mkdir()  # not a date
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        requested, cursor, result = evaluate(warehouse, instance)
        assert requested == ["2025-01-10", "2025-06-08"]  # oldest first
        # the partitions are exactly the delivered folders (the future one waits for its date)
        assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["2025-01-10", "2025-06-08"]]
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]
        requested, cursor, result = evaluate(warehouse, instance, cursor)
        assert requested == [] and "No new or changed landing folder" in result.skip_reason.skip_message
        assert not result.dynamic_partitions_requests  # nothing new to add

        shutil.copytree(CONTRACT_SAMPLE / SAMPLE_DATE.isoformat(), landing / "2025-03-03")  # a new delivery
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-03-03"]
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-03-03", "2025-06-08"]

        employers = landing / "2025-01-10" / "employers.csv"  # a re-delivered file
        employers.write_text(employers.read_text() + "\n")
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-01-10"]


def test_sensor_reruns_the_snapshots_a_newer_registry_file_applies_to(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 3, 1), date(2025, 4, 1), date(2025, 6, 8)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        _, cursor, _ = evaluate(warehouse, instance)
        registry = landing / "civil_registry"
        shutil.copy(registry / "workforce_2024-12-31.csv", registry / "workforce_2025-03-31.csv")
        requested, cursor, _ = evaluate(warehouse, instance, cursor)
        assert requested == ["2025-04-01", "2025-06-08"]  # 1 March still uses 2024-12-31


def test_sensor_switched_on_late_leaves_published_snapshots_alone(tmp_path):
    landing = landing_with(tmp_path, [date(2025, 1, 10), date(2025, 6, 8)])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(PUBLISHED, partition="2025-06-08"))
        requested, cursor, _ = evaluate(warehouse, instance)
        assert requested == ["2025-01-10"]
        assert set(json.loads(cursor)) == {"2025-01-10", "2025-06-08"}
        # the published snapshot still becomes a partition: the UI lists it, materialised
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]


def test_sensor_and_schedule_target_the_snapshot_job_with_a_run_key():
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.job_name == "snapshot_job" and sensor.minimum_interval_seconds == 60


def test_snapshots_command_registers_delivered_folders_and_keeps_old_history(tmp_path, monkeypatch, capsys):
    """`jamsostek snapshots` on an instance from before (daily partitions): the delivered folders become its
    partitions, their materialisations recorded under the daily keys count for them; --prune drops the rest."""
    from pipelines.cli import main

    landing = landing_with(tmp_path, [date(2025, 1, 10), date(2025, 6, 8)])
    (landing / "2099-01-01").mkdir()  # dated in the future: not yet
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    for name, value in {"DAGSTER_HOME": home, "JAMSOSTEK_LANDING_DIR": landing,
                        "JAMSOSTEK_WAREHOUSE_DIR": tmp_path / "warehouse"}.items():
        monkeypatch.setenv(name, str(value))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(PUBLISHED, partition="2025-06-08"))
        instance.add_dynamic_partitions(SNAPSHOTS, ["2025-06-09"])  # a partition whose folder was removed
    assert main(["snapshots"]) == 0
    out = capsys.readouterr().out
    assert "added: 2025-01-10, 2025-06-08" in out and "without a landing folder: 2025-06-09" in out
    assert main(["snapshots", "--prune"]) == 0
    assert "removed (no landing folder): 2025-06-09" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions(SNAPSHOTS)) == ["2025-01-10", "2025-06-08"]
        # the old history is kept: the published partition shows as materialised
        assert set(instance.get_materialized_partitions(PUBLISHED)) == {"2025-06-08"}
    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["snapshots"]) == 1 and "DAGSTER_HOME is not set" in capsys.readouterr().err


# --- dates with no landing folder --------------------------------------------------------------------------

def test_a_date_without_a_landing_folder_fails_by_name_and_writes_nothing(tmp_path):
    """Only dates with a folder are snapshots: the sensor and the schedule never request another date; a
    backfill or `jamsostek run` that asks for one fails at raw.* with the folder's name, and writes nothing."""
    landing = landing_with(tmp_path, [SAMPLE_DATE])
    warehouse = make_warehouse(landing, tmp_path / "warehouse")
    run_snapshot(warehouse, SAMPLE_DATE)
    with pytest.raises(RunFailed) as err:
        run_snapshot(warehouse, date(2025, 6, 9))
    assert f"{landing / '2025-06-09'}: no landing folder for snapshot 2025-06-09" in str(err.value)
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        tables = con.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                             "WHERE 'snapshot_date' IN (SELECT column_name FROM duckdb_columns() c "
                             "WHERE c.table_oid = duckdb_tables.table_oid)").fetchall()
        written = {t: con.execute(f"SELECT count(*) FROM {t} WHERE snapshot_date = DATE '2025-06-09'").fetchall()[0][0]
                   for (t,) in tables}
    assert written and not any(written.values()), written
    assert landing_dates(landing) == [SAMPLE_DATE]


# --- the pool inside one multiprocess run ------------------------------------------------------------------

@pytest.mark.slow
def test_steps_of_one_multiprocess_run_wait_for_the_pool(tmp_path):
    """Two independent raw assets (and their checks) in one run on the multiprocess executor: Dagster would start
    both at once; the pool makes the second wait until the first has finished."""
    env = dagster_environment(tmp_path, landing_with(tmp_path, [SAMPLE_DATE]))
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        ensure_snapshots(SAMPLE_DATE, instance=instance)  # what the landing sensor does for a delivered folder
    # `dagster asset materialize`, the CLI's way to materialise a selection on the instance of $DAGSTER_HOME
    run = subprocess.run([str(DAGSTER), "asset", "materialize", "-m", "pipelines.definitions", "--select",
                          "raw/employers,raw/pu_workers", "--partition", SAMPLE_DATE.isoformat(), "--config-json",
                          json.dumps({"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        (record,) = instance.get_runs()
        assert record.status == dg.DagsterRunStatus.SUCCESS
        messages = [r.user_message or "" for r in instance.all_logs(record.run_id)]
        intervals = assert_one_writer_at_a_time(instance, [record.run_id])
    assert any("multiprocess executor" in m for m in messages)
    assert any(f"blocked by limit for pool {POOL}" in m for m in messages)
    assert {step for *_, step in intervals} >= {"raw__employers", "raw__pu_workers"}


# --- backfills through `dagster dev`, as from the UI -----------------------------------------------------

BACKFILL_DATES = [date(2025, 1, 1) + timedelta(days=i) for i in range(30)]
ANALYST = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as con:
    print(con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("backfill")
    landing = landing_with(root, BACKFILL_DATES)
    with dagster_dev(root, landing) as dev:
        with dev.instance() as instance:  # the sensor is off in these tests: add what it would add
            ensure_snapshots(*BACKFILL_DATES, instance=instance)
        yield dev, root / "warehouse"


def backfill_runs(dev, backfill_id: str) -> list[dg.DagsterRun]:
    with dev.instance() as instance:
        return instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))


def assert_one_writer_at_a_time(instance: dg.DagsterInstance, run_ids: list[str]):
    """No DuckDB lock error in these runs, and no step started before the one before it had finished."""
    assert lock_errors(instance, run_ids) == []
    intervals = step_intervals(instance, run_ids)
    assert intervals
    for (start, end, run, step), (next_start, _, next_run, next_step) in zip(intervals, intervals[1:]):
        assert end <= next_start, f"{run}/{step} still running when {next_run}/{next_step} started"
    return intervals


DRY_RUN = """mutation($sensor: SensorSelector!, $schedule: ScheduleSelector!, $at: Float, $cursor: String) {
  sensorDryRun(selectorData: $sensor, cursor: $cursor) { __typename ... on DryRunInstigationTick { evaluationResult {
    runRequests { runKey jobName tags { key value } } skipReason error { message } } } ... on PythonError { message } }
  scheduleDryRun(selectorData: $schedule, timestamp: $at) { __typename ... on DryRunInstigationTick {
    evaluationResult { runRequests { runKey jobName tags { key value } } skipReason error { message } } }
    ... on PythonError { message } } }"""


@pytest.mark.slow
def test_sensor_and_schedule_evaluate_inside_dagster_dev(server):
    """The daemon's view: the sensor and the schedule evaluated by the running code server, with its resources."""
    dev, _ = server
    repo = dev.gql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")
    node = repo["repositoriesOrError"]["nodes"][0]
    where = {"repositoryName": node["name"], "repositoryLocationName": node["location"]["name"]}
    at = datetime(2025, 1, 20, 2, 0, tzinfo=WITA).timestamp()
    result = dev.gql(DRY_RUN, {"sensor": {**where, "sensorName": "landing_sensor"},
                               "schedule": {**where, "scheduleName": "nightly_snapshot"}, "at": at, "cursor": None})

    def partitions(tick):
        evaluation = tick["evaluationResult"]
        assert evaluation["error"] is None, evaluation["error"]
        assert {r["jobName"] for r in evaluation["runRequests"]} <= {"snapshot_job", None}  # None: the instigator's job
        return [next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in evaluation["runRequests"]]

    assert partitions(result["sensorDryRun"]) == [d.isoformat() for d in BACKFILL_DATES]  # nothing published yet
    assert partitions(result["scheduleDryRun"]) == ["2025-01-20"]


@pytest.mark.slow
def test_the_uis_partitions_are_exactly_the_delivered_folders(server):
    """What the UI lists for every asset: the 30 delivered snapshot folders, no other date."""
    dev, _ = server
    nodes = dev.gql("{ assetNodes { assetKey { path } partitionDefinition { type name } "
                    "partitionKeysByDimension { partitionKeys } } }")["assetNodes"]
    partitioned = [n for n in nodes if n["partitionDefinition"] is not None]
    assert {n["assetKey"]["path"][0] for n in nodes if n not in partitioned} == {"reference"}  # reference data
    assert partitioned and all(n["partitionDefinition"] == {"type": "DYNAMIC", "name": SNAPSHOTS} for n in partitioned)
    for node in partitioned:
        (dimension,) = node["partitionKeysByDimension"]
        assert sorted(dimension["partitionKeys"]) == [d.isoformat() for d in BACKFILL_DATES], node["assetKey"]


@pytest.mark.slow
def test_backfill_of_every_asset_while_an_analyst_reads(server):
    """10 snapshots, every asset and check (what the UI's Materialize all sends over GraphQL), in-process runs;
    an analyst keeps analytics.duckdb open read-only and opens new connections throughout."""
    dev, warehouse_dir = server
    dates = BACKFILL_DATES[:10]
    analytics = warehouse_dir / "analytics.duckdb"
    started = time.monotonic()
    backfill = dev.launch_backfill([d.isoformat() for d in dates])
    held, seen, errors = None, [], []
    deadline = started + 1800
    while dev.backfill_status(backfill) == "REQUESTED":
        assert time.monotonic() < deadline, f"backfill still running after 30 min; see {dev.log}"
        if analytics.exists():
            try:
                if held is None:
                    held = duckdb.connect(str(analytics), read_only=True)  # an analyst's DBeaver session
                held.execute("SELECT count(*) FROM coverage_by_region").fetchall()
                # a new connection (another process: DuckDB would hand this one its cached instance)
                out = subprocess.run([sys.executable, "-c", ANALYST, str(analytics)], capture_output=True,
                                     text=True, timeout=60)
                if out.returncode:
                    errors.append(out.stderr[-500:])
                else:
                    seen.append(int(out.stdout))
            except duckdb.Error as exc:
                errors.append(str(exc))
        time.sleep(3)
    elapsed = time.monotonic() - started
    assert dev.wait_for_backfill(backfill, timeout=60) == "COMPLETED_SUCCESS", f"see {dev.log}"
    runs = backfill_runs(dev, backfill)
    assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    with dev.instance() as instance:
        intervals = assert_one_writer_at_a_time(instance, [r.run_id for r in runs])

    assert errors == []
    assert seen and seen == sorted(seen)  # each new connection sees at least what the one before saw
    assert held is not None
    held.close()
    with duckdb.connect(str(analytics), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchall() == [(10,)]
        assert con.execute("SELECT count(*) FROM coverage_trend").fetchall() == [(10,)]
    print(f"\n10-snapshot backfill, every asset, in-process runs: {elapsed:.0f} s wall, {len(runs)} runs, "
          f"{len(intervals)} steps, {sum(e - s for s, e, *_ in intervals):.0f} s inside steps")


@pytest.mark.slow
def test_backfill_of_30_snapshots_on_the_multiprocess_executor_never_hits_the_lock(server):
    """30 snapshots, each run on the multiprocess executor (a process per step), three assets and the disclosure
    check per snapshot: no DuckDB lock error, and no two steps ever inside the database at once. Three assets keep
    it to minutes: a process costs 1.5-4 s here, and the whole graph is ~80 steps a snapshot."""
    dev, warehouse_dir = server
    assets = [["marts", "covered_outside_area"], ["publish", "snapshot"], ["publish", "analytics"]]
    # the steps one run executes: the three assets and the checks that run with them, from the job's own plan
    steps = defs.resolve_job_def("snapshot_job").get_subset(asset_selection={dg.AssetKey(a) for a in assets})
    steps_per_run = len(steps.graph.node_defs)
    assert steps_per_run >= len(assets)
    started = time.monotonic()
    backfill = dev.launch_backfill([d.isoformat() for d in BACKFILL_DATES], assets,
                                   run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}})
    status = dev.wait_for_backfill(backfill, timeout=2400)
    elapsed = time.monotonic() - started
    assert status == "COMPLETED_SUCCESS", f"see {dev.log}"
    runs = backfill_runs(dev, backfill)
    assert len(runs) == 30 and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    run_ids = [r.run_id for r in runs]
    with dev.instance() as instance:
        intervals = assert_one_writer_at_a_time(instance, run_ids)
        messages = [r.user_message or "" for run_id in run_ids for r in instance.all_logs(run_id)]
    assert len(intervals) == 30 * steps_per_run
    assert sum("Executing steps using multiprocess executor" in m for m in messages) == 30
    print(f"\n30-snapshot backfill, multiprocess, 3 assets: {elapsed:.0f} s wall, {len(intervals)} steps, "
          f"{sum(e - s for s, e, *_ in intervals):.0f} s inside steps")


@pytest.mark.slow
def test_a_run_killed_mid_write_is_retried_and_the_backfill_succeeds(server):
    """kill -9 of the run's process while it writes: the code server marks the run failed, its pool slot comes
    back, the run is retried once (dagster.yaml), and the snapshot is published as if nothing happened."""
    dev, warehouse_dir = server
    date_ = BACKFILL_DATES[10].isoformat()
    backfill = dev.launch_backfill([date_])
    deadline = time.monotonic() + 600
    victim = pid = None
    while pid is None:
        assert time.monotonic() < deadline, f"no run reached marts/workers; see {dev.log}"
        with dev.instance() as instance:
            for run in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill})):
                logs = instance.all_logs(run.run_id)
                if any(r.step_key == "marts__workers" and r.dagster_event and r.dagster_event.event_type_value == "STEP_START"
                       for r in logs):
                    victim = run.run_id
                    pid = next(r.dagster_event.engine_event_data.metadata["pid"].value for r in logs
                               if r.dagster_event and r.dagster_event.event_type_value == "ENGINE_EVENT"
                               and "pid" in (r.dagster_event.engine_event_data.metadata or {}))
        time.sleep(0.2)
    os.kill(int(pid), signal.SIGKILL)

    assert dev.wait_for_backfill(backfill, timeout=900) == "COMPLETED_SUCCESS", f"see {dev.log}"
    with dev.instance() as instance:
        assert instance.get_run_by_id(victim).status == dg.DagsterRunStatus.FAILURE
        retries = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/parent_run_id": victim}))
        assert [r.status for r in retries] == [dg.DagsterRunStatus.SUCCESS]
        assert lock_errors(instance, [victim, retries[0].run_id]) == []
    with duckdb.connect(str(warehouse_dir / "analytics.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM snapshots WHERE snapshot_date = ?", [date_]).fetchall() == [(1,)]


# --- a series of snapshots from the generator --------------------------------------------------------------

def test_monthly_series_grows_churns_and_keeps_the_contract(tmp_path):
    from sample.generator import COLUMNS
    from sample.series import generate_series, month_dates

    written = generate_series(tmp_path / "landing", tmp_path / "truth", date(2025, 6, 8), 6, seed=7, scale=0.02)
    dates = month_dates(date(2025, 6, 8), 6)
    assert [w["snapshot_date"] for w in written] == [d.isoformat() for d in dates]
    assert landing_dates(tmp_path / "landing") == dates
    registry = sorted(p.name for p in (tmp_path / "landing" / "civil_registry").iterdir())
    assert registry == ["workforce_2024-12-31.csv"]  # January to June all use the December cut-off
    for source in ("pu_workers", "bpu_participants", "jakon_workers"):
        counts = [w[source] for w in written]
        assert counts == sorted(counts) and counts[0] < counts[-1], (source, counts)  # registrations arrive
    for d in dates:
        for source, columns in COLUMNS.items():
            if source != "civil_registry":
                header = (tmp_path / "landing" / d.isoformat() / f"{source}.csv").read_text().splitlines()[0]
                assert header.split(",") == list(columns)

    def bpu(d: date) -> pl.DataFrame:
        return pl.read_csv(tmp_path / "landing" / d.isoformat() / "bpu_participants.csv", infer_schema=False)

    first, last = bpu(dates[0]), bpu(dates[-1])
    paid_then = first.join(last, on="kpj", suffix="_last").filter(
        pl.col("iuran_dibayar_sampai") != pl.col("iuran_dibayar_sampai_last"))
    assert paid_then.height > 0  # contributions moved on between the months
    # a row keeps the date format it was written in
    slashed = paid_then.filter(pl.col("iuran_dibayar_sampai_last").str.contains("/"))
    assert slashed["iuran_dibayar_sampai"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    # churn: somebody paying in January has lapsed by June
    jan = dates[0]
    lapsed = paid_then.with_columns(pl.coalesce(*(pl.col("iuran_dibayar_sampai_last").str.to_date(f, strict=False)
                                                  for f in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"))).alias("paid"))
    assert lapsed.filter((pl.col("paid") >= jan) & (pl.col("paid") < dates[-1])).height > 0

    again = tmp_path / "again"
    generate_series(again / "landing", again / "truth", date(2025, 6, 8), 6, seed=7, scale=0.02)
    for d in dates:  # the same seed gives the same files
        assert (again / "landing" / d.isoformat() / "pu_workers.csv").read_bytes() == \
               (tmp_path / "landing" / d.isoformat() / "pu_workers.csv").read_bytes()


def test_a_series_run_through_the_pipeline_shows_the_trend(tmp_path):
    from sample.series import generate_series

    generate_series(tmp_path / "landing", tmp_path / "truth", date(2025, 6, 8), 3, seed=3, scale=0.02)
    warehouse = make_warehouse(tmp_path / "landing", tmp_path / "warehouse")
    for d in landing_dates(warehouse.landing):
        run_snapshot(warehouse, d)
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        rows = con.execute("""SELECT snapshot_date, coverage_pct, target_pct_this_year, growth_window_days,
                                     covered_workers_growth_pct_per_year, required_growth_pct_per_year
                              FROM coverage_trend ORDER BY snapshot_date""").fetchall()
    assert [r[0] for r in rows] == [date(2025, 4, 8), date(2025, 5, 8), date(2025, 6, 8)]
    assert all(r[2] == 32.15 for r in rows)
    assert rows[0][3] is None and rows[2][3] == 61  # growth from 8 April, the earliest of the year before
    assert rows[2][4] is not None and rows[2][5] > 0
    assert 30 < rows[2][1] < 40  # calibrated: 35.05% in Kendari on 8 June 2025
