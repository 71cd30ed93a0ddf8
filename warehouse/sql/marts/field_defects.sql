-- marts.field_defects: fields set aside in loaded rows, per source, field and reason (the rows stay counted).
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, source, field, reason, count(*)::BIGINT AS rows
FROM staging.field_defects WHERE snapshot_date = $snapshot_date GROUP BY ALL ORDER BY source, rows DESC, field, reason
