"""The landing sensor: every delivered snapshot folder becomes a partition; a new or re-delivered folder, or a newer
civil-registry file, requests the runs it needs."""

import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg

from assets.ingest import LandingError, find_registry_file
from warehouse.partitions import SNAPSHOTS, is_due, landing_dates, snapshot_partitions
from warehouse.resources import Warehouse

# The last asset of a snapshot run: a partition materialised here was fully processed and published.
PUBLISHED = dg.AssetKey(["publish", "analytics"])
TRIGGER_TAG = "jamsostek/trigger"


def delivery_fingerprint(landing: Path, snapshot_date: date) -> str:
    """What a run for this date would read: the folder's files and the civil-registry file it would use.

    Name, size and modification time of each; a changed file, a new file or a newer registry file
    (cut-off on or before the date) changes it. Cheap enough to compute for every folder on every tick.
    """
    folder = landing / snapshot_date.isoformat()
    parts = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()]
    try:
        registry, _ = find_registry_file(landing, snapshot_date)
        parts.append(("civil_registry/" + registry.name, registry.stat().st_size, registry.stat().st_mtime_ns))
    except LandingError:
        parts.append(("civil_registry/", "none", 0))  # the run will fail and say so; a file arriving later reruns it
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def runs_needed(landing: Path, seen: dict[str, str] | None, published: set[str]) -> tuple[list[tuple[date, str]], dict[str, str], list[date]]:
    """Which snapshot dates need a run: (date, fingerprint) to request, the new cursor, and future-dated folders.

    `seen` maps each date already requested to the fingerprint it had. With no cursor yet (a sensor just
    switched on), a date already published is taken as current and not requested again.
    """
    requests, later = [], []
    cursor = dict(seen or {})
    for snapshot_date in landing_dates(landing):
        if not is_due(snapshot_date):
            later.append(snapshot_date)
            continue
        key, fingerprint = snapshot_date.isoformat(), delivery_fingerprint(landing, snapshot_date)
        if cursor.get(key) == fingerprint:
            continue
        if seen is None and key in published:
            cursor[key] = fingerprint
            continue
        requests.append((snapshot_date, fingerprint))
        cursor[key] = fingerprint
    return requests, cursor, later


def build_landing_sensor(job, default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    @dg.sensor(name="landing_sensor", job=job, minimum_interval_seconds=60, default_status=default_status,
               description="Adds a snapshot partition for every delivered landing folder, and requests a snapshot "
                           "run for every one that is new or changed since it was last requested, or whose "
                           "civil-registry file is newer. Only dates with a landing folder are partitions.")
    def landing_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse):
        seen = json.loads(context.cursor) if context.cursor else None
        published = set(context.instance.get_materialized_partitions(PUBLISHED)) if seen is None else set()
        requests, cursor, later = runs_needed(warehouse.landing, seen, published)
        if later:
            context.log.info(f"Landing folders dated after today (WITA) wait until their date: "
                             f"{', '.join(d.isoformat() for d in later)}")
        # every delivered folder (due) is a partition, whether or not it needs a run: the UI lists exactly these;
        # an instance from before (daily partitions) gets its delivered folders on the first tick
        known = set(context.instance.get_dynamic_partitions(SNAPSHOTS))
        new_partitions = [d.isoformat() for d in landing_dates(warehouse.landing) if is_due(d) and d.isoformat() not in known]
        added = [snapshot_partitions.build_add_request(new_partitions)] if new_partitions else []
        if not requests:
            return dg.SensorResult(skip_reason=dg.SkipReason(f"No new or changed landing folder in {warehouse.landing}."),
                                   cursor=json.dumps(cursor, sort_keys=True), dynamic_partitions_requests=added)
        return dg.SensorResult(
            run_requests=[dg.RunRequest(partition_key=d.isoformat(), run_key=f"{d.isoformat()}@{fp}",
                                        tags={TRIGGER_TAG: "landing_sensor"}) for d, fp in requests],
            cursor=json.dumps(cursor, sort_keys=True), dynamic_partitions_requests=added,
        )

    return landing_sensor
