-- The analysts' database documents itself: every table and column an analyst sees is described here.
COMMENT ON TABLE coverage_by_region IS 'Jamsostek coverage by domicile per snapshot: covered workers (distinct persons with an active registration in any segment) over the Dukcapil eligible workforce (every KTP occupation except civil servants, soldiers, police and people not in work). Levels city, district, village; village rows may sum to less than their district (people known only by the district in their NIK).';
COMMENT ON COLUMN coverage_by_region.snapshot_date IS 'Date of the extracts (full state as of that date)';
COMMENT ON COLUMN coverage_by_region.level IS 'city, district or village';
COMMENT ON COLUMN coverage_by_region.region_code IS 'Kepmendagri code, dotted (74.71, 74.71.01, 74.71.01.1005)';
COMMENT ON COLUMN coverage_by_region.region_name IS 'Kepmendagri name';
COMMENT ON COLUMN coverage_by_region.eligible_workforce IS 'Residents whose KTP occupation is in the eligible category (Dukcapil aggregate, newest cut-off on or before the snapshot)';
COMMENT ON COLUMN coverage_by_region.covered_workers IS 'Distinct persons living here with at least one active registration (PU, BPU or JAKON): each person once';
COMMENT ON COLUMN coverage_by_region.uncovered_workers IS 'eligible_workforce - covered_workers';
COMMENT ON COLUMN coverage_by_region.coverage_pct IS 'covered_workers / eligible_workforce x 100, unrounded';
COMMENT ON COLUMN coverage_by_region.covered_pu IS 'Covered workers active in PU (a person active in several segments counts in each of these three columns)';
COMMENT ON COLUMN coverage_by_region.covered_bpu IS 'Covered workers active in BPU';
COMMENT ON COLUMN coverage_by_region.covered_jakon IS 'Covered workers active in JAKON';

COMMENT ON TABLE covered_outside_area IS 'Covered workers who live outside the configured area, by regency (unknown: no domicile and no valid NIK). Never added to the area''s rate.';
COMMENT ON COLUMN covered_outside_area.regency_code IS 'Kepmendagri regency code, or unknown';
COMMENT ON COLUMN covered_outside_area.covered_workers IS 'Distinct covered persons';

COMMENT ON TABLE coverage_by_segment IS 'Per segment: registration rows received beside distinct active persons. Registrations sum to more than persons: one person can hold several registrations and be active in several segments.';
COMMENT ON COLUMN coverage_by_segment.segment IS 'PU (wage earners), BPU (informal workers), JAKON (construction projects)';
COMMENT ON COLUMN coverage_by_segment.registrations IS 'All rows received in the segment''s file, loaded or quarantined';
COMMENT ON COLUMN coverage_by_segment.active_registrations IS 'Loaded registrations active at the snapshot date';
COMMENT ON COLUMN coverage_by_segment.active_workers IS 'Distinct persons with an active registration in the segment, wherever they live';
COMMENT ON COLUMN coverage_by_segment.exclusive_workers IS 'Distinct persons active in this segment and no other';
COMMENT ON COLUMN coverage_by_segment.active_workers_in_area IS 'active_workers who live in the configured area';

COMMENT ON TABLE segment_overlap IS 'Active persons by the combination of segments they are active in; each active person is in exactly one row.';
COMMENT ON COLUMN segment_overlap.segments IS 'Segment names sorted and joined by + (e.g. BPU+PU)';
COMMENT ON COLUMN segment_overlap.workers IS 'Distinct active persons, wherever they live';
COMMENT ON COLUMN segment_overlap.workers_in_area IS 'Of those, living in the configured area';

COMMENT ON TABLE workers IS 'One row per person (pseudonymised) per snapshot. No NIK, KPJ, name or birth date: person_key is a keyed HMAC.';
COMMENT ON COLUMN workers.person_key IS 'Keyed pseudonym of the person (HMAC-SHA256); stable across snapshots while the key is the same';
COMMENT ON COLUMN workers.is_active IS 'At least one registration active at the snapshot date';
COMMENT ON COLUMN workers.segments IS 'Segments with an active registration, sorted, joined by + (empty when none)';
COMMENT ON COLUMN workers.region_code IS 'Domicile village of the most recent active registration that has one; else the district in a valid NIK';
COMMENT ON COLUMN workers.region_level IS 'village or district (NULL when unknown)';
COMMENT ON COLUMN workers.in_area IS 'Lives in the configured area (whose coverage rate is reported)';
COMMENT ON COLUMN workers.sex IS 'L or P';
COMMENT ON COLUMN workers.birth_year IS 'Year of birth only';

COMMENT ON TABLE data_quality IS 'Rows received, loaded and quarantined per source and reason. Each quarantined row counts once, under all its reason codes joined by +; per source the rows_received sum to the file''s rows.';
COMMENT ON COLUMN data_quality.source IS 'Landing file name without extension';
COMMENT ON COLUMN data_quality.reason IS 'ok, or the quarantine reason codes of these rows (see docs/reason-codes.md)';

COMMENT ON TABLE record_links IS 'Every loaded row of the three worker files and the person it was judged to belong to: the audit trail of the deduplication.';
COMMENT ON COLUMN record_links.source IS 'pu_workers, bpu_participants or jakon_workers';
COMMENT ON COLUMN record_links.source_row IS '1-based data row in that file (header not counted)';
COMMENT ON COLUMN record_links.person_key IS 'Keyed pseudonym of the person, as in workers';
COMMENT ON COLUMN record_links.match_method IS 'nik (same valid NIK), probabilistic (linked by name, birth date, sex and place), single (linked to no other row)';
COMMENT ON COLUMN record_links.match_probability IS 'Probability of the link that joined this row (1.0 for nik, NULL for single)';

COMMENT ON TABLE snapshots IS 'Snapshots published in this file, with their civil-registry cut-off and how persons were pseudonymised.';
