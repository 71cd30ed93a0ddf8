-- One line per refused or defective row of one source, for the feedback files: refused rows with all their
-- reasons, kept rows with their fields' reasons; `feedback_actions` (code, action) says what to do.
WITH lines AS (
    SELECT source_file, source_row, 'refused' AS outcome, reasons, row_text
    FROM staging.quarantine WHERE snapshot_date = $snapshot_date AND source = $source
    UNION ALL
    SELECT any_value(source_file), source_row, 'kept, field(s) set aside', list(reason ORDER BY field), any_value(row_text)
    FROM staging.field_defects WHERE snapshot_date = $snapshot_date AND source = $source GROUP BY source_row
)
SELECT l.source_file AS file, l.source_row AS row, l.outcome, array_to_string(list_sort(l.reasons), ' + ') AS reasons,
       (SELECT string_agg(a.action, '; ' ORDER BY a.code) FROM feedback_actions a
         WHERE list_contains(l.reasons, a.code)) AS what_to_do,
       l.row_text AS text_as_received
FROM lines l ORDER BY l.source_row
