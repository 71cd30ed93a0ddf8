-- marts.segment_overlap: active workers by the combination of segments they are active in.
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, segments, count(*)::BIGINT AS workers,
       count(*) FILTER (WHERE in_area)::BIGINT AS workers_in_area
FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active
GROUP BY segments ORDER BY workers DESC
