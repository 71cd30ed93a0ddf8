"""Publish: each snapshot frozen as analysts will see it, then analytics.duckdb built beside the live file and
swapped in whole, with a Parquet copy of every table.

Two steps, each atomic:
1. `publish/snapshot` copies one snapshot's analyst rows from the marts into the `publish` schema of the
   pipeline database, in one transaction, once every mart of the run has succeeded. A run that dies half way
   leaves that snapshot's published rows as they were, whatever state its marts are in.
2. `publish/analytics` builds analytics.duckdb from the `publish` schema alone (every snapshot ever
   published), in a new file that is checkpointed, closed and synced before it is renamed over the live
   one: a reader with the old file open keeps reading it, a new connection sees the new file at once.
"""


import os
import shutil
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from assets.coverage import coverage_assets
from assets.identity import identity_record_links
from assets.reference import reference_coverage_targets
from warehouse.db import SQL_DIR, first, replace_rows, sql, transaction
from warehouse.partitions import snapshot_partitions
from warehouse.resources import DEMO_PSEUDONYM_KEY, Warehouse

# DuckDB 1.4 and newer can open it: many analysts' tools (DBeaver's driver, older Python) ship DuckDB 1.x,
# which refuses files in DuckDB 2.0's own format ("version number 999").
STORAGE_VERSION = "v1.4.0"
PUBLISHED_SCHEMA = "publish"
PARQUET_DIR = "parquet"  # beside analytics.duckdb: one <table>.parquet per table

# One snapshot's rows for analysts, as they stand when every mart of the run has succeeded. person_id stays
# internal to the pipeline database; the keyed pseudonym is applied when analytics.duckdb is built.
SNAPSHOT_TABLES = {
    "coverage_by_region": "SELECT * FROM marts.coverage_by_region",
    "covered_outside_area": "SELECT * FROM marts.covered_outside_area",
    "coverage_by_segment": "SELECT * FROM marts.coverage_by_segment",
    "segment_overlap": "SELECT * FROM marts.segment_overlap",
    "data_quality": "SELECT * FROM marts.data_quality",
    "workers": """SELECT snapshot_date, person_id, is_active, segments, region_code, region_level, in_area, sex,
                         birth_year FROM marts.workers""",
    "record_links": """SELECT snapshot_date, source, source_row, person_id, match_method, match_probability
                       FROM identity.record_links""",
    "snapshots": "SELECT DISTINCT snapshot_date, cut_off_date AS civil_registry_cut_off FROM raw.civil_registry",
}

# The tables of analytics.duckdb and how each is built from the published snapshots. Persons appear only
# as person_key = HMAC(secret key, internal person id): no NIK, KPJ, name or birth date.
TABLES = {
    "coverage_by_region": "SELECT * FROM publish.coverage_by_region",
    "covered_outside_area": "SELECT * FROM publish.covered_outside_area",
    "coverage_by_segment": "SELECT * FROM publish.coverage_by_segment",
    "segment_overlap": "SELECT * FROM publish.segment_overlap",
    "data_quality": "SELECT * FROM publish.data_quality",
    "workers": """SELECT w.snapshot_date, k.person_key, w.* EXCLUDE (snapshot_date, person_id)
                  FROM publish.workers w JOIN person_keys k USING (person_id)""",
    "record_links": """SELECT r.snapshot_date, r.source, r.source_row, k.person_key, r.match_method, r.match_probability
                       FROM publish.record_links r JOIN person_keys k USING (person_id)""",
    "snapshots": """SELECT snapshot_date, civil_registry_cut_off, $demo_key AS pseudonymised_with_demo_key
                    FROM publish.snapshots""",
    "coverage_trend": sql("marts/coverage_trend", src=PUBLISHED_SCHEMA),
    "coverage_vs_targets": sql("marts/coverage_vs_targets", src=PUBLISHED_SCHEMA),
    "coverage_targets": "SELECT indicator, year, value, source, note FROM reference.coverage_targets",
}

PERSON_KEYS_SQL = """
CREATE OR REPLACE TEMP TABLE person_keys AS
SELECT person_id, hmac_sha256($ipad, $opad, person_id) AS person_key
FROM (SELECT person_id FROM publish.workers UNION SELECT person_id FROM publish.record_links)
"""


def publish_snapshot(con: duckdb.DuckDBPyConnection, snapshot_date: date) -> dict[str, int]:
    """Replace one snapshot's rows of every `publish` table, all in one transaction."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PUBLISHED_SCHEMA}")
    counts = {}
    with transaction(con):
        for table, sql in SNAPSHOT_TABLES.items():
            select = f"SELECT * FROM ({sql}) WHERE snapshot_date = $snapshot_date"
            _add_new_columns(con, f"{PUBLISHED_SCHEMA}.{table}", select, {"snapshot_date": snapshot_date})
            counts[table] = replace_rows(con, f"{PUBLISHED_SCHEMA}.{table}", snapshot_date, select,
                                         {"snapshot_date": snapshot_date})
    return counts


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: str, select: str, params: dict) -> None:
    """A column a mart gained since the table was created is added (older snapshots read NULL there)."""
    schema, name = table.split(".")
    have = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                      "AND table_name = ?", [schema, name]).fetchall()}
    if not have:
        return
    for column, column_type, *_ in con.execute(f"DESCRIBE SELECT * FROM ({select})", params).fetchall():
        if column not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {column_type}')


def parquet_dir(warehouse: Warehouse) -> Path:
    return warehouse.analytics_db.parent / PARQUET_DIR


def build_analytics(warehouse: Warehouse) -> dict[str, int]:
    """Write every published snapshot's analyst tables to a new file, then rename it over analytics.duckdb.

    The Parquet copies follow, each file written aside and renamed over its predecessor.
    """
    live = warehouse.analytics_db
    build = live.with_name(live.name + ".building")
    wal = Path(f"{build}.wal")
    staged = live.parent / f"{PARQUET_DIR}.building"
    for stale in (build, wal):  # left by a run that died while building
        stale.unlink(missing_ok=True)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    ipad, opad = warehouse.pseudonym_pads()
    params = {"ipad": ipad, "opad": opad, "demo_key": warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY}
    counts = {}
    with warehouse.connect() as con:
        home = first(con, "SELECT current_database()")[0]
        con.execute(f"ATTACH '{build}' AS analytics (STORAGE_VERSION '{STORAGE_VERSION}')")
        try:
            con.execute(PERSON_KEYS_SQL, {"ipad": ipad, "opad": opad})
            for table, sql in TABLES.items():
                used = {k: v for k, v in params.items() if f"${k}" in sql}
                con.execute(f"CREATE TABLE analytics.{table} AS SELECT * FROM ({sql}) ORDER BY ALL", used)
                counts[table] = first(con, f"SELECT count(*) FROM analytics.{table}")[0]
                con.execute(f"COPY analytics.{table} TO '{staged / (table + '.parquet')}' "
                            "(FORMAT parquet, COMPRESSION snappy)")
            con.execute("USE analytics")
            con.execute((SQL_DIR / "analytics.sql").read_text())
            con.execute(f"USE {home}")
            # checkpoint before detaching: a file renamed with a pending WAL silently loses its last writes
            con.execute("CHECKPOINT analytics")
        finally:
            con.execute(f"USE {home}")
            con.execute("DETACH analytics")
            con.execute("DROP TABLE IF EXISTS temp.person_keys")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after CHECKPOINT and DETACH; {live} was left as it was.")
    _fsync(build)
    os.replace(build, live)
    _fsync(live.parent)
    _swap_parquet(staged, parquet_dir(warehouse), set(TABLES))
    return counts


def _swap_parquet(staged: Path, target: Path, tables: set[str]) -> None:
    """Rename each new Parquet file over the old one (each swap atomic); drop files of tables no longer published."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(staged.glob("*.parquet")):
        _fsync(path)
        os.replace(path, target / path.name)
    for path in target.glob("*.parquet"):
        if path.stem not in tables:
            path.unlink()
    _fsync(target)
    staged.rmdir()


def _fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk: a machine that dies after the rename finds whole data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dg.asset(
    key=["publish", "snapshot"], group_name="publish", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[*coverage_assets, identity_record_links], kinds={"duckdb"},
)
def publish_snapshot_asset(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The snapshot as analysts will see it: its coverage, segment, quality, worker and link rows, copied from the
    marts in one transaction once all of them have succeeded.

    analytics.duckdb is built only from these rows, so it never mixes a finished snapshot with one whose run
    stopped half way.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    with warehouse.connect() as con:
        counts = publish_snapshot(con, snapshot_date)
        snapshots = first(con, f"SELECT count(*) FROM {PUBLISHED_SCHEMA}.snapshots")[0]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()), "published_snapshots": snapshots,
        **{f"rows_{t}": n for t, n in counts.items()},
    })


@dg.asset(
    key=["publish", "analytics"], group_name="publish", partitions_def=snapshot_partitions, pool="pipeline_db",
    deps=[*coverage_assets, identity_record_links, publish_snapshot_asset, reference_coverage_targets], kinds={"duckdb"},
)
def analytics_published(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """analytics.duckdb, the analysts' copy: every published snapshot's coverage tables and the trend against the
    targets, persons only as keyed pseudonyms; and a Parquet file per table in parquet/ beside it.

    Replaced whole and atomically after each successful run; safe to keep open read-only. Readable by
    DuckDB 1.4 and newer.
    """
    if warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY:
        context.log.warning("Pseudonyms use the fixed demo key: set JAMSOSTEK_PSEUDONYM_KEY for real data.")
    counts = build_analytics(warehouse)
    return dg.MaterializeResult(metadata={
        "path": str(warehouse.analytics_db), "parquet": str(parquet_dir(warehouse)),
        "storage_version": STORAGE_VERSION, "demo_pseudonym_key": warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY,
        "snapshots": counts["snapshots"], **{f"rows_{t}": n for t, n in counts.items()},
    })


@dg.asset(key=["publish", "report"], group_name="publish", partitions_def=snapshot_partitions,
          deps=[analytics_published], kinds={"html"})
def report_published(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Laporan Cakupan: the snapshot's one-file HTML report for the Wali Kota and the BPJS branch (Bahasa
    Indonesia), beside analytics.duckdb: headline, trend against the targets, kelurahan map, where to act, data
    quality. Read from the open tier only; opens offline.
    """
    from report.render import render_report  # Altair and vl-convert load only when a report is drawn

    started = time.monotonic()
    path = render_report(warehouse.analytics_db, date.fromisoformat(context.partition_key),
                         boundaries=warehouse.reference / "boundaries_sultra.geojson")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)), "url": dg.MetadataValue.url(path.resolve().as_uri()),
        "bytes": path.stat().st_size, "render_seconds": round(time.monotonic() - started, 2),
    })


publish_assets = [publish_snapshot_asset, analytics_published, report_published]
