"""Backfills through a real `dagster dev`, as from the UI: 10 snapshots of every asset while an analyst reads; the
sensor and the schedule as the daemon evaluates them; the UI's partitions. One `dagster dev` serves the module
(tests/dagster_dev.py); the multiprocess backfills have their own (tests/test_backfills_multiprocess.py), so that
the two run side by side under `-n 2`."""

import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from tests.dagster_dev import BACKFILL_DATES, assert_one_writer_at_a_time, backfill_runs
from warehouse.partitions import SNAPSHOTS, TIMEZONE

WITA = ZoneInfo(TIMEZONE)


ANALYST = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as con:
    print(con.execute("SELECT count(*) FROM snapshots").fetchall()[0][0])
"""


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
