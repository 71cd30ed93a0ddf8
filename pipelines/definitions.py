"""The one Definitions object: every asset, check, job, schedule and resource of the pipeline."""

import os

import dagster as dg

from assets.coverage import coverage_assets
from assets.identity import identity_assets
from assets.ingest import raw_assets
from assets.publish import publish_assets, publish_checks
from assets.reference import reference_assets
from assets.staging import staging_assets
from checks.deliveries import delivery_checks
from checks.gx import GreatExpectationsResource
from checks.reconciliation import reconciliation_checks
from checks.suites import suite_checks
from warehouse.resources import warehouse_from_env
from pipelines.progress import step_progress
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import build_landing_sensor

all_assets = [*reference_assets, *raw_assets, *staging_assets, *identity_assets, *coverage_assets, *publish_assets]
# Beside the asset each guards; blocking ones stop what depends on it (docs/reason-codes.md lists them all).
all_asset_checks = [*delivery_checks, *suite_checks, *reconciliation_checks, *publish_checks]

# Executors (docs/operations.md): every step writes the one DuckDB file, so the pool `pipeline_db` (size 1,
# dagster.yaml) runs them one at a time whatever the executor; DuckDB already uses every core inside a step.
# A process per step would only add ~1.5-4 s of start-up to each of ~40 steps. So runs execute in one
# process; a run may still ask for `execution: config: multiprocess:` (launchpad or backfill run config),
# which isolates a step that crashes its process, at that cost, and stays safe under the pool.
snapshot_executor = dg.ExecutorDefinition(
    name="in_process_unless_asked",
    config_schema=dg.Field(dg.multi_or_in_process_executor.config_schema.as_field().config_type,
                           default_value={"in_process": {}}),
    requirements=lambda config: dg.multiple_process_executor_requirements() if "multiprocess" in config else [],
    executor_creation_fn=dg.multi_or_in_process_executor.executor_creation_fn,
    description="In one process unless the run config selects multiprocess.",
)

# Everything for one snapshot date: what the schedule and the sensor launch.
snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=dg.AssetSelection.all(),
    description="Materialise every asset for one snapshot date and publish analytics.duckdb.",
    executor_def=snapshot_executor,
)

# The schedule and the sensor are on from the first `dagster dev`; JAMSOSTEK_AUTOMATION=off starts them
# switched off (a UI opened only to look, a test); either way they can be toggled in the UI.
_automation_on = os.environ.get("JAMSOSTEK_AUTOMATION", "on").lower() != "off"
nightly_snapshot = build_nightly_schedule(
    snapshot_job, dg.DefaultScheduleStatus.RUNNING if _automation_on else dg.DefaultScheduleStatus.STOPPED)
landing_sensor = build_landing_sensor(
    snapshot_job, dg.DefaultSensorStatus.RUNNING if _automation_on else dg.DefaultSensorStatus.STOPPED)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_asset_checks,
    jobs=[snapshot_job],
    schedules=[nightly_snapshot],
    sensors=[landing_sensor],
    executor=snapshot_executor,  # also for materialisations and backfills launched from the asset graph
    resources={"warehouse": warehouse_from_env(), "gx": GreatExpectationsResource()},
    # a run that configures no logger gets Dagster's own; `jamsostek run` adds the progress lines (pipelines/progress.py)
    loggers={"console": dg.colored_console_logger, "progress": step_progress},
)
