-- staging.registrations: every loaded worker registration of the three segments in one shape, for identity.
-- Who the registration names (NIK, name, birth date, sex, domicile) and nothing about its activity: when a
-- registration is active is a coverage rule (marts/registration_activity.sql), so changing it never reruns
-- the linkage.
WITH unioned AS (
    SELECT snapshot_date, 'pu_workers' AS source, source_row, 'PU' AS segment, 'pu:' || kpj AS record_key,
           kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili AS domicile_village
    FROM staging.pu_workers WHERE snapshot_date = $snapshot_date
    UNION ALL
    SELECT snapshot_date, 'bpu_participants', source_row, 'BPU', 'bpu:' || kpj,
           kpj, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah
    FROM staging.bpu_participants WHERE snapshot_date = $snapshot_date
    UNION ALL
    SELECT snapshot_date, 'jakon_workers', source_row, 'JAKON',
           'jakon:' || nomor_proyek || ':' || coalesce(nik, '') || ':' || upper(nama) || ':' || coalesce(tanggal_lahir::VARCHAR, ''),
           NULL, nik, nama, tanggal_lahir, jenis_kelamin, kode_wilayah_domisili
    FROM staging.jakon_workers WHERE snapshot_date = $snapshot_date
)
-- validity computed once, in its own projection: both columns read it
SELECT *, nik_valid AND substr(nik, 7, 6) = nik_birth_digits(tanggal_lahir, jenis_kelamin) AS nik_agrees
FROM (SELECT *, nik_is_valid(nik) AS nik_valid FROM unioned)
