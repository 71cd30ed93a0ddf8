-- marts.coverage_by_occupation: an ESTIMATE of the gap by KTP occupation. The eligible workforce per Dukcapil
-- occupation is a count; covered workers per occupation are estimated: BPJS does not hold the KTP occupation, so
-- each covered person living in the area gets one occupation from their active registrations: the `pekerjaan`
-- of their most recent active BPU registration (reference/bpu_occupation_map.csv), else the type and KBLI of the
-- employer of their most recent active PU registration (reference/employer_occupation_map.csv, the longest KBLI
-- prefix wins), else JAKON (construction). A person whose text or employer is not mapped is counted as `unmapped`.
WITH reg AS (
    SELECT a.source, a.source_row, a.segment, a.start_date, l.person_id
    FROM marts.registration_activity a
    JOIN identity.record_links l USING (snapshot_date, source, source_row)
    JOIN marts.workers w ON w.snapshot_date = a.snapshot_date AND w.person_id = l.person_id
    WHERE a.snapshot_date = $snapshot_date AND a.is_active AND w.in_area
),
bpu AS (
    SELECT r.person_id, r.segment, r.start_date, r.source_row, m.occupation
    FROM reg r
    JOIN staging.bpu_participants b ON b.snapshot_date = $snapshot_date AND b.source_row = r.source_row
    LEFT JOIN reference.bpu_occupation_map m ON m.pekerjaan = upper(trim(regexp_replace(b.pekerjaan, '\s+', ' ', 'g')))
    WHERE r.source = 'bpu_participants'
),
pu AS (
    SELECT r.person_id, r.segment, r.start_date, r.source_row,
           (SELECT m.occupation FROM reference.employer_occupation_map m
            WHERE m.jenis_pemberi_kerja = e.jenis_pemberi_kerja AND starts_with(coalesce(e.kbli, ''), m.kbli_prefix)
            ORDER BY length(m.kbli_prefix) DESC LIMIT 1) AS occupation
    FROM reg r
    JOIN staging.pu_workers p ON p.snapshot_date = $snapshot_date AND p.source_row = r.source_row
    JOIN staging.employers e ON e.snapshot_date = $snapshot_date AND e.npp = p.npp
    WHERE r.source = 'pu_workers'
),
jakon AS (
    SELECT r.person_id, r.segment, r.start_date, r.source_row,
           (SELECT occupation FROM reference.employer_occupation_map WHERE jenis_pemberi_kerja = 'jakon' LIMIT 1) AS occupation
    FROM reg r WHERE r.source = 'jakon_workers'
),
per_person AS (
    SELECT person_id,
           arg_min(coalesce(occupation, 'unmapped'),
                   (list_position(['BPU', 'PU', 'JAKON'], segment), -epoch(start_date), source_row)) AS occupation,
           arg_min(segment, (list_position(['BPU', 'PU', 'JAKON'], segment), -epoch(start_date), source_row)) AS basis
    FROM (SELECT * FROM bpu UNION ALL SELECT * FROM pu UNION ALL SELECT * FROM jakon)
    GROUP BY person_id
),
covered AS (
    SELECT occupation, count(*) AS n, count(*) FILTER (WHERE basis = 'BPU') AS from_bpu,
           count(*) FILTER (WHERE basis = 'PU') AS from_pu, count(*) FILTER (WHERE basis = 'JAKON') AS from_jakon
    FROM per_person GROUP BY occupation
),
eligible AS (
    SELECT upper(trim(c.pekerjaan)) AS occupation, sum(c.jumlah) AS n
    FROM staging.civil_registry c
    WHERE c.snapshot_date = $snapshot_date AND starts_with(c.kode_wilayah, $area_code || '.')
    GROUP BY ALL
),
categories AS (SELECT name, any_value(category) AS category FROM reference.occupation_categories GROUP BY name)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, o.occupation,
       coalesce(k.category, CASE WHEN o.occupation = 'unmapped' THEN 'unmapped' END) AS category,
       CASE WHEN k.category = 'eligible' THEN coalesce(e.n, 0) ELSE 0 END::BIGINT AS eligible_workforce,
       coalesce(c.n, 0)::BIGINT AS covered_workers_estimate,
       CASE WHEN k.category = 'eligible' THEN coalesce(e.n, 0) - coalesce(c.n, 0) END::BIGINT AS uncovered_workers_estimate,
       CASE WHEN k.category = 'eligible' THEN 100.0 * coalesce(c.n, 0) / nullif(e.n, 0) END AS coverage_pct_estimate,
       coalesce(c.from_bpu, 0)::BIGINT AS covered_from_bpu_pekerjaan,
       coalesce(c.from_pu, 0)::BIGINT AS covered_from_pu_employer,
       coalesce(c.from_jakon, 0)::BIGINT AS covered_from_jakon
FROM (SELECT occupation FROM covered UNION SELECT occupation FROM eligible e
      WHERE e.occupation IN (SELECT name FROM categories WHERE category = 'eligible')) o
LEFT JOIN covered c USING (occupation)
LEFT JOIN eligible e USING (occupation)
LEFT JOIN categories k ON k.name = o.occupation
ORDER BY uncovered_workers_estimate DESC NULLS LAST, o.occupation
