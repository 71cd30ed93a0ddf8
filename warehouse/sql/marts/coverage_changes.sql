-- marts.coverage_changes: persons newly covered and persons who lost coverage since the previous snapshot in the
-- marts, by segment (ALL = covered in any segment). Persons are followed by person_id, which stays the same across
-- snapshots while a person keeps a trusted NIK (else it is the registration's key). Newly covered: active (in the
-- segment) and living in the area at this snapshot, not active in the segment at the previous one; lost: active
-- and living in the area at the previous snapshot, not active in the segment now. The first snapshot has no
-- previous one: its changes are NULL.
WITH prev AS (SELECT max(snapshot_date) AS d FROM marts.workers WHERE snapshot_date < $snapshot_date),
segs AS (SELECT unnest(['ALL', 'PU', 'BPU', 'JAKON']) AS segment),
now_ AS (
    SELECT s.segment, w.person_id, w.in_area
    FROM marts.workers w, segs s
    WHERE w.snapshot_date = $snapshot_date AND w.is_active
      AND (s.segment = 'ALL' OR list_contains(string_split(w.segments, '+'), s.segment))
),
before AS (
    SELECT s.segment, w.person_id, w.in_area
    FROM marts.workers w, segs s, prev
    WHERE w.snapshot_date = prev.d AND w.is_active
      AND (s.segment = 'ALL' OR list_contains(string_split(w.segments, '+'), s.segment))
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date,
       (CAST($snapshot_date AS DATE) - (SELECT d FROM prev))::INTEGER AS days_since_previous_snapshot, s.segment,
       (SELECT count(*) FROM before b WHERE b.segment = s.segment AND b.in_area)::BIGINT AS covered_workers_before,
       (SELECT count(*) FROM now_ n WHERE n.segment = s.segment AND n.in_area)::BIGINT AS covered_workers_now,
       CASE WHEN (SELECT d FROM prev) IS NOT NULL THEN
           (SELECT count(*) FROM now_ n ANTI JOIN before b ON b.segment = n.segment AND b.person_id = n.person_id
            WHERE n.segment = s.segment AND n.in_area) END::BIGINT AS newly_covered_workers,
       CASE WHEN (SELECT d FROM prev) IS NOT NULL THEN
           (SELECT count(*) FROM before b ANTI JOIN now_ n ON n.segment = b.segment AND n.person_id = b.person_id
            WHERE b.segment = s.segment AND b.in_area) END::BIGINT AS lost_coverage_workers
FROM segs s
ORDER BY list_position(['ALL', 'PU', 'BPU', 'JAKON'], s.segment)
