"""Backfills through a real `dagster dev` on the multiprocess executor (a process per step): 30 snapshots never hit
DuckDB's lock, and a run killed mid-write is retried. One `dagster dev` serves the module (tests/dagster_dev.py)."""

import os
import signal
import time

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import defs
from tests.dagster_dev import BACKFILL_DATES, assert_one_writer_at_a_time, backfill_runs, lock_errors


@pytest.mark.slow
def test_backfill_of_30_snapshots_on_the_multiprocess_executor_never_hits_the_lock(server):
    """30 snapshots, each run on the multiprocess executor (a process per step), three assets and the disclosure
    check per snapshot: no DuckDB lock error, and no two steps ever inside the database at once. Three assets keep
    it to minutes: a process costs 1.5-4 s here, and the whole graph is ~80 steps a snapshot."""
    dev, warehouse_dir = server
    # first one snapshot of every asset, as the UI's Materialize all: the reference data the three assets read
    whole = dev.launch_backfill([BACKFILL_DATES[0].isoformat()])
    assert dev.wait_for_backfill(whole, timeout=900) == "COMPLETED_SUCCESS", f"see {dev.log}"
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
