"""The nightly schedule: every night in Kendari's time zone, materialise the newest delivered snapshot."""

import dagster as dg

from warehouse.partitions import TIMEZONE, ensure_snapshots, is_due, landing_dates, today_wita
from warehouse.resources import Warehouse
from pipelines.sensors import TRIGGER_TAG

NIGHTLY_CRON = "0 2 * * *"  # 02:00 WITA (Asia/Makassar, UTC+8), after the source systems' nightly extracts


def build_nightly_schedule(job, default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    @dg.schedule(name="nightly_snapshot", job=job, cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE,
                 default_status=default_status,
                 description="Every night at 02:00 WITA: materialise the newest snapshot with a landing folder "
                             "(re-running it if it was already done, so edited reference data is picked up).")
    def nightly_snapshot(context: dg.ScheduleEvaluationContext, warehouse: Warehouse):
        today = today_wita(context.scheduled_execution_time)
        delivered = [d for d in landing_dates(warehouse.landing) if is_due(d, context.scheduled_execution_time)]
        if not delivered:
            return dg.SkipReason(f"No landing folder dated on or before {today} in {warehouse.landing}.")
        newest = delivered[-1].isoformat()
        # a schedule cannot return partition requests (a sensor can): with the sensor switched off the newest
        # folder may not be a partition yet, and the daemon would refuse the run
        ensure_snapshots(newest, instance=context.instance)
        return dg.RunRequest(partition_key=newest, run_key=f"nightly@{today.isoformat()}",
                             tags={TRIGGER_TAG: "nightly_snapshot"})

    return nightly_snapshot
