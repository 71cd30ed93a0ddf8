"""Every landing source, declared once (the contract: ../shared/contracts/README.md §1).

To add a source, declare it here and append it to SOURCES; docs/adding-a-source.md walks through it.
"""

from sources.spec import Column, NotBefore, Ref, Source

STATUS = ("aktif", "nonaktif")
# Documented shapes (docs/reason-codes.md): warnings only, the contract sample and older extracts differ.
NIK_SHAPE = r"^[0-9]{16}$"
NIK_MOSTLY = 0.95  # a source may carry some invalid NIKs (they are linked by name); more is a warning
KPJ_SHAPE = r"^[0-9]{11}$"  # the participant card number printed on a BPJS Ketenagakerjaan card
NPP_SHAPE = r"^[A-Za-z0-9]{8}$"  # employer registration number
NPWP_SHAPE = r"^[0-9]([.\- ]?[0-9]){14,15}$"  # 15 or 16 digits once punctuation is removed
KBLI_SHAPE = r"^[0-9]{5}$"
# Programs each segment may hold (JAKON rows carry none: a project covers JKK and JKM).
PU_PROGRAMS = ("JKK", "JKM", "JHT", "JP", "JKP")
BPU_PROGRAMS = ("JKK", "JKM", "JHT")

# The person on a worker or staff row: linked to one human by identity (NIK, else name, birth date, sex, place).
PERSON = (
    Column("nik", "nik", shape=NIK_SHAPE, shape_mostly=NIK_MOSTLY),
    Column("nama", "text", required=True),
    Column("tanggal_lahir", "birth_date", needed=False),  # a typo in it never removes a covered worker
    Column("jenis_kelamin", "sex", needed=False),
)
KPJ = Column("kpj", "key", required=True, unique=True, shape=KPJ_SHAPE)

EMPLOYERS = Source(
    "employers", "Employers registered for wage earners (PU), keyed by npp.",
    columns=(
        Column("npp", "key", required=True, unique=True, shape=NPP_SHAPE),
        Column("nama_perusahaan", "text", required=True),
        # its 15/16-digit shape is a warning, never a reason to drop the employer
        Column("npwp", "code", may_be_absent=True, shape=NPWP_SHAPE, needed=False),
        Column("jenis_pemberi_kerja", "choice", required=True, values=("swasta", "bumn", "bumd", "instansi_pemerintah")),
        Column("kbli", "code", may_be_absent=True, shape=KBLI_SHAPE, needed=False),
        Column("skala_usaha", "choice", values=("mikro", "kecil", "menengah", "besar"), needed=False),
        Column("kode_wilayah", "village", needed=False),
        Column("jumlah_pekerja", "count", needed=False),
        Column("tanggal_daftar", "date", needed=False),
        Column("status", "choice", required=True, values=STATUS),
    ),
)
PU_WORKERS = Source(
    "pu_workers", "Wage earners registered by their employers (segment PU), one row per registration.",
    segment="PU",
    columns=(
        KPJ, *PERSON,
        Column("npp", "key", required=True, references=Ref("employers", "npp")),
        Column("upah", "money", needed=False),
        Column("program", "programs", values=PU_PROGRAMS, needed=False),
        # an invalid domicile is set aside: the worker is then placed by the district in their NIK
        Column("kode_wilayah_domisili", "village", may_be_absent=True, needed=False),
        Column("tanggal_mulai", "date", required=True),
        Column("tanggal_berhenti", "date"),
        Column("status", "choice", required=True, values=STATUS),
    ),
    row_rules=(NotBefore("tanggal_berhenti", "tanggal_mulai"),),
)
BPU_PARTICIPANTS = Source(
    "bpu_participants", "Informal, non-wage workers (segment BPU), one row per registration.",
    segment="BPU",
    columns=(
        KPJ, *PERSON,
        Column("pekerjaan", "text"),
        Column("penghasilan", "money", needed=False),
        Column("program", "programs", values=BPU_PROGRAMS, needed=False),
        Column("kode_wilayah", "village", needed=False),
        Column("tanggal_daftar", "date", required=True),
        Column("iuran_dibayar_sampai", "date", required=True),
        Column("status", "choice", required=True, values=STATUS),
    ),
)
JAKON_PROJECTS = Source(
    "jakon_projects", "Construction projects registered for JAKON, with their coverage period.",
    columns=(
        Column("nomor_proyek", "key", required=True, unique=True),
        Column("nama_proyek", "text", may_be_absent=True),
        # a contractor need not be a PU employer of this city; a number that matches none is worth a look
        Column("npp", "key", may_be_absent=True, references=Ref("employers", "npp", soft=True)),
        Column("nilai_kontrak", "money", needed=False),
        Column("sumber_dana", "choice", values=("apbn", "apbd", "bumn", "swasta"), needed=False),
        Column("kode_wilayah", "village", needed=False),
        Column("tanggal_mulai", "date", required=True),
        Column("tanggal_selesai", "date", required=True),
    ),
    row_rules=(NotBefore("tanggal_selesai", "tanggal_mulai"),),
)
JAKON_WORKERS = Source(
    "jakon_workers", "Workers listed on a registered construction project (segment JAKON).",
    segment="JAKON",
    columns=(
        Column("nomor_proyek", "key", required=True, references=Ref("jakon_projects", "nomor_proyek")),
        *PERSON,
        Column("kode_wilayah_domisili", "village", may_be_absent=True, needed=False),
    ),
    # a repeated project listing would count a registration twice
    unique_rows=("nomor_proyek", "nik", "nama", "tanggal_lahir"),
)
OPD_NON_ASN = Source(
    "opd_non_asn", "Non-civil-servant staff of Pemkot agencies, from the regional information system (optional).",
    required_file=False,
    columns=(
        Column("kode_opd", "code", required=True),
        Column("nama_opd", "text"),
        *PERSON,
        Column("jabatan", "text"),
    ),
)
CIVIL_REGISTRY = Source(
    "civil_registry",
    "Dukcapil residents per village, KTP occupation and sex: the newest cut-off on or before the snapshot.",
    delivery="registry",
    columns=(
        Column("kode_wilayah", "village", required=True),
        Column("pekerjaan", "occupation", required=True, references=Ref("reference.occupation_categories", "name")),
        Column("jenis_kelamin", "sex", required=True),
        Column("jumlah", "count", required=True),
    ),
    # a repeated registry row would count residents twice
    unique_rows=("kode_wilayah", "pekerjaan", "jenis_kelamin"),
)

# In dependency order: a source comes after the sources it references.
SOURCES: tuple[Source, ...] = (EMPLOYERS, PU_WORKERS, BPU_PARTICIPANTS, JAKON_PROJECTS, JAKON_WORKERS, OPD_NON_ASN,
                               CIVIL_REGISTRY)
BY_NAME = {s.name: s for s in SOURCES}
SNAPSHOT_SOURCES = tuple(s for s in SOURCES if s.delivery == "snapshot")
WORKER_SOURCES = {s.name: s.segment for s in SOURCES if s.segment}  # source -> segment (PU, BPU, JAKON)
