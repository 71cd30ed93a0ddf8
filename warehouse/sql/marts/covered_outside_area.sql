-- marts.covered_outside_area: covered workers who live outside the configured area, by regency.
SELECT CAST($snapshot_date AS DATE) AS snapshot_date,
       coalesce(substr(w.region_code, 1, 5), 'unknown') AS regency_code, r.name AS regency_name,
       count(*)::BIGINT AS covered_workers
FROM marts.workers w LEFT JOIN reference.regions r ON r.code = substr(w.region_code, 1, 5)
WHERE w.snapshot_date = $snapshot_date AND w.is_active AND NOT w.in_area
GROUP BY ALL ORDER BY covered_workers DESC
