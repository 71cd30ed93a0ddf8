-- The marts tables of the pipeline database: declared here, created by warehouse/ddl.py before any write.

CREATE TABLE IF NOT EXISTS marts.bpu_lapse (
    snapshot_date DATE,
    level VARCHAR,
    region_code VARCHAR,
    region_name VARCHAR,
    bpu_participants BIGINT,
    paid_up_participants BIGINT,
    lapsed_1_30_days BIGINT,
    lapsed_31_60_days BIGINT,
    lapsed_61_90_days BIGINT,
    lapsed_over_90_days BIGINT,
    closed_participants BIGINT,
    lapsed_90_days_uncovered BIGINT
);
COMMENT ON TABLE marts.bpu_lapse IS 'BPU participants per village by how long ago their contributions stopped: paid up, lapsed 1-30, 31-60, 61-90 days, long lapsed, closed; and the recently lapsed who are covered nowhere else (people to call back first).';
COMMENT ON COLUMN marts.bpu_lapse.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.bpu_lapse.level IS 'city, district, village; outside_area (a village outside the area) or unknown (no village, or one not in the reference list)';
COMMENT ON COLUMN marts.bpu_lapse.region_code IS 'Kepmendagri code, dotted; or outside_area / unknown';
COMMENT ON COLUMN marts.bpu_lapse.region_name IS 'Kepmendagri name';
COMMENT ON COLUMN marts.bpu_lapse.bpu_participants IS 'Distinct persons with a BPU registration: the sum of the six states';
COMMENT ON COLUMN marts.bpu_lapse.paid_up_participants IS 'With an active BPU registration (aktif, contributions paid to the snapshot date or later)';
COMMENT ON COLUMN marts.bpu_lapse.lapsed_1_30_days IS 'Not paid up, contributions stopped 1-30 days before the snapshot';
COMMENT ON COLUMN marts.bpu_lapse.lapsed_31_60_days IS 'Not paid up, stopped 31-60 days before';
COMMENT ON COLUMN marts.bpu_lapse.lapsed_61_90_days IS 'Not paid up, stopped 61-90 days before';
COMMENT ON COLUMN marts.bpu_lapse.lapsed_over_90_days IS 'Not paid up, stopped more than 90 days before (long lapsed)';
COMMENT ON COLUMN marts.bpu_lapse.closed_participants IS 'Status nonaktif although paid to the snapshot date or later (registration closed)';
COMMENT ON COLUMN marts.bpu_lapse.lapsed_90_days_uncovered IS 'Lapsed within 90 days and covered in no segment: the first people to call back';

CREATE TABLE IF NOT EXISTS marts.coverage_by_occupation (
    snapshot_date DATE,
    occupation VARCHAR,
    category VARCHAR,
    eligible_workforce BIGINT,
    covered_workers_estimate BIGINT,
    uncovered_workers_estimate BIGINT,
    coverage_pct_estimate DOUBLE,
    covered_from_bpu_pekerjaan BIGINT,
    covered_from_pu_employer BIGINT,
    covered_from_jakon BIGINT
);
COMMENT ON TABLE marts.coverage_by_occupation IS 'An ESTIMATE of the gap by KTP occupation: the Dukcapil eligible workforce per occupation against covered workers given an occupation from their BPU `pekerjaan` or their PU employer''s type and KBLI (editable mappings in reference/); the unmapped shown as such. BPJS does not record the KTP occupation itself.';
COMMENT ON COLUMN marts.coverage_by_occupation.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_by_occupation.occupation IS 'Dukcapil KTP occupation (as in reference/occupation_categories.csv), or unmapped';
COMMENT ON COLUMN marts.coverage_by_occupation.category IS 'eligible, asn_tni_polri, not_working (occupation_categories.csv), or unmapped';
COMMENT ON COLUMN marts.coverage_by_occupation.eligible_workforce IS 'Eligible residents of the area with this KTP occupation (0 for occupations outside the eligible category)';
COMMENT ON COLUMN marts.coverage_by_occupation.covered_workers_estimate IS 'Covered persons living in the area given this occupation by the mappings (an estimate)';
COMMENT ON COLUMN marts.coverage_by_occupation.uncovered_workers_estimate IS 'eligible_workforce - covered_workers_estimate (NULL outside the eligible category)';
COMMENT ON COLUMN marts.coverage_by_occupation.coverage_pct_estimate IS 'covered_workers_estimate / eligible_workforce x 100 (an estimate; can exceed 100 where the mapping over-assigns)';
COMMENT ON COLUMN marts.coverage_by_occupation.covered_from_bpu_pekerjaan IS 'Of covered_workers_estimate, given their occupation by a BPU pekerjaan';
COMMENT ON COLUMN marts.coverage_by_occupation.covered_from_pu_employer IS 'Of covered_workers_estimate, given their occupation by their PU employer''s type and KBLI';
COMMENT ON COLUMN marts.coverage_by_occupation.covered_from_jakon IS 'Of covered_workers_estimate, given their occupation by a JAKON project';

CREATE TABLE IF NOT EXISTS marts.coverage_by_region (
    snapshot_date DATE,
    level VARCHAR,
    region_code VARCHAR,
    region_name VARCHAR,
    eligible_workforce BIGINT,
    covered_workers BIGINT,
    uncovered_workers BIGINT,
    coverage_pct DOUBLE,
    covered_pu BIGINT,
    covered_bpu BIGINT,
    covered_jakon BIGINT,
    district_code VARCHAR,
    ucj_category VARCHAR
);
COMMENT ON TABLE marts.coverage_by_region IS 'Coverage % by domicile: covered workers over the Dukcapil eligible workforce, for the city, its districts and villages. Eligible: every occupation on the KTP except civil servants, soldiers, police and people not in work. Some covered people are known only by the district in their NIK: each district has an `unassigned` row for them, so that its villages + unassigned = the district. Each area carries its UCJ category.';
COMMENT ON COLUMN marts.coverage_by_region.snapshot_date IS 'Date of the extracts (full state as of that date)';
COMMENT ON COLUMN marts.coverage_by_region.level IS 'city, district, village, or unassigned (covered residents of the district known only by the district in their NIK)';
COMMENT ON COLUMN marts.coverage_by_region.region_code IS 'Kepmendagri code, dotted (74.71, 74.71.01, 74.71.01.1005); on an unassigned row, its district''s code';
COMMENT ON COLUMN marts.coverage_by_region.region_name IS 'Kepmendagri name';
COMMENT ON COLUMN marts.coverage_by_region.eligible_workforce IS 'Residents whose KTP occupation is in the eligible category (Dukcapil aggregate, newest cut-off on or before the snapshot)';
COMMENT ON COLUMN marts.coverage_by_region.covered_workers IS 'Distinct persons living here with at least one active registration (PU, BPU or JAKON): each person once';
COMMENT ON COLUMN marts.coverage_by_region.uncovered_workers IS 'eligible_workforce - covered_workers; negative on an unassigned row (no eligible workforce of its own): the villages'' uncovered figures overstate the district''s by that many';
COMMENT ON COLUMN marts.coverage_by_region.coverage_pct IS 'covered_workers / eligible_workforce x 100, unrounded';
COMMENT ON COLUMN marts.coverage_by_region.covered_pu IS 'Covered workers active in PU (a person active in several segments counts in each of these three columns)';
COMMENT ON COLUMN marts.coverage_by_region.covered_bpu IS 'Covered workers active in BPU';
COMMENT ON COLUMN marts.coverage_by_region.covered_jakon IS 'Covered workers active in JAKON';
COMMENT ON COLUMN marts.coverage_by_region.district_code IS 'District the row belongs to (its own code for a district; NULL for the city)';
COMMENT ON COLUMN marts.coverage_by_region.ucj_category IS 'UCJ (Universal Coverage Jamsostek) band of coverage_pct: sangat rendah, rendah, sedang or tinggi; thresholds in reference/ucj_categories.csv (NULL on unassigned rows)';

CREATE TABLE IF NOT EXISTS marts.coverage_by_segment (
    snapshot_date DATE,
    segment VARCHAR,
    registrations BIGINT,
    active_registrations BIGINT,
    active_workers BIGINT,
    exclusive_workers BIGINT,
    active_workers_in_area BIGINT
);
COMMENT ON TABLE marts.coverage_by_segment IS 'Per segment: registrations received beside the distinct active workers, and those active in that segment only. Registrations add up to more than people: one person can hold several registrations in one segment and be active in several segments.';
COMMENT ON COLUMN marts.coverage_by_segment.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_by_segment.segment IS 'PU (wage earners), BPU (informal workers), JAKON (construction projects)';
COMMENT ON COLUMN marts.coverage_by_segment.registrations IS 'All rows received in the segment''s file, loaded or quarantined';
COMMENT ON COLUMN marts.coverage_by_segment.active_registrations IS 'Loaded registrations active at the snapshot date';
COMMENT ON COLUMN marts.coverage_by_segment.active_workers IS 'Distinct persons with an active registration in the segment, wherever they live';
COMMENT ON COLUMN marts.coverage_by_segment.exclusive_workers IS 'Distinct persons active in this segment and no other';
COMMENT ON COLUMN marts.coverage_by_segment.active_workers_in_area IS 'active_workers who live in the configured area';

CREATE TABLE IF NOT EXISTS marts.coverage_by_sex (
    snapshot_date DATE,
    level VARCHAR,
    region_code VARCHAR,
    region_name VARCHAR,
    sex VARCHAR,
    eligible_workforce BIGINT,
    covered_workers BIGINT,
    uncovered_workers BIGINT,
    coverage_pct DOUBLE
);
COMMENT ON TABLE marts.coverage_by_sex IS 'Eligible workforce and covered workers by sex (L, P), for the city and each district.';
COMMENT ON COLUMN marts.coverage_by_sex.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_by_sex.level IS 'city or district';
COMMENT ON COLUMN marts.coverage_by_sex.region_code IS 'Kepmendagri code, dotted';
COMMENT ON COLUMN marts.coverage_by_sex.region_name IS 'Kepmendagri name';
COMMENT ON COLUMN marts.coverage_by_sex.sex IS 'L (laki-laki, men), P (perempuan, women), or unknown (covered persons whose registrations give no sex)';
COMMENT ON COLUMN marts.coverage_by_sex.eligible_workforce IS 'Eligible residents of that sex';
COMMENT ON COLUMN marts.coverage_by_sex.covered_workers IS 'Distinct covered persons of that sex living there';
COMMENT ON COLUMN marts.coverage_by_sex.uncovered_workers IS 'eligible_workforce - covered_workers';
COMMENT ON COLUMN marts.coverage_by_sex.coverage_pct IS 'covered_workers / eligible_workforce x 100, unrounded';

CREATE TABLE IF NOT EXISTS marts.coverage_changes (
    snapshot_date DATE,
    days_since_previous_snapshot INTEGER,
    segment VARCHAR,
    covered_workers_before BIGINT,
    covered_workers_now BIGINT,
    newly_covered_workers BIGINT,
    lost_coverage_workers BIGINT
);
COMMENT ON TABLE marts.coverage_changes IS 'Persons newly covered and persons who lost coverage since the previous snapshot, by segment (ALL = any). Also rewrites the next snapshot''s rows, if there is one: a snapshot backfilled late is its successor''s previous.';
COMMENT ON COLUMN marts.coverage_changes.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_changes.days_since_previous_snapshot IS 'Days between the previous snapshot and this one (NULL for the first snapshot)';
COMMENT ON COLUMN marts.coverage_changes.segment IS 'ALL, PU, BPU or JAKON';
COMMENT ON COLUMN marts.coverage_changes.covered_workers_before IS 'Persons active in the segment and living in the area at the previous snapshot';
COMMENT ON COLUMN marts.coverage_changes.covered_workers_now IS 'Persons active in the segment and living in the area at this snapshot';
COMMENT ON COLUMN marts.coverage_changes.newly_covered_workers IS 'Active in the segment and living in the area now, not active in the segment at the previous snapshot (NULL for the first snapshot)';
COMMENT ON COLUMN marts.coverage_changes.lost_coverage_workers IS 'Active in the segment and living in the area at the previous snapshot, not active in it now (NULL for the first snapshot)';

CREATE TABLE IF NOT EXISTS marts.coverage_trend (
    snapshot_date DATE,
    eligible_workforce BIGINT,
    covered_workers BIGINT,
    coverage_pct DOUBLE,
    active_registrations BIGINT,
    target_pct_this_year DOUBLE,
    target_source VARCHAR,
    gap_pp DOUBLE,
    growth_window_days INTEGER,
    covered_workers_growth_pct_per_year DOUBLE,
    active_registrations_growth_pct_per_year DOUBLE,
    coverage_pp_per_year DOUBLE,
    participant_growth_target_pct DOUBLE,
    final_target_year INTEGER,
    final_target_pct DOUBLE,
    years_to_final_target DOUBLE,
    required_pp_per_year DOUBLE,
    required_growth_pct_per_year DOUBLE
);
COMMENT ON TABLE marts.coverage_trend IS 'Where Kendari''s coverage is heading: per snapshot, coverage and participants against the target for its year, the annual growth achieved over the 12 months before it, and the growth needed to reach the final target (99.5% by 2045). Recomputed over every snapshot in the marts each time one is materialised, so a snapshot backfilled late still updates the growth of the ones after it. Also writes marts.coverage_vs_targets (every snapshot against every coverage target). analytics.duckdb computes the same tables over the published snapshots.';
COMMENT ON COLUMN marts.coverage_trend.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_trend.eligible_workforce IS 'Eligible workforce of the city (as in coverage_by_region)';
COMMENT ON COLUMN marts.coverage_trend.covered_workers IS 'Participants: distinct covered persons living in the city';
COMMENT ON COLUMN marts.coverage_trend.coverage_pct IS 'covered_workers / eligible_workforce x 100';
COMMENT ON COLUMN marts.coverage_trend.active_registrations IS 'Active registrations in all segments, wherever the person lives (one person may hold several): the count BPJS reports as active participation';
COMMENT ON COLUMN marts.coverage_trend.target_pct_this_year IS 'Coverage target for the snapshot''s calendar year: the target of that year, else linear between the target years around it; NULL before the first target year';
COMMENT ON COLUMN marts.coverage_trend.target_source IS 'Which target(s) target_pct_this_year comes from';
COMMENT ON COLUMN marts.coverage_trend.gap_pp IS 'coverage_pct - target_pct_this_year, in percentage points (negative: behind the target)';
COMMENT ON COLUMN marts.coverage_trend.growth_window_days IS 'Days between this snapshot and the earliest snapshot of the 12 months before it (at least 28) that the growth figures compare with; NULL when there is none';
COMMENT ON COLUMN marts.coverage_trend.covered_workers_growth_pct_per_year IS 'Growth of covered workers over growth_window_days, annualised, in %';
COMMENT ON COLUMN marts.coverage_trend.active_registrations_growth_pct_per_year IS 'Growth of active registrations over growth_window_days, annualised, in %';
COMMENT ON COLUMN marts.coverage_trend.coverage_pp_per_year IS 'Change of coverage_pct over growth_window_days, in percentage points a year';
COMMENT ON COLUMN marts.coverage_trend.participant_growth_target_pct IS 'BPJS Ketenagakerjaan''s push: growth of participants a year, in % (compare with covered_workers_growth_pct_per_year)';
COMMENT ON COLUMN marts.coverage_trend.final_target_year IS 'Year of the last coverage target (2045, RPJPN)';
COMMENT ON COLUMN marts.coverage_trend.final_target_pct IS 'Coverage to reach by the end of final_target_year (99.5)';
COMMENT ON COLUMN marts.coverage_trend.years_to_final_target IS 'Years from the snapshot to 31 December of final_target_year';
COMMENT ON COLUMN marts.coverage_trend.required_pp_per_year IS 'Percentage points of coverage to add each year from this snapshot to reach final_target_pct in time';
COMMENT ON COLUMN marts.coverage_trend.required_growth_pct_per_year IS 'Annual growth of covered workers needed from this snapshot to reach final_target_pct in time, if the eligible workforce stays the size it is';

CREATE TABLE IF NOT EXISTS marts.coverage_vs_targets (
    snapshot_date DATE,
    target_year INTEGER,
    target_pct DOUBLE,
    source VARCHAR,
    coverage_pct DOUBLE,
    gap_pp DOUBLE,
    met BOOLEAN,
    years_left DOUBLE,
    required_pp_per_year DOUBLE,
    required_growth_pct_per_year DOUBLE
);
COMMENT ON TABLE marts.coverage_vs_targets IS 'Every snapshot against every coverage target: how far, and the growth needed to get there in time.';
COMMENT ON COLUMN marts.coverage_vs_targets.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.coverage_vs_targets.target_year IS 'The target is due by 31 December of this year';
COMMENT ON COLUMN marts.coverage_vs_targets.target_pct IS 'Coverage target, %';
COMMENT ON COLUMN marts.coverage_vs_targets.source IS 'Plan that sets the target (RPJMN, RKP, RPJPN)';
COMMENT ON COLUMN marts.coverage_vs_targets.coverage_pct IS 'The city''s coverage at the snapshot (as in coverage_by_region)';
COMMENT ON COLUMN marts.coverage_vs_targets.gap_pp IS 'coverage_pct - target_pct in percentage points (negative: behind)';
COMMENT ON COLUMN marts.coverage_vs_targets.met IS 'coverage_pct >= target_pct already at the snapshot';
COMMENT ON COLUMN marts.coverage_vs_targets.years_left IS 'Years from the snapshot to the end of target_year (negative once it has passed)';
COMMENT ON COLUMN marts.coverage_vs_targets.required_pp_per_year IS 'Percentage points a year needed from the snapshot to reach the target in time (NULL once the year has passed)';
COMMENT ON COLUMN marts.coverage_vs_targets.required_growth_pct_per_year IS 'Annual growth of covered workers needed to reach the target in time, at a constant eligible workforce (NULL once the year has passed)';

CREATE TABLE IF NOT EXISTS marts.covered_outside_area (
    snapshot_date DATE,
    regency_code VARCHAR,
    regency_name VARCHAR,
    covered_workers BIGINT
);
COMMENT ON TABLE marts.covered_outside_area IS 'Covered workers who live outside the configured area, by regency: reported apart, never in its rate.';
COMMENT ON COLUMN marts.covered_outside_area.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.covered_outside_area.regency_code IS 'Kepmendagri regency code of Sulawesi Tenggara; other_province for a code of a province the reference list does not cover; unknown when nothing places the person (no domicile, no usable NIK, or a NIK district that does not exist)';
COMMENT ON COLUMN marts.covered_outside_area.regency_name IS 'Kepmendagri name, or what regency_code stands for';
COMMENT ON COLUMN marts.covered_outside_area.covered_workers IS 'Distinct covered persons';

CREATE TABLE IF NOT EXISTS marts.data_quality (
    snapshot_date DATE,
    source VARCHAR,
    reason VARCHAR,
    rows_received BIGINT,
    rows_loaded BIGINT,
    rows_quarantined BIGINT
);
COMMENT ON TABLE marts.data_quality IS 'Rows received, loaded and quarantined per source and reason: for each source received = loaded + quarantined.';
COMMENT ON COLUMN marts.data_quality.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.data_quality.source IS 'Landing file name without extension';
COMMENT ON COLUMN marts.data_quality.reason IS 'ok, or the quarantine reason codes of these rows (see docs/reason-codes.md)';
COMMENT ON COLUMN marts.data_quality.rows_received IS 'Rows of the file in this reason group (the ok row: every row loaded); per source they sum to the rows received';
COMMENT ON COLUMN marts.data_quality.rows_loaded IS 'Rows loaded into staging (only on the ok row)';
COMMENT ON COLUMN marts.data_quality.rows_quarantined IS 'Rows quarantined with this combination of reasons';

CREATE TABLE IF NOT EXISTS marts.employer_compliance (
    snapshot_date DATE,
    npp VARCHAR,
    employer_name VARCHAR,
    employer_type VARCHAR,
    scale VARCHAR,
    kbli VARCHAR,
    employer_status VARCHAR,
    village_code VARCHAR,
    district_code VARCHAR,
    regency_code VARCHAR,
    in_area BOOLEAN,
    declared_workers BIGINT,
    active_workers BIGINT,
    unregistered_workers BIGINT,
    wage_floor BIGINT,
    wage_floor_basis VARCHAR,
    workers_below_wage_floor BIGINT,
    below_wage_floor_pct DOUBLE,
    programs_required VARCHAR,
    programs_enrolled VARCHAR,
    programs_missing VARCHAR,
    workers_missing_programs BIGINT,
    pds_tenaga_kerja BOOLEAN,
    pds_upah BOOLEAN,
    pds_program BOOLEAN,
    pds_kinds INTEGER,
    inspection_rank BIGINT
);
COMMENT ON TABLE marts.employer_compliance IS 'PDS screening per employer, ranked for BPJS inspectors: declared headcount against distinct active PU workers (PDS tenaga kerja), active workers paid below the regency''s minimum wage (PDS upah), active workers missing a program the employer''s scale requires (PDS program). Business data only.';
COMMENT ON COLUMN marts.employer_compliance.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.employer_compliance.npp IS 'BPJS employer registration number';
COMMENT ON COLUMN marts.employer_compliance.employer_name IS 'nama_perusahaan as registered';
COMMENT ON COLUMN marts.employer_compliance.employer_type IS 'jenis_pemberi_kerja: swasta, bumn, bumd, instansi_pemerintah';
COMMENT ON COLUMN marts.employer_compliance.scale IS 'skala_usaha: mikro, kecil, menengah, besar';
COMMENT ON COLUMN marts.employer_compliance.kbli IS 'KBLI 2020 business code, as registered';
COMMENT ON COLUMN marts.employer_compliance.employer_status IS 'aktif or nonaktif (only aktif employers are ranked)';
COMMENT ON COLUMN marts.employer_compliance.village_code IS 'Workplace village (Kepmendagri), or unknown when not in the reference list';
COMMENT ON COLUMN marts.employer_compliance.district_code IS 'Workplace district, or unknown';
COMMENT ON COLUMN marts.employer_compliance.regency_code IS 'Workplace regency (its minimum wage applies), or unknown';
COMMENT ON COLUMN marts.employer_compliance.in_area IS 'Workplace in the configured area';
COMMENT ON COLUMN marts.employer_compliance.declared_workers IS 'Headcount the employer declares (jumlah_pekerja)';
COMMENT ON COLUMN marts.employer_compliance.active_workers IS 'Distinct persons with an active PU registration at this employer';
COMMENT ON COLUMN marts.employer_compliance.unregistered_workers IS 'declared_workers - active_workers when positive: workers declared but not registered (PDS tenaga kerja)';
COMMENT ON COLUMN marts.employer_compliance.wage_floor IS 'Monthly minimum wage in Rupiah that applies (UMK of the regency, else the province''s UMP; the snapshot''s year, else the latest earlier one)';
COMMENT ON COLUMN marts.employer_compliance.wage_floor_basis IS 'Which floor: kind (UMK/UMP), region code, year';
COMMENT ON COLUMN marts.employer_compliance.workers_below_wage_floor IS 'Active workers whose reported wage (upah) is below wage_floor (PDS upah)';
COMMENT ON COLUMN marts.employer_compliance.below_wage_floor_pct IS 'workers_below_wage_floor / active workers with a reported wage x 100';
COMMENT ON COLUMN marts.employer_compliance.programs_required IS 'Programs the scale requires (reference/mandatory_programs.csv), sorted, comma-separated';
COMMENT ON COLUMN marts.employer_compliance.programs_enrolled IS 'Programs at least one active worker holds';
COMMENT ON COLUMN marts.employer_compliance.programs_missing IS 'Required programs that at least one active worker lacks';
COMMENT ON COLUMN marts.employer_compliance.workers_missing_programs IS 'Active workers lacking at least one required program (PDS program)';
COMMENT ON COLUMN marts.employer_compliance.pds_tenaga_kerja IS 'declared_workers > active_workers';
COMMENT ON COLUMN marts.employer_compliance.pds_upah IS 'workers_below_wage_floor > 0';
COMMENT ON COLUMN marts.employer_compliance.pds_program IS 'workers_missing_programs > 0';
COMMENT ON COLUMN marts.employer_compliance.pds_kinds IS 'How many of the three PDS kinds apply (0-3)';
COMMENT ON COLUMN marts.employer_compliance.inspection_rank IS 'Order for inspectors among aktif employers with a PDS kind: most kinds first, then most unregistered workers, most below the wage floor, most missing programs; NULL when none applies';

CREATE TABLE IF NOT EXISTS marts.field_defects (
    snapshot_date DATE,
    source VARCHAR,
    field VARCHAR,
    reason VARCHAR,
    rows BIGINT
);
COMMENT ON TABLE marts.field_defects IS 'Fields set aside in loaded rows, by source, field and reason: a typo in a wage or a birth date never removes a covered worker; it is counted here instead (refused rows are in data_quality).';
COMMENT ON COLUMN marts.field_defects.snapshot_date IS 'Snapshot date of the delivery';
COMMENT ON COLUMN marts.field_defects.source IS 'Landing file name without extension';
COMMENT ON COLUMN marts.field_defects.field IS 'Column whose value was set aside';
COMMENT ON COLUMN marts.field_defects.reason IS 'Reason code (invalid_<column> or implausible_<column>)';
COMMENT ON COLUMN marts.field_defects.rows IS 'Loaded rows whose value in this field was set aside for this reason';

CREATE TABLE IF NOT EXISTS marts.opd_coverage (
    snapshot_date DATE,
    kode_opd VARCHAR,
    nama_opd VARCHAR,
    staff_on_roster BIGINT,
    staff_matched BIGINT,
    staff_covered BIGINT,
    staff_not_covered BIGINT,
    staff_not_matched BIGINT,
    staff_covered_pct DOUBLE,
    staff_covered_pu BIGINT,
    staff_covered_bpu BIGINT
);
COMMENT ON TABLE marts.opd_coverage IS 'Per OPD (Pemkot agency): non-ASN staff on the roster, matched to a person, covered, not covered.';
COMMENT ON COLUMN marts.opd_coverage.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.opd_coverage.kode_opd IS 'Agency code on the roster';
COMMENT ON COLUMN marts.opd_coverage.nama_opd IS 'Agency name on the roster';
COMMENT ON COLUMN marts.opd_coverage.staff_on_roster IS 'Distinct staff on the roster (a person listed twice in one OPD counts once)';
COMMENT ON COLUMN marts.opd_coverage.staff_matched IS 'Staff matched to a person who holds at least one registration';
COMMENT ON COLUMN marts.opd_coverage.staff_covered IS 'Staff with an active registration in any segment';
COMMENT ON COLUMN marts.opd_coverage.staff_not_covered IS 'staff_on_roster - staff_covered: the agency''s staff to register';
COMMENT ON COLUMN marts.opd_coverage.staff_not_matched IS 'Staff matched to nobody (no registration found)';
COMMENT ON COLUMN marts.opd_coverage.staff_covered_pct IS 'staff_covered / staff_on_roster x 100';
COMMENT ON COLUMN marts.opd_coverage.staff_covered_pu IS 'Covered staff active in PU (registered as wage earners)';
COMMENT ON COLUMN marts.opd_coverage.staff_covered_bpu IS 'Covered staff active in BPU (registered themselves as informal workers)';

CREATE TABLE IF NOT EXISTS marts.opd_staff (
    snapshot_date DATE,
    source_row BIGINT,
    kode_opd VARCHAR,
    nama_opd VARCHAR,
    person_id VARCHAR,
    match_method VARCHAR,
    is_covered BOOLEAN,
    segments VARCHAR
);
COMMENT ON TABLE marts.opd_staff IS 'Non-ASN staff on an OPD roster, matched to a person through identity, covered or not (person-level: stays in the pipeline database).';
COMMENT ON COLUMN marts.opd_staff.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN marts.opd_staff.source_row IS '1-based data row in that file, the header not counted';

CREATE TABLE IF NOT EXISTS marts.registration_activity (
    snapshot_date DATE,
    source VARCHAR,
    source_row BIGINT,
    segment VARCHAR,
    start_date DATE,
    is_active BOOLEAN
);
COMMENT ON TABLE marts.registration_activity IS 'Whether each loaded registration is active at the snapshot date (contract §2). Active PU: status aktif, started on or before the date, not stopped by it. Active BPU: aktif, registered on or before the date, contributions paid up to at least the date. Active JAKON: listed on a project whose coverage period contains the date. The rule lives here, in the coverage layer: changing it never reruns the identity linkage.';
COMMENT ON COLUMN marts.registration_activity.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN marts.registration_activity.source IS 'Landing file name without extension';
COMMENT ON COLUMN marts.registration_activity.source_row IS '1-based data row in that file, the header not counted';

CREATE TABLE IF NOT EXISTS marts.segment_overlap (
    snapshot_date DATE,
    segments VARCHAR,
    workers BIGINT,
    workers_in_area BIGINT
);
COMMENT ON TABLE marts.segment_overlap IS 'Active workers by the combination of segments they are active in (e.g. `BPU+PU`): each person once.';
COMMENT ON COLUMN marts.segment_overlap.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.segment_overlap.segments IS 'Segment names sorted and joined by + (e.g. BPU+PU)';
COMMENT ON COLUMN marts.segment_overlap.workers IS 'Distinct active persons, wherever they live';
COMMENT ON COLUMN marts.segment_overlap.workers_in_area IS 'Of those, living in the configured area';

CREATE TABLE IF NOT EXISTS marts.village_targets (
    snapshot_date DATE,
    rank BIGINT,
    village_code VARCHAR,
    village_name VARCHAR,
    district_code VARCHAR,
    district_name VARCHAR,
    eligible_workforce BIGINT,
    covered_workers BIGINT,
    uncovered_workers BIGINT,
    coverage_pct DOUBLE,
    ucj_category VARCHAR,
    district_unassigned_covered_workers BIGINT,
    uncovered_workers_at_least BIGINT
);
COMMENT ON TABLE marts.village_targets IS 'The area''s villages ranked by uncovered workers, with their UCJ category: where a campaign reaches most people. Caveat on every row: the district''s covered people known only by their NIK district live in some of its villages, so a village''s uncovered figure may be overstated by up to that many (uncovered_workers_at_least).';
COMMENT ON COLUMN marts.village_targets.snapshot_date IS 'Date of the extracts';
COMMENT ON COLUMN marts.village_targets.rank IS '1 = most uncovered workers (ties by village code)';
COMMENT ON COLUMN marts.village_targets.village_code IS 'Kepmendagri village (kelurahan/desa) code, dotted';
COMMENT ON COLUMN marts.village_targets.village_name IS 'Kepmendagri village name';
COMMENT ON COLUMN marts.village_targets.district_code IS 'Kepmendagri district (kecamatan) code of the village';
COMMENT ON COLUMN marts.village_targets.district_name IS 'Kepmendagri district name';
COMMENT ON COLUMN marts.village_targets.eligible_workforce IS 'Eligible workforce of the village (as in coverage_by_region)';
COMMENT ON COLUMN marts.village_targets.covered_workers IS 'Covered persons whose domicile is this village';
COMMENT ON COLUMN marts.village_targets.uncovered_workers IS 'eligible_workforce - covered_workers';
COMMENT ON COLUMN marts.village_targets.coverage_pct IS 'covered_workers / eligible_workforce x 100, unrounded';
COMMENT ON COLUMN marts.village_targets.ucj_category IS 'UCJ band of coverage_pct (reference/ucj_categories.csv)';
COMMENT ON COLUMN marts.village_targets.district_unassigned_covered_workers IS 'Covered persons of the district known only by the district in their NIK: some of them live in this village';
COMMENT ON COLUMN marts.village_targets.uncovered_workers_at_least IS 'uncovered_workers - district_unassigned_covered_workers (not below 0): the uncovered figure if every unassigned person lived here';

CREATE TABLE IF NOT EXISTS marts.workers (
    snapshot_date DATE,
    person_id VARCHAR,
    is_active BOOLEAN,
    segments VARCHAR,
    region_code VARCHAR,
    region_level VARCHAR,
    in_area BOOLEAN,
    sex VARCHAR,
    birth_year BIGINT,
    registrations BIGINT
);
COMMENT ON TABLE marts.workers IS 'One row per person: covered or not at the snapshot date, in which segments, and where they live.';
COMMENT ON COLUMN marts.workers.snapshot_date IS 'Snapshot date (the landing folder''s date)';

-- The national deployment only (assets/national.py, docs/scaling.md): empty in a city or province database.
CREATE TABLE IF NOT EXISTS marts.province_coverage (
    snapshot_date DATE,
    province VARCHAR,
    persons BIGINT,
    covered_persons BIGINT,
    covered_by_province_runs BIGINT,
    registrations BIGINT
);
COMMENT ON TABLE marts.province_coverage IS 'National deployment: per province, persons counted once across the whole country (national identity), against what the province''s own run counted.';
COMMENT ON COLUMN marts.province_coverage.snapshot_date IS 'Snapshot date (the landing folder''s date)';
COMMENT ON COLUMN marts.province_coverage.province IS 'Two-digit province code of where the person lives (the region rule of marts.workers); NULL when unknown';
COMMENT ON COLUMN marts.province_coverage.persons IS 'Distinct persons nationally (one human once) attributed to this province';
COMMENT ON COLUMN marts.province_coverage.covered_persons IS 'Of them, with an active registration anywhere in the country';
COMMENT ON COLUMN marts.province_coverage.covered_by_province_runs IS 'Covered persons of this province delivery''s own run (its marts.workers, is_active): a person registered in two provinces is in both; NULL for the unknown row';
COMMENT ON COLUMN marts.province_coverage.registrations IS 'Registrations delivered by this province (its landing zone), for the row of the delivering province';
