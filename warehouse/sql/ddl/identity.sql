-- The identity tables of the pipeline database: declared here, created by warehouse/ddl.py before any write.

CREATE TABLE IF NOT EXISTS identity.linkage_models (
    snapshot_date DATE,
    parameters_from VARCHAR,
    model_file VARCHAR,
    records BIGINT,
    accept DOUBLE,
    prior DOUBLE,
    splink_settings VARCHAR
);
COMMENT ON TABLE identity.linkage_models IS 'The linkage model each snapshot used: parameters estimated on its own registrations (or the shipped ones), so every figure traces to its model.';
COMMENT ON COLUMN identity.linkage_models.snapshot_date IS 'Snapshot date (the landing folder''s date)';

CREATE TABLE IF NOT EXISTS identity.nik_collisions (
    snapshot_date DATE,
    nik VARCHAR,
    persons BIGINT,
    records BIGINT,
    person_ids VARCHAR[]
);
COMMENT ON TABLE identity.nik_collisions IS 'NIKs carried by records of more than one person: a NIK issued twice, or one person''s NIK mistyped into another''s. Kept apart, listed for follow-up.';
COMMENT ON COLUMN identity.nik_collisions.snapshot_date IS 'Snapshot date (the landing folder''s date)';

CREATE TABLE IF NOT EXISTS identity.record_links (
    snapshot_date DATE,
    source VARCHAR,
    source_row BIGINT,
    record_key VARCHAR,
    person_id VARCHAR,
    person_nik VARCHAR,
    match_method VARCHAR,
    match_probability DOUBLE
);
COMMENT ON TABLE identity.record_links IS 'Which registrations belong to the same person: one person_id per human, with how each link was made (`nik`, `probabilistic`, `single`) and its match probability.';
COMMENT ON COLUMN identity.record_links.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN identity.record_links.source IS 'Landing file name without extension';
COMMENT ON COLUMN identity.record_links.source_row IS '1-based data row in that file, the header not counted';

CREATE TABLE IF NOT EXISTS identity.review_pairs (
    snapshot_date DATE,
    record_key_1 VARCHAR,
    record_key_2 VARCHAR,
    match_probability DOUBLE,
    linked BOOLEAN,
    decision VARCHAR,
    source_1 VARCHAR,
    source_row_1 BIGINT,
    nama_1 VARCHAR,
    tanggal_lahir_1 DATE,
    nik_1 VARCHAR,
    domicile_1 VARCHAR,
    source_2 VARCHAR,
    source_row_2 BIGINT,
    nama_2 VARCHAR,
    tanggal_lahir_2 DATE,
    nik_2 VARCHAR,
    domicile_2 VARCHAR
);
COMMENT ON TABLE identity.review_pairs IS 'Pairs of registrations the model is unsure about, with both records side by side for a person to decide (pipeline database only: it shows names, NIKs and birth dates). Decisions go to reference/review_decisions.csv and apply on every run.';
COMMENT ON COLUMN identity.review_pairs.snapshot_date IS 'Snapshot date (the landing folder''s date)';
