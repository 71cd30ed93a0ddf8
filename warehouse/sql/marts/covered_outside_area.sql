-- marts.covered_outside_area: covered workers who live outside the configured area, by regency. A regency the
-- reference list does not hold is `other_province` when the code is of a province the list does not cover, and
-- `unknown` when nothing places the person (no domicile, no NIK, or a NIK district that does not exist).
SELECT CAST($snapshot_date AS DATE) AS snapshot_date,
       CASE WHEN r.code IS NOT NULL THEN r.code WHEN w.region_code IS NOT NULL THEN 'other_province'
            ELSE 'unknown' END AS regency_code,
       coalesce(r.name, CASE WHEN w.region_code IS NOT NULL THEN 'outside the reference list' ELSE 'unknown' END)
           AS regency_name,
       count(*)::BIGINT AS covered_workers
FROM marts.workers w LEFT JOIN reference.regions r ON r.code = substr(w.region_code, 1, 5) AND r.level = 'regency'
WHERE w.snapshot_date = $snapshot_date AND w.is_active AND NOT w.in_area
GROUP BY ALL ORDER BY covered_workers DESC, regency_code
