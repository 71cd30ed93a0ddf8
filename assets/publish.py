"""Publish: each snapshot frozen as analysts will see it, then two published copies built beside the live files and
swapped in whole, each with a Parquet copy of every table.

Two steps, each atomic:
1. `publish/snapshot` copies one snapshot's analyst rows from the marts into the `publish` schema of the
   pipeline database, in one transaction, once every mart of the run has succeeded. A run that dies half way
   leaves that snapshot's published rows as they were, whatever state its marts are in.
2. `publish/analytics` builds, from the `publish` schema alone (every snapshot ever published), the two tiers
   of the contract (§3): `analytics.duckdb`, open, aggregates only, every cell counting fewer people than the
   disclosure threshold suppressed and marked; `analytics_restricted.duckdb`, person-level rows under keyed
   pseudonyms, for authorised staff. Each is written to a new file, checkpointed, made read-only, synced and
   renamed over the live one (a stale `.wal` an analyst left is removed first); its Parquet set is written to a
   folder named by the publication id and swapped in with one rename of the `parquet` link.

Disclosure control covers tables added later without special-casing (docs/operations.md): in the open tier
every integer column is a count of people, and is suppressed under the threshold, unless its table declares it
otherwise (`not_counts`: years, days, file rows); a fractional column (a rate) is hidden in a row where a count
it derives from is suppressed. The blocking check `disclosure_control` proves it on the published file.
"""


import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
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
    "field_defects": "SELECT * FROM marts.field_defects",
    "workers": """SELECT snapshot_date, person_id, is_active, segments, region_code, region_level, in_area, sex,
                         birth_year FROM marts.workers""",
    "record_links": """SELECT snapshot_date, source, source_row, person_id, match_method, match_probability
                       FROM identity.record_links""",
    "snapshots": "SELECT DISTINCT snapshot_date, cut_off_date AS civil_registry_cut_off FROM raw.civil_registry",
    # issue 12: where the gap is and who can close it (aggregates; opd_coverage sums marts.opd_staff)
    "village_targets": "SELECT * FROM marts.village_targets",
    "coverage_by_sex": "SELECT * FROM marts.coverage_by_sex",
    "coverage_by_occupation": "SELECT * FROM marts.coverage_by_occupation",
    "employer_compliance": "SELECT * FROM marts.employer_compliance",
    "opd_coverage": "SELECT * FROM marts.opd_coverage",
    "bpu_lapse": "SELECT * FROM marts.bpu_lapse",
    "coverage_changes": "SELECT * FROM marts.coverage_changes",
}

OPEN, RESTRICTED = "open", "restricted"
TIER_FILES = {OPEN: "analytics.duckdb", RESTRICTED: "analytics_restricted.duckdb"}
TIER_PARQUET = {OPEN: PARQUET_DIR, RESTRICTED: "parquet_restricted"}
SUPPRESSED = "suppressed"  # column of every open table: the columns of the row hidden by disclosure control
PUBLICATION = "publication"  # one-row table of every tier: the publication id its Parquet files carry
# Columns that identify a person: never in the open tier (the check refuses the file if one is there).
PERSON_COLUMNS = {"person_key", "person_id", "nik", "kpj", "nama", "tanggal_lahir", "birth_date", "source_row"}
INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT"}


@dataclass(frozen=True)
class Table:
    """How one published table is built, which tier holds it, and which of its integer columns count no people."""

    sql: str
    tier: str = OPEN
    not_counts: tuple[str, ...] = ()  # integer columns that are not counts of people: years, days, file rows
    # fractional columns computed from counts of the row: hidden when one of these counts is. Undeclared,
    # a fractional column is hidden when any count of its row is (the safe default for a new table).
    derived_from: dict[str, tuple[str, ...]] = field(default_factory=dict)


# The tables of both tiers and how each is built from the published snapshots. A plain SQL string is an open
# table under the convention (every integer column counts people). Persons appear only in the restricted tier,
# as person_key = HMAC(secret key, internal person id): no NIK, KPJ, name or birth date anywhere.
TABLES: dict[str, str | Table] = {
    "coverage_by_region": Table(
        "SELECT * FROM publish.coverage_by_region",
        derived_from={"coverage_pct": ("covered_workers", "eligible_workforce"),
                      "uncovered_workers": ("covered_workers", "eligible_workforce")}),
    "covered_outside_area": "SELECT * FROM publish.covered_outside_area",
    "coverage_by_segment": "SELECT * FROM publish.coverage_by_segment",
    "segment_overlap": "SELECT * FROM publish.segment_overlap",
    # rows of the delivered files, not people: the reconciliation received = loaded + quarantined must hold
    "data_quality": Table("SELECT * FROM publish.data_quality",
                          not_counts=("rows_received", "rows_loaded", "rows_quarantined")),
    "field_defects": Table("SELECT * FROM publish.field_defects", not_counts=("rows",)),  # rows of files, not people
    "snapshots": """SELECT snapshot_date, civil_registry_cut_off, $demo_key AS pseudonymised_with_demo_key
                    FROM publish.snapshots""",
    # the targets' own figures derive from no count (an empty derivation): never hidden
    "coverage_trend": Table(sql("marts/coverage_trend", src=PUBLISHED_SCHEMA),
                            not_counts=("growth_window_days", "final_target_year"),
                            derived_from={"target_pct_this_year": (), "final_target_pct": (),
                                          "years_to_final_target": (), "participant_growth_target_pct": ()}),
    "coverage_vs_targets": Table(sql("marts/coverage_vs_targets", src=PUBLISHED_SCHEMA), not_counts=("target_year",),
                                 derived_from={"target_pct": (), "years_left": ()}),
    "coverage_targets": Table("SELECT indicator, year, value, source, note FROM reference.coverage_targets",
                              not_counts=("year",), derived_from={"value": ()}),
    # issue 12: targeting, employer compliance (PDS), OPD staff, lapse and churn
    "village_targets": Table("SELECT * FROM publish.village_targets", not_counts=("rank",),
                             derived_from={"coverage_pct": ("covered_workers", "eligible_workforce"),
                      "uncovered_workers": ("covered_workers", "eligible_workforce")}),
    "coverage_by_sex": Table("SELECT * FROM publish.coverage_by_sex",
                             derived_from={"coverage_pct": ("covered_workers", "eligible_workforce"),
                      "uncovered_workers": ("covered_workers", "eligible_workforce")}),
    "coverage_by_occupation": Table(
        "SELECT * FROM publish.coverage_by_occupation",
        derived_from={"coverage_pct_estimate": ("covered_workers_estimate", "eligible_workforce")}),
    "employer_compliance": Table(
        "SELECT * FROM publish.employer_compliance", not_counts=("wage_floor", "pds_kinds", "inspection_rank"),
        # unregistered = declared - active: each of the two gives the other back
        derived_from={"below_wage_floor_pct": ("workers_below_wage_floor", "active_workers", "unregistered_workers"),
                      "unregistered_workers": ("active_workers",), "active_workers": ("unregistered_workers",)}),
    # covered + not covered = matched + not matched = roster: a hidden count would come back from its complement
    "opd_coverage": Table("SELECT * FROM publish.opd_coverage",
                          derived_from={"staff_covered_pct": ("staff_covered", "staff_not_covered", "staff_on_roster"),
                                        "staff_covered": ("staff_not_covered",), "staff_not_covered": ("staff_covered",),
                                        "staff_matched": ("staff_not_matched",),
                                        "staff_not_matched": ("staff_matched",)}),
    "bpu_lapse": "SELECT * FROM publish.bpu_lapse",
    "coverage_changes": Table("SELECT * FROM publish.coverage_changes", not_counts=("days_since_previous_snapshot",)),
    "workers": Table("""SELECT w.snapshot_date, k.person_key, w.* EXCLUDE (snapshot_date, person_id)
                        FROM publish.workers w JOIN person_keys k USING (person_id)""", tier=RESTRICTED),
    "record_links": Table("""SELECT r.snapshot_date, r.source, r.source_row, k.person_key, r.match_method,
                                    r.match_probability
                             FROM publish.record_links r JOIN person_keys k USING (person_id)""", tier=RESTRICTED),
}


def table_spec(name: str) -> Table:
    spec = TABLES[name]
    return spec if isinstance(spec, Table) else Table(spec)


def tier_tables(tier: str) -> list[str]:
    return [name for name in TABLES if table_spec(name).tier == tier]


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
    """A published table is a frozen copy of what it publishes (a declared mart): created in its shape on first use,
    and a column the mart gained since is added (older snapshots read NULL there)."""
    schema, name = table.split(".")
    have = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                                      "AND table_name = ?", [schema, name]).fetchall()}
    if not have:
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM ({select}) LIMIT 0", params)
        return
    for column, column_type, *_ in con.execute(f"DESCRIBE SELECT * FROM ({select})", params).fetchall():
        if column not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {column_type}')


def parquet_dir(warehouse: Warehouse, tier: str = OPEN) -> Path:
    """The tier's Parquet folder (a link to the current publication's folder)."""
    return warehouse.analytics_db.parent / TIER_PARQUET[tier]


def tier_db(warehouse: Warehouse, tier: str) -> Path:
    return warehouse.analytics_db.parent / TIER_FILES[tier]


def quote(value: object) -> str:
    """A SQL string literal; for the few statements (ATTACH, COPY) that take no parameters."""
    return "'" + str(value).replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, select: str, params: dict) -> list[tuple[str, str]]:
    return [(c, t) for c, t, *_ in con.execute(f"DESCRIBE SELECT * FROM ({select})", params).fetchall()]


def count_columns(name: str, columns: list[tuple[str, str]]) -> list[str]:
    """The columns of an open table that count people: every integer column its table does not declare otherwise."""
    spec = table_spec(name)
    return [c for c, t in columns if t.upper() in INTEGER_TYPES and c not in spec.not_counts]


def small(column: str) -> str:
    """A count that is suppressed: 1 to threshold - 1 people (a zero counts no one and is published)."""
    return f'("{column}" BETWEEN 1 AND $threshold - 1)'


def suppressed_select(name: str, select: str, columns: list[tuple[str, str]]) -> str:
    """`select` with every count of 1 to $threshold - 1 people replaced by NULL, the columns derived from it too,
    and the column `suppressed` naming what was hidden in the row (NULL when nothing was)."""
    spec = table_spec(name)
    counts = count_columns(name, columns)
    hidden = {c: [small(c)] for c in counts}
    for column, column_type in columns:
        fractional = column_type.upper().startswith(("DOUBLE", "FLOAT", "REAL", "DECIMAL"))
        if column in spec.not_counts or not (fractional or column in spec.derived_from):
            continue
        # a declared derivation hides the column with its sources (a complement such as uncovered =
        # eligible - covered too: it would give the hidden count back); an undeclared rate goes with any count
        sources = spec.derived_from.get(column, counts)
        hidden.setdefault(column, []).extend(small(c) for c in sources if c in counts)
    hidden = {c: " OR ".join(conds) for c, conds in hidden.items() if conds}
    if not hidden:
        return f"SELECT *, NULL::VARCHAR AS {SUPPRESSED} FROM ({select})"
    replace = ", ".join(f'CASE WHEN coalesce({cond}, false) THEN NULL ELSE "{c}" END AS "{c}"'
                        for c, cond in hidden.items())
    marks = ", ".join(f"CASE WHEN coalesce({cond}, false) THEN '{c}' END" for c, cond in hidden.items())
    return (f"SELECT * REPLACE ({replace}), nullif(concat_ws(',', {marks}), '') AS {SUPPRESSED} "
            f"FROM ({select})")


def open_tier_problems(con: duckdb.DuckDBPyConnection, threshold: int, catalog: str | None = None) -> list[str]:
    """What breaks disclosure control in an open-tier database: a table not declared open, a person-level
    column, or a count cell under the threshold that is not suppressed. Empty when the file is safe."""
    prefix = f"{catalog}." if catalog else ""
    where = f"database_name = {quote(catalog)}" if catalog else "database_name = current_database()"
    found = con.execute(f"SELECT table_name FROM duckdb_tables() WHERE {where} ORDER BY 1").fetchall()
    problems = []
    for (table,) in found:
        if table == PUBLICATION:
            continue
        if table not in TABLES or table_spec(table).tier != OPEN:
            problems.append(f"{table}: not an open-tier table (person-level tables belong in the restricted tier)")
            continue
        columns = _columns(con, f"SELECT * FROM {prefix}{table}", {})
        problems += [f"{table}.{c}: a person-level column" for c, _ in columns if c in PERSON_COLUMNS]
        for column in count_columns(table, columns):
            n = first(con, f'SELECT count(*) FROM {prefix}{table} WHERE "{column}" BETWEEN 1 AND ? - 1',
                      [threshold])[0]
            if n:
                problems.append(f"{table}.{column}: {n} cells under {threshold} not suppressed")
    return problems


def build_analytics(warehouse: Warehouse) -> dict[str, int]:
    """Build both tiers from every published snapshot and swap each in whole; returns rows per table."""
    ipad, opad = warehouse.pseudonym_pads()
    demo = warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY
    publication_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    params = {"ipad": ipad, "opad": opad, "demo_key": demo, "threshold": warehouse.disclosure_threshold}
    counts, built = {}, []
    with warehouse.connect() as con:
        con.execute(PERSON_KEYS_SQL, {"ipad": ipad, "opad": opad})
        try:
            for tier in (OPEN, RESTRICTED):
                counts |= _build_tier(con, warehouse, tier, publication_id, demo, params)
                built.append(tier)
        finally:
            con.execute("DROP TABLE IF EXISTS temp.person_keys")
    for tier in built:  # both files built and verified: swap them in, the open tier last
        _swap_file(warehouse, tier)
    for tier in built:
        _swap_parquet(warehouse, tier, publication_id)
    counts["publication_id"] = publication_id
    return counts


def _build_tier(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, tier: str, publication_id: str, demo: bool,
                params: dict) -> dict[str, int]:
    """Write one tier to `<file>.building` and its Parquet set to `<parquet>.<publication id>`; nothing live changes."""
    live = tier_db(warehouse, tier)
    build = live.with_name(live.name + ".building")
    wal = Path(f"{build}.wal")
    staged = live.parent / f"{TIER_PARQUET[tier]}.{publication_id}"
    for stale in (build, wal):  # left by a run that died while building
        stale.unlink(missing_ok=True)
    staged.mkdir(parents=True)
    threshold = warehouse.disclosure_threshold
    counts = {}
    home = first(con, "SELECT current_database()")[0]
    con.execute(f"ATTACH {quote(build)} AS building (STORAGE_VERSION {quote(STORAGE_VERSION)})")
    try:
        con.execute(f"CREATE TABLE building.{PUBLICATION} AS SELECT $publication_id AS publication_id, "
                    "$published_at::TIMESTAMPTZ AS published_at, $tier AS tier, $threshold AS disclosure_threshold, "
                    "$demo AS pseudonymised_with_demo_key",
                    {"publication_id": publication_id, "published_at": datetime.now(timezone.utc), "tier": tier,
                     "threshold": threshold if tier == OPEN else None, "demo": demo})
        for table in tier_tables(tier):
            select = table_spec(table).sql
            used = {k: v for k, v in params.items() if f"${k}" in select}
            if tier == OPEN:
                select = suppressed_select(table, select, _columns(con, select, used))
                used = {k: v for k, v in params.items() if f"${k}" in select}
            con.execute(f"CREATE TABLE building.{table} AS SELECT * FROM ({select}) ORDER BY ALL", used)
            counts[table] = first(con, f"SELECT count(*) FROM building.{table}")[0]
        con.execute("USE building")
        _comment(con, tier, threshold, demo)
        con.execute(f"USE {home}")
        if tier == OPEN and (problems := open_tier_problems(con, threshold, "building")):
            raise RuntimeError("disclosure control failed; nothing was published:\n" + "\n".join(problems))
        metadata = "{publication_id: " + quote(publication_id) + ", tier: " + quote(tier) + \
                   ", pseudonyms_from_demo_key: " + quote("true" if demo else "false") + "}"
        for table in [PUBLICATION, *tier_tables(tier)]:
            con.execute(f"COPY building.{table} TO {quote(staged / (table + '.parquet'))} "
                        f"(FORMAT parquet, COMPRESSION snappy, KV_METADATA {metadata})")
        # checkpoint before detaching: a file renamed with a pending WAL silently loses its last writes
        con.execute("CHECKPOINT building")
    finally:
        con.execute(f"USE {home}")
        con.execute("DETACH DATABASE IF EXISTS building")
    if wal.exists():
        raise RuntimeError(f"{wal} is still there after CHECKPOINT and DETACH; {live} was left as it was.")
    return counts


def _comment(con: duckdb.DuckDBPyConnection, tier: str, threshold: int, demo: bool) -> None:
    """Comments of analytics.sql for the tables of this tier; suppression and the demo key said where they apply."""
    present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() "
                                          "WHERE database_name = current_database()").fetchall()}
    for statement in (SQL_DIR / "analytics.sql").read_text().split(";\n"):
        target = re.search(r"COMMENT ON (?:TABLE|COLUMN) (\w+)", statement)
        if target and target.group(1) in present:
            con.execute(statement)
    con.execute(f"COMMENT ON TABLE {PUBLICATION} IS {quote('This publication: its id (every Parquet file of the same set carries it in its metadata), when it was published, the tier, the disclosure threshold.')}")
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall():
        comment = first(con, "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() "
                             "AND table_name = ?", [table])[0] or ""
        if tier == OPEN and table != PUBLICATION:
            con.execute(f"COMMENT ON COLUMN {table}.{SUPPRESSED} IS " + quote(
                f"Columns of this row hidden (NULL) because they count fewer than {threshold} people, or derive "
                "from such a count; NULL when nothing was hidden"))
        if tier == RESTRICTED:
            comment += (" RESTRICTED: personal data under UU 27/2022 (PDP), though pseudonymised; for authorised "
                        "staff only.")
        if demo:
            comment += " DEMO KEY: the pseudonyms were made with the published demo key and are NOT secret."
        con.execute(f"COMMENT ON TABLE {table} IS {quote(comment.strip())}")


def _swap_file(warehouse: Warehouse, tier: str) -> None:
    """Make the built file read-only, clear a stale WAL an analyst's read-write session left, rename it in."""
    live = tier_db(warehouse, tier)
    build = live.with_name(live.name + ".building")
    # read-only for everyone; the restricted tier (personal data) for its owner and group only
    os.chmod(build, 0o444 if tier == OPEN else 0o440)
    _fsync(build)
    # A WAL beside the live file belongs to someone who opened it read-write: replayed against the new file
    # it would fail every later reader ("WAL does not match database file"). Their writes are not ours.
    Path(f"{live}.wal").unlink(missing_ok=True)
    os.replace(build, live)
    _fsync(live.parent)


def _swap_parquet(warehouse: Warehouse, tier: str, publication_id: str) -> None:
    """Point the tier's Parquet link at the new publication's folder in one rename; keep the previous folder
    (a reader may be in it), remove older ones. A real folder from before versioning is replaced once."""
    link = parquet_dir(warehouse, tier)
    folder = link.with_name(f"{link.name}.{publication_id}")
    for path in folder.iterdir():
        _fsync(path)
    _fsync(folder)
    previous = link.resolve() if link.is_symlink() else None
    if link.is_dir() and not link.is_symlink():  # Parquet of a version without publication ids
        shutil.rmtree(link)
    tmp = link.with_name(f"{link.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(folder.name)
    os.replace(tmp, link)
    _fsync(link.parent)
    for old in link.parent.glob(f"{link.name}.*"):
        if old.is_dir() and not old.is_symlink() and old.resolve() not in (folder.resolve(), previous):
            shutil.rmtree(old, ignore_errors=True)


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
    """The published copies: analytics.duckdb (open tier: coverage aggregates and the trend against the targets,
    cells under the disclosure threshold suppressed) and analytics_restricted.duckdb (person-level workers and
    record links under keyed pseudonyms, for authorised staff); a Parquet set per tier beside them.

    Replaced whole and atomically after each successful run, read-only, safe to keep open. Readable by
    DuckDB 1.4 and newer.
    """
    demo = warehouse.pseudonym_key == DEMO_PSEUDONYM_KEY
    if demo:
        context.log.warning("Pseudonyms use the published demo key: they are NOT secret. Set "
                            "JAMSOSTEK_PSEUDONYM_KEY for real data.")
    counts = build_analytics(warehouse)
    publication_id = counts.pop("publication_id")
    return dg.MaterializeResult(metadata={
        "path": str(warehouse.analytics_db), "restricted_path": str(warehouse.restricted_db),
        "parquet": str(parquet_dir(warehouse)), "publication_id": publication_id,
        "disclosure_threshold": warehouse.disclosure_threshold,
        "storage_version": STORAGE_VERSION, "demo_pseudonym_key": demo,
        "snapshots": counts["snapshots"], **{f"rows_{t}": n for t, n in counts.items()},
    })


# In the pool like every writer: it writes its HTML into the warehouse folder, after the publish of its run
@dg.asset(key=["publish", "report"], group_name="publish", partitions_def=snapshot_partitions,
          deps=[analytics_published], kinds={"html"}, pool="pipeline_db")
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


DISCLOSURE_CONTROL = "disclosure_control"


@dg.asset_check(asset=analytics_published, name=DISCLOSURE_CONTROL, blocking=True,
                partitions_def=snapshot_partitions, pool="pipeline_db",
                description="ERROR, blocking. The open tier (analytics.duckdb) holds no person-level table or column, "
                            "and every cell counting people is at or above the disclosure threshold or suppressed. "
                            "A failure means the publish step let a small cell through: report it.")
def disclosure_control(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    # The same test already refused to swap in a file that fails it; this proves it on the live file.
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        problems = open_tier_problems(con, warehouse.disclosure_threshold)
        suppressed = sum(first(con, f"SELECT count({SUPPRESSED}) FROM {t}")[0] for t in tier_tables(OPEN))
    return dg.AssetCheckResult(
        passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems[:10]) or None,
        metadata={"threshold": warehouse.disclosure_threshold, "rows_with_suppressed_cells": suppressed,
                  "problems": len(problems)})


publish_assets = [publish_snapshot_asset, analytics_published, report_published]
publish_checks = [disclosure_control]
