-- marts.opd_staff (pipeline database only: person-level): each non-ASN staff row of the OPD roster matched to a
-- person of identity.record_links, and whether that person is covered. Match: first the person identity anchored
-- on the roster's valid NIK; else the one person whose registrations carry it; else the same name (letters only,
-- case ignored), birth date and sex as exactly one person's registration. Unmatched staff hold no registration we can find: not covered.
WITH roster AS (
    SELECT source_row, kode_opd, coalesce(nama_opd, kode_opd) AS nama_opd, nik, nik_is_valid(nik) AS nik_valid,
           regexp_replace(lower(nama), '[^a-z]', '', 'g') AS name_key, tanggal_lahir, jenis_kelamin
    FROM staging.opd_non_asn WHERE snapshot_date = $snapshot_date
),
reg AS (
    SELECT r.nik, r.nik_valid, regexp_replace(lower(r.nama), '[^a-z]', '', 'g') AS name_key, r.tanggal_lahir,
           r.jenis_kelamin, l.person_id, l.person_nik
    FROM staging.registrations r JOIN identity.record_links l USING (snapshot_date, source, source_row)
    WHERE r.snapshot_date = $snapshot_date
),
by_anchor AS (  -- the person identity anchored on this trusted NIK (person_id nik:<NIK>); a typo elsewhere may carry it
    SELECT DISTINCT o.source_row, g.person_id, 1 AS persons
    FROM roster o JOIN reg g ON o.nik_valid AND g.person_id = 'nik:' || o.nik
),
by_nik AS (
    SELECT o.source_row, min(g.person_id) AS person_id, count(DISTINCT g.person_id) AS persons
    FROM roster o JOIN reg g ON o.nik_valid AND g.nik_valid AND g.nik = o.nik
    GROUP BY o.source_row
),
by_name AS (
    SELECT o.source_row, min(g.person_id) AS person_id, count(DISTINCT g.person_id) AS persons
    FROM roster o JOIN reg g ON g.name_key = o.name_key AND g.tanggal_lahir = o.tanggal_lahir
                             AND g.jenis_kelamin IS NOT DISTINCT FROM o.jenis_kelamin
    WHERE o.name_key <> '' GROUP BY o.source_row
),
matched AS (
    SELECT o.source_row, o.kode_opd, o.nama_opd,
           CASE WHEN a.persons = 1 THEN a.person_id WHEN n.persons = 1 THEN n.person_id
                WHEN m.persons = 1 THEN m.person_id END AS person_id,
           CASE WHEN a.persons = 1 OR n.persons = 1 THEN 'nik' WHEN m.persons = 1 THEN 'name_birth_date'
                ELSE 'none' END AS match_method
    FROM roster o LEFT JOIN by_anchor a USING (source_row) LEFT JOIN by_nik n USING (source_row)
    LEFT JOIN by_name m USING (source_row)
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, m.source_row, m.kode_opd, m.nama_opd, m.person_id,
       m.match_method, coalesce(w.is_active, false) AS is_covered, coalesce(w.segments, '') AS segments
FROM matched m LEFT JOIN marts.workers w ON w.snapshot_date = $snapshot_date AND w.person_id = m.person_id
