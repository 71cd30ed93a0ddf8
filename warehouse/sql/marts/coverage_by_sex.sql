-- marts.coverage_by_sex: eligible workforce (Dukcapil, by jenis_kelamin) against covered workers (by the sex most
-- of their registrations give), for the city and each district. Covered people of unknown sex have their own row.
WITH eligible AS (
    SELECT substr(c.kode_wilayah, 1, 8) AS district, c.jenis_kelamin AS sex, sum(c.jumlah) AS n
    FROM staging.civil_registry c
    JOIN (SELECT DISTINCT name FROM reference.occupation_categories WHERE category = 'eligible') o
      ON o.name = upper(trim(c.pekerjaan))
    WHERE c.snapshot_date = $snapshot_date AND starts_with(c.kode_wilayah, $area_code || '.')
    GROUP BY ALL
),
covered AS (
    SELECT substr(region_code, 1, 8) AS district, coalesce(sex, 'unknown') AS sex, count(*) AS n
    FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active AND in_area
    GROUP BY ALL
),
both_ AS (
    SELECT coalesce(e.district, c.district) AS district, coalesce(e.sex, c.sex) AS sex,
           coalesce(e.n, 0) AS eligible, coalesce(c.n, 0) AS covered
    FROM eligible e FULL JOIN covered c USING (district, sex)
),
rolled AS (
    SELECT CASE WHEN GROUPING(district) = 0 THEN 'district' ELSE 'city' END AS level,
           coalesce(district, $area_code) AS region_code, sex, sum(eligible) AS eligible, sum(covered) AS covered
    FROM both_ GROUP BY GROUPING SETS ((district, sex), (sex))
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, r.level, r.region_code, g.name AS region_name, r.sex,
       r.eligible::BIGINT AS eligible_workforce, r.covered::BIGINT AS covered_workers,
       (r.eligible - r.covered)::BIGINT AS uncovered_workers,
       100.0 * r.covered / nullif(r.eligible, 0) AS coverage_pct
FROM rolled r JOIN reference.regions g ON g.code = r.region_code
ORDER BY r.level = 'district', r.region_code, r.sex
