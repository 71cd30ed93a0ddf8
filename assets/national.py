"""The national deployment: provinces as partitions, one national identity (docs/scaling.md, "Provinces as partitions").

Each province delivers its own landing zone, `<landing>/<province>/<YYYY-MM-DD>/` (and its
`civil_registry/`), and is a whole city-style pipeline of its own: `provinces/snapshot`, partitioned
snapshot × province, runs `jamsostek run` for one province in a process of its own, on its own
database `<warehouse>/provinces/<province>/pipeline.duckdb`, so provinces run independently and in parallel
(DuckDB's one writer is per file). Then, per snapshot, `national/record_links` reads every province's
registrations (read-only), links them into one person per human across the country with the same identity
code, and `national/province_coverage` counts each person once: the figures a sum of province runs gets
wrong for people registered in two provinces.
"""

import os
import re
import subprocess
import sys
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

from assets.identity import link_snapshot
from warehouse import db
from warehouse.db import first, replace_rows, replace_table, sql, transaction
from warehouse.lock import WarehouseBusy, writer_lock
from checks.deliveries import damage_summary
from warehouse.partitions import landing_dates, snapshot_partitions
from warehouse.resources import PROJECT_DIR, BadSetting, NationalWarehouse, Warehouse

PROVINCES = "provinces"  # the dynamic partitions of the national instance: one per delivering province
province_partitions = dg.DynamicPartitionsDefinition(name=PROVINCES)
snapshot_by_province = dg.MultiPartitionsDefinition({"snapshot": snapshot_partitions, "province": province_partitions})
PROVINCE_CODE = re.compile(r"^\d{2}$")  # Kepmendagri province code, e.g. 74 Sulawesi Tenggara
NATIONAL_POOL = "national_db"  # the national database's one writer


def province_landing(warehouse: Warehouse, province: str) -> Path:
    return warehouse.landing / province


def province_warehouse(warehouse: NationalWarehouse, province: str) -> Warehouse:
    """The province's own warehouse: its landing zone and database folder under the national ones, its area
    (`NationalWarehouse.area_of`: raises BadSetting when the province has none)."""
    return Warehouse(**{**{name: getattr(warehouse, name) for name in Warehouse.model_fields},
                        "landing_dir": str(province_landing(warehouse, province)),
                        "warehouse_dir": str(province_folder(warehouse, province)),
                        "area_code": warehouse.area_of(province)})


def province_folder(warehouse: Warehouse, province: str) -> Path:
    """Where a province's own databases and published tiers live."""
    return Path(warehouse.warehouse_dir) / "provinces" / province


def national_db(warehouse: Warehouse) -> Path:
    return Path(warehouse.warehouse_dir) / "national.duckdb"


@contextmanager
def _national(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to national.duckdb, holding the national folder's writer lock (its one writer)."""
    with writer_lock(Path(warehouse.warehouse_dir), wait_seconds=warehouse.lock_wait_seconds,
                     command="national step"), db.connect(national_db(warehouse)) as con:
        yield con


def provinces_delivered(landing: Path, snapshot_date: date | None = None) -> list[str]:
    """Province codes with a landing zone under `landing` (a folder named by a two-digit code), sorted; with a
    date, only those that delivered that snapshot."""
    if not landing.is_dir():
        return []
    return sorted(p.name for p in landing.iterdir() if p.is_dir() and PROVINCE_CODE.match(p.name)
                  and (snapshot_date is None or (p / snapshot_date.isoformat()).is_dir()))


def checked_province(warehouse: NationalWarehouse, province: str) -> Warehouse:
    """`province_warehouse`, its settings validated as a run's are. Raises BadSetting naming the province."""
    try:
        here = province_warehouse(warehouse, province)
        if province in warehouse.areas():  # the area came from JAMSOSTEK_PROVINCE_AREAS: name that, not the fallback
            here.check_area(f"JAMSOSTEK_PROVINCE_AREAS gives it {here.area_code!r}, which", unlisted=(
                f"The shipped regions reference covers Sulawesi Tenggara (74) only: for province {province}, put a "
                "regions file that lists its regencies in a reference folder of your own (JAMSOSTEK_REFERENCE_DIR)."))
        here.validate()
    except BadSetting as exc:
        raise BadSetting(f"province {province}: {exc}") from None
    return here


def left_out(landing: Path, snapshot_date: date) -> list[str]:
    """What a national run of `snapshot_date` does not include, in words: provinces with no delivery of that date
    (and their latest), folders that are not a two-digit province code. Empty when nothing is left out."""
    if not landing.is_dir():
        return []
    folders = sorted(p.name for p in landing.iterdir() if p.is_dir())
    lines, delivered = [], provinces_delivered(landing, snapshot_date)
    for province in provinces_delivered(landing):
        if province not in delivered:
            dates = landing_dates(landing / province)
            lines.append(f"province {province}: no delivery of {snapshot_date} (latest: "
                         f"{dates[-1].isoformat() if dates else 'none'})")
    if others := [f for f in folders if not PROVINCE_CODE.match(f)]:
        lines.append(f"not a province folder (a two-digit Kepmendagri code, e.g. 74): {', '.join(others)}")
    return lines


def _keys(context: dg.AssetExecutionContext) -> tuple[date, str]:
    keys = context.partition_key.keys_by_dimension
    return date.fromisoformat(keys["snapshot"]), keys["province"]


@dg.asset(key=["provinces", "snapshot"], group_name="national", partitions_def=snapshot_by_province,
          kinds={"duckdb"}, tags={"jamsostek/scope": "province"})
def province_snapshot(context: dg.AssetExecutionContext, warehouse: NationalWarehouse) -> dg.MaterializeResult:
    """One province's whole snapshot run (ingest, staging, checks, its own identity and coverage, its published
    tiers) in a process of its own: `jamsostek run --date <snapshot>` on the province's landing zone and
    database, with the national deployment's settings. On Kubernetes the same command runs in a pod
    (docs/scaling.md).

    Raises dagster.Failure naming the province and carrying the run's own reasons when it fails.
    """
    snapshot_date, province = _keys(context)
    try:
        here = checked_province(warehouse, province)
    except BadSetting as exc:
        raise dg.Failure(str(exc)) from None
    if not (here.landing / snapshot_date.isoformat()).is_dir():
        raise dg.Failure(f"province {province}: no landing folder {here.landing / snapshot_date.isoformat()}; "
                         "deliver its extracts there or run the provinces that delivered this snapshot.")
    # DAGSTER_HOME empty: the province run records itself in a throw-away instance, so that provinces do not
    # queue on the national instance's pool; this step is what the national instance sees
    env = os.environ | here.environment() | {"DAGSTER_HOME": ""}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--date", snapshot_date.isoformat(), "--quiet",
               "--wait", str(warehouse.lock_wait_seconds)]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        said, errors = process.communicate()  # its summary and its errors: a few lines
    except BaseException:  # the step was stopped: stop the province run the way `jamsostek run` expects
        process.terminate()
        process.wait(timeout=60)
        raise
    if process.returncode != 0:
        raise dg.Failure(f"province {province}, snapshot {snapshot_date}: its run failed. {errors.strip()}")
    context.log.info(f"province {province}: {said.strip()}")
    with here.connect(read_only=True) as con:
        registrations, persons, covered = first(con, """
            SELECT (SELECT count(*) FROM staging.registrations WHERE snapshot_date = $d),
                   count(*), count(*) FILTER (WHERE is_active) FROM marts.workers WHERE snapshot_date = $d""",
                                                {"d": snapshot_date})
    return dg.MaterializeResult(metadata={
        "area_code": here.area_code, "deliveries": dg.MetadataValue.md(damage_summary(here, snapshot_date)),
        "registrations": registrations, "persons_in_province_run": persons, "covered_in_province_run": covered,
        "pipeline_db": dg.MetadataValue.path(str(here.pipeline_db)),
        "analytics_db": dg.MetadataValue.path(str(here.analytics_db)),
    })


NATIONAL = dict(group_name="national", partitions_def=snapshot_partitions, pool=NATIONAL_POOL, kinds={"duckdb"})
# a snapshot's national steps read every province of that snapshot
ALL_PROVINCES = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="snapshot")


@contextmanager
def _provinces_attached(con, warehouse: Warehouse, snapshot_date: date) -> Iterator[list[str]]:
    """ATTACH every province database that has this snapshot, read-only, as p<code>; yields the codes.

    Each province's writer lock is held while its database is attached, so that a province run (of this or
    another `jamsostek national`, or the sensor's) waits for the national step to have read it, and the national
    step for a province run to end; beyond the warehouse's lock wait, dg.Failure names the holder."""
    with ExitStack() as held:
        attached = []
        for province in provinces_delivered(warehouse.landing, snapshot_date):
            folder = province_folder(warehouse, province)
            path = folder / "pipeline.duckdb"
            if not path.is_file():
                raise dg.Failure(f"province {province} delivered {snapshot_date} but has no database ({path}): "
                                 f"materialise provinces/snapshot for {snapshot_date}|{province} first.")
            try:
                held.enter_context(writer_lock(folder, wait_seconds=warehouse.lock_wait_seconds,
                                               command=f"national step, reading province {province}"))
            except WarehouseBusy as busy:
                raise dg.Failure(f"province {province}: {busy}") from None
            con.execute(f"ATTACH '{path}' AS p{province} (READ_ONLY)")
            held.callback(con.execute, f"DETACH p{province}")
            # a database from an earlier snapshot's run would add nobody of this one, silently
            if not first(con, f"SELECT count(*) FROM p{province}.marts.workers WHERE snapshot_date = ?",
                         [snapshot_date])[0]:
                raise dg.Failure(f"province {province} delivered {snapshot_date} but its database ({path}) has no "
                                 f"run of that snapshot: materialise provinces/snapshot for {snapshot_date}|{province} first.")
            attached.append(province)
        if not attached:
            raise dg.Failure(f"no province delivered {snapshot_date} under {warehouse.landing} "
                             "(<landing>/<two-digit province code>/<YYYY-MM-DD>/).")
        yield attached


def _union(provinces: list[str], select: str) -> str:
    """One query over every province's copy of a table: `select` with {p} for the province code. Registrations
    are told apart by province: source and record_key get a `<code>/` prefix, so two provinces' row numbers (and
    KPJ-based record keys) never meet."""
    return " UNION ALL ".join(select.format(p=p) for p in provinces)


@dg.asset(key=["national", "record_links"], deps=[dg.AssetDep(province_snapshot, partition_mapping=ALL_PROVINCES)],
          **NATIONAL)
def national_record_links(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every province's registrations of one snapshot in the national database, linked into one person per human
    across the country by the identity code of the city pipeline (assets/identity.py, same model and settings),
    with each province's activity at the snapshot date (its marts.registration_activity).

    Writes national.duckdb: staging.registrations and marts.registration_activity (source and record_key
    prefixed `<province>/`), identity.* for the snapshot. A private database, like pipeline.duckdb.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    params = {"snapshot_date": snapshot_date}
    with _national(warehouse) as con:
        with _provinces_attached(con, warehouse, snapshot_date) as provinces, transaction(con):
            replace_table(con, "reference.regions", f"SELECT * FROM p{provinces[0]}.reference.regions")
            registrations = replace_rows(con, "staging.registrations", snapshot_date, _union(provinces, """
                SELECT * REPLACE ('{p}/' || source AS source, '{p}/' || record_key AS record_key)
                FROM p{p}.staging.registrations WHERE snapshot_date = $snapshot_date"""), params)
            replace_rows(con, "marts.registration_activity", snapshot_date, _union(provinces, """
                SELECT * REPLACE ('{p}/' || source AS source)
                FROM p{p}.marts.registration_activity WHERE snapshot_date = $snapshot_date"""), params)
        stats = link_snapshot(con, warehouse, snapshot_date, "staging.registrations")
        across = first(con, """SELECT count(*) FROM (SELECT person_id FROM identity.record_links
                               WHERE snapshot_date = $snapshot_date GROUP BY person_id
                               HAVING count(DISTINCT split_part(source, '/', 1)) > 1)""", params)[0]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": stats["rows"], "provinces": ", ".join(provinces), "registrations": registrations,
        "persons": stats["persons"], "persons_in_several_provinces": across,
        **{f"links_{m}": n for m, n in stats["methods"].items()},
    })


@dg.asset(key=["national", "province_coverage"], deps=[national_record_links],
          **NATIONAL)
def national_province_coverage(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Coverage per province with each person counted once in the whole country: marts.workers of the national
    database (the city pipeline's rule for who is covered and where they live, warehouse/sql/marts/workers.sql,
    over the national links), then marts.province_coverage beside each province run's own count.
    """
    snapshot_date = date.fromisoformat(context.partition_key)
    params = {"snapshot_date": snapshot_date}
    with _national(warehouse) as con, _provinces_attached(con, warehouse, snapshot_date) as provinces:
        with transaction(con):
            replace_rows(con, "marts.workers", snapshot_date, sql("marts/workers"),
                         {**params, "area_code": warehouse.area_code})
            rows = replace_rows(con, "marts.province_coverage", snapshot_date, f"""
                WITH residence AS (
                    SELECT substr(region_code, 1, 2) AS province, count(*) AS persons,
                           count(*) FILTER (WHERE is_active) AS covered_persons
                    FROM marts.workers WHERE snapshot_date = $snapshot_date GROUP BY ALL
                ), delivered AS (
                    SELECT split_part(source, '/', 1) AS province, count(*) AS registrations
                    FROM staging.registrations WHERE snapshot_date = $snapshot_date GROUP BY ALL
                ), own_run AS ({_union(provinces, '''
                    SELECT '{p}' AS province, count(*) FILTER (WHERE is_active) AS covered_by_province_runs
                    FROM p{p}.marts.workers WHERE snapshot_date = $snapshot_date''')})
                SELECT CAST($snapshot_date AS DATE) AS snapshot_date, province,
                       coalesce(persons, 0) AS persons, coalesce(covered_persons, 0) AS covered_persons,
                       covered_by_province_runs, coalesce(registrations, 0) AS registrations
                FROM residence FULL JOIN delivered USING (province) FULL JOIN own_run USING (province)
                ORDER BY province NULLS LAST""", params)
            totals = first(con, """SELECT sum(covered_persons), sum(covered_by_province_runs), sum(persons)
                                   FROM marts.province_coverage WHERE snapshot_date = $snapshot_date""", params)
    covered, by_runs, persons = totals
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "persons": persons, "covered_persons": covered,
        "covered_by_province_runs_summed": by_runs,
        "counted_twice_by_summing_province_runs": (by_runs or 0) - (covered or 0),
    })


national_assets = [province_snapshot, national_record_links, national_province_coverage]
