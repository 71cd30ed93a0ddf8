"""Publish: the analysts' copy, analytics.duckdb, built beside the live file and swapped in whole."""


import os
from pathlib import Path

import dagster as dg

from assets.coverage import coverage_assets
from assets.identity import identity_record_links
from pipelines.resources import DEMO_PSEUDONYM_KEY, Warehouse
from warehouse.db import SQL_DIR, first

# DuckDB 1.4 and newer can open it: many analysts' tools still ship DuckDB 1.x.
STORAGE_VERSION = "v1.4.0"

# Analyst tables and how each is built from the pipeline database. Persons appear only
# as person_key = HMAC(secret key, internal person id): no NIK, KPJ, name or birth date.
PERSON_KEY = "hmac_sha256($ipad, $opad, person_id)"
TABLES = {
    "coverage_by_region": "SELECT * FROM marts.coverage_by_region",
    "covered_outside_area": "SELECT * FROM marts.covered_outside_area",
    "coverage_by_segment": "SELECT * FROM marts.coverage_by_segment",
    "segment_overlap": "SELECT * FROM marts.segment_overlap",
    "data_quality": "SELECT * FROM marts.data_quality",
    "workers": f"""SELECT snapshot_date, {PERSON_KEY} AS person_key, is_active, segments, region_code, region_level,
                          in_area, sex, birth_year FROM marts.workers""",
    "record_links": f"""SELECT snapshot_date, source, source_row, {PERSON_KEY} AS person_key, match_method,
                               match_probability FROM identity.record_links""",
    "snapshots": """SELECT DISTINCT snapshot_date, cut_off_date AS civil_registry_cut_off,
                           $demo_key AS pseudonymised_with_demo_key FROM raw.civil_registry""",
}


def publish(warehouse: Warehouse) -> dict[str, int]:
    """Write every snapshot's analyst tables to a new file, then rename it over analytics.duckdb.

    Readers with the old file open keep reading it; new connections see the new one at once.
    """
    live = warehouse.analytics_db
    build = live.with_name(live.name + ".building")
    for stale in (build, Path(str(build) + ".wal")):
        stale.unlink(missing_ok=True)
    ipad, opad = warehouse.pseudonym_pads()
    params = {"ipad": ipad, "opad": opad, "demo_key": warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY}
    counts = {}
    with warehouse.connect() as con:
        home = first(con, "SELECT current_database()")[0]
        con.execute(f"ATTACH '{build}' AS analytics (STORAGE_VERSION '{STORAGE_VERSION}')")
        try:
            for table, sql in TABLES.items():
                used = {k: v for k, v in params.items() if f"${k}" in sql}
                con.execute(f"CREATE TABLE analytics.{table} AS {sql} ORDER BY ALL", used)
                counts[table] = first(con, f"SELECT count(*) FROM analytics.{table}")[0]
            con.execute("USE analytics")
            con.execute((SQL_DIR / "analytics.sql").read_text())
            con.execute(f"USE {home}")
            # checkpoint before detaching: a file renamed with a pending WAL silently loses writes
            con.execute("CHECKPOINT analytics")
        finally:
            con.execute(f"USE {home}")
            con.execute("DETACH analytics")
    os.replace(build, live)
    return counts


@dg.asset(
    key=["analytics", "published"], group_name="publish", pool="pipeline_db", kinds={"duckdb"},
    partitions_def=coverage_assets[0].partitions_def, deps=[*coverage_assets, identity_record_links],
)
def analytics_published(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """analytics.duckdb, the analysts' copy: every snapshot's coverage tables, persons only as keyed pseudonyms.

    Replaced whole and atomically after each successful run; safe to keep open read-only.
    """
    if warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY:
        context.log.warning("Pseudonyms use the fixed demo key: set JAMSOSTEK_PSEUDONYM_KEY for real data.")
    counts = publish(warehouse)
    return dg.MaterializeResult(metadata={
        "path": str(warehouse.analytics_db), "storage_version": STORAGE_VERSION,
        "demo_pseudonym_key": warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY,
        **{f"rows_{t}": n for t, n in counts.items()},
    })


publish_assets = [analytics_published]
