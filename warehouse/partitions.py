"""Snapshot dates: one partition per day in Kendari's time zone (WITA); a snapshot is a date with a landing folder."""

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

TIMEZONE = "Asia/Makassar"  # WITA, UTC+8: the schedule, the partitions and "today" all use it

# end_offset=1 includes today (WITA): the nightly run materialises the snapshot delivered today.
snapshot_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=TIMEZONE, end_offset=1)

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


def is_partition(snapshot_date: date, now: datetime | None = None) -> bool:
    """A date the partitions cover: from the first partition to today in WITA (a future folder waits)."""
    return snapshot_partitions.start.date() <= snapshot_date <= today_wita(now)
