-- marts.coverage_by_segment: per segment, registrations received beside distinct active workers.
WITH received AS (
    SELECT 'PU' AS segment, count(*) AS n FROM raw.pu_workers WHERE snapshot_date = $snapshot_date
    UNION ALL SELECT 'BPU', count(*) FROM raw.bpu_participants WHERE snapshot_date = $snapshot_date
    UNION ALL SELECT 'JAKON', count(*) FROM raw.jakon_workers WHERE snapshot_date = $snapshot_date
),
active AS (
    SELECT a.segment, count(*) AS active_registrations, count(DISTINCT l.person_id) AS active_workers
    FROM marts.registration_activity a JOIN identity.record_links l USING (snapshot_date, source, source_row)
    WHERE a.snapshot_date = $snapshot_date AND a.is_active GROUP BY ALL
),
people AS (
    SELECT unnest(string_split(segments, '+')) AS segment, segments, in_area
    FROM marts.workers WHERE snapshot_date = $snapshot_date AND is_active
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, received.segment,
       received.n::BIGINT AS registrations,
       coalesce(a.active_registrations, 0)::BIGINT AS active_registrations,
       coalesce(a.active_workers, 0)::BIGINT AS active_workers,
       (SELECT count(*) FROM people p WHERE p.segment = received.segment AND p.segments = received.segment)::BIGINT AS exclusive_workers,
       (SELECT count(*) FROM people p WHERE p.segment = received.segment AND p.in_area)::BIGINT AS active_workers_in_area
FROM received LEFT JOIN active a USING (segment)
ORDER BY CASE received.segment WHEN 'PU' THEN 0 WHEN 'BPU' THEN 1 ELSE 2 END
