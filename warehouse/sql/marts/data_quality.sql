-- marts.data_quality: rows received, loaded and quarantined per source and reason. Each quarantined row counts
-- once, under the sorted combination of its reasons, so that for every source the rows sum to what was received.
WITH received AS (SELECT source, rows_read AS n FROM raw.deliveries WHERE snapshot_date = $snapshot_date),
quarantined AS (
    SELECT source, array_to_string(list_sort(reasons), '+') AS reason, count(*) AS n
    FROM staging.quarantine WHERE snapshot_date = $snapshot_date GROUP BY ALL
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, 'ok' AS reason,
       (received.n - coalesce(q.n, 0))::BIGINT AS rows_received,
       (received.n - coalesce(q.n, 0))::BIGINT AS rows_loaded, 0::BIGINT AS rows_quarantined
FROM received LEFT JOIN (SELECT source, sum(n) AS n FROM quarantined GROUP BY source) q USING (source)
UNION ALL
SELECT CAST($snapshot_date AS DATE), source, reason, n::BIGINT, 0::BIGINT, n::BIGINT FROM quarantined
ORDER BY source, reason = 'ok' DESC, rows_received DESC
