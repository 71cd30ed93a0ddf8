-- marts.registration_activity: when each loaded registration is active at the snapshot date (contract §2).
-- PU: status aktif, started on or before the date, not stopped by it.
-- BPU: aktif, registered on or before the date, contributions paid up to at least the date.
-- JAKON: listed on a project whose coverage period contains the date.
SELECT snapshot_date, 'pu_workers' AS source, source_row, 'PU' AS segment, tanggal_mulai AS start_date,
       status = 'aktif' AND tanggal_mulai <= snapshot_date
           AND (tanggal_berhenti IS NULL OR tanggal_berhenti > snapshot_date) AS is_active
FROM staging.pu_workers WHERE snapshot_date = $snapshot_date
UNION ALL
SELECT snapshot_date, 'bpu_participants', source_row, 'BPU', tanggal_daftar,
       status = 'aktif' AND tanggal_daftar <= snapshot_date AND iuran_dibayar_sampai >= snapshot_date
FROM staging.bpu_participants WHERE snapshot_date = $snapshot_date
UNION ALL
SELECT w.snapshot_date, 'jakon_workers', w.source_row, 'JAKON', p.tanggal_mulai,
       p.tanggal_mulai <= w.snapshot_date AND w.snapshot_date <= p.tanggal_selesai
FROM staging.jakon_workers w
JOIN staging.jakon_projects p ON p.snapshot_date = w.snapshot_date AND p.nomor_proyek = w.nomor_proyek
WHERE w.snapshot_date = $snapshot_date
