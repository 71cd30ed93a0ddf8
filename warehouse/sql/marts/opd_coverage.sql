-- marts.opd_coverage: per OPD (Pemkot agency) on the roster, its non-ASN staff, how many were matched to a person
-- through identity, and how many of them are covered. A staff member listed twice in one OPD counts once.
WITH staff AS (
    SELECT kode_opd, any_value(nama_opd) AS nama_opd, coalesce(person_id, 'row:' || source_row) AS who,
           bool_or(person_id IS NOT NULL) AS matched, bool_or(is_covered) AS covered,
           bool_or(is_covered AND list_contains(string_split(segments, '+'), 'PU')) AS covered_pu,
           bool_or(is_covered AND list_contains(string_split(segments, '+'), 'BPU')) AS covered_bpu
    FROM marts.opd_staff WHERE snapshot_date = $snapshot_date
    GROUP BY kode_opd, who
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, kode_opd, any_value(nama_opd) AS nama_opd,
       count(*)::BIGINT AS staff_on_roster, count(*) FILTER (WHERE matched)::BIGINT AS staff_matched,
       count(*) FILTER (WHERE covered)::BIGINT AS staff_covered,
       count(*) FILTER (WHERE NOT covered)::BIGINT AS staff_not_covered,
       count(*) FILTER (WHERE NOT matched)::BIGINT AS staff_not_matched,
       100.0 * count(*) FILTER (WHERE covered) / count(*) AS staff_covered_pct,
       count(*) FILTER (WHERE covered_pu)::BIGINT AS staff_covered_pu,
       count(*) FILTER (WHERE covered_bpu)::BIGINT AS staff_covered_bpu
FROM staff GROUP BY kode_opd
ORDER BY staff_covered_pct, staff_not_covered DESC, kode_opd
