"""Snapshot partitions: one dynamic partition per delivered landing folder `landing/<YYYY-MM-DD>/`.

A snapshot is a date with a landing folder, and only such a date is a partition: the landing sensor adds a
partition for every folder delivered (dated on or before today in Kendari's time zone, WITA), and `jamsostek
run` and the nightly schedule add the one they run. So the UI lists the real snapshots and a backfill offers
only those. Every materialisation with a partition key first makes sure the key exists on its instance:
`ensure_snapshots` is the one helper for that (docs/operations.md, "Snapshots are partitions").
"""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

TIMEZONE = "Asia/Makassar"  # WITA, UTC+8: the schedule and "today" use it

SNAPSHOTS = "snapshots"  # the name of the dynamic partitions on the Dagster instance
snapshot_partitions = dg.DynamicPartitionsDefinition(name=SNAPSHOTS)

SNAPSHOT_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def today_wita(now: datetime | None = None) -> date:
    return (now or datetime.now(ZoneInfo(TIMEZONE))).astimezone(ZoneInfo(TIMEZONE)).date()


def landing_dates(landing: Path) -> list[date]:
    """Dates that have a landing folder named YYYY-MM-DD (the snapshots delivered), oldest first."""
    dates = []
    for path in landing.iterdir() if landing.is_dir() else []:
        if path.is_dir() and SNAPSHOT_FOLDER.match(path.name):
            try:
                dates.append(date.fromisoformat(path.name))
            except ValueError:  # 2025-02-30: not a date, not a snapshot
                continue
    return sorted(dates)


def is_due(snapshot_date: date, now: datetime | None = None) -> bool:
    """A folder the sensor and the schedule take up: dated on or before today in WITA (a future folder waits)."""
    return snapshot_date <= today_wita(now)


def ensure_snapshots(*snapshot_dates: date | str, instance: dg.DagsterInstance | None = None) -> dg.DagsterInstance:
    """`instance` (default: a new ephemeral one) with a partition for each snapshot date, added if missing.

    The one helper every materialisation with a partition key goes through: `jamsostek run`, the schedule, the
    tests, the benchmarks, `jamsostek evaluate`, e.g. `dg.materialize(assets, partition_key=key,
    instance=ensure_snapshots(key))`. Dagster refuses a key its instance does not know. (The landing sensor adds
    its partitions the declarative way, in its SensorResult.)
    """
    instance = instance if instance is not None else dg.DagsterInstance.ephemeral()
    # a key is a date YYYY-MM-DD (date.fromisoformat refuses anything else, by its text)
    keys = list(dict.fromkeys((d if isinstance(d, date) else date.fromisoformat(d)).isoformat() for d in snapshot_dates))
    known = set(instance.get_dynamic_partitions(SNAPSHOTS))
    missing = [k for k in keys if k not in known]
    if missing:
        instance.add_dynamic_partitions(SNAPSHOTS, missing)
    return instance
