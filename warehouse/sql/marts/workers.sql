-- marts.workers: one row per person, covered or not at the snapshot date, in which segments, where they live.
WITH reg AS (
    SELECT r.*, a.start_date, a.is_active, l.person_id, l.person_nik
    FROM staging.registrations r
    JOIN marts.registration_activity a USING (snapshot_date, source, source_row)
    JOIN identity.record_links l USING (snapshot_date, source, source_row)
    WHERE r.snapshot_date = $snapshot_date
),
per_person AS (
    SELECT person_id,
           bool_or(is_active) AS is_active,
           coalesce(array_to_string(list_sort(list_distinct(list(segment) FILTER (WHERE is_active))), '+'), '') AS segments,
           -- region: domicile of the most recent active registration that has one; for people with no
           -- active registration, of the most recent one; else the district in a valid NIK
           coalesce(
               arg_max(domicile_village, (start_date, source, source_row)) FILTER (WHERE is_active AND domicile_village IS NOT NULL),
               CASE WHEN NOT bool_or(is_active) THEN
                   arg_max(domicile_village, (start_date, source, source_row)) FILTER (WHERE domicile_village IS NOT NULL) END,
               nik_district(min(person_nik))  -- the person's own NIK, not a mistyped copy on one form
           ) AS claimed_region,
           count(*) AS registrations
    FROM reg GROUP BY person_id
),
-- the value most of their registrations give; a tie goes to the smallest value (mode() picks any). Counted
-- per (person, value) first: a histogram per person is a map per group, twice as slow at 4.9 million registrations
sexes AS (
    SELECT person_id, arg_min(jenis_kelamin, (-n, jenis_kelamin)) AS sex FROM (
        SELECT person_id, jenis_kelamin, count(*) AS n FROM reg WHERE jenis_kelamin IS NOT NULL GROUP BY ALL)
    GROUP BY person_id
),
years AS (
    SELECT person_id, arg_min(birth_year, (-n, birth_year)) AS birth_year FROM (
        SELECT person_id, year(tanggal_lahir) AS birth_year, count(*) AS n FROM reg WHERE tanggal_lahir IS NOT NULL GROUP BY ALL)
    GROUP BY person_id
),
-- a region of a province the reference list covers must be in it (a NIK can name a district that does not
-- exist, e.g. 74.71.30): otherwise the region is unknown (NULL), never a region of its own, and not in the area
known AS (
    SELECT p.*, s.sex, y.birth_year, CASE WHEN r.code IS NOT NULL THEN p.claimed_region
                     WHEN prov.code IS NULL AND regexp_full_match(p.claimed_region, '[0-9]{2}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{4})?')
                     THEN p.claimed_region END AS region_code  -- another province's code is kept: outside the area
    FROM per_person p LEFT JOIN sexes s USING (person_id) LEFT JOIN years y USING (person_id)
    LEFT JOIN reference.regions r ON r.code = p.claimed_region
    LEFT JOIN reference.regions prov ON prov.level = 'province' AND prov.code = substr(p.claimed_region, 1, 2)
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, person_id, is_active, segments, region_code,
       CASE length(region_code) WHEN 13 THEN 'village' WHEN 8 THEN 'district' END AS region_level,
       coalesce(starts_with(region_code, $area_code || '.'), false) AS in_area,
       sex, birth_year, registrations
FROM known
