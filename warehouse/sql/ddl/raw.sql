-- The raw tables of the pipeline database: declared here, created by warehouse/ddl.py before any write.

CREATE TABLE IF NOT EXISTS raw.deliveries (
    snapshot_date DATE,
    source VARCHAR,
    source_file VARCHAR,
    file_format VARCHAR,
    encoding VARCHAR,
    delimiter VARCHAR,
    header VARCHAR,
    rows_read BIGINT,
    blank_rows BIGINT,
    malformed_rows BIGINT,
    truncated_row BIGINT,
    extra_columns VARCHAR,
    missing_optional_columns VARCHAR,
    non_ascii_characters VARCHAR,
    notes VARCHAR
);
COMMENT ON TABLE raw.deliveries IS 'One row per source and snapshot: how its file arrived (format, encoding, delimiter, header as received, rows read, blank and damaged rows, extra and absent columns).';
COMMENT ON COLUMN raw.deliveries.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN raw.deliveries.source IS 'Landing file name without extension';
COMMENT ON COLUMN raw.deliveries.source_file IS 'Landing file, relative to the landing zone';

CREATE TABLE IF NOT EXISTS raw.row_defects (
    snapshot_date DATE,
    source VARCHAR,
    source_row BIGINT,
    defect VARCHAR,
    line_text VARCHAR
);
COMMENT ON TABLE raw.row_defects IS 'Rows damaged in transit or by hand (cut off, wrong number of fields), with their original text; staging quarantines them under the same code.';
COMMENT ON COLUMN raw.row_defects.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN raw.row_defects.source IS 'Landing file name without extension';
COMMENT ON COLUMN raw.row_defects.source_row IS '1-based data row in that file, the header not counted';
