"""The national deployment's Definitions (`dagster dev -w workspace_national.yaml`) and `jamsostek national`.

Provinces are partitions: `provinces/snapshot` is partitioned snapshot × province (each a whole province run in
a process of its own), the national steps by snapshot (docs/scaling.md, "Provinces as partitions"). The city
deployment (pipelines/definitions.py) is unchanged; this one runs it once per province.
"""

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from assets.national import (PROVINCES, checked_province, left_out, national_assets, national_db, province_landing,
                             province_warehouse, provinces_delivered)
from checks.deliveries import damage_summary
from pipelines.cli import RunFailed, failure_reasons
from pipelines.sensors import runs_needed
from warehouse.lock import writer_lock
from warehouse.partitions import SNAPSHOTS, ensure_snapshots
from warehouse.resources import BadSetting, NationalWarehouse, national_warehouse_from_env

province_job = dg.define_asset_job(
    "province_job", selection=dg.AssetSelection.assets(["provinces", "snapshot"]),
    description="One province's snapshot: its whole pipeline, in a process of its own, on its own database.")
national_job = dg.define_asset_job(
    "national_job", selection=dg.AssetSelection.groups("national") - dg.AssetSelection.assets(["provinces", "snapshot"]),
    description="One snapshot's national identity across every province, and coverage with each person once.")


PENDING = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED]


def _province_runs(instance: dg.DagsterInstance, snapshot: str, province: str | None = None,
                   statuses: list | None = None, limit: int | None = None) -> list[dg.DagsterRun]:
    tags = {"dagster/partition/snapshot": snapshot} | ({"dagster/partition/province": province} if province else {})
    return list(instance.get_runs(filters=dg.RunsFilter(job_name="province_job", tags=tags, statuses=statuses or []),
                                  limit=limit))


def national_ready(instance: dg.DagsterInstance, snapshot: str, provinces: list[str]) -> bool:
    """Every province that delivered the snapshot has run it, its latest run succeeded, and none is pending."""
    if not provinces or _province_runs(instance, snapshot, statuses=PENDING):
        return False
    return all((latest := _province_runs(instance, snapshot, province, limit=1))
               and latest[0].status == dg.DagsterRunStatus.SUCCESS for province in provinces)


@dg.sensor(jobs=[province_job, national_job], minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.STOPPED)
def province_landing_sensor(context: dg.SensorEvaluationContext, warehouse: NationalWarehouse) -> dg.SensorResult:
    """Every province folder `<landing>/<code>/` is a province partition and each of its snapshot folders a
    snapshot partition; a new or re-delivered folder requests that province's run (the city sensor's rule,
    pipelines/sensors.py, per province). Once every province that delivered a snapshot has run it successfully
    (a province that did not deliver it does not hold it back), the snapshot's national run is requested, and
    again after a province re-delivers and runs again."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    seen, linked = cursor.get("provinces", {}), cursor.get("national", {})
    provinces, requests, snapshots = provinces_delivered(warehouse.landing), [], set()
    for province in provinces:
        wanted, seen[province], _ = runs_needed(province_landing(warehouse, province), seen.get(province), set())
        for snapshot_date, fingerprint in wanted:
            requests.append(dg.RunRequest(
                job_name="province_job", run_key=f"{snapshot_date}|{province}|{fingerprint}",
                partition_key=dg.MultiPartitionKey({"snapshot": snapshot_date.isoformat(), "province": province})))
    requested = {r.partition_key.keys_by_dimension["snapshot"] for r in requests}
    for province in provinces:
        snapshots |= set(seen[province])
    for snapshot in sorted(snapshots - requested):
        delivered = sorted(p for p in provinces if snapshot in seen[p])
        deliveries = hashlib.sha256(json.dumps([[p, seen[p][snapshot]] for p in delivered]).encode()).hexdigest()[:16]
        if linked.get(snapshot) != deliveries and national_ready(context.instance, snapshot, delivered):
            requests.append(dg.RunRequest(job_name="national_job", partition_key=snapshot,
                                          run_key=f"national|{snapshot}|{deliveries}"))
            linked[snapshot] = deliveries
    return dg.SensorResult(run_requests=requests, cursor=json.dumps({"provinces": seen, "national": linked}),
                           dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(PROVINCES, provinces),
                                                        dg.AddDynamicPartitionsRequest(SNAPSHOTS, sorted(snapshots))])


defs = dg.Definitions(
    assets=national_assets,
    jobs=[province_job, national_job],
    sensors=[province_landing_sensor],
    resources={"warehouse": national_warehouse_from_env()},
)


QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # failures come back as RunFailed


def _instance(snapshot_date: date, provinces: list[str]) -> dg.DagsterInstance:
    instance = ensure_snapshots(snapshot_date)  # a throw-away instance: each province run gets its own
    instance.add_dynamic_partitions(PROVINCES, provinces)
    return instance


def run_national(warehouse: NationalWarehouse, snapshot_date: date, *, parallel: int = 2) -> list[str]:
    """Run every province that delivered `snapshot_date` (`parallel` at a time, each its own process and
    database), then the national steps. Returns the provinces run.

    Holds the national warehouse's writer lock throughout, so that a second national run waits (the
    warehouse's lock wait) or is refused at once, naming this one, instead of rewriting the provinces this one
    reads. Raises RunFailed naming each province (or national step) that failed and why, WarehouseBusy when
    another national run holds the warehouse.
    """
    provinces = provinces_delivered(warehouse.landing, snapshot_date)
    if not provinces:
        raise RunFailed(f"{warehouse.landing}: no province delivered {snapshot_date} (a folder "
                        f"<two-digit province code>/{snapshot_date}/ with its extracts).")
    refused = []
    for province in provinces:  # before any runs: a setting that refuses one province refuses the national run
        try:
            checked_province(warehouse, province)
        except BadSetting as exc:
            refused.append(str(exc))
    if refused:
        raise RunFailed("\n".join(refused))
    with writer_lock(Path(warehouse.warehouse_dir), wait_seconds=warehouse.lock_wait_seconds):
        _run_national(warehouse, snapshot_date, provinces, parallel)
    return provinces


def _run_national(warehouse: NationalWarehouse, snapshot_date: date, provinces: list[str], parallel: int) -> None:
    resources = {"warehouse": warehouse}

    def province_run(province: str) -> list[str]:
        with _instance(snapshot_date, [province]) as instance:
            result = defs.resolve_job_def("province_job").execute_in_process(
                partition_key=dg.MultiPartitionKey({"snapshot": snapshot_date.isoformat(), "province": province}),
                instance=instance, resources=resources, raise_on_error=False,
                run_config=QUIET)
            return [] if result.success else failure_reasons(result)  # each names its province

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="province") as pool:
        failures = [reason for reasons in pool.map(province_run, provinces) for reason in reasons]
    if failures:
        raise RunFailed("\n".join(failures))
    with _instance(snapshot_date, provinces) as instance:
        result = defs.resolve_job_def("national_job").execute_in_process(
            partition_key=snapshot_date.isoformat(), instance=instance, resources=resources, raise_on_error=False,
            run_config=QUIET)
    if not result.success:
        raise RunFailed("\n".join(f"national: {r}" for r in failure_reasons(result)))


def national_summary(warehouse: NationalWarehouse, snapshot_date: date) -> str:
    """marts.province_coverage of the snapshot as the operator reads it (from the private national database)."""
    with duckdb.connect(str(national_db(warehouse)), read_only=True) as con:
        rows = con.execute("""SELECT province, registrations, covered_by_province_runs, covered_persons, persons
                              FROM marts.province_coverage WHERE snapshot_date = ? ORDER BY province NULLS LAST""",
                           [snapshot_date]).fetchall()
    lines = [f"National coverage, snapshot {snapshot_date}: each person counted once across the provinces",
             "  province   registrations   covered by its own run   covered (national, by residence)   persons"]
    lines += [f"  {p or 'unknown':<9}  {r:>13,}   {'' if c is None else f'{c:,}':>22}   {n:>32,}   {t:>7,}"
              for p, r, c, n, t in rows]
    by_runs, covered = sum(r[2] or 0 for r in rows), sum(r[3] for r in rows)
    if by_runs == covered:
        lines.append(f"  Summing the province runs counts {by_runs:,} covered workers, as many as counting each person "
                     "once: nobody covered is counted by two provinces.")
    else:
        lines.append(f"  Summing the province runs counts {by_runs:,} covered workers; counting each person once, "
                     f"{covered:,}. The difference, {by_runs - covered:+,}, is people covered in more than one province "
                     "(each province counts them), and any the national linkage joins that no province could.")
    if skipped := left_out(warehouse.landing, snapshot_date):
        lines += ["  Not in these figures:", *(f"  - {line}" for line in skipped)]
    return "\n".join(lines)


def deliveries_summary(warehouse: NationalWarehouse, snapshot_date: date, provinces: list[str]) -> str:
    """Each province run's paragraph on its deliveries (checks.deliveries): damaged files named, with what to do."""
    return "\n".join(f"Province {p}:\n{damage_summary(province_warehouse(warehouse, p), snapshot_date)}"
                     for p in provinces)
