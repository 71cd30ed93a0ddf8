-- marts.employer_compliance: PDS (Perusahaan Daftar Sebagian) screening per employer: business data only (NPP,
-- name, type, scale, KBLI, workplace region), never a worker. Three kinds:
--   tenaga kerja: fewer distinct active PU workers than the headcount the employer declares (jumlah_pekerja);
--   upah:         active workers whose reported wage (upah) is below the minimum wage of the workplace's regency for
--                 the snapshot's year (reference/wage_floors_sultra.csv; a regency without its own floor uses the
--                 province's; a year not listed uses the latest earlier one);
--   program:      active workers not enrolled in every program the employer's scale requires
--                 (reference/mandatory_programs.csv).
-- A person with several active registrations at one employer counts once (the highest wage, all programs).
WITH active AS (
    SELECT p.npp, l.person_id, max(p.upah) AS upah,
           list_distinct(flatten(list(string_split(p.program, ',')))) AS programs
    FROM marts.registration_activity a
    JOIN identity.record_links l USING (snapshot_date, source, source_row)
    JOIN staging.pu_workers p ON p.snapshot_date = a.snapshot_date AND p.source_row = a.source_row
    WHERE a.snapshot_date = $snapshot_date AND a.source = 'pu_workers' AND a.is_active
    GROUP BY p.npp, l.person_id
),
employer AS (
    SELECT e.*, r.code IS NOT NULL AS place_known,
           (SELECT f.monthly_rupiah FROM reference.wage_floors f
            WHERE f.region_code IN (substr(e.kode_wilayah, 1, 5), substr(e.kode_wilayah, 1, 2)) AND f.year <= year($snapshot_date)
            ORDER BY f.year DESC, length(f.region_code) DESC LIMIT 1) AS wage_floor,
           (SELECT f.kind || ' ' || f.region_code || ' ' || f.year FROM reference.wage_floors f
            WHERE f.region_code IN (substr(e.kode_wilayah, 1, 5), substr(e.kode_wilayah, 1, 2)) AND f.year <= year($snapshot_date)
            ORDER BY f.year DESC, length(f.region_code) DESC LIMIT 1) AS wage_floor_basis,
           coalesce(m.programs, []) AS required
    FROM staging.employers e
    LEFT JOIN reference.regions r ON r.code = e.kode_wilayah
    LEFT JOIN reference.mandatory_programs m ON m.skala_usaha = e.skala_usaha
    WHERE e.snapshot_date = $snapshot_date
),
per_employer AS (
    SELECT e.npp, count(a.person_id) AS active_workers,
           count(a.person_id) FILTER (WHERE a.upah < e.wage_floor) AS below_floor,
           count(a.person_id) FILTER (WHERE a.upah IS NOT NULL) AS with_wage,
           count(a.person_id) FILTER (WHERE NOT list_has_all(a.programs, e.required)) AS missing_programs,
           list_sort(list_distinct(flatten(list(a.programs) FILTER (WHERE a.person_id IS NOT NULL)))) AS enrolled,
           list_sort(list_distinct(flatten(list(list_filter(e.required, lambda x: NOT list_contains(a.programs, x)))
                                            FILTER (WHERE a.person_id IS NOT NULL)))) AS missing
    FROM employer e LEFT JOIN active a USING (npp)
    GROUP BY e.npp
),
flagged AS (
    SELECT e.npp, e.nama_perusahaan AS employer_name, e.jenis_pemberi_kerja AS employer_type, e.skala_usaha AS scale,
           e.kbli, e.status AS employer_status,
           CASE WHEN e.place_known THEN e.kode_wilayah ELSE 'unknown' END AS village_code,
           CASE WHEN e.place_known THEN substr(e.kode_wilayah, 1, 8) ELSE 'unknown' END AS district_code,
           CASE WHEN e.place_known THEN substr(e.kode_wilayah, 1, 5) ELSE 'unknown' END AS regency_code,
           coalesce(starts_with(e.kode_wilayah, $area_code || '.'), false) AS in_area,
           e.jumlah_pekerja AS declared_workers, p.active_workers,
           greatest(e.jumlah_pekerja - p.active_workers, 0) AS unregistered_workers,
           e.wage_floor, e.wage_floor_basis, p.below_floor AS workers_below_wage_floor,
           100.0 * p.below_floor / nullif(p.with_wage, 0) AS below_wage_floor_pct,
           array_to_string(list_sort(e.required), ',') AS programs_required,
           array_to_string(p.enrolled, ',') AS programs_enrolled,
           array_to_string(p.missing, ',') AS programs_missing,
           p.missing_programs AS workers_missing_programs,
           coalesce(e.jumlah_pekerja > p.active_workers, false) AS pds_tenaga_kerja,
           p.below_floor > 0 AS pds_upah,
           p.missing_programs > 0 AS pds_program
    FROM employer e JOIN per_employer p USING (npp)
)
SELECT CAST($snapshot_date AS DATE) AS snapshot_date, *,
       (pds_tenaga_kerja::INT + pds_upah::INT + pds_program::INT) AS pds_kinds,
       CASE WHEN employer_status = 'aktif' AND (pds_tenaga_kerja OR pds_upah OR pds_program) THEN
           row_number() OVER (PARTITION BY employer_status = 'aktif' AND (pds_tenaga_kerja OR pds_upah OR pds_program)
                              ORDER BY pds_tenaga_kerja::INT + pds_upah::INT + pds_program::INT DESC,
                                       unregistered_workers DESC, workers_below_wage_floor DESC,
                                       workers_missing_programs DESC, npp) END::BIGINT AS inspection_rank
FROM flagged
ORDER BY inspection_rank NULLS LAST, npp
