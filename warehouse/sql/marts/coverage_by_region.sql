-- marts.coverage_by_region: eligible workforce and covered workers at village, district and city level, side by side.
-- Each district also has an `unassigned` row: its covered residents known only by the district in their NIK (no
-- village), so that for every district its villages + its unassigned row = the district, in every column.
-- Only regions of reference.regions appear: a person whose region the list does not know is not in the area
-- (marts.workers) and shows in covered_outside_area as `unknown`.
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
    SELECT CASE WHEN GROUPING(village) = 0 AND village IS NULL THEN 'unassigned'
                WHEN GROUPING(village) = 0 THEN 'village' WHEN GROUPING(district) = 0 THEN 'district' ELSE 'city' END AS level,
           coalesce(village, district, $area_code) AS region_code,
           count(*) AS covered_workers, count(*) FILTER (WHERE pu) AS covered_pu,
           count(*) FILTER (WHERE bpu) AS covered_bpu, count(*) FILTER (WHERE jakon) AS covered_jakon
    FROM covered_people
    GROUP BY GROUPING SETS ((village, district), (district), ())
),
regions AS (
    SELECT CASE level WHEN 'regency' THEN 'city' ELSE level END AS level, code AS region_code, name AS region_name,
           CASE WHEN level IN ('district', 'village') THEN substr(code, 1, 8) END AS district_code
    FROM reference.regions WHERE code = $area_code OR starts_with(code, $area_code || '.')
    UNION ALL  -- one unassigned row per district, even when nobody is unassigned there
    SELECT 'unassigned', code, 'unassigned within ' || name, code
    FROM reference.regions WHERE level = 'district' AND starts_with(code, $area_code || '.')
),
joined AS (
    SELECT r.level, r.region_code, r.region_name, r.district_code,
           coalesce(e.eligible_workforce, 0)::BIGINT AS eligible_workforce,
           coalesce(c.covered_workers, 0)::BIGINT AS covered_workers,
           coalesce(c.covered_pu, 0)::BIGINT AS covered_pu, coalesce(c.covered_bpu, 0)::BIGINT AS covered_bpu,
           coalesce(c.covered_jakon, 0)::BIGINT AS covered_jakon
    FROM regions r
    LEFT JOIN eligible e USING (level, region_code)
    LEFT JOIN covered c USING (level, region_code)  -- regions outside the reference list cannot join: never shown
),
rated AS (
    SELECT *, 100.0 * covered_workers / nullif(eligible_workforce, 0) AS coverage_pct FROM joined
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, level, region_code, region_name,
       eligible_workforce, covered_workers,
       eligible_workforce - covered_workers AS uncovered_workers,  -- negative on unassigned rows (see the comment)
       coverage_pct, covered_pu, covered_bpu, covered_jakon, district_code,
       CASE WHEN level <> 'unassigned' THEN
           (SELECT u.category FROM reference.ucj_categories u
            WHERE rated.coverage_pct >= u.min_pct AND (u.max_pct IS NULL OR rated.coverage_pct < u.max_pct)
            ORDER BY u.min_pct DESC LIMIT 1) END AS ucj_category
FROM rated
ORDER BY CASE level WHEN 'city' THEN 0 WHEN 'district' THEN 1 WHEN 'village' THEN 2 ELSE 3 END, region_code
