-- marts.coverage_by_region: eligible workforce and covered workers at village, district and city level, side by side.
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
