"""Coverage marts: who is covered at the snapshot date, where they live, against the eligible workforce, and the
trend against the national targets; then where the gap is and who can close it: villages to target, the gap by
sex and occupation, employers that register only part of their workforce (PDS), OPD non-ASN staff, lapsed BPU
participants, and who gained or lost coverage since the previous snapshot. The SQL of each table is in
warehouse/sql/marts/<table>.sql."""


from datetime import date

import dagster as dg

from assets.identity import identity_record_links
from assets.reference import (reference_bpu_occupation_map, reference_coverage_targets,
                              reference_employer_occupation_map, reference_mandatory_programs, reference_ucj_categories,
                              reference_wage_floors)
from assets.staging import staging_registrations
from sources import SOURCES
from warehouse.db import first, preview, replace_rows, replace_table, sql, transaction
from warehouse.partitions import snapshot_partitions
from warehouse.resources import Warehouse

MARTS = dict(group_name="coverage", partitions_def=snapshot_partitions, pool="pipeline_db", kinds={"duckdb"})


def _params(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dict:
    return {"snapshot_date": date.fromisoformat(context.partition_key), "area_code": warehouse.area_code}


def _write(warehouse: Warehouse, params: dict, table: str) -> int:
    """Replace the snapshot's rows of marts.<table> with warehouse/sql/marts/<table>.sql."""
    query = sql(f"marts/{table}")
    with warehouse.connect() as con, transaction(con):
        used = {k: v for k, v in params.items() if f"${k}" in query}
        return replace_rows(con, f"marts.{table}", params["snapshot_date"], query, used)


@dg.asset(key=["marts", "registration_activity"], deps=[staging_registrations], **MARTS)
def marts_registration_activity(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Whether each loaded registration is active at the snapshot date (contract §2).

    Active PU: status aktif, started on or before the date, not stopped by it. Active BPU: aktif,
    registered on or before the date, contributions paid up to at least the date. Active JAKON:
    listed on a project whose coverage period contains the date. The rule lives here, in the coverage
    layer: changing it never reruns the identity linkage.
    """
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "registration_activity")
    with warehouse.connect(read_only=True) as con:
        by_segment = con.execute("SELECT segment, count(*), count(*) FILTER (WHERE is_active) "
                                 "FROM marts.registration_activity WHERE snapshot_date = ? GROUP BY ALL ORDER BY 1",
                                 [params["snapshot_date"]]).fetchall()
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        **{f"{seg}_registrations": n for seg, n, _ in by_segment},
        **{f"{seg}_active_registrations": a for seg, _, a in by_segment},
    })


@dg.asset(key=["marts", "workers"], deps=[identity_record_links, marts_registration_activity], **MARTS)
def marts_workers(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """One row per person: covered or not at the snapshot date, in which segments, and where they live."""
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "workers")
    with warehouse.connect(read_only=True) as con:
        covered, in_area = first(con, "SELECT count(*) FILTER (WHERE is_active), count(*) FILTER (WHERE is_active AND in_area) "
                                       "FROM marts.workers WHERE snapshot_date = ?", [params["snapshot_date"]])
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "covered_workers_all": covered,
                                          "covered_workers_in_area": in_area})


@dg.asset(key=["marts", "coverage_by_region"], deps=[marts_workers, dg.AssetKey(["staging", "civil_registry"]),
                                                    reference_ucj_categories], **MARTS)
def marts_coverage_by_region(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Coverage % by domicile: covered workers over the Dukcapil eligible workforce, for the city, its districts and villages.

    Eligible: every occupation on the KTP except civil servants, soldiers, police and people not in
    work. Some covered people are known only by the district in their NIK: each district has an `unassigned`
    row for them, so that its villages + unassigned = the district. Each area carries its UCJ category.
    """
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "coverage_by_region")
    with warehouse.connect(read_only=True) as con:
        city = first(con, "SELECT eligible_workforce, covered_workers, uncovered_workers, coverage_pct FROM marts.coverage_by_region "
                           "WHERE snapshot_date = ? AND level = 'city'", [params["snapshot_date"]])
        table = preview(con, "SELECT region_code, region_name, eligible_workforce, covered_workers, round(coverage_pct, 2) AS pct "
                        "FROM marts.coverage_by_region WHERE snapshot_date = ? AND level = 'district'", [params["snapshot_date"]], 20)
        unassigned = first(con, "SELECT coalesce(sum(covered_workers), 0) FROM marts.coverage_by_region "
                                "WHERE snapshot_date = ? AND level = 'unassigned'", [params["snapshot_date"]])[0]
    eligible, covered, uncovered, pct = city or (0, 0, 0, None)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": rows, "eligible_workforce": eligible, "covered_workers": covered,
        "covered_unassigned_to_a_village": int(unassigned),
        "uncovered_workers": uncovered, "coverage_pct": float(pct or 0.0), "districts": dg.MetadataValue.md(table),
    })


@dg.asset(key=["marts", "covered_outside_area"], deps=[marts_workers], **MARTS)
def marts_covered_outside_area(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Covered workers who live outside the configured area, by regency: reported apart, never in its rate."""
    rows = _write(warehouse, _params(context, warehouse), "covered_outside_area")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(key=["marts", "coverage_by_segment"], deps=[marts_workers], **MARTS)
def marts_coverage_by_segment(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per segment: registrations received beside the distinct active workers, and those active in that segment only.

    Registrations add up to more than people: one person can hold several registrations in one
    segment and be active in several segments.
    """
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "coverage_by_segment")
    with warehouse.connect(read_only=True) as con:
        table = preview(con, "SELECT * EXCLUDE (snapshot_date) FROM marts.coverage_by_segment WHERE snapshot_date = ?",
                        [params["snapshot_date"]])
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "segments": dg.MetadataValue.md(table)})


@dg.asset(key=["marts", "segment_overlap"], deps=[marts_workers], **MARTS)
def marts_segment_overlap(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Active workers by the combination of segments they are active in (e.g. `BPU+PU`): each person once."""
    rows = _write(warehouse, _params(context, warehouse), "segment_overlap")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(key=["marts", "data_quality"], deps=[dg.AssetKey(["staging", s.name]) for s in SOURCES], **MARTS)
def marts_data_quality(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Rows received, loaded and quarantined per source and reason: for each source received = loaded + quarantined."""
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "data_quality")
    with warehouse.connect(read_only=True) as con:
        quarantined = first(con, "SELECT coalesce(sum(rows_quarantined), 0) FROM marts.data_quality WHERE snapshot_date = ?",
                                  [params["snapshot_date"]])[0]
        table = preview(con, "SELECT source, reason, rows_received FROM marts.data_quality WHERE snapshot_date = ?",
                        [params["snapshot_date"]], 30)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "rows_quarantined": int(quarantined),
                                          "by_source_and_reason": dg.MetadataValue.md(table)})


@dg.asset(key=["marts", "field_defects"], deps=[dg.AssetKey(["staging", s.name]) for s in SOURCES], **MARTS)
def marts_field_defects(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Fields set aside in loaded rows, by source, field and reason: a typo in a wage or a birth date never removes
    a covered worker; it is counted here instead (refused rows are in data_quality)."""
    params = _params(context, warehouse)
    rows = _write(warehouse, params, "field_defects")
    with warehouse.connect(read_only=True) as con:
        total = first(con, "SELECT coalesce(sum(rows), 0) FROM marts.field_defects WHERE snapshot_date = ?",
                      [params["snapshot_date"]])[0]
        table = preview(con, "SELECT source, field, reason, rows FROM marts.field_defects WHERE snapshot_date = ?",
                        [params["snapshot_date"]], 30)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "fields_set_aside": int(total),
                                          "by_source_field_and_reason": dg.MetadataValue.md(table)})


@dg.asset(key=["marts", "coverage_trend"], deps=[marts_coverage_by_region, marts_coverage_by_segment,
                                                 reference_coverage_targets], **MARTS)
def marts_coverage_trend(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Where Kendari's coverage is heading: per snapshot, coverage and participants against the target for its year,
    the annual growth achieved over the 12 months before it, and the growth needed to reach the final target
    (99.5% by 2045).

    Recomputed over every snapshot in the marts each time one is materialised, so a snapshot backfilled late
    still updates the growth of the ones after it. Also writes marts.coverage_vs_targets (every snapshot
    against every coverage target). analytics.duckdb computes the same tables over the published snapshots.
    """
    with warehouse.connect() as con, transaction(con):
        rows = replace_table(con, "marts.coverage_trend", sql("marts/coverage_trend", src="marts"))
        replace_table(con, "marts.coverage_vs_targets", sql("marts/coverage_vs_targets", src="marts"))
    with warehouse.connect(read_only=True) as con:
        latest = first(con, """SELECT snapshot_date, coverage_pct, target_pct_this_year, gap_pp,
                                      covered_workers_growth_pct_per_year, required_growth_pct_per_year,
                                      required_pp_per_year, final_target_pct, final_target_year
                               FROM marts.coverage_trend ORDER BY snapshot_date DESC LIMIT 1""")
        table = preview(con, """SELECT snapshot_date, covered_workers, round(coverage_pct, 2) AS coverage_pct,
                                       round(target_pct_this_year, 2) AS target_pct, round(gap_pp, 2) AS gap_pp,
                                       round(covered_workers_growth_pct_per_year, 1) AS growth_pct_per_year,
                                       round(required_growth_pct_per_year, 1) AS required_growth_pct_per_year
                                FROM marts.coverage_trend ORDER BY snapshot_date DESC""", limit=24)
    metadata = {"dagster/row_count": rows, "trend": dg.MetadataValue.md(table)}
    if latest:
        date_, pct, target, gap, growth, required, pp, final_pct, final_year = latest
        metadata |= {
            "latest_snapshot": str(date_), "coverage_pct": _num(pct), "target_pct_this_year": _num(target),
            "gap_pp": _num(gap), "covered_workers_growth_pct_per_year": _num(growth),
            f"required_growth_pct_per_year_to_{final_year}": _num(required),
            f"required_pp_per_year_to_{final_year}": _num(pp), "final_target_pct": _num(final_pct),
        }
    return dg.MaterializeResult(metadata=metadata)


def _simple(context: dg.AssetExecutionContext, warehouse: Warehouse, table: str, headline: str | None = None,
            show: str | None = None) -> dg.MaterializeResult:
    """Write marts.<table>; metadata: row count, an optional headline figure (a query) and an optional preview."""
    params = _params(context, warehouse)
    rows = _write(warehouse, params, table)
    metadata: dict = {"dagster/row_count": rows}
    with warehouse.connect(read_only=True) as con:
        if headline:
            for name, value in zip(*_named(con, headline, params["snapshot_date"])):
                metadata[name] = value if value is not None else dg.MetadataValue.text("n/a")
        if show:
            metadata["preview"] = dg.MetadataValue.md(preview(con, show, [params["snapshot_date"]], 15))
    return dg.MaterializeResult(metadata=metadata)


def _named(con, query: str, snapshot_date: date) -> tuple[list[str], tuple]:
    cursor = con.execute(query, [snapshot_date])
    values = cursor.fetchall()
    names = [d[0] for d in cursor.description]
    return names, (values[0] if values else (None,) * len(names))


@dg.asset(key=["marts", "village_targets"], deps=[marts_coverage_by_region], **MARTS)
def marts_village_targets(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """The area's villages ranked by uncovered workers, with their UCJ category: where a campaign reaches most people.

    Caveat on every row: the district's covered people known only by their NIK district live in some of its
    villages, so a village's uncovered figure may be overstated by up to that many (uncovered_workers_at_least).
    """
    return _simple(context, warehouse, "village_targets",
                   show="SELECT rank, village_code, village_name, uncovered_workers, round(coverage_pct, 1) AS pct, "
                        "ucj_category FROM marts.village_targets WHERE snapshot_date = ? ORDER BY rank")


@dg.asset(key=["marts", "coverage_by_sex"], deps=[marts_workers, dg.AssetKey(["staging", "civil_registry"])], **MARTS)
def marts_coverage_by_sex(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Eligible workforce and covered workers by sex (L, P), for the city and each district."""
    return _simple(context, warehouse, "coverage_by_sex",
                   show="SELECT sex, eligible_workforce, covered_workers, round(coverage_pct, 2) AS pct "
                        "FROM marts.coverage_by_sex WHERE snapshot_date = ? AND level = 'city'")


@dg.asset(key=["marts", "coverage_by_occupation"],
          deps=[marts_workers, dg.AssetKey(["staging", "civil_registry"]), dg.AssetKey(["staging", "employers"]),
                reference_bpu_occupation_map, reference_employer_occupation_map], **MARTS)
def marts_coverage_by_occupation(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """An ESTIMATE of the gap by KTP occupation: the Dukcapil eligible workforce per occupation against covered
    workers given an occupation from their BPU `pekerjaan` or their PU employer's type and KBLI (editable mappings
    in reference/); the unmapped shown as such. BPJS does not record the KTP occupation itself."""
    return _simple(context, warehouse, "coverage_by_occupation",
                   headline="SELECT coalesce(sum(covered_workers_estimate) FILTER (WHERE occupation = 'unmapped'), 0) "
                            "AS covered_unmapped FROM marts.coverage_by_occupation WHERE snapshot_date = ?",
                   show="SELECT occupation, eligible_workforce, covered_workers_estimate, "
                        "round(coverage_pct_estimate, 1) AS pct FROM marts.coverage_by_occupation WHERE snapshot_date = ?")


@dg.asset(key=["marts", "employer_compliance"],
          deps=[marts_registration_activity, identity_record_links, dg.AssetKey(["staging", "employers"]),
                reference_wage_floors, reference_mandatory_programs], **MARTS)
def marts_employer_compliance(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """PDS screening per employer, ranked for BPJS inspectors: declared headcount against distinct active PU workers
    (PDS tenaga kerja), active workers paid below the regency's minimum wage (PDS upah), active workers missing a
    program the employer's scale requires (PDS program). Business data only."""
    return _simple(context, warehouse, "employer_compliance",
                   headline="SELECT count(*) FILTER (WHERE pds_tenaga_kerja) AS pds_tenaga_kerja_employers, "
                            "count(*) FILTER (WHERE pds_upah) AS pds_upah_employers, "
                            "count(*) FILTER (WHERE pds_program) AS pds_program_employers "
                            "FROM marts.employer_compliance WHERE snapshot_date = ?",
                   show="SELECT inspection_rank, npp, employer_name, declared_workers, active_workers, "
                        "workers_below_wage_floor, programs_missing FROM marts.employer_compliance "
                        "WHERE snapshot_date = ? AND inspection_rank IS NOT NULL ORDER BY inspection_rank")


@dg.asset(key=["marts", "opd_staff"], deps=[marts_workers, dg.AssetKey(["staging", "opd_non_asn"])], **MARTS)
def marts_opd_staff(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Each non-ASN staff row of the OPD roster matched to a person (valid NIK, else name + birth date + sex) and
    whether that person is covered. Person-level: stays in the pipeline database."""
    return _simple(context, warehouse, "opd_staff",
                   headline="SELECT count(*) AS roster_rows, count(*) FILTER (WHERE person_id IS NOT NULL) AS matched, "
                            "count(*) FILTER (WHERE is_covered) AS covered FROM marts.opd_staff WHERE snapshot_date = ?")


@dg.asset(key=["marts", "opd_coverage"], deps=[marts_opd_staff], **MARTS)
def marts_opd_coverage(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Per OPD (Pemkot agency): non-ASN staff on the roster, matched to a person, covered, not covered."""
    return _simple(context, warehouse, "opd_coverage",
                   headline="SELECT count(*) AS opd, coalesce(sum(staff_on_roster), 0) AS staff_on_roster, "
                            "coalesce(sum(staff_covered), 0) AS staff_covered, "
                            "count(*) FILTER (WHERE staff_not_covered = 0) AS opd_all_staff_covered "
                            "FROM marts.opd_coverage WHERE snapshot_date = ?",
                   show="SELECT kode_opd, nama_opd, staff_on_roster, staff_covered, round(staff_covered_pct, 1) AS pct "
                        "FROM marts.opd_coverage WHERE snapshot_date = ?")


@dg.asset(key=["marts", "bpu_lapse"], deps=[marts_workers], **MARTS)
def marts_bpu_lapse(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """BPU participants per village by how long ago their contributions stopped: paid up, lapsed 1-30, 31-60, 61-90
    days, long lapsed, closed; and the recently lapsed who are covered nowhere else (people to call back first)."""
    return _simple(context, warehouse, "bpu_lapse",
                   headline="SELECT bpu_participants, paid_up_participants, lapsed_1_30_days + lapsed_31_60_days + "
                            "lapsed_61_90_days AS lapsed_within_90_days, lapsed_90_days_uncovered "
                            "FROM marts.bpu_lapse WHERE snapshot_date = ? AND level = 'city'")


@dg.asset(key=["marts", "coverage_changes"], deps=[marts_workers], **MARTS)
def marts_coverage_changes(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Persons newly covered and persons who lost coverage since the previous snapshot, by segment (ALL = any).

    Also rewrites the next snapshot's rows, if there is one: a snapshot backfilled late is its successor's previous.
    """
    result = _simple(context, warehouse, "coverage_changes",
                     show="SELECT segment, covered_workers_before, covered_workers_now, newly_covered_workers, "
                          "lost_coverage_workers FROM marts.coverage_changes WHERE snapshot_date = ?")
    params = _params(context, warehouse)
    with warehouse.connect(read_only=True) as con:
        following = first(con, "SELECT min(snapshot_date) FROM marts.workers WHERE snapshot_date > ?",
                          [params["snapshot_date"]])[0]
    if following is not None:
        _write(warehouse, {**params, "snapshot_date": following}, "coverage_changes")
    return result


def _num(value) -> dg.MetadataValue:
    return dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.text("n/a")


coverage_assets = [marts_registration_activity, marts_workers, marts_coverage_by_region, marts_covered_outside_area,
                   marts_coverage_by_segment, marts_segment_overlap, marts_data_quality, marts_field_defects,
                   marts_coverage_trend,
                   marts_village_targets, marts_coverage_by_sex, marts_coverage_by_occupation, marts_employer_compliance,
                   marts_opd_staff, marts_opd_coverage, marts_bpu_lapse, marts_coverage_changes]
