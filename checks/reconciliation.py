"""Reconciliation checks: the figures agree with each other and with what was received.

Plain SQL over the pipeline database opened read-only: each compares totals across tables, which
a per-table suite cannot. Blocking where a mismatch means a published number is wrong.
"""

from datetime import date

import dagster as dg

from assets.staging import QUARANTINE
from sources import SOURCES, Source
from warehouse.db import markdown_table
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

NOTHING_LOST = "nothing_lost"
MOSTLY_LOADED = "mostly_loaded"
REGISTRY_COMPLETE = "registry_complete"
OVERLAP_SUMS_TO_COVERED = "overlap_sums_to_covered"
COVERED_WITHIN_ELIGIBLE = "covered_within_eligible"
VILLAGES_WITHIN_ELIGIBLE = "villages_within_eligible"
SEGMENT_SUM_BESIDE_DISTINCT = "segment_sum_beside_distinct"
VILLAGES_ADD_UP_TO_DISTRICT = "villages_add_up_to_district"
OCCUPATIONS_SUM_TO_COVERED = "occupations_sum_to_covered"
LAPSE_STATES_ADD_UP = "lapse_states_add_up"

# Above this share of a file quarantined, the file was most likely misread (shifted columns, another
# date format, a wrong export): publishing what is left would understate coverage without a word.
MAX_QUARANTINED_SHARE = 0.5

CHECK = dict(partitions_def=snapshot_partitions, pool="pipeline_db")
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def _rows(warehouse: Warehouse, sql: str, snapshot_date: date) -> list[tuple]:
    with warehouse.connect(read_only=True) as con:
        return con.execute(sql, {"snapshot_date": snapshot_date}).fetchall()


def _md(header: tuple[str, ...], rows: list[tuple]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(header, rows))


def _snapshot(context: dg.AssetCheckExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


# --- per staged source -------------------------------------------------------------------------

STAGED_COUNTS_SQL = """
SELECT (SELECT count(*) FROM raw.{s} WHERE snapshot_date = $snapshot_date),
       (SELECT count(*) FROM staging.{s} WHERE snapshot_date = $snapshot_date),
       (SELECT count(*) FROM {q} WHERE snapshot_date = $snapshot_date AND source = '{s}')
"""
TOP_REASONS_SQL = """
SELECT array_to_string(list_sort(reasons), '+') AS reason, count(*) AS n FROM {q}
WHERE snapshot_date = $snapshot_date AND source = '{s}' GROUP BY ALL ORDER BY n DESC, reason LIMIT 10
"""


def _staged_checks(source: Source) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["staging", source.name])
    is_registry = source.delivery == "registry"
    name = REGISTRY_COMPLETE if is_registry else MOSTLY_LOADED
    description = (
        "ERROR, blocking. Every Dukcapil row is loaded: a quarantined registry row (unknown occupation, bad village "
        "code, repeated row) would silently change the eligible workforce, the denominator of every rate. Fix the "
        "file, or add the occupation to reference/occupation_categories.csv, and rerun." if is_registry else
        f"ERROR, blocking. At most {MAX_QUARANTINED_SHARE:.0%} of the file's rows are quarantined. More means the "
        "file was most likely misread (columns shifted, another date format, a wrong export); publishing the rest "
        "would understate coverage. See staging.quarantine / data_quality for the reasons, fix the delivery, rerun.")

    @dg.asset_check(asset=asset, name=name, blocking=True, description=description, **CHECK)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        d = _snapshot(context)
        received, loaded, quarantined = _rows(warehouse, STAGED_COUNTS_SQL.format(s=source.name, q=QUARANTINE), d)[0]
        reasons = _rows(warehouse, TOP_REASONS_SQL.format(s=source.name, q=QUARANTINE), d)
        share = quarantined / received if received else 0.0
        passed = quarantined == 0 if is_registry else share <= MAX_QUARANTINED_SHARE
        return dg.AssetCheckResult(
            passed=passed, severity=ERROR,
            metadata={"rows_received": received, "rows_loaded": loaded, "rows_quarantined": quarantined,
                      "quarantined_share": float(share), "reasons": _md(("reasons", "rows"), reasons)},
            description=None if passed else (
                f"{quarantined} of {received} {source.name} rows quarantined ({share:.0%}); top reason: "
                f"{reasons[0][0] if reasons else '?'}. " + (
                    "Every Dukcapil row must load: fix the file or the occupation reference, then rerun."
                    if is_registry else
                    f"More than {MAX_QUARANTINED_SHARE:.0%} means the file was most likely misread or cut short "
                    "(columns shifted, another date format, a wrong or partial export): see staging.quarantine "
                    "(data_quality) for the reasons, get a complete delivery and rerun.")),
        )

    return [_check]


# --- marts ---------------------------------------------------------------------------------------

NOTHING_LOST_SQL = " UNION ALL ".join(
    f"""SELECT '{s.name}' AS source,
               (SELECT count(*) FROM raw.{s.name} WHERE snapshot_date = $snapshot_date) AS received,
               (SELECT count(*) FROM staging.{s.name} WHERE snapshot_date = $snapshot_date) AS loaded,
               (SELECT count(*) FROM {QUARANTINE} WHERE snapshot_date = $snapshot_date AND source = '{s.name}') AS quarantined,
               (SELECT coalesce(sum(rows_received), 0) FROM marts.data_quality
                 WHERE snapshot_date = $snapshot_date AND source = '{s.name}') AS reported_received,
               (SELECT coalesce(sum(rows_loaded), 0) FROM marts.data_quality
                 WHERE snapshot_date = $snapshot_date AND source = '{s.name}') AS reported_loaded,
               (SELECT coalesce(sum(rows_quarantined), 0) FROM marts.data_quality
                 WHERE snapshot_date = $snapshot_date AND source = '{s.name}') AS reported_quarantined"""
    for s in SOURCES)


@dg.asset_check(asset=dg.AssetKey(["marts", "data_quality"]), name=NOTHING_LOST, blocking=True, **CHECK, description=(
    "ERROR, blocking. For every source: rows received (raw) = rows loaded (staging) + rows quarantined, and "
    "data_quality reports exactly those counts. A difference means rows were dropped or counted twice."))
def nothing_lost(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    rows = _rows(warehouse, NOTHING_LOST_SQL, _snapshot(context))
    bad = [r for r in rows if not (r[1] == r[2] + r[3] == r[4] and r[2] == r[5] and r[3] == r[6])]
    return dg.AssetCheckResult(
        passed=not bad, severity=ERROR,
        metadata={"rows_received": sum(r[1] for r in rows), "rows_loaded": sum(r[2] for r in rows),
                  "rows_quarantined": sum(r[3] for r in rows),
                  "per_source": _md(("source", "received", "loaded", "quarantined", "reported received",
                                     "reported loaded", "reported quarantined"), rows)},
        description=None if not bad else "received != loaded + quarantined for " + ", ".join(r[0] for r in bad),
    )


@dg.asset_check(asset=dg.AssetKey(["marts", "segment_overlap"]), name=OVERLAP_SUMS_TO_COVERED, blocking=True, **CHECK,
                description="ERROR, blocking. The overlap table counts each covered worker once: its rows sum to the "
                            "distinct covered workers in marts.workers (in the area and in all).")
def overlap_sums_to_covered(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    (overlap, overlap_area, covered, covered_area), = _rows(warehouse, """
        SELECT (SELECT coalesce(sum(workers), 0) FROM marts.segment_overlap WHERE snapshot_date = $snapshot_date),
               (SELECT coalesce(sum(workers_in_area), 0) FROM marts.segment_overlap WHERE snapshot_date = $snapshot_date),
               (SELECT count(*) FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active),
               (SELECT count(*) FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active AND in_area)""",
        _snapshot(context))
    passed = overlap == covered and overlap_area == covered_area
    return dg.AssetCheckResult(
        passed=passed, severity=ERROR,
        metadata={"overlap_sum": int(overlap), "distinct_covered": int(covered),
                  "overlap_sum_in_area": int(overlap_area), "distinct_covered_in_area": int(covered_area)},
        description=None if passed else f"segment_overlap sums to {overlap}, marts.workers has {covered} covered.")


@dg.asset_check(asset=dg.AssetKey(["marts", "coverage_by_region"]), name=COVERED_WITHIN_ELIGIBLE, blocking=True, **CHECK,
                description="ERROR, blocking. For the city: covered workers <= eligible workforce, and the districts "
                            "add up to the city (eligible and covered). A city over 100% means the Dukcapil file is "
                            "incomplete or the area is wrong; the rate is not published.")
def covered_within_eligible(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    (eligible, covered, d_eligible, d_covered), = _rows(warehouse, """
        SELECT sum(eligible_workforce) FILTER (WHERE level = 'city'), sum(covered_workers) FILTER (WHERE level = 'city'),
               sum(eligible_workforce) FILTER (WHERE level = 'district'), sum(covered_workers) FILTER (WHERE level = 'district')
        FROM marts.coverage_by_region WHERE snapshot_date = $snapshot_date""", _snapshot(context))
    eligible, covered, d_eligible, d_covered = (int(v or 0) for v in (eligible, covered, d_eligible, d_covered))
    problems = []
    if covered > eligible:
        problems.append(f"the city has {covered} covered workers but only {eligible} eligible")
    if (d_eligible, d_covered) != (eligible, covered):
        problems.append(f"districts sum to {d_eligible} eligible / {d_covered} covered, the city has {eligible} / {covered}")
    return dg.AssetCheckResult(
        passed=not problems, severity=ERROR,
        metadata={"eligible_workforce": eligible, "covered_workers": covered,
                  "districts_eligible": d_eligible, "districts_covered": d_covered},
        description="; ".join(problems) or None)


@dg.asset_check(asset=dg.AssetKey(["marts", "coverage_by_region"]), name=VILLAGES_WITHIN_ELIGIBLE, blocking=False, **CHECK,
                description="WARN, not blocking. No village has more covered workers than eligible residents. A "
                            "village over 100% (named in the metadata) usually means people registered with an old "
                            "or wrong domicile, or an occupation miscounted by Dukcapil; the city rate is unaffected.")
def villages_within_eligible(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    over = _rows(warehouse, """
        SELECT region_code, region_name, eligible_workforce, covered_workers, round(coverage_pct, 1)
        FROM marts.coverage_by_region
        WHERE snapshot_date = $snapshot_date AND level IN ('village', 'district') AND covered_workers > eligible_workforce
        ORDER BY level DESC, region_code""", _snapshot(context))
    named = ", ".join(f"{name or '?'} ({code})" for code, name, *_ in over[:10])
    return dg.AssetCheckResult(
        passed=not over, severity=WARN,
        metadata={"regions_over_100pct": len(over),
                  "regions": _md(("region_code", "region_name", "eligible", "covered", "coverage %"), over[:50])},
        description=f"{len(over)} region(s) with more covered than eligible: {named}" if over else None)


@dg.asset_check(asset=dg.AssetKey(["marts", "coverage_by_segment"]), name=SEGMENT_SUM_BESIDE_DISTINCT, blocking=False,
                **CHECK, description=(
                    "WARN, not blocking. Sets the published-style sum of the segments (active workers of PU + BPU + "
                    "JAKON, and registrations received) beside the distinct covered workers. The sum counts a person "
                    "active in two segments twice; it can never be smaller than the distinct count."))
def segment_sum_beside_distinct(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    (segment_sum, registrations, active_registrations, distinct), = _rows(warehouse, """
        SELECT (SELECT coalesce(sum(active_workers), 0) FROM marts.coverage_by_segment WHERE snapshot_date = $snapshot_date),
               (SELECT coalesce(sum(registrations), 0) FROM marts.coverage_by_segment WHERE snapshot_date = $snapshot_date),
               (SELECT coalesce(sum(active_registrations), 0) FROM marts.coverage_by_segment WHERE snapshot_date = $snapshot_date),
               (SELECT count(*) FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active)""",
        _snapshot(context))
    segment_sum, registrations, active_registrations, distinct = map(int, (segment_sum, registrations,
                                                                            active_registrations, distinct))
    passed = segment_sum >= distinct
    return dg.AssetCheckResult(
        passed=passed, severity=WARN,
        metadata={"segment_sum_active_workers": segment_sum, "distinct_covered_workers": distinct,
                  "counted_more_than_once": segment_sum - distinct, "registrations_received": registrations,
                  "active_registrations": active_registrations},
        description=(f"segments sum to {segment_sum:,} active workers; {distinct:,} distinct people are covered "
                     f"({segment_sum - distinct:,} counted in more than one segment)") if passed else
                    f"segment sum {segment_sum} is below the distinct count {distinct}: the marts disagree.")


@dg.asset_check(asset=dg.AssetKey(["marts", "coverage_by_region"]), name=VILLAGES_ADD_UP_TO_DISTRICT, blocking=True,
                **CHECK,
                description="ERROR, blocking. For every district, its villages plus its unassigned row equal the "
                            "district (eligible, covered, uncovered, per segment). A mismatch means a person or a "
                            "registry row was placed in no village row or in two: the village figures would mislead.")
def villages_add_up_to_district(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    wrong = _rows(warehouse, """
        WITH r AS (SELECT * FROM marts.coverage_by_region WHERE snapshot_date = $snapshot_date),
        parts AS (SELECT district_code, sum(eligible_workforce) AS e, sum(covered_workers) AS c, sum(uncovered_workers) AS u,
                         sum(covered_pu) AS pu, sum(covered_bpu) AS bpu, sum(covered_jakon) AS jakon
                  FROM r WHERE level IN ('village', 'unassigned') GROUP BY district_code)
        SELECT d.region_code, d.eligible_workforce, p.e, d.covered_workers, p.c
        FROM r d LEFT JOIN parts p ON p.district_code = d.region_code
        WHERE d.level = 'district' AND (p.e IS DISTINCT FROM d.eligible_workforce OR p.c IS DISTINCT FROM d.covered_workers
              OR p.u IS DISTINCT FROM d.uncovered_workers OR p.pu IS DISTINCT FROM d.covered_pu
              OR p.bpu IS DISTINCT FROM d.covered_bpu OR p.jakon IS DISTINCT FROM d.covered_jakon)
        ORDER BY 1""", _snapshot(context))
    return dg.AssetCheckResult(
        passed=not wrong, severity=ERROR,
        metadata={"districts_not_adding_up": len(wrong),
                  "districts": _md(("district", "eligible", "villages eligible", "covered", "villages+unassigned covered"),
                                   wrong[:50])},
        description=f"{len(wrong)} district(s) where villages + unassigned differ from the district: "
                    f"{', '.join(w[0] for w in wrong[:10])}" if wrong else None)


@dg.asset_check(asset=dg.AssetKey(["marts", "coverage_by_occupation"]), name=OCCUPATIONS_SUM_TO_COVERED, blocking=True,
                **CHECK,
                description="ERROR, blocking. The occupation estimate places every covered worker of the area once "
                            "(unmapped included): its covered sum equals the city's covered workers, and its eligible "
                            "sum the city's eligible workforce.")
def occupations_sum_to_covered(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    (occ_covered, occ_eligible, covered, eligible), = _rows(warehouse, """
        SELECT (SELECT sum(covered_workers_estimate) FROM marts.coverage_by_occupation WHERE snapshot_date = $snapshot_date),
               (SELECT sum(eligible_workforce) FROM marts.coverage_by_occupation WHERE snapshot_date = $snapshot_date),
               (SELECT covered_workers FROM marts.coverage_by_region WHERE snapshot_date = $snapshot_date AND level = 'city'),
               (SELECT eligible_workforce FROM marts.coverage_by_region WHERE snapshot_date = $snapshot_date AND level = 'city')
        """, _snapshot(context))
    passed = (occ_covered or 0) == (covered or 0) and (occ_eligible or 0) == (eligible or 0)
    return dg.AssetCheckResult(
        passed=passed, severity=ERROR,
        metadata={"occupation_covered_sum": int(occ_covered or 0), "city_covered_workers": int(covered or 0),
                  "occupation_eligible_sum": int(occ_eligible or 0), "city_eligible_workforce": int(eligible or 0)},
        description=None if passed else f"occupations sum to {occ_covered} covered / {occ_eligible} eligible; "
                                        f"the city has {covered} / {eligible}.")


@dg.asset_check(asset=dg.AssetKey(["marts", "bpu_lapse"]), name=LAPSE_STATES_ADD_UP, blocking=True, **CHECK,
                description="ERROR, blocking. Every BPU participant is in exactly one state (paid up, lapsed 1-30, "
                            "31-60, 61-90, over 90 days, closed) and one place: the states add up to the participants "
                            "in every row, and the villages to their district, the districts to the city.")
def lapse_states_add_up(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    wrong = _rows(warehouse, """
        WITH r AS (SELECT * FROM marts.bpu_lapse WHERE snapshot_date = $snapshot_date)
        SELECT 'states of ' || region_code FROM r
        WHERE bpu_participants <> paid_up_participants + lapsed_1_30_days + lapsed_31_60_days + lapsed_61_90_days
                                  + lapsed_over_90_days + closed_participants
        UNION ALL
        SELECT 'villages of ' || d.region_code FROM r d
        WHERE d.level = 'district' AND d.bpu_participants IS DISTINCT FROM
              (SELECT sum(v.bpu_participants) FROM r v WHERE v.level = 'village' AND starts_with(v.region_code, d.region_code || '.'))
        UNION ALL
        SELECT 'districts of the city' FROM r c
        WHERE c.level = 'city' AND c.bpu_participants IS DISTINCT FROM
              (SELECT sum(bpu_participants) FROM r WHERE level = 'district')
        """, _snapshot(context))
    return dg.AssetCheckResult(
        passed=not wrong, severity=ERROR, metadata={"rows_not_adding_up": len(wrong)},
        description=f"not adding up: {', '.join(w[0] for w in wrong[:10])}" if wrong else None)


reconciliation_checks = [c for s in SOURCES for c in _staged_checks(s)] + [
    nothing_lost, overlap_sums_to_covered, covered_within_eligible, villages_within_eligible,
    segment_sum_beside_distinct, villages_add_up_to_district, occupations_sum_to_covered, lapse_states_add_up]
