-- The staging tables of the pipeline database: declared here, created by warehouse/ddl.py before any write.

CREATE TABLE IF NOT EXISTS staging.field_defects (
    snapshot_date DATE,
    source VARCHAR,
    source_file VARCHAR,
    source_row BIGINT,
    field VARCHAR,
    reason VARCHAR,
    original_value VARCHAR,
    row_text VARCHAR
);
COMMENT ON TABLE staging.field_defects IS 'Fields set aside in loaded rows (a wage, a birth date, a program that could not be read): the row is kept and counted, the field is NULL in staging.';
COMMENT ON COLUMN staging.field_defects.snapshot_date IS 'Snapshot date of the delivery';
COMMENT ON COLUMN staging.field_defects.source IS 'Landing file name without extension';
COMMENT ON COLUMN staging.field_defects.source_file IS 'Landing file, relative to the landing zone';
COMMENT ON COLUMN staging.field_defects.source_row IS '1-based data row in that file, the header not counted';
COMMENT ON COLUMN staging.field_defects.field IS 'Column whose value was set aside';
COMMENT ON COLUMN staging.field_defects.reason IS 'Reason code (invalid_<column> or implausible_<column>)';

CREATE TABLE IF NOT EXISTS staging.quarantine (
    snapshot_date DATE,
    source VARCHAR,
    source_file VARCHAR,
    source_row BIGINT,
    reasons VARCHAR[],
    row_text VARCHAR
);
COMMENT ON TABLE staging.quarantine IS 'Rows that cannot be counted, with every reason code that applies and their original text (docs/reason-codes.md).';
COMMENT ON COLUMN staging.quarantine.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN staging.quarantine.source IS 'Landing file name without extension';
COMMENT ON COLUMN staging.quarantine.source_file IS 'Landing file, relative to the landing zone';
COMMENT ON COLUMN staging.quarantine.source_row IS '1-based data row in that file, the header not counted';

CREATE TABLE IF NOT EXISTS staging.registrations (
    snapshot_date DATE,
    source VARCHAR,
    source_row BIGINT,
    segment VARCHAR,
    record_key VARCHAR,
    kpj VARCHAR,
    nik VARCHAR,
    nama VARCHAR,
    tanggal_lahir DATE,
    jenis_kelamin VARCHAR,
    domicile_village VARCHAR,
    nik_valid BOOLEAN,
    nik_agrees BOOLEAN
);
COMMENT ON TABLE staging.registrations IS 'Every loaded worker registration (PU, BPU, JAKON) in one shape: the person it names and whether its NIK can be trusted (valid, agreeing with the birth date and sex). Identity''s only input; activity is a coverage rule.';
COMMENT ON COLUMN staging.registrations.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN staging.registrations.source IS 'Landing file name without extension';
COMMENT ON COLUMN staging.registrations.source_row IS '1-based data row in that file, the header not counted';
