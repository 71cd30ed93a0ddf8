"""Coverage marts: who is covered at the snapshot date, where they live, against the eligible workforce."""


from datetime import date

import dagster as dg

from assets.identity import identity_record_links, staging_registrations
from assets.staging import QUARANTINE
from sources import SOURCES
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse
from warehouse.db import first, preview, replace_rows, transaction

WORKERS_SQL = """
WITH reg AS (
    SELECT r.*, l.person_id, l.person_nik
    FROM staging.registrations r
    JOIN identity.record_links l USING (snapshot_date, source, source_row)
    WHERE r.snapshot_date = $snapshot_date
),
per_person AS (
    SELECT person_id,
           bool_or(is_active) AS is_active,
           coalesce(array_to_string(list_sort(list_distinct(list(segment) FILTER (WHERE is_active))), '+'), '') AS segments,
           -- region: domicile of the most recent active registration that has one; for people with no
           -- active registration, of the most recent one; else the district in a valid NIK
           coalesce(
               arg_max(domicile_village, (start_date, source, source_row)) FILTER (WHERE is_active AND domicile_village IS NOT NULL),
               CASE WHEN NOT bool_or(is_active) THEN
                   arg_max(domicile_village, (start_date, source, source_row)) FILTER (WHERE domicile_village IS NOT NULL) END,
               nik_district(any_value(person_nik))  -- the person's own NIK, not a mistyped copy on one form
           ) AS region_code,
           mode(jenis_kelamin) AS sex,
           mode(year(tanggal_lahir)) AS birth_year,
           count(*) AS registrations
    FROM reg GROUP BY person_id
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, person_id, is_active, segments, region_code,
       CASE length(region_code) WHEN 13 THEN 'village' WHEN 8 THEN 'district' END AS region_level,
       coalesce(starts_with(region_code, $area_code || '.'), false) AS in_area,
       sex, birth_year, registrations
FROM per_person
"""

# Eligible workforce and covered workers at village, district and city level, side by side.
COVERAGE_BY_REGION_SQL = """
WITH eligible_village AS (
    SELECT c.kode_wilayah AS village, sum(c.jumlah) AS eligible
    FROM staging.civil_registry c
    JOIN (SELECT DISTINCT name FROM reference.occupation_categories WHERE category = 'eligible') o
      ON o.name = upper(trim(c.pekerjaan))
    WHERE c.snapshot_date = $snapshot_date AND starts_with(c.kode_wilayah, $area_code || '.')
    GROUP BY ALL
),
eligible AS (
    SELECT CASE WHEN GROUPING(village) = 0 THEN 'village' WHEN GROUPING(district) = 0 THEN 'district' ELSE 'city' END AS level,
           coalesce(village, district, $area_code) AS region_code, sum(eligible) AS eligible_workforce
    FROM (SELECT village, substr(village, 1, 8) AS district, eligible FROM eligible_village)
    GROUP BY GROUPING SETS ((village, district), (district), ())
),
covered_people AS (
    SELECT CASE WHEN region_level = 'village' THEN region_code END AS village, substr(region_code, 1, 8) AS district,
           list_contains(string_split(segments, '+'), 'PU') AS pu,
           list_contains(string_split(segments, '+'), 'BPU') AS bpu,
           list_contains(string_split(segments, '+'), 'JAKON') AS jakon
    FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active AND in_area
),
covered AS (
    SELECT CASE WHEN GROUPING(village) = 0 THEN 'village' WHEN GROUPING(district) = 0 THEN 'district' ELSE 'city' END AS level,
           coalesce(village, district, $area_code) AS region_code,
           count(*) AS covered_workers, count(*) FILTER (WHERE pu) AS covered_pu,
           count(*) FILTER (WHERE bpu) AS covered_bpu, count(*) FILTER (WHERE jakon) AS covered_jakon
    FROM covered_people
    GROUP BY GROUPING SETS ((village, district), (district), ())
    HAVING NOT (GROUPING(village) = 0 AND village IS NULL)  -- district-only people have no village row
),
regions AS (
    SELECT CASE level WHEN 'regency' THEN 'city' ELSE level END AS level, code AS region_code, name AS region_name
    FROM reference.regions WHERE code = $area_code OR starts_with(code, $area_code || '.')
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, level, region_code, region_name,
       coalesce(e.eligible_workforce, 0)::BIGINT AS eligible_workforce,
       coalesce(c.covered_workers, 0)::BIGINT AS covered_workers,
       (coalesce(e.eligible_workforce, 0) - coalesce(c.covered_workers, 0))::BIGINT AS uncovered_workers,
       100.0 * coalesce(c.covered_workers, 0) / nullif(e.eligible_workforce, 0) AS coverage_pct,
       coalesce(c.covered_pu, 0)::BIGINT AS covered_pu, coalesce(c.covered_bpu, 0)::BIGINT AS covered_bpu,
       coalesce(c.covered_jakon, 0)::BIGINT AS covered_jakon
FROM regions
FULL JOIN eligible e USING (level, region_code)
FULL JOIN covered c USING (level, region_code)
ORDER BY CASE level WHEN 'city' THEN 0 WHEN 'district' THEN 1 ELSE 2 END, region_code
"""

COVERED_OUTSIDE_AREA_SQL = """
SELECT CAST($snapshot_date AS DATE) AS snapshot_date,
       coalesce(substr(w.region_code, 1, 5), 'unknown') AS regency_code, r.name AS regency_name,
       count(*)::BIGINT AS covered_workers
FROM marts.workers w LEFT JOIN reference.regions r ON r.code = substr(w.region_code, 1, 5)
WHERE w.snapshot_date = $snapshot_date AND w.is_active AND NOT w.in_area
GROUP BY ALL ORDER BY covered_workers DESC
"""

COVERAGE_BY_SEGMENT_SQL = """
WITH received AS (
    SELECT 'PU' AS segment, count(*) AS n FROM raw.pu_workers WHERE snapshot_date = $snapshot_date
    UNION ALL SELECT 'BPU', count(*) FROM raw.bpu_participants WHERE snapshot_date = $snapshot_date
    UNION ALL SELECT 'JAKON', count(*) FROM raw.jakon_workers WHERE snapshot_date = $snapshot_date
),
active AS (
    SELECT r.segment, count(*) AS active_registrations, count(DISTINCT l.person_id) AS active_workers
    FROM staging.registrations r JOIN identity.record_links l USING (snapshot_date, source, source_row)
    WHERE r.snapshot_date = $snapshot_date AND r.is_active GROUP BY ALL
),
people AS (
    SELECT unnest(string_split(segments, '+')) AS segment, segments, in_area
    FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, received.segment,
       received.n::BIGINT AS registrations,
       coalesce(a.active_registrations, 0)::BIGINT AS active_registrations,
       coalesce(a.active_workers, 0)::BIGINT AS active_workers,
       (SELECT count(*) FROM people p WHERE p.segment = received.segment AND p.segments = received.segment)::BIGINT AS exclusive_workers,
       (SELECT count(*) FROM people p WHERE p.segment = received.segment AND p.in_area)::BIGINT AS active_workers_in_area
FROM received LEFT JOIN active a USING (segment)
ORDER BY CASE received.segment WHEN 'PU' THEN 0 WHEN 'BPU' THEN 1 ELSE 2 END
"""

SEGMENT_OVERLAP_SQL = """
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, segments, count(*)::BIGINT AS workers,
       count(*) FILTER (WHERE in_area)::BIGINT AS workers_in_area
FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active
GROUP BY segments ORDER BY workers DESC
"""

# Each quarantined row counts once, under the sorted combination of its reasons, so that for
# every source the rows sum to what was received.
DATA_QUALITY_SQL = """
WITH received AS ({received}),
quarantined AS (
    SELECT source, array_to_string(list_sort(reasons), '+') AS reason, count(*) AS n
    FROM {quarantine} WHERE snapshot_date = $snapshot_date GROUP BY ALL
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, 'ok' AS reason,
       (received.n - coalesce(q.n, 0))::BIGINT AS rows_received,
       (received.n - coalesce(q.n, 0))::BIGINT AS rows_loaded, 0::BIGINT AS rows_quarantined
FROM received LEFT JOIN (SELECT source, sum(n) AS n FROM quarantined GROUP BY source) q USING (source)
UNION ALL
SELECT CAST($snapshot_date AS DATE), source, reason, n::BIGINT, 0::BIGINT, n::BIGINT FROM quarantined
ORDER BY source, reason = 'ok' DESC, rows_received DESC
"""


def _params(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dict:
    return {"snapshot_date": date.fromisoformat(context.partition_key), "area_code": warehouse.area_code}


def _write(warehouse: Warehouse, params: dict, table: str, sql: str) -> int:
    with warehouse.connect() as con, transaction(con):
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        rows = replace_rows(con, table, params["snapshot_date"], sql, used)
    return rows


MARTS = dict(group_name="coverage", partitions_def=snapshot_partitions, pool="pipeline_db", kinds={"duckdb"})


@dg.asset(key=["marts", "workers"], deps=[identity_record_links, staging_registrations], **MARTS)
def marts_workers(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """One row per person: covered or not at the snapshot date, in which segments, and where they live."""
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "marts.workers", WORKERS_SQL)
    with warehouse.connect() as con:
        covered, in_area = first(con, "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE is_active AND in_area) "
                                       "FROM marts.workers WHERE snapshot_date = ?", [params["snapshot_date"]])
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "covered_workers_all": covered,
                                          "covered_workers_in_area": in_area})


@dg.asset(key=["marts", "coverage_by_region"], deps=[marts_workers, dg.AssetKey(["staging", "civil_registry"])], **MARTS)
def marts_coverage_by_region(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Coverage % by domicile: covered workers over the Dukcapil eligible workforce, for the city, its districts and villages.

    Eligible: every occupation on the KTP except civil servants, soldiers, police and people not in
    work. Village rows can sum to less than their district: some people are known only by the
    district in their NIK.
    """
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "marts.coverage_by_region", COVERAGE_BY_REGION_SQL)
    with warehouse.connect() as con:
        city = first(con, "SELECT eligible_workforce, covered_workers, uncovered_workers, coverage_pct FROM marts.coverage_by_region "
                           "WHERE snapshot_date = ? AND level = 'city'", [params["snapshot_date"]])
        table = preview(con, "SELECT region_code, region_name, eligible_workforce, covered_workers, round(coverage_pct, 2) AS pct "
                        "FROM marts.coverage_by_region WHERE snapshot_date = ? AND level = 'district'", [params["snapshot_date"]], 20)
    eligible, covered, uncovered, pct = city or (0, 0, 0, None)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "eligible_workforce": eligible, "covered_workers": covered,
        "uncovered_workers": uncovered, "coverage_pct": float(pct or 0.0), "districts": dg.MetadataValue.md(table),
    })


@dg.asset(key=["marts", "covered_outside_area"], deps=[marts_workers], **MARTS)
def marts_covered_outside_area(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Covered workers who live outside the configured area, by regency: reported apart, never in its rate."""
    rows = _write(warehouse, _params(context, warehouse), "marts.covered_outside_area", COVERED_OUTSIDE_AREA_SQL)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(key=["marts", "coverage_by_segment"], deps=[marts_workers], **MARTS)
def marts_coverage_by_segment(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per segment: registrations received beside the distinct active workers, and those active in that segment only.

    Registrations add up to more than people: one person can hold several registrations in one
    segment and be active in several segments.
    """
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "marts.coverage_by_segment", COVERAGE_BY_SEGMENT_SQL)
    with warehouse.connect() as con:
        table = preview(con, "SELECT * EXCLUDE (snapshot_date) FROM marts.coverage_by_segment WHERE snapshot_date = ?",
                        [params["snapshot_date"]])
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "segments": dg.MetadataValue.md(table)})


@dg.asset(key=["marts", "segment_overlap"], deps=[marts_workers], **MARTS)
def marts_segment_overlap(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Active workers by the combination of segments they are active in (e.g. `BPU+PU`): each person once."""
    rows = _write(warehouse, _params(context, warehouse), "marts.segment_overlap", SEGMENT_OVERLAP_SQL)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(key=["marts", "data_quality"], deps=[dg.AssetKey(["staging", s.name]) for s in SOURCES], **MARTS)
def marts_data_quality(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Rows received, loaded and quarantined per source and reason: for each source received = loaded + quarantined."""
    params = _params(context, warehouse)
    received = " UNION ALL ".join(f"SELECT '{s.name}' AS source, count(*) AS n FROM raw.{s.name} "
                                  "WHERE snapshot_date = $snapshot_date" for s in SOURCES)
    rows = _write(warehouse, params, "marts.data_quality",
                  DATA_QUALITY_SQL.format(received=received, quarantine=QUARANTINE))
    with warehouse.connect() as con:
        quarantined = first(con, "SELECT coalesce(sum(rows_quarantined), 0) FROM marts.data_quality WHERE snapshot_date = ?",
                                  [params["snapshot_date"]])[0]
        table = preview(con, "SELECT source, reason, rows_received FROM marts.data_quality WHERE snapshot_date = ?",
                        [params["snapshot_date"]], 30)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "rows_quarantined": int(quarantined),
                                          "by_source_and_reason": dg.MetadataValue.md(table)})


coverage_assets = [marts_workers, marts_coverage_by_region, marts_covered_outside_area, marts_coverage_by_segment,
                   marts_segment_overlap, marts_data_quality]
