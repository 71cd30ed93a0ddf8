-- marts.bpu_lapse: BPU participants (distinct persons with a BPU registration made by the snapshot date) by how
-- long ago their contributions stopped: paid up (an active BPU registration), lapsed 1-30, 31-60, 61-90 days,
-- long lapsed (more than 90 days), or closed (status nonaktif although paid to the date or later). Lapsed days =
-- snapshot date - the latest iuran_dibayar_sampai of the person's BPU registrations. Place: the village of their
-- most recent BPU registration; villages of the area, their districts and the city, then `outside_area` and
-- `unknown` (no village or one the reference list does not hold).
WITH bpu AS (
    SELECT l.person_id, b.kode_wilayah, b.tanggal_daftar, b.iuran_dibayar_sampai, b.source_row, a.is_active
    FROM staging.bpu_participants b
    JOIN marts.registration_activity a ON a.snapshot_date = b.snapshot_date AND a.source = 'bpu_participants'
                                      AND a.source_row = b.source_row
    JOIN identity.record_links l ON l.snapshot_date = b.snapshot_date AND l.source = 'bpu_participants'
                                AND l.source_row = b.source_row
    WHERE b.snapshot_date = $snapshot_date AND b.tanggal_daftar <= b.snapshot_date
),
person AS (
    SELECT person_id, bool_or(is_active) AS paid_up, max(iuran_dibayar_sampai) AS paid_until,
           arg_max(kode_wilayah, (tanggal_daftar, source_row)) FILTER (WHERE kode_wilayah IS NOT NULL) AS village
    FROM bpu GROUP BY person_id
),
classified AS (
    SELECT p.*, CAST($snapshot_date AS DATE) - p.paid_until AS days_lapsed, coalesce(w.is_active, false) AS covered,
           r.code IS NOT NULL AS known, coalesce(starts_with(p.village, $area_code || '.'), false) AS in_area
    FROM person p
    LEFT JOIN marts.workers w ON w.snapshot_date = $snapshot_date AND w.person_id = p.person_id
    LEFT JOIN reference.regions r ON r.code = p.village AND r.level = 'village'
),
placed AS (
    SELECT *, CASE WHEN known AND in_area THEN village END AS v, CASE WHEN known AND in_area THEN substr(village, 1, 8) END AS d,
           CASE WHEN NOT known THEN 'unknown' WHEN NOT in_area THEN 'outside_area' END AS elsewhere,
           CASE WHEN paid_up THEN 'paid_up' WHEN days_lapsed <= 0 THEN 'closed' WHEN days_lapsed <= 30 THEN 'lapsed_1_30'
                WHEN days_lapsed <= 60 THEN 'lapsed_31_60' WHEN days_lapsed <= 90 THEN 'lapsed_61_90'
                ELSE 'lapsed_over_90' END AS state
    FROM classified
),
rolled AS (
    SELECT CASE WHEN elsewhere IS NOT NULL THEN elsewhere WHEN GROUPING(v) = 0 THEN 'village'
                WHEN GROUPING(d) = 0 THEN 'district' ELSE 'city' END AS level,
           coalesce(elsewhere, v, d, $area_code) AS region_code,
           count(*) AS participants,
           count(*) FILTER (WHERE state = 'paid_up') AS paid_up,
           count(*) FILTER (WHERE state = 'lapsed_1_30') AS lapsed_1_30,
           count(*) FILTER (WHERE state = 'lapsed_31_60') AS lapsed_31_60,
           count(*) FILTER (WHERE state = 'lapsed_61_90') AS lapsed_61_90,
           count(*) FILTER (WHERE state = 'lapsed_over_90') AS lapsed_over_90,
           count(*) FILTER (WHERE state = 'closed') AS closed,
           count(*) FILTER (WHERE state IN ('lapsed_1_30', 'lapsed_31_60', 'lapsed_61_90') AND NOT covered) AS lapsed_90_uncovered
    FROM placed
    GROUP BY GROUPING SETS ((elsewhere, d, v), (elsewhere, d), (elsewhere))
    -- inside the area: village, district and city rows; outside or unknown: one row each
    HAVING (elsewhere IS NULL) OR (GROUPING(d) = 1)
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, r.level, r.region_code,
       coalesce(g.name, CASE r.level WHEN 'outside_area' THEN 'outside the area' ELSE 'unknown' END) AS region_name,
       participants::BIGINT AS bpu_participants, paid_up::BIGINT AS paid_up_participants,
       lapsed_1_30::BIGINT AS lapsed_1_30_days, lapsed_31_60::BIGINT AS lapsed_31_60_days,
       lapsed_61_90::BIGINT AS lapsed_61_90_days, lapsed_over_90::BIGINT AS lapsed_over_90_days,
       closed::BIGINT AS closed_participants, lapsed_90_uncovered::BIGINT AS lapsed_90_days_uncovered
FROM rolled r LEFT JOIN reference.regions g ON g.code = r.region_code
ORDER BY list_position(['city', 'district', 'village', 'outside_area', 'unknown'], r.level), r.region_code
