"""Backfills through a real `dagster dev`, as from the UI: 10 snapshots of every asset while an analyst reads,
30 snapshots on the multiprocess executor, a run killed mid-write and retried; the sensor and the schedule as the
daemon evaluates them; the UI's partitions. One `dagster dev` serves the module (tests/dagster_dev.py)."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs
from tests.dagster_dev import assert_one_writer_at_a_time, dagster_dev, landing_with, lock_errors
from warehouse.partitions import SNAPSHOTS, TIMEZONE, ensure_snapshots

WITA = ZoneInfo(TIMEZONE)


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
