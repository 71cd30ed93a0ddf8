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

COMMENT ON TABLE coverage_trend IS 'Where coverage is heading: one row per published snapshot, the city''s coverage and participants against the target for the snapshot''s year (reference targets, editable in reference/targets.csv), the annual growth achieved over the 12 months before it, and the growth still needed to reach the final target (99.5% by the end of 2045, RPJPN). Participants are covered workers: distinct persons living in the area with an active registration.';
COMMENT ON COLUMN coverage_trend.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN coverage_trend.eligible_workforce IS 'Eligible workforce of the city (as in coverage_by_region)';
COMMENT ON COLUMN coverage_trend.covered_workers IS 'Participants: distinct covered persons living in the city';
COMMENT ON COLUMN coverage_trend.coverage_pct IS 'covered_workers / eligible_workforce x 100';
COMMENT ON COLUMN coverage_trend.active_registrations IS 'Active registrations in all segments, wherever the person lives (one person may hold several): the count BPJS reports as active participation';
COMMENT ON COLUMN coverage_trend.target_pct_this_year IS 'Coverage target for the snapshot''s calendar year: the target of that year, else linear between the target years around it; NULL before the first target year';
COMMENT ON COLUMN coverage_trend.target_source IS 'Which target(s) target_pct_this_year comes from';
COMMENT ON COLUMN coverage_trend.gap_pp IS 'coverage_pct - target_pct_this_year, in percentage points (negative: behind the target)';
COMMENT ON COLUMN coverage_trend.growth_window_days IS 'Days between this snapshot and the earliest snapshot of the 12 months before it (at least 28) that the growth figures compare with; NULL when there is none';
COMMENT ON COLUMN coverage_trend.covered_workers_growth_pct_per_year IS 'Growth of covered workers over growth_window_days, annualised, in %';
COMMENT ON COLUMN coverage_trend.active_registrations_growth_pct_per_year IS 'Growth of active registrations over growth_window_days, annualised, in %';
COMMENT ON COLUMN coverage_trend.coverage_pp_per_year IS 'Change of coverage_pct over growth_window_days, in percentage points a year';
COMMENT ON COLUMN coverage_trend.participant_growth_target_pct IS 'BPJS Ketenagakerjaan''s push: growth of participants a year, in % (compare with covered_workers_growth_pct_per_year)';
COMMENT ON COLUMN coverage_trend.final_target_year IS 'Year of the last coverage target (2045, RPJPN)';
COMMENT ON COLUMN coverage_trend.final_target_pct IS 'Coverage to reach by the end of final_target_year (99.5)';
COMMENT ON COLUMN coverage_trend.years_to_final_target IS 'Years from the snapshot to 31 December of final_target_year';
COMMENT ON COLUMN coverage_trend.required_pp_per_year IS 'Percentage points of coverage to add each year from this snapshot to reach final_target_pct in time';
COMMENT ON COLUMN coverage_trend.required_growth_pct_per_year IS 'Annual growth of covered workers needed from this snapshot to reach final_target_pct in time, if the eligible workforce stays the size it is';

COMMENT ON TABLE coverage_vs_targets IS 'Every published snapshot against every coverage target in reference/targets.csv (RPJMN 2025 and 2029, RKP 2026, RPJPN 2045): the gap, and what it takes to close it by the end of the target year.';
COMMENT ON COLUMN coverage_vs_targets.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN coverage_vs_targets.coverage_pct IS 'The city''s coverage at the snapshot (as in coverage_by_region)';
COMMENT ON COLUMN coverage_vs_targets.target_year IS 'The target is due by 31 December of this year';
COMMENT ON COLUMN coverage_vs_targets.target_pct IS 'Coverage target, %';
COMMENT ON COLUMN coverage_vs_targets.source IS 'Plan that sets the target (RPJMN, RKP, RPJPN)';
COMMENT ON COLUMN coverage_vs_targets.gap_pp IS 'coverage_pct - target_pct in percentage points (negative: behind)';
COMMENT ON COLUMN coverage_vs_targets.met IS 'coverage_pct >= target_pct already at the snapshot';
COMMENT ON COLUMN coverage_vs_targets.years_left IS 'Years from the snapshot to the end of target_year (negative once it has passed)';
COMMENT ON COLUMN coverage_vs_targets.required_pp_per_year IS 'Percentage points a year needed from the snapshot to reach the target in time (NULL once the year has passed)';
COMMENT ON COLUMN coverage_vs_targets.required_growth_pct_per_year IS 'Annual growth of covered workers needed to reach the target in time, at a constant eligible workforce (NULL once the year has passed)';

COMMENT ON TABLE coverage_targets IS 'The targets as shipped in reference/targets.csv when this file was published: coverage_pct by the end of a year, and participant_growth_pct a year.';
COMMENT ON COLUMN coverage_targets.indicator IS 'coverage_pct or participant_growth_pct';
COMMENT ON COLUMN coverage_targets.year IS 'Year the coverage target is due (end of year); NULL for a yearly growth target';
COMMENT ON COLUMN coverage_targets.value IS 'Target value, in %';
