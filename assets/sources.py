"""The landing-zone contract as data: each source file, its columns and which must be there."""


from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    name: str  # file name without extension, also the raw/staging table name
    columns: tuple[str, ...]  # every contract column, in contract order
    optional_columns: tuple[str, ...] = ()  # may be absent from the header
    required_file: bool = True
    description: str = ""


EMPLOYERS = Source(
    "employers",
    ("npp", "nama_perusahaan", "npwp", "jenis_pemberi_kerja", "kbli", "skala_usaha", "kode_wilayah",
     "jumlah_pekerja", "tanggal_daftar", "status"),
    optional_columns=("npwp", "kbli"),
    description="Employers registered for wage earners (PU), keyed by npp.",
)
PU_WORKERS = Source(
    "pu_workers",
    ("kpj", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "npp", "upah", "program",
     "kode_wilayah_domisili", "tanggal_mulai", "tanggal_berhenti", "status"),
    optional_columns=("kode_wilayah_domisili",),
    description="Wage earners registered by their employers (segment PU), one row per registration.",
)
BPU_PARTICIPANTS = Source(
    "bpu_participants",
    ("kpj", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "pekerjaan", "penghasilan", "program",
     "kode_wilayah", "tanggal_daftar", "iuran_dibayar_sampai", "status"),
    description="Informal, non-wage workers (segment BPU), one row per registration.",
)
JAKON_PROJECTS = Source(
    "jakon_projects",
    ("nomor_proyek", "nama_proyek", "npp", "nilai_kontrak", "sumber_dana", "kode_wilayah",
     "tanggal_mulai", "tanggal_selesai"),
    optional_columns=("nama_proyek", "npp"),
    description="Construction projects registered for JAKON, with their coverage period.",
)
JAKON_WORKERS = Source(
    "jakon_workers",
    ("nomor_proyek", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "kode_wilayah_domisili"),
    optional_columns=("kode_wilayah_domisili",),
    description="Workers listed on a registered construction project (segment JAKON).",
)
OPD_NON_ASN = Source(
    "opd_non_asn",
    ("kode_opd", "nama_opd", "nik", "nama", "tanggal_lahir", "jenis_kelamin", "jabatan"),
    required_file=False,
    description="Non-civil-servant staff of Pemkot agencies, from the regional information system (optional).",
)
CIVIL_REGISTRY = Source(
    "civil_registry",
    ("kode_wilayah", "pekerjaan", "jenis_kelamin", "jumlah"),
    description="Dukcapil residents per village, KTP occupation and sex: the newest cut-off on or before the snapshot.",
)

SNAPSHOT_SOURCES = (EMPLOYERS, PU_WORKERS, BPU_PARTICIPANTS, JAKON_PROJECTS, JAKON_WORKERS, OPD_NON_ASN)
ALL_SOURCES = SNAPSHOT_SOURCES + (CIVIL_REGISTRY,)
WORKER_SOURCES = {"pu_workers": "PU", "bpu_participants": "BPU", "jakon_workers": "JAKON"}
