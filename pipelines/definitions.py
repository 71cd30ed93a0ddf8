"""The one Definitions object: every asset, check, job, schedule and resource of the pipeline."""

import dagster as dg

from assets.coverage import coverage_assets
from assets.identity import identity_assets
from assets.ingest import raw_assets
from assets.publish import publish_assets
from assets.reference import reference_assets
from assets.staging import staging_assets
from checks.deliveries import delivery_checks
from checks.gx import GreatExpectationsResource
from checks.reconciliation import reconciliation_checks
from checks.suites import suite_checks
from pipelines.resources import warehouse_from_env

all_assets = [*reference_assets, *raw_assets, *staging_assets, *identity_assets, *coverage_assets, *publish_assets]
# Beside the asset each guards; blocking ones stop what depends on it (docs/reason-codes.md lists them all).
all_asset_checks = [*delivery_checks, *suite_checks, *reconciliation_checks]

# Everything for one snapshot date, in one process: DuckDB already uses every core inside a step.
snapshot_job = dg.define_asset_job(
    "snapshot_job",
    selection=dg.AssetSelection.all(),
    description="Materialise every asset for one snapshot date and publish analytics.duckdb.",
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_asset_checks,
    jobs=[snapshot_job],
    resources={"warehouse": warehouse_from_env(), "gx": GreatExpectationsResource()},
)
