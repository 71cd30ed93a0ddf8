"""Synthetic landing zone for Kota Kendari, calibrated to the published figures of 2025-06-08.

`generate()` writes what the source systems would drop (employers, PU/BPU/JAKON registrations,
construction projects, the Dukcapil workforce aggregate) with the dirt real extracts carry, and
beside it, never inside it, the ground truth: which rows belong to the same person, which are
usable and active, and the headline figures the pipeline should find. Vectorised end to end
(numpy draws, polars strings): no Python loop over people or rows.

At scale 1.0 the figures are exact: eligible workforce 140,940; covered workers living in Kendari
49,397; rows received PU 88,357, BPU 36,140, JAKON 16,443 (these include inactive registrations,
people holding several, and a few unusable rows, which is how the segment figures can add up to the
workforce while only about a third of it is covered). Other scales round each figure proportionally.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from sources import SOURCES

__all__ = ["generate", "CALIBRATION"]

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
AREA_CODE = "74.71"  # Kota Kendari

# Published figures for Kota Kendari at 2025-06-08; every other count scales from these.
CALIBRATION = {
    "eligible_workforce": 140_940,
    "covered_workers": 49_397,
    "pu_workers": 88_357,
    "bpu_participants": 36_140,
    "jakon_workers": 16_443,
}

WORKER_SOURCES = ("pu_workers", "bpu_participants", "jakon_workers")
SEGMENT = {"pu_workers": "PU", "bpu_participants": "BPU", "jakon_workers": "JAKON"}
BIT = {"pu_workers": 1, "bpu_participants": 2, "jakon_workers": 4}

# The headers, as the specification declares them, of every file the generator writes (the required ones).
COLUMNS = {s.name: s.column_names for s in SOURCES if s.required_file}

# Shares of the population and of the rows; tuned so that every budget below stays feasible.
OUTSIDE_SHARE = 0.015  # covered people living outside Kendari, relative to those inside
UNCOVERED_SHARE = 0.33  # registrants whose every registration is inactive, relative to covered inside
UNUSABLE_SHARE = 0.001  # rows per worker source that no pipeline can use
# Active segment combinations of covered people (bit mask PU=1, BPU=2, JAKON=4) and their shares.
ACTIVE_COMBOS = np.array([1, 2, 4, 3, 6, 5, 7])
ACTIVE_COMBO_P = np.array([0.62, 0.20, 0.07, 0.05, 0.03, 0.025, 0.005])
SECOND_ACTIVE = {"pu_workers": 0.03, "bpu_participants": 0.01, "jakon_workers": 0.03}  # two active rows at once
EMPTY_DOMICILE = {"pu_workers": 0.30, "bpu_participants": 0.0, "jakon_workers": 0.50}
# NIK dirt per row: one-digit typo, transposed neighbours, missing, spreadsheet scientific notation.
NIK_DIRT = (("typo", 0.018), ("transposed", 0.012), ("missing", 0.02), ("scientific", 0.002))
DOB_DIRT = 0.015  # birth date on the row differs from the person's

# --- names -----------------------------------------------------------------------------------------
ISLAMIC_M = ("Abdul Ahmad Akbar Alimuddin Amiruddin Anwar Arifin Arman Asrul Asrun Aswan Awaluddin Baharuddin Basri "
             "Burhanuddin Darmawan Erwin Fadli Fahmi Faisal Firman Haerul Hamzah Hasan Hasanuddin Hasbullah Hendra "
             "Husain Ikhsan Ilham Irwan Ismail Jamaluddin Jufri Jumadil Kadir Kamaruddin Kasim Lukman Mahmud Mansyur "
             "Marwan Muhtar Nasrullah Nurdin Rahman Rahmat Ramli Ridwan Risal Rizal Rusdin Saharuddin Salim Samsul "
             "Sudirman Sulaiman Syahrir Syamsuddin Syarifuddin Taufik Usman Wahyu Yusuf Zainal Zulkifli").split()
ISLAMIC_F = ("Aisyah Andriani Asmawati Ayu Darmawati Dewi Ernawati Fatimah Fitriani Halijah Hariati Harniati Hasmiati "
             "Hasnah Hasniah Hasriani Herlina Indah Irmawati Jumriah Kartini Marlina Masni Mirna Murni Nuraeni "
             "Nurhayati Nurjannah Nurlela Nurmala Nurul Rahmawati Ratna Risma Rosmini Rusmini Salmiah Sarina "
             "Sartika Sumarni Suriani Syamsiah Wahyuni Yuliana").split()
MUNA_M = "Ali Ato Baru Bolu Ege Hadi Jaya Kaimu Mpiri Muhu Ndibu Ndoke Ngkali Nika Ramu Sabu Sadi Sarimbi Tani".split()
MUNA_F = "Ade Ani Dei Fina Hawa Ida Ima Lina Mina Ndara Nila Ria Sima Sumi Wati".split()
JAVA_M = ("Agus Bambang Budi Eko Gunawan Hartono Heru Joko Prasetyo Purwanto Riyadi Santoso Setiawan Slamet Sugeng "
          "Sugiyono Sukardi Suparman Supriyadi Susilo Sutarno Sutrisno Teguh Wahyudi Widodo").split()
JAVA_F = ("Astuti Dwi Endang Handayani Kusumawati Lestari Ningsih Purwati Rahayu Rini Sri Sulastri Sumiati Suparmi "
          "Suryani Susanti Tri Wahyuni Wartini Yuli").split()
CHRISTIAN_M = "Andreas Daniel Frans Markus Matius Paulus Petrus Simon Stefanus Yakobus Yohanis Yosef".split()
CHRISTIAN_F = "Agustina Debora Elisabet Ester Lidia Maria Marta Naomi Ribka Theresia Yuliana".split()
TOLAKI_FAMILY = ("Abunawas Anakia Hado Konggoasa Lakidende Lapodi Lasandara Mbuinga Mekuo Ndapi Ndoloma Pagala "
                 "Pombili Sabara Sanggula Tamburaka Tawulo Tosepu Wonua").split()
TORAJA_FAMILY = ("Paembonan Pakiding Palinggi Pasulu Rante Rombe Sampe Sarungallo Tandi Tandirerung "
                 "Tangdilintin").split()
ACADEMIC = ("S.Pd", "S.E.", "S.H.", "S.Kep", "S.T.", "S.Sos", "A.Md", "S.Kom", "M.Si", "S.Pd.I", "S.Ag", "S.IP")
PROFESSIONAL = ("Dr.", "dr.", "drg.", "Ir.")
MUH_FORMS = (("Muhammad", 0.45), ("Muh.", 0.2), ("M.", 0.12), ("Moh.", 0.08), ("Muhamad", 0.07),
             ("Mohammad", 0.05), ("Muh", 0.03))
SITI_FORMS = (("Siti", 0.55), ("Sitti", 0.35), ("St.", 0.10))
# Ethnic groups of Kendari: Tolaki, Bugis, Muna, Buton, Jawa, Makassar, Toraja, Bajo.
ETHNIC_P_KENDARI = np.array([0.30, 0.20, 0.15, 0.12, 0.10, 0.05, 0.04, 0.04])
ETHNIC_P_OUTSIDE = np.array([0.50, 0.15, 0.10, 0.05, 0.15, 0.02, 0.02, 0.01])
SPELLING = (("uddin", "udin"), ("mat$", "mad"), ("^Sy", "S"), ("ah$", "a"), ("i$", "y"), ("Nur", "Nur "),
            ("ff", "f"), ("Yusuf", "Yusup"))

BPU_JOBS = (("Nelayan", 0.14), ("Ojek Online", 0.10), ("Pedagang Pasar", 0.10), ("Pedagang", 0.08),
            ("Petani", 0.06), ("Tukang Batu", 0.05), ("Sopir Angkot", 0.04), ("Penjahit", 0.04),
            ("Pedagang Kaki Lima", 0.05), ("Buruh Bangunan", 0.05), ("Driver Ojol", 0.04), ("Montir", 0.03),
            ("Tukang Cukur", 0.02), ("Pembantu Rumah Tangga", 0.03), ("Petani Rumput Laut", 0.03),
            ("Pengemudi Ojek", 0.03), ("Usaha Warung Makan", 0.04), ("Wiraswasta", 0.03), ("Guru Mengaji", 0.02),
            ("Penata Rias", 0.01), ("Buruh Harian Lepas", 0.01))
COMPANY_WORDS = ("Anoa Bumi Tolaki Sultra Kendari Teluk Mekongga Sejahtera Mandiri Jaya Abadi Makmur Perkasa Utama "
                 "Bahari Nusantara Sinar Harapan Karya Cahaya Berkah Sentosa Lestari Cipta Prima Mitra Samudra "
                 "Wawonii Haluoleo Lulo Sagori Tirta Graha Mega Celebes Anugrah Putra").split()
BUMN = ("PT PLN (Persero) UP3 Kendari", "PT Pelabuhan Indonesia (Persero) Kendari", "PT Pos Indonesia KCU Kendari",
        "PT Bank Rakyat Indonesia (Persero) Tbk", "PT Bank Mandiri (Persero) Tbk", "PT Bank Negara Indonesia Tbk",
        "PT Telkom Indonesia Witel Sultra", "PT Pertamina Patra Niaga", "PT Pegadaian", "PT ASDP Indonesia Ferry",
        "PT Angkasa Pura Indonesia", "PT Aneka Tambang Tbk", "Perum Bulog Kanwil Sultra", "PT Kimia Farma Apotek")
BUMD = ("PT Bank Pembangunan Daerah Sultra", "Perumda Air Minum Tirta Anoa", "Perumda Pasar Kota Kendari",
        "PT Sultra Sejahtera Mandiri", "PD Utama Kota Kendari")
OPD = ("Dinas Pendidikan dan Kebudayaan", "Dinas Kesehatan", "Dinas Pekerjaan Umum dan Penataan Ruang",
       "Dinas Perhubungan", "Dinas Lingkungan Hidup dan Kehutanan", "Dinas Sosial",
       "Dinas Kependudukan dan Pencatatan Sipil",
       "Dinas Perindustrian dan Perdagangan", "Dinas Pariwisata", "Dinas Koperasi dan UKM", "Dinas Tenaga Kerja",
       "Dinas Perikanan", "Dinas Pertanian", "Dinas Pemadam Kebakaran", "Dinas Komunikasi dan Informatika",
       "Dinas Perumahan dan Kawasan Permukiman", "Dinas Pemuda dan Olahraga", "Dinas Ketahanan Pangan",
       "Dinas Penanaman Modal dan PTSP", "Dinas Perpustakaan dan Kearsipan", "Badan Pendapatan Daerah",
       "Badan Perencanaan Pembangunan Daerah", "Badan Kepegawaian dan Pengembangan SDM", "Badan Keuangan dan Aset Daerah",
       "Badan Penanggulangan Bencana Daerah", "Badan Kesatuan Bangsa dan Politik", "Satuan Polisi Pamong Praja",
       "Sekretariat Daerah", "Sekretariat DPRD", "Inspektorat Daerah", "RSUD Kota Kendari", "Puskesmas Mandonga",
       "Puskesmas Poasia", "Puskesmas Puuwatu", "Puskesmas Kandai", "Puskesmas Lepo-Lepo")
# Published: six OPD of Pemkot Kendari registered 1,599 non-ASN staff. The roster (opd_non_asn.csv, optional, written
# with opd_roster=True) lists them, all covered, and the other OPD's staff, few of them covered.
OPD_CALIBRATION = {"opd_registered": 6, "staff_registered": 1_599}
OPD_REGISTERED = ("Dinas Kesehatan", "RSUD Kota Kendari", "Dinas Lingkungan Hidup dan Kehutanan",
                  "Satuan Polisi Pamong Praja", "Dinas Perhubungan", "Dinas Pemadam Kebakaran")
OPD_STAFF_OTHERS = 80  # mean non-ASN staff of every other OPD at scale 1
JABATAN = ("Tenaga Administrasi", "Pengemudi", "Petugas Kebersihan", "Tenaga Teknis", "Petugas Keamanan",
           "Operator Komputer", "Tenaga Kesehatan", "Petugas Lapangan")
PROJECT_WORKS = ("Pembangunan Gedung Kantor", "Peningkatan Jalan", "Rehabilitasi Drainase", "Pembangunan Jembatan",
                 "Rehabilitasi Puskesmas", "Pembangunan Ruang Kelas Baru", "Revitalisasi Pasar", "Pembangunan Talud",
                 "Pemeliharaan Jalan", "Pembangunan Perumahan", "Pembangunan Masjid", "Penataan Kawasan Kumuh")

# Dukcapil: share of each eligible KTP occupation in the eligible workforce, and its share of women.
ELIGIBLE_OCCUPATIONS = {
    "WIRASWASTA": (0.22, 0.40), "KARYAWAN SWASTA": (0.20, 0.38), "BURUH HARIAN LEPAS": (0.09, 0.15),
    "PEDAGANG": (0.07, 0.55), "KARYAWAN HONORER": (0.07, 0.55), "GURU": (0.035, 0.70), "PERDAGANGAN": (0.03, 0.50),
    "PETANI/PEKEBUN": (0.03, 0.30), "NELAYAN/PERIKANAN": (0.03, 0.05), "SOPIR": (0.025, 0.02), "LAINNYA": (0.02, 0.40),
    "KONSTRUKSI": (0.015, 0.05), "TUKANG BATU": (0.015, 0.01), "KARYAWAN BUMN": (0.015, 0.35),
    "PERAWAT": (0.012, 0.75), "TRANSPORTASI": (0.01, 0.08), "TUKANG KAYU": (0.008, 0.02), "MEKANIK": (0.008, 0.02),
    "BURUH NELAYAN/PERIKANAN": (0.008, 0.05), "BIDAN": (0.006, 0.99), "DOSEN": (0.006, 0.45),
    "KARYAWAN BUMD": (0.006, 0.35), "TUKANG JAHIT": (0.006, 0.60), "INDUSTRI": (0.005, 0.35),
    "PEMBANTU RUMAH TANGGA": (0.004, 0.90), "TUKANG LISTRIK": (0.004, 0.02), "BURUH TANI/PERKEBUNAN": (0.004, 0.30),
    "DOKTER": (0.003, 0.55), "TUKANG LAS/PANDAI BESI": (0.003, 0.01), "JURU MASAK": (0.003, 0.60),
    "PELAUT": (0.003, 0.02), "PENATA RAMBUT": (0.002, 0.70), "TUKANG CUKUR": (0.002, 0.05), "PETERNAK": (0.002, 0.20),
    "USTADZ/MUBALIGH": (0.002, 0.10), "IMAM MASJID": (0.001, 0.0), "WARTAWAN": (0.001, 0.30),
    "APOTEKER": (0.001, 0.70), "AKUNTAN": (0.001, 0.55), "KONSULTAN": (0.001, 0.30), "PENATA RIAS": (0.001, 0.90),
    "PENGACARA": (0.0008, 0.25), "ARSITEK": (0.0005, 0.25), "SENIMAN": (0.0005, 0.30),
    "BURUH PETERNAKAN": (0.0005, 0.20), "PENELITI": (0.0004, 0.40), "NOTARIS": (0.0003, 0.50),
    "PENDETA": (0.0003, 0.20), "PENYIAR RADIO": (0.0003, 0.50), "PENATA BUSANA": (0.0003, 0.80),
    "PSIKIATER/PSIKOLOG": (0.0002, 0.60), "TUKANG GIGI": (0.0002, 0.20), "TABIB": (0.0002, 0.30),
    "ANGGOTA DPRD KABUPATEN/KOTA": (0.0002, 0.25), "ANGGOTA DPRD PROVINSI": (0.0002, 0.25),
    "PARAJI": (0.0001, 0.95), "PIALANG": (0.0001, 0.30), "PROMOTOR ACARA": (0.0001, 0.30),
    "PENYIAR TELEVISI": (0.0001, 0.50), "TUKANG SOL SEPATU": (0.0001, 0.0), "PERANCANG BUSANA": (0.0001, 0.80),
    "PENTERJEMAH": (0.0001, 0.50), "PASTOR": (0.00005, 0.0), "BIARAWATI": (0.00005, 1.0),
    "PARANORMAL": (0.00005, 0.30),
}
# Dukcapil: people outside the eligible workforce, per eligible worker, (men, women).
EXCLUDED_OCCUPATIONS = {
    "BELUM/TIDAK BEKERJA": (0.33, 0.32), "MENGURUS RUMAH TANGGA": (0.01, 0.38), "PELAJAR/MAHASISWA": (0.25, 0.26),
    "PENSIUNAN": (0.025, 0.015), "PEGAWAI NEGERI SIPIL (PNS)": (0.05, 0.06),
    "TENTARA NASIONAL INDONESIA (TNI)": (0.012, 0.001), "KEPOLISIAN RI (POLRI)": (0.02, 0.002),
}
# Newer SIAK exports print the civil-servant occupations in their newer wording.
NEWER_WORDING = {"PEGAWAI NEGERI SIPIL (PNS)": "APARATUR SIPIL NEGARA (ASN)",
                 "TENTARA NASIONAL INDONESIA (TNI)": "TENTARA NASIONAL INDONESIA",
                 "KEPOLISIAN RI (POLRI)": "KEPOLISIAN RI"}

EPOCH = date(1970, 1, 1)


# --- small helpers ---------------------------------------------------------------------------------

def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


def _days(d: date) -> int:
    return (d - EPOCH).days


def _shift_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _month_end(days: np.ndarray, months_ahead: np.ndarray | int = 0) -> np.ndarray:
    """Last day of the month `months_ahead` after the month of each day."""
    month = days.astype("datetime64[D]").astype("datetime64[M]") + np.asarray(months_ahead).astype("timedelta64[M]")
    return ((month + 1).astype("datetime64[D]") - 1).astype(np.int64)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _pick(rng: np.random.Generator, options: tuple, n: int) -> np.ndarray:
    """Indices into `options` ((value, weight) pairs) drawn by weight."""
    p = np.array([w for _, w in options], dtype=float)
    return rng.choice(len(options), size=n, p=p / p.sum())


def _pick_rows(rng: np.random.Generator, probs: np.ndarray, category: np.ndarray) -> np.ndarray:
    """One draw per row from the row's category's probability vector (probs: categories x options)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(category))
    return np.minimum((u[:, None] > cum[category]).sum(axis=1), probs.shape[1] - 1)


def _weighted(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(weights), size=n, p=weights / weights.sum())


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to weights that sum exactly to total (largest remainder)."""
    quota = weights / weights.sum() * total
    base = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - base), kind="stable")
    base[order[: total - base.sum()]] += 1
    return base


def _unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """n distinct integers in [low, high), in random order."""
    step = (high - low) // n
    return low + rng.permutation(n).astype(np.int64) * step + rng.integers(0, step, n)


def _take(values: pl.Series, idx: np.ndarray) -> pl.Series:
    """values[idx], null where idx < 0."""
    got = values.gather(np.where(idx >= 0, idx, 0))
    return pl.DataFrame({"v": got, "m": idx >= 0}).select(pl.when(pl.col("m")).then(pl.col("v"))).to_series()


def _blank_to_null(values: np.ndarray) -> pl.Series:
    s = pl.Series(values)
    return pl.DataFrame({"s": s}).select(pl.when(pl.col("s") != "").then(pl.col("s"))).to_series()


def _render_dates(days: np.ndarray, fmt: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    """Dates as text: YYYY-MM-DD (fmt 0), DD/MM/YYYY (1) or DD-MM-YYYY (2); empty where missing."""
    frame = pl.DataFrame({"d": pl.Series(days.astype(np.int32)).cast(pl.Date), "f": fmt.astype(np.int8),
                          "m": np.zeros(len(days), bool) if missing is None else missing})
    d = pl.col("d")
    text = (pl.when(pl.col("f") == 1).then(d.dt.strftime("%d/%m/%Y"))
            .when(pl.col("f") == 2).then(d.dt.strftime("%d-%m-%Y"))
            .otherwise(d.dt.strftime("%Y-%m-%d")))
    return frame.select(pl.when(~pl.col("m")).then(text)).to_series()


def _render_money(amount: np.ndarray, style: np.ndarray) -> pl.Series:
    """Rupiah as text: 3500000 (style 0), 3.500.000 (1) or Rp 3.500.000 (2)."""
    x = pl.col("x")

    def pad(e: pl.Expr) -> pl.Expr:
        return e.cast(pl.String).str.zfill(3)

    dotted = (pl.when(x >= 1_000_000_000).then(pl.concat_str([
                (x // 1_000_000_000).cast(pl.String), pad((x // 1_000_000) % 1000), pad((x // 1000) % 1000),
                pad(x % 1000)], separator="."))
              .when(x >= 1_000_000).then(pl.concat_str([
                (x // 1_000_000).cast(pl.String), pad((x // 1000) % 1000), pad(x % 1000)], separator="."))
              .when(x >= 1000).then(pl.concat_str([(x // 1000).cast(pl.String), pad(x % 1000)], separator="."))
              .otherwise(x.cast(pl.String)))
    frame = pl.DataFrame({"x": amount.astype(np.int64), "s": style.astype(np.int8)})
    return frame.select(pl.when(pl.col("s") == 1).then(dotted)
                        .when(pl.col("s") == 2).then(pl.lit("Rp ") + dotted)
                        .otherwise(x.cast(pl.String))).to_series()


def _render_codes(codes: pl.Series, idx: np.ndarray, plain: np.ndarray) -> pl.Series:
    """Village codes dotted (74.71.01.1005) or, where plain, as 10 digits; empty where idx < 0."""
    dotted = _take(codes, idx)
    return pl.DataFrame({"c": dotted, "p": plain}).select(
        pl.when(pl.col("p")).then(pl.col("c").str.replace_all(".", "", literal=True)).otherwise(pl.col("c"))
    ).to_series()


def _row_styles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: date format, money style, plain village codes; a row keeps one style throughout."""
    date_fmt = rng.choice(3, size=n, p=[0.85, 0.10, 0.05])
    money = rng.choice(3, size=n, p=[0.80, 0.12, 0.08])
    plain = rng.random(n) < 0.25
    return date_fmt, money, plain


# --- reference data --------------------------------------------------------------------------------

@dataclass
class _Reference:
    village_codes: pl.Series  # dotted codes of every Sultra village
    village_district: np.ndarray  # index into district_codes
    kendari_villages: np.ndarray  # indices of Kendari's villages
    district_codes: pl.Series  # dotted codes of every Sultra district
    district_int: np.ndarray  # 6-digit NIK prefix of each district
    district_regency: np.ndarray  # regency code ('74.71') of each district
    village_regency: np.ndarray
    village_names: pl.Series


def _load_reference() -> _Reference:
    regions = pl.read_csv(REFERENCE_DIR / "regions_sultra.csv", infer_schema=False)
    districts = regions.filter(pl.col("level") == "district").sort("code")
    villages = regions.filter(pl.col("level") == "village").sort("code")
    district_codes = districts["code"]
    village_district = np.searchsorted(district_codes.to_numpy(), villages["parent_code"].to_numpy())
    village_regency = villages["code"].str.slice(0, 5).to_numpy()
    return _Reference(
        village_codes=villages["code"],
        village_district=village_district,
        kendari_villages=np.flatnonzero(village_regency == AREA_CODE),
        district_codes=district_codes,
        district_int=district_codes.str.replace_all(".", "", literal=True).cast(pl.Int64).to_numpy(),
        district_regency=district_codes.str.slice(0, 5).to_numpy(),
        village_regency=village_regency,
        village_names=villages["name"],
    )


def registry_cutoff(snapshot_date: date) -> date:
    """Dukcapil publishes per semester: the newest 30 June or 31 December on or before the snapshot."""
    for cutoff in (date(snapshot_date.year, 12, 31), date(snapshot_date.year, 6, 30)):
        if cutoff <= snapshot_date:
            return cutoff
    return date(snapshot_date.year - 1, 12, 31)


# --- the population --------------------------------------------------------------------------------

@dataclass
class _People:
    group: np.ndarray  # 0 covered in Kendari, 1 covered outside, 2 registered but nowhere active
    combo: np.ndarray  # bit mask of active segments (0 for group 2)
    primary: np.ndarray  # segment bit of the one inactive registration group 2 surely holds
    male: np.ndarray
    birth: np.ndarray  # days since epoch
    home: np.ndarray  # village index (current domicile)
    nik_district: np.ndarray  # district index encoded in the NIK shown on the person's records
    nik: np.ndarray  # int64, the NIK shown (for a collision: somebody else's)
    collision: np.ndarray  # bool: shows another person's NIK
    need_domicile: np.ndarray  # bool: the NIK district would put them on the wrong side of the area line
    name: dict[str, np.ndarray]  # token indices into the name vocabulary, -1 = none


def _people(rng: np.random.Generator, ref: _Reference, inside: int, outside: int, uncovered: int, d: date,
            scale: float) -> tuple[_People, list[str]]:
    n = inside + outside + uncovered
    group = np.repeat(np.array([0, 1, 2], np.int8), [inside, outside, uncovered])
    combo = np.where(group < 2, ACTIVE_COMBOS[rng.choice(len(ACTIVE_COMBOS), n, p=ACTIVE_COMBO_P)], 0)
    primary = np.where(group == 2, np.array([1, 2, 4])[rng.choice(3, n, p=[0.5, 0.4, 0.1])], 0)
    construction = ((combo & 4) > 0) | (primary == 4)
    male = rng.random(n) < np.where(construction, 0.95, 0.60)

    # ages 18-64 at D, most of them 25-45
    earliest = _days(_shift_years(d, -65)) + 1
    latest = _days(_shift_years(d, -18)) - 60
    birth = earliest + np.floor(rng.beta(2.2, 3.0, n) * (latest - earliest + 1)).astype(np.int64)

    # where people live: Kendari villages carry uneven weights; outside people mostly in Konawe and Konawe Selatan
    kendari = ref.kendari_villages
    village_weight = rng.gamma(2.5, 1.0, len(kendari))
    near = np.flatnonzero(np.isin(ref.village_regency, ["74.02", "74.05"]))
    elsewhere = np.flatnonzero((ref.village_regency != AREA_CODE) & ~np.isin(ref.village_regency, ["74.02", "74.05"]))
    home_kendari = kendari[_weighted(rng, village_weight, n)]
    home_near = near[rng.integers(0, len(near), n)]
    home_far = elsewhere[rng.integers(0, len(elsewhere), n)]
    u = rng.random(n)
    home = np.where(group == 1, np.where(u < 0.9, home_near, home_far),
                    np.where((group == 2) & (u < 0.15), home_near, home_kendari))

    # the district in the NIK: where they were registered, often not where they live now
    home_district = ref.village_district[home]
    kendari_districts = np.flatnonzero(ref.district_regency == AREA_CODE)
    other_districts = np.flatnonzero(ref.district_regency != AREA_CODE)
    random_kendari = kendari_districts[rng.integers(0, len(kendari_districts), n)]
    random_other = other_districts[rng.integers(0, len(other_districts), n)]
    u = rng.random(n)
    nik_district = np.select(
        [group == 0, group == 1],
        [np.where(u < 0.72, home_district, np.where(u < 0.86, random_kendari, random_other)),
         np.where(u < 0.80, home_district, random_kendari)],
        np.where(u < 0.75, home_district, random_other))

    nik = _make_niks(ref.district_int[nik_district], birth, male)

    # a handful of NIKs issued twice: B's records carry A's NIK (both live and registered in Kendari)
    pool = np.flatnonzero((group == 0) & (ref.district_regency[nik_district] == AREA_CODE))
    pairs = min(max(1, _round(6 * scale)), len(pool) // 2)
    chosen = rng.choice(pool, 2 * pairs, replace=False)
    a, b = chosen[:pairs], chosen[pairs:]
    collision = np.zeros(n, bool)
    collision[b] = True
    nik[b] = nik[a]
    nik_district[b] = nik_district[a]

    nik_in_area = ref.district_regency[nik_district] == AREA_CODE
    need_domicile = ((group == 0) & ~nik_in_area) | ((group == 1) & nik_in_area)

    ethnic_kendari = rng.choice(8, n, p=ETHNIC_P_KENDARI)
    ethnic_outside = rng.choice(8, n, p=ETHNIC_P_OUTSIDE)
    ethnic = np.where(ref.village_regency[home] == AREA_CODE, ethnic_kendari, ethnic_outside)
    name, vocab = _names(rng, ethnic, male, birth, _days(d))
    return _People(group, combo, primary, male, birth, home, nik_district, nik, collision, need_domicile, name), vocab


def _make_niks(district6: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
    """district(6) + DDMMYY (women: day + 40) + serial(4), serials counting up within each prefix."""
    year, month, day = _ymd(birth)
    prefix = district6 * 1_000_000 + (day + np.where(male, 0, 40)) * 10_000 + month * 100 + year % 100
    order = np.argsort(prefix, kind="stable")
    sorted_prefix = prefix[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_prefix)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(prefix)]))
    serial = np.empty(len(prefix), np.int64)
    serial[order] = np.arange(len(prefix)) - group_start + 1
    return prefix * 10_000 + serial


def _names(rng: np.random.Generator, ethnic: np.ndarray, male: np.ndarray, birth: np.ndarray,
           today: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """Name parts per person as indices into one vocabulary (rendering varies per record)."""
    vocab: list[str] = []

    def add(words) -> tuple[int, int]:
        start = len(vocab)
        vocab.extend(words)
        return start, len(words)

    pools = {k: add(v) for k, v in (("im", ISLAMIC_M), ("if", ISLAMIC_F), ("mm", MUNA_M), ("mf", MUNA_F),
                                     ("jm", JAVA_M), ("jf", JAVA_F), ("cm", CHRISTIAN_M), ("cf", CHRISTIAN_F),
                                     ("tolaki", TOLAKI_FAMILY), ("toraja", TORAJA_FAMILY), ("academic", ACADEMIC),
                                     ("prof", PROFESSIONAL))}
    token = {w: add([w])[0] for w in ("H.", "Hj.", "La Ode", "Wa Ode", "La", "Wa", "Andi", "Muhammad", "Siti")}
    n = len(ethnic)

    def draw(pool_m: str, pool_f: str) -> np.ndarray:
        (sm, nm), (sf, nf) = pools[pool_m], pools[pool_f]
        u = rng.random(n)
        return np.where(male, sm + (u * nm).astype(np.int64), sf + (u * nf).astype(np.int64))

    javanese, toraja = ethnic == 4, ethnic == 6
    muna_buton = (ethnic == 2) | (ethnic == 3)
    given1 = np.where(javanese, draw("jm", "jf"), np.where(toraja, draw("cm", "cf"), draw("im", "if")))
    given2 = np.where(javanese, draw("jm", "jf"), np.where(toraja, draw("cm", "cf"), draw("im", "if")))
    given2 = np.where(given2 == given1, -1, given2)
    given2 = np.where(rng.random(n) < 0.6, given2, -1)

    u = rng.random(n)
    noble = np.where(muna_buton & (u < 0.30), np.where(male, token["La Ode"], token["Wa Ode"]), -1)
    commoner = muna_buton & (u >= 0.30) & (u < 0.75)  # La Ndibu, Wa Sima
    noble = np.where(commoner, np.where(male, token["La"], token["Wa"]), noble)
    given1 = np.where(commoner, draw("mm", "mf"), given1)
    given2 = np.where(commoner, -1, given2)
    noble = np.where((ethnic == 1) & (u < 0.12), token["Andi"], noble)

    u = rng.random(n)
    muslim = ~toraja
    muh = np.where(male & muslim & ~commoner & (u < 0.22), token["Muhammad"], -1)
    siti = np.where(~male & muslim & ~commoner & (u < 0.12), token["Siti"], -1)

    (st, nt), (sr, nr) = pools["tolaki"], pools["toraja"]
    u, pick = rng.random(n), rng.random(n)
    family = np.where((ethnic == 0) & (u < 0.35), st + (pick * nt).astype(np.int64),
                      np.where(toraja & (u < 0.85), sr + (pick * nr).astype(np.int64), -1))

    age = (today - birth) / 365.25
    haji = np.where((age > 35) & muslim & (rng.random(n) < 0.10), np.where(male, token["H."], token["Hj."]), -1)
    (sa, na), (sp, npf) = pools["academic"], pools["prof"]
    u, pick = rng.random(n), rng.random(n)
    suffix = np.where((age > 23) & (u < 0.15), sa + (pick * na).astype(np.int64), -1)
    prof = np.where((age > 26) & (u > 0.98), sp + (pick * npf).astype(np.int64), -1)
    parts = dict(haji=haji, prof=prof, noble=noble, muh=muh, siti=siti, given1=given1, given2=given2,
                 family=family, suffix=suffix)
    return parts, vocab


def _render_names(rng: np.random.Generator, people: _People, vocab: list[str], person: np.ndarray) -> pl.Series:
    """Each record spells its person's name its own way: titles, Muhammad/Siti forms, case, spelling."""
    n = len(person)
    words = pl.Series(vocab + [w for w, _ in MUH_FORMS] + [w for w, _ in SITI_FORMS] + ["Laode", "Waode"])
    muh_base, siti_base = len(vocab), len(vocab) + len(MUH_FORMS)
    laode = siti_base + len(SITI_FORMS)
    p = {k: v[person] for k, v in people.name.items()}
    noble = p["noble"]
    glued = rng.random(n) < 0.2  # "Laode", "Waode"
    noble = np.where(glued & (noble == vocab.index("La Ode")), laode,
                     np.where(glued & (noble == vocab.index("Wa Ode")), laode + 1, noble))
    muh = np.where(p["muh"] >= 0, muh_base + _pick(rng, MUH_FORMS, n), -1)
    siti = np.where(p["siti"] >= 0, siti_base + _pick(rng, SITI_FORMS, n), -1)
    given2 = np.where(rng.random(n) < 0.05, -1, p["given2"])
    family = np.where(rng.random(n) < 0.05, -1, p["family"])
    with_title = rng.random((n, 3)) < np.array([0.6, 0.7, 0.5])
    frame = pl.DataFrame({
        "haji": _take(words, np.where(with_title[:, 0], p["haji"], -1)),
        "prof": _take(words, np.where(with_title[:, 1], p["prof"], -1)),
        "suffix": _take(words, np.where(with_title[:, 2], p["suffix"], -1)),
        "noble": _take(words, noble), "muh": _take(words, muh), "siti": _take(words, siti),
        "given1": _take(words, p["given1"]), "given2": _take(words, given2), "family": _take(words, family),
        "spelling": rng.choice(len(SPELLING) + 1, n, p=[0.97] + [0.03 / len(SPELLING)] * len(SPELLING)),
        "case": rng.choice(3, n, p=[0.50, 0.46, 0.04]),  # as written (Title), UPPER, lower
        "comma": rng.random(n) < 0.6, "space": rng.choice(3, n, p=[0.96, 0.03, 0.01]),
    })
    base = frame.select(pl.concat_str(["noble", "muh", "siti", "given1", "given2", "family"], separator=" ",
                                      ignore_nulls=True)).to_series()
    # spelling variants touch few rows: compute them on those rows only
    misspelt = np.flatnonzero(frame["spelling"].to_numpy() > 0)
    spelt = pl.col("b")
    for k, (pattern, repl) in enumerate(SPELLING, start=1):
        spelt = pl.when(pl.col("k") == k).then(pl.col("b").str.replace(pattern, repl)).otherwise(spelt)
    variants = pl.DataFrame({"b": base.gather(misspelt), "k": frame["spelling"].gather(misspelt)}).select(spelt)
    frame = frame.with_columns(base.scatter(misspelt, variants.to_series()).alias("base"))
    full = pl.concat_str([
        pl.concat_str(["haji", "prof", "base"], separator=" ", ignore_nulls=True),
        pl.when(pl.col("suffix").is_not_null()).then(
            pl.when(pl.col("comma")).then(pl.lit(", ")).otherwise(pl.lit(" ")) + pl.col("suffix")).otherwise(pl.lit("")),
    ])
    full = (pl.when(pl.col("case") == 1).then(full.str.to_uppercase())
            .when(pl.col("case") == 2).then(full.str.to_lowercase()).otherwise(full))
    full = (pl.when(pl.col("space") == 1).then(full.str.replace(" ", "  ", literal=True))
            .when(pl.col("space") == 2).then(full + pl.lit(" ")).otherwise(full))
    return frame.select(full.alias("nama")).to_series()


# --- employers and projects ------------------------------------------------------------------------

@dataclass
class _Employers:
    npp: np.ndarray  # int64
    kind: np.ndarray  # 0 swasta, 1 bumn, 2 bumd, 3 instansi_pemerintah
    size: np.ndarray  # 0 mikro, 1 kecil, 2 menengah, 3 besar
    active: np.ndarray
    registered: np.ndarray  # days
    village: np.ndarray
    contractor: np.ndarray
    weight: np.ndarray  # how many workers it draws
    unknown_npp: np.ndarray  # numbers that are nobody's npp, for unusable rows


def _employers(rng: np.random.Generator, ref: _Reference, scale: float, d: date, spare: int) -> _Employers:
    n = max(20, _round(3000 * scale))
    n_inst, n_bumn, n_bumd = max(2, _round(60 * scale)), max(1, _round(40 * scale)), max(1, _round(15 * scale))
    kind = np.zeros(n, np.int8)
    kind[rng.permutation(n)[: n_inst + n_bumn + n_bumd]] = np.repeat(np.array([3, 1, 2], np.int8),
                                                                     [n_inst, n_bumn, n_bumd])
    size = np.select([kind == 3, kind == 1, kind == 2],
                     [rng.choice([2, 3], n, p=[0.6, 0.4]), rng.choice([2, 3], n, p=[0.3, 0.7]),
                      rng.choice([1, 2, 3], n, p=[0.2, 0.5, 0.3])],
                     rng.choice(4, n, p=[0.55, 0.30, 0.11, 0.04]))
    active = ~((kind == 0) & (size <= 1) & (rng.random(n) < 0.15))
    weight = np.array([2.0, 8.0, 40.0, 200.0])[size] * rng.lognormal(0, 0.6, n)
    weight = np.where(kind == 3, 60.0 * rng.lognormal(0, 0.5, n), weight)
    numbers = _unique_numbers(rng, n + spare, 10_000_000, 99_999_999)
    registered = _days(d) - 30 - (rng.random(n) * (_days(d) - 30 - _days(date(1995, 1, 1)))).astype(np.int64)
    kendari = ref.kendari_villages
    village = np.where(rng.random(n) < 0.93, kendari[rng.integers(0, len(kendari), n)],
                       rng.integers(0, len(ref.village_codes), n))
    contractor = (kind == 0) & (rng.random(n) < 0.06)
    contractor[np.flatnonzero(kind == 0)[0]] = True
    return _Employers(numbers[:n], kind, size, active, registered, village, contractor, weight, numbers[n:])


@dataclass
class _Projects:
    number: pl.Series
    status: np.ndarray  # 0 running at D, 1 ended, 2 not started
    start: np.ndarray
    end: np.ndarray
    weight: np.ndarray
    unknown: pl.Series  # numbers that are no project's, for unusable rows


def _projects(rng: np.random.Generator, scale: float, d: date, spare: int) -> tuple[_Projects, dict]:
    n = max(6, _round(400 * scale))
    n_run, n_future = max(2, _round(0.45 * n)), max(1, _round(0.10 * n))
    status = np.repeat(np.array([0, 2, 1], np.int8), [n_run, n_future, n - n_run - n_future])[rng.permutation(n)]
    today = _days(d)
    u = rng.random(n)
    start = np.select([status == 0, status == 1], [today - (u * 540).astype(np.int64), 0],
                      today + 1 + (u * 120).astype(np.int64))
    end = np.select([status == 0, status == 1], [today + (rng.random(n) * 400).astype(np.int64),
                                                  today - 1 - (rng.random(n) * 900).astype(np.int64)],
                    start + 60 + (rng.random(n) * 300).astype(np.int64))
    start = np.where(status == 1, end - 60 - (rng.random(n) * 480).astype(np.int64), start)
    # the boundaries of the rule: a project ending on D, one starting on D, one that ended the day before
    running, ended = np.flatnonzero(status == 0), np.flatnonzero(status == 1)
    end[running[0]] = today
    start[running[1]] = today
    if len(ended):
        end[ended[0]] = today - 1
    value = np.round(rng.lognormal(np.log(1.5e9), 1.0, n), -3).astype(np.int64)
    year = _ymd(start)[0]
    seq = _unique_numbers(rng, n + spare, 1, 999_999)
    numbers = pl.DataFrame({"y": np.r_[year, np.full(spare, year.max())], "s": seq}).select(
        pl.format("JK-{}-{}", pl.col("y"), pl.col("s").cast(pl.String).str.zfill(6))).to_series()
    weight = np.sqrt(value / 1e6) * rng.lognormal(0, 0.3, n)
    return _Projects(numbers[:n], status, start, end, weight, numbers[n:]), {"value": value}


# --- registrations ---------------------------------------------------------------------------------

@dataclass
class _Rows:
    person: np.ndarray
    active: np.ndarray  # intended activity; checked against the rules when the dates are drawn
    kind: np.ndarray  # 0 active, 1 second active, 2 the one lapsed row of an uncovered person, 3 history
    start: np.ndarray | None = None  # date of the registration that "most recent" is judged by
    domicile: np.ndarray | None = None  # village index, -1 = empty


def _allocate(rng: np.random.Generator, people: _People, source: str, usable_rows: int) -> _Rows:
    """Rows of one segment: an active row per person active there (a few hold two), the rest inactive."""
    bit = BIT[source]
    holders = np.flatnonzero((people.combo & bit) > 0)
    second = rng.choice(holders, _round(SECOND_ACTIVE[source] * len(holders)), replace=False)
    active_people = np.r_[holders, second]
    lapsed = np.flatnonzero(people.primary == bit)
    spare = usable_rows - len(active_people) - len(lapsed)
    if spare < 0:
        raise ValueError(f"{source}: {usable_rows} rows cannot hold {len(active_people)} active and "
                         f"{len(lapsed)} lapsed registrations; the scale is too small")
    weight = np.where(((people.combo & bit) > 0) | (people.primary == bit), 1.0, 0.3)
    if bit == 4:
        weight = weight * np.where(people.male, 1.0, 0.1)
    history = _weighted(rng, weight, spare)
    person = np.r_[active_people, lapsed, history]
    active = np.r_[np.ones(len(active_people), bool), np.zeros(len(lapsed) + spare, bool)]
    kind = np.repeat(np.array([0, 1, 2, 3], np.int8), [len(holders), len(second), len(lapsed), spare])
    return _Rows(person, active, kind)


def _domiciles(rng: np.random.Generator, ref: _Reference, people: _People, rows: _Rows, source: str) -> np.ndarray:
    """Active rows give the current village; older rows sometimes a previous Kendari address."""
    n = len(rows.person)
    kendari = ref.kendari_villages
    previous = kendari[rng.integers(0, len(kendari), n)]
    village = np.where(rows.active | (rng.random(n) < 0.8), people.home[rows.person], previous)
    empty = rng.random(n) < EMPTY_DOMICILE[source]
    # someone whose NIK district lies on the other side of the area line has a domicile on an active row
    empty &= ~(rows.active & people.need_domicile[rows.person])
    return np.where(empty, -1, village)


def _pu_dates(rng: np.random.Generator, people: _People, emp: _Employers, rows: _Rows, d: date) -> dict:
    n, today = len(rows.person), _days(d)
    active_emp = np.flatnonzero(emp.active)
    employer = np.where(rows.active, active_emp[_weighted(rng, emp.weight[active_emp], n)],
                        _weighted(rng, emp.weight * np.where(emp.active, 1.0, 3.0), n))
    floor = np.maximum(people.birth[rows.person] + 6575 + 30, emp.registered[employer])
    back = np.minimum(rng.exponential(4 * 365, n), 25 * 365).astype(np.int64)
    start = np.maximum(today - back, floor)
    start_old = np.maximum(today - 60 - np.minimum(rng.exponential(5 * 365, n), 25 * 365).astype(np.int64), floor)
    # inactive variants: 0 nonaktif & ended, 1 aktif but ended (not updated), 2 nonaktif without end,
    # 3 aktif starting after D, 4 nonaktif with a future end
    variant = rng.choice(5, n, p=[0.55, 0.15, 0.10, 0.08, 0.12])
    ended = start_old + 1 + (rng.random(n) * (today - start_old)).astype(np.int64)
    ended = np.where((variant == 1) & (rng.random(n) < 0.06), today, ended)
    future_end = today + 1 + (rng.random(n) * 730).astype(np.int64)
    u = rng.random(n)
    stop_active = np.where(u < 0.88, -1, np.where(u < 0.98, future_end, today + 1))
    start_active = np.where(rng.random(n) < 0.003, today, start)
    start = np.where(rows.active, start_active, np.where(variant == 3, today + 1 + (u * 90).astype(np.int64), start_old))
    stop = np.where(rows.active, stop_active, np.select([variant <= 1, variant == 4], [ended, future_end], -1))
    aktif = rows.active | (variant == 1) | (variant == 3)
    rule = aktif & (start <= today) & ((stop < 0) | (stop > today))
    assert np.array_equal(rule, rows.active), "PU dates break the active rule"
    rows.start = start
    return {"employer": employer, "start": start, "stop": stop, "aktif": aktif}


def _bpu_dates(rng: np.random.Generator, people: _People, rows: _Rows, d: date) -> dict:
    n, today = len(rows.person), _days(d)
    floor = people.birth[rows.person] + 6575 + 30
    ahead = rng.choice(12, n, p=np.array([45, 20, 10, 6, 5, 4, 2, 2, 2, 2, 1, 1]) / 100)
    paid_ahead = np.where(rng.random(n) < 0.03, today, _month_end(np.full(n, today), ahead))
    paid_lapsed = _month_end(np.full(n, today), -1 - np.minimum(rng.geometric(0.12, n) - 1, 35))
    paid_lapsed = np.where(rng.random(n) < 0.03, today - 1, paid_lapsed)
    back = np.minimum(rng.exponential(2 * 365, n), 10 * 365).astype(np.int64)
    registered = np.maximum(today - back, floor)
    registered_lapsed = np.maximum(paid_lapsed - 30 - (rng.random(n) * 1500).astype(np.int64), floor)
    # inactive variants: 0 aktif but lapsed, 1 nonaktif and lapsed, 2 nonaktif though paid, 3 aktif registered after D
    variant = rng.choice(4, n, p=[0.60, 0.25, 0.08, 0.07])
    registered_future = today + 1 + (rng.random(n) * 60).astype(np.int64)
    registered = np.where(rows.active, registered,
                          np.select([variant <= 1, variant == 2], [registered_lapsed, registered], registered_future))
    paid = np.where(rows.active | (variant == 2), paid_ahead,
                    np.where(variant == 3, _month_end(registered_future, 1), np.maximum(paid_lapsed, registered)))
    aktif = rows.active | (variant == 0) | (variant == 3)
    rule = aktif & (registered <= today) & (paid >= today)
    assert np.array_equal(rule, rows.active), "BPU dates break the active rule"
    rows.start = registered
    return {"registered": registered, "paid": paid, "aktif": aktif}


def _jakon_projects(rng: np.random.Generator, proj: _Projects, rows: _Rows, d: date) -> np.ndarray:
    """A project per JAKON row: running ones for active rows, ended or future ones for the rest.

    Nobody is listed twice on one project (that would be one registration sent twice): a later row that
    repeats a (person, project) pair draws again, its project and, for history rows, its person.
    """
    n, today = len(rows.person), _days(d)
    running, other = np.flatnonzero(proj.status == 0), np.flatnonzero(proj.status != 0)
    other_weight = proj.weight[other] * np.where(proj.status[other] == 1, 1.0, 0.3)

    def draw(active: np.ndarray) -> np.ndarray:
        k = len(active)
        return np.where(active, running[_weighted(rng, proj.weight[running], k)], other[_weighted(rng, other_weight, k)])

    project = draw(rows.active)
    for _ in range(100):  # rounds over the few repeats, not over rows
        _, first = np.unique(rows.person * len(proj.status) + project, return_index=True)
        repeat = np.setdiff1d(np.arange(n), first)
        if not len(repeat):
            break
        project[repeat] = draw(rows.active[repeat])
        movable = repeat[(rows.kind[repeat] == 3) & (rng.random(len(repeat)) < 0.5)]
        rows.person[movable] = rows.person[rng.integers(0, n, len(movable))]
    else:
        raise ValueError("jakon_workers: too few projects to list everyone once per project; raise the scale")
    rule = (proj.start[project] <= today) & (today <= proj.end[project])
    assert np.array_equal(rule, rows.active), "JAKON projects break the active rule"
    rows.start = proj.start[project]
    return project


# --- NIK dirt --------------------------------------------------------------------------------------

def _nik_issues(rng: np.random.Generator, n: int) -> np.ndarray:
    """0 clean, 1 typo, 2 transposed, 3 missing, 4 scientific notation."""
    p = [w for _, w in NIK_DIRT]
    return rng.choice(5, n, p=[1 - sum(p)] + p)


def _render_niks(rng: np.random.Generator, nik: np.ndarray, issue: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """NIKs as written, and the issue each row really got (a swap of equal digits becomes a typo)."""
    n = len(nik)
    pos_all = rng.integers(0, 16, n)
    step_all = rng.integers(1, 10, n)
    # only the mistyped rows are taken apart into digits
    hit = np.flatnonzero((issue == 1) | (issue == 2))
    place = 10 ** np.arange(15, -1, -1)
    digits = (nik[hit, None] // place) % 10
    rows, pos, kind = np.arange(len(hit)), pos_all[hit], issue[hit]
    swap = np.minimum(pos, 14)
    # neighbours that are equal cannot be told apart when swapped: those rows get a typo instead
    typo = (kind == 1) | (digits[rows, swap] == digits[rows, swap + 1])
    dirty = digits.copy()
    dirty[rows, pos] = np.where(typo, (digits[rows, pos] + step_all[hit]) % 10, dirty[rows, pos])
    t = ~typo
    dirty[rows[t], swap[t]], dirty[rows[t], swap[t] + 1] = digits[rows[t], swap[t] + 1], digits[rows[t], swap[t]]
    value = nik.copy()
    value[hit] = (dirty * place).sum(axis=1)
    issue = issue.copy()
    issue[hit[typo]] = 1
    mantissa = (nik + 5 * 10 ** 9) // 10 ** 10  # 6 significant digits, as a spreadsheet shows a 16-digit number
    frame = pl.DataFrame({"v": value, "m": mantissa, "i": issue})
    sci = (pl.col("m").cast(pl.String).str.slice(0, 1) + pl.lit(".") + pl.col("m").cast(pl.String).str.slice(1)
           ).str.replace(r"\.?0+$", "") + pl.lit("E+15")
    written = frame.select(pl.when(pl.col("i") == 3).then(pl.lit(None, pl.String))
                           .when(pl.col("i") == 4).then(sci)
                           .otherwise(pl.col("v").cast(pl.String).str.zfill(16))).to_series()
    return written, issue


def _render_births(rng: np.random.Generator, birth: np.ndarray, fmt: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Birth dates as written: mostly the true one, sometimes day and month swapped or a year off."""
    n = len(birth)
    year, month, day = _ymd(birth)
    off = rng.random(n) < DOB_DIRT
    can_swap = (day <= 12) & (day != month)
    swapped_days = (np.array(year - 1970, "datetime64[Y]").astype("datetime64[M]")
                    + (day - 1).astype("timedelta64[M]")).astype("datetime64[D]") + (month - 1).astype("timedelta64[D]")
    shifted = birth + np.where(rng.random(n) < 0.5, -365, 365)
    written = np.where(off, np.where(can_swap, swapped_days.astype(np.int64), shifted), birth)
    return _render_dates(written, fmt), off


# --- civil registry --------------------------------------------------------------------------------

def _civil_registry(rng: np.random.Generator, ref: _Reference, eligible: int,
                    covered_home: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Dukcapil residents per Kendari village, KTP occupation and sex; eligible sums exactly to `eligible`.

    A village's eligible workforce follows its covered workers with its own coverage rate, so rates vary
    (roughly 20-50%) but stay well under 100%.
    """
    kendari = ref.kendari_villages
    rate = rng.uniform(0.65, 1.75, len(kendari))
    per_village = _apportion(eligible, (covered_home + 1) / rate)
    names = list(ELIGIBLE_OCCUPATIONS)
    share = np.array([s for s, _ in ELIGIBLE_OCCUPATIONS.values()])
    women = np.array([w for _, w in ELIGIBLE_OCCUPATIONS.values()])
    cells = np.stack([share * (1 - women), share * women], axis=1).ravel()  # occupation x (L, P)
    pvals = rng.gamma(cells * 400 + 1e-9, 1.0, (len(kendari), len(cells)))
    pvals /= pvals.sum(axis=1, keepdims=True)
    counts = rng.multinomial(per_village, pvals)
    occupation = np.repeat(np.arange(len(names)), 2)
    sex = np.tile(np.array(["L", "P"]), len(names))
    village = np.repeat(np.arange(len(kendari)), len(cells))
    eligible_rows = pl.DataFrame({"v": village, "o": np.tile(occupation, len(kendari)),
                                  "s": np.tile(sex, len(kendari)), "n": counts.ravel()})
    eligible_rows = eligible_rows.with_columns(pl.Series("pekerjaan", np.array(names)[eligible_rows["o"].to_numpy()])
                                               ).filter(pl.col("n") > 0)

    excluded = list(EXCLUDED_OCCUPATIONS)
    ratio = np.array([EXCLUDED_OCCUPATIONS[k] for k in excluded]).ravel()
    noise = rng.lognormal(0, 0.15, (len(kendari), len(ratio)))
    ex_counts = np.round(per_village[:, None] * ratio[None, :] * noise).astype(np.int64)
    newer = rng.random(len(kendari)) < 0.3  # villages whose export uses the newer ASN wording
    ex_names = np.array(excluded)
    ex_newer = np.array([NEWER_WORDING.get(k, k) for k in excluded])
    ex_village = np.repeat(np.arange(len(kendari)), len(ratio))
    ex_occ = np.tile(np.repeat(np.arange(len(excluded)), 2), len(kendari))
    excluded_rows = pl.DataFrame({
        "v": ex_village, "o": ex_occ + 1000, "s": np.tile(np.array(["L", "P"]), len(kendari) * len(excluded)),
        "n": ex_counts.ravel(),
        "pekerjaan": np.where(newer[ex_village], ex_newer[ex_occ], ex_names[ex_occ])})
    frame = pl.concat([eligible_rows, excluded_rows], how="vertical_relaxed").sort(["v", "o", "s"])
    plain = rng.random(len(kendari)) < 0.25
    codes = _render_codes(ref.village_codes, kendari[frame["v"].to_numpy()], plain[frame["v"].to_numpy()])
    out = frame.select(pl.Series("kode_wilayah", codes), "pekerjaan", pl.col("s").alias("jenis_kelamin"),
                       pl.col("n").cast(pl.String).alias("jumlah"))
    return out, per_village


# --- the whole landing zone ------------------------------------------------------------------------

def generate(landing_dir: Path, truth_dir: Path, snapshot_date: date = date(2025, 6, 8), *, seed: int = 42,
             scale: float = 1.0, formats: str = "csv", opd_roster: bool = False) -> dict:
    """Writes landing_dir/<date>/*.csv (+ civil_registry/), truth_dir/<date>/...; returns the truth summary dict.

    formats="csv": every file comma-delimited UTF-8; "mixed": employers as .xlsx (all text), bpu_participants
    semicolon-delimited with a BOM, the rest comma CSV. The truth (records.parquet, persons.parquet,
    summary.json) must live outside the landing zone. opd_roster=True also writes the optional OPD roster
    (opd_non_asn.csv), drawn with its own random stream: every other file is the same with or without it.
    """
    if formats not in ("csv", "mixed"):
        raise ValueError(f"formats must be 'csv' or 'mixed', not {formats!r}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    if truth_dir.resolve().is_relative_to(landing_dir.resolve()):
        raise ValueError(f"the truth ({truth_dir}) must not be inside the landing zone ({landing_dir})")

    rng = np.random.default_rng(seed)
    d = snapshot_date
    target = {k: _round(v * scale) for k, v in CALIBRATION.items()}
    inside = target["covered_workers"]
    outside = max(1, _round(inside * OUTSIDE_SHARE))
    uncovered = _round(inside * UNCOVERED_SHARE)
    if inside < 20:
        raise ValueError("scale too small: fewer than 20 covered workers")
    unusable = {s: max(1, _round(target[s] * UNUSABLE_SHARE)) for s in WORKER_SOURCES}

    ref = _load_reference()
    people, vocab = _people(rng, ref, inside, outside, uncovered, d, scale)
    emp = _employers(rng, ref, scale, d, spare=unusable["pu_workers"])
    proj, proj_extra = _projects(rng, scale, d, spare=unusable["jakon_workers"])

    rows = {s: _allocate(rng, people, s, target[s] - unusable[s]) for s in WORKER_SOURCES}
    pu = _pu_dates(rng, people, emp, rows["pu_workers"], d)
    bpu = _bpu_dates(rng, people, rows["bpu_participants"], d)
    jakon_project = _jakon_projects(rng, proj, rows["jakon_workers"], d)
    for s in WORKER_SOURCES:
        rows[s].domicile = _domiciles(rng, ref, people, rows[s], s)

    persons = _attribute_regions(ref, people, rows)
    in_area = persons["in_area"].to_numpy()
    covered = persons["covered"].to_numpy()
    if int((covered & in_area).sum()) != inside:  # by construction; a failure here is a bug in this module
        raise RuntimeError("the region rule does not give the calibrated number of covered workers")

    # NIK dirt per row; whoever is placed by their NIK district keeps at least one clean NIK to be placed by
    issues = {s: _nik_issues(rng, len(rows[s].person)) for s in WORKER_SOURCES}
    by_nik = covered & (persons["region_level"] == "district").fill_null(False).to_numpy()
    all_person = np.concatenate([rows[s].person for s in WORKER_SOURCES])
    all_issue = np.concatenate([issues[s] for s in WORKER_SOURCES])
    all_active = np.concatenate([rows[s].active for s in WORKER_SOURCES])
    clean_count = np.bincount(all_person[all_issue == 0], minlength=len(people.group))
    fix_people = by_nik & (clean_count == 0)
    candidates = np.flatnonzero(fix_people[all_person] & all_active)
    _, first = np.unique(all_person[candidates], return_index=True)
    all_issue[candidates[first]] = 0
    bounds = np.cumsum([0] + [len(rows[s].person) for s in WORKER_SOURCES])
    issues = {s: all_issue[bounds[i]:bounds[i + 1]] for i, s in enumerate(WORKER_SOURCES)}

    frames, truth = {}, []
    codes = ref.village_codes
    for s in WORKER_SOURCES:
        r = rows[s]
        date_fmt, money_style, plain = _row_styles(rng, len(r.person))
        births, dob_off = _render_births(rng, people.birth[r.person], date_fmt)
        niks, issues[s] = _render_niks(rng, people.nik[r.person], issues[s])
        common = {
            "nik": niks,
            "nama": _render_names(rng, people, vocab, r.person),
            "tanggal_lahir": births,
            "jenis_kelamin": pl.Series(np.where(people.male[r.person], "L", "P")),
        }
        domicile = _render_codes(codes, r.domicile, plain)
        if s == "pu_workers":
            frames[s] = _pu_frame(rng, emp, r, pu, common, domicile, date_fmt, money_style)
        elif s == "bpu_participants":
            frames[s] = _bpu_frame(rng, r, bpu, common, domicile, date_fmt, money_style)
        else:
            frames[s] = pl.DataFrame({"nomor_proyek": proj.number.gather(jakon_project), **common,
                                      "kode_wilayah_domisili": domicile})
        issue_name = np.array(["none", "typo", "transposed", "missing", "scientific"])[issues[s]]
        issue_name = np.where((issues[s] == 0) & people.collision[r.person], "collision", issue_name)
        truth.append(pl.DataFrame({"person_id": r.person.astype(np.int64) + 1, "active": r.active,
                                   "nik_issue": issue_name, "birth_date_issue": dob_off}).with_columns(
            pl.lit(s).alias("source"), pl.lit(True).alias("usable"), pl.lit(None, pl.String).alias("defect")))

    # kpj: unique across PU and BPU, including the copies that arrive unusable
    n_pu, n_bpu = len(frames["pu_workers"]), len(frames["bpu_participants"])
    kpj = _unique_numbers(rng, n_pu + n_bpu + unusable["pu_workers"] + unusable["bpu_participants"],
                          10_000_000_000, 99_999_999_999).astype(str)
    spare_kpj = list(np.split(kpj[n_pu + n_bpu:], [unusable["pu_workers"]]))
    frames["pu_workers"] = frames["pu_workers"].with_columns(pl.Series("kpj", kpj[:n_pu]))
    frames["bpu_participants"] = frames["bpu_participants"].with_columns(pl.Series("kpj", kpj[n_pu:n_pu + n_bpu]))

    unknown_npp = pl.Series(emp.unknown_npp.astype(str))
    for i, s in enumerate(WORKER_SOURCES):
        frames[s], truth[i] = _add_unusable(rng, s, frames[s], truth[i], unusable[s],
                                            spare_kpj[i] if i < 2 else None, unknown_npp, proj.unknown)
        order = rng.permutation(len(frames[s]))
        frames[s] = frames[s][order].select(COLUMNS[s])
        truth[i] = truth[i][order].with_row_index("source_row", offset=1).with_columns(pl.col("source_row").cast(pl.Int64))

    employers = _employer_frame(rng, ref, emp, pu)
    projects = _project_frame(rng, ref, proj, proj_extra, emp)
    covered_home = np.bincount(np.searchsorted(ref.kendari_villages, people.home[(people.group == 0)]),
                               minlength=len(ref.kendari_villages))
    registry, eligible_per_village = _civil_registry(rng, ref, target["eligible_workforce"], covered_home)

    # --- write -------------------------------------------------------------------------------------
    folder = landing_dir / d.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (landing_dir / "civil_registry").mkdir(parents=True, exist_ok=True)
    cutoff = registry_cutoff(d)
    registry.write_csv(landing_dir / "civil_registry" / f"workforce_{cutoff.isoformat()}.csv")
    _write(employers, folder / "employers", "xlsx" if formats == "mixed" else "csv", d)
    _write(projects, folder / "jakon_projects", "csv", d)
    _write(frames["pu_workers"], folder / "pu_workers", "csv", d)
    _write(frames["bpu_participants"], folder / "bpu_participants", "csv;bom" if formats == "mixed" else "csv", d)
    _write(frames["jakon_workers"], folder / "jakon_workers", "csv", d)

    records = pl.concat(truth).select("source", "source_row", "person_id", "usable", "active", "nik_issue",
                                      "birth_date_issue", "defect")
    summary = _summary(d, ref, people, persons, records, target, employers, projects, cutoff, registry,
                       eligible_per_village, seed, scale, formats)
    (folder / "opd_non_asn.csv").unlink(missing_ok=True)
    if opd_roster:
        roster, summary["opd_non_asn"] = _opd_roster(np.random.default_rng([seed, 12]), ref, people, vocab, records,
                                                     scale)
        _write(roster, folder / "opd_non_asn", "csv", d)
    out = truth_dir / d.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    records.write_parquet(out / "records.parquet")
    persons.write_parquet(out / "persons.parquet")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def _pu_frame(rng, emp: _Employers, r: _Rows, pu: dict, common: dict, domicile: pl.Series, date_fmt, money_style):
    n = len(r.person)
    employer = pu["employer"]
    size, kind = emp.size[employer], emp.kind[employer]
    wage = rng.lognormal(np.log(3.4e6), 0.35, n) * np.array([0.75, 0.9, 1.05, 1.3])[size]
    wage = np.where(kind == 3, rng.lognormal(np.log(2.2e6), 0.25, n), wage)
    wage = np.maximum(np.round(wage, -3), 500_000).astype(np.int64)
    programs = ("JKK,JKM", "JKK,JKM,JHT", "JKK,JKM,JHT,JP", "JKK,JKM,JHT,JP,JKP")
    category = np.where(kind == 3, 0, np.where(size == 0, 1, 2))
    probs = np.array([[0.70, 0.30, 0.0, 0.0], [0.15, 0.40, 0.45, 0.0], [0.0, 0.10, 0.55, 0.35]])
    program = np.array(programs)[_pick_rows(rng, probs, category)]
    program = np.where(rng.random(n) < 0.02, np.char.replace(program, ",", ", "), program)
    return pl.DataFrame({
        **common, "npp": emp.npp[employer].astype(str), "upah": _render_money(wage, money_style),
        "program": program, "kode_wilayah_domisili": domicile,
        "tanggal_mulai": _render_dates(pu["start"], date_fmt),
        "tanggal_berhenti": _render_dates(np.maximum(pu["stop"], 0), date_fmt, missing=pu["stop"] < 0),
        "status": np.where(pu["aktif"], "aktif", "nonaktif"),
    })


def _bpu_frame(rng, r: _Rows, bpu: dict, common: dict, domicile: pl.Series, date_fmt, money_style):
    n = len(r.person)
    job = np.array([j for j, _ in BPU_JOBS])[_pick(rng, BPU_JOBS, n)]
    case = rng.choice(3, n, p=[0.7, 0.25, 0.05])
    job = np.where(case == 1, np.char.upper(job), np.where(case == 2, np.char.lower(job), job))
    income = np.array([1_000_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000, 5_000_000])
    income = income[rng.choice(len(income), n, p=[0.15, 0.20, 0.22, 0.15, 0.12, 0.07, 0.05, 0.04])]
    program = np.where(rng.random(n) < 0.75, "JKK,JKM", "JKK,JKM,JHT")
    return pl.DataFrame({
        **common, "pekerjaan": job, "penghasilan": _render_money(income, money_style), "program": program,
        "kode_wilayah": domicile, "tanggal_daftar": _render_dates(bpu["registered"], date_fmt),
        "iuran_dibayar_sampai": _render_dates(bpu["paid"], date_fmt),
        "status": np.where(bpu["aktif"], "aktif", "nonaktif"),
    })


BAD_DATES = ("31/02/2024", "2024-02-30", "30-02-2023", "2024-13-01", "00/00/0000")
UNUSABLE_KINDS = {
    "pu_workers": ("missing_kpj", "invalid_tanggal_mulai", "unknown_npp"),
    "bpu_participants": ("missing_kpj", "invalid_tanggal_daftar", "invalid_iuran_dibayar_sampai"),
    "jakon_workers": ("unknown_nomor_proyek", "missing_nomor_proyek"),
}


def _add_unusable(rng, source: str, frame: pl.DataFrame, truth: pl.DataFrame, n: int, kpj, unknown_npp: pl.Series,
                  unknown_project: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Extra rows no pipeline can use: copies of real registrations, each with one clear defect."""
    source_idx = rng.choice(len(frame), n, replace=False)
    kinds = UNUSABLE_KINDS[source]
    defect = np.array(kinds)[np.arange(n) % len(kinds)]
    bad = frame[source_idx]
    if kpj is not None:
        bad = bad.with_columns(pl.Series("kpj", kpj))
    bad_date = np.array(BAD_DATES)[rng.integers(0, len(BAD_DATES), n)]
    for kind in kinds:
        mask = pl.Series(defect == kind)
        column, value = {
            "missing_kpj": ("kpj", pl.lit(None, pl.String)),
            "invalid_tanggal_mulai": ("tanggal_mulai", pl.Series(bad_date)),
            "invalid_tanggal_daftar": ("tanggal_daftar", pl.Series(bad_date)),
            "invalid_iuran_dibayar_sampai": ("iuran_dibayar_sampai", pl.Series(bad_date)),
            "unknown_npp": ("npp", unknown_npp.gather(np.arange(n) % len(unknown_npp))),
            "unknown_nomor_proyek": ("nomor_proyek", unknown_project.gather(np.arange(n) % len(unknown_project))),
            "missing_nomor_proyek": ("nomor_proyek", pl.lit(None, pl.String)),
        }[kind]
        value = pl.lit(value) if isinstance(value, pl.Series) else value
        bad = bad.with_columns(pl.when(pl.lit(mask)).then(value).otherwise(pl.col(column)).alias(column))
    bad_truth = truth[source_idx].with_columns(pl.lit(False).alias("usable"), pl.lit(False).alias("active"),
                                               pl.Series("defect", defect))
    return pl.concat([frame, bad]), pl.concat([truth, bad_truth])


def _employer_frame(rng, ref: _Reference, emp: _Employers, pu: dict) -> pl.DataFrame:
    n = len(emp.npp)
    kinds = np.array(["swasta", "bumn", "bumd", "instansi_pemerintah"])[emp.kind]
    sizes = np.array(["mikro", "kecil", "menengah", "besar"])[emp.size]
    words = np.array(COMPANY_WORDS)
    w = rng.integers(0, len(words), (n, 3))
    three = rng.random(n) < 0.4
    legal = np.array(["UD", "CV", "PT", "Koperasi", "Toko"])[
        _pick_rows(rng, np.array([[0.35, 0.35, 0.1, 0.05, 0.15], [0.15, 0.45, 0.35, 0.05, 0.0],
                                  [0.0, 0.2, 0.75, 0.05, 0.0], [0.0, 0.05, 0.95, 0.0, 0.0]]), emp.size)]
    swasta = pl.DataFrame({"legal": legal, "a": words[w[:, 0]], "b": words[w[:, 1]], "c": words[w[:, 2]],
                           "three": three, "contractor": emp.contractor}).select(
        pl.when("contractor").then(pl.format("CV {} {} Konstruksi", "a", "b"))
        .when("three").then(pl.format("{} {} {} {}", "legal", "a", "b", "c"))
        .otherwise(pl.format("{} {} {}", "legal", "a", "b"))).to_series().to_numpy()
    opd = np.array([f"{o} Kota Kendari" if not o.startswith(("RSUD", "Puskesmas")) else o for o in OPD])
    name = np.select([emp.kind == 1, emp.kind == 2, emp.kind == 3],
                     [np.array(BUMN)[rng.integers(0, len(BUMN), n)], np.array(BUMD)[rng.integers(0, len(BUMD), n)],
                      opd[np.arange(n) % len(opd)]], swasta)
    kbli_pool = np.array(["47111", "56101", "46100", "49431", "86103", "55111", "68111", "52101", "03111", "47711",
                          "95110", "10750", "07291", "82990", "85492", "45201", "96021", "16101", "33150", "62019"])
    kbli = np.select([emp.kind == 3, emp.kind == 1, emp.kind == 2, emp.contractor],
                     [np.array(["84111", "84122", "86101"])[rng.integers(0, 3, n)],
                      np.array(["35101", "64121", "53100", "52221", "61100", "19211"])[rng.integers(0, 6, n)],
                      np.array(["36000", "64121", "68111"])[rng.integers(0, 3, n)],
                      np.array(["41011", "41012", "42101", "43211"])[rng.integers(0, 4, n)]],
                     kbli_pool[rng.integers(0, len(kbli_pool), n)])
    kbli = np.where((emp.kind == 0) & ~emp.contractor & (rng.random(n) < 0.15), "", kbli)
    npwp_digits = _unique_numbers(rng, n, 10 ** 14, 10 ** 15 - 1).astype(str)
    style = rng.choice(4, n, p=[0.5, 0.2, 0.1, 0.2])  # punctuated 15, plain 15, 16 digits, missing
    punctuated = pl.Series(npwp_digits).str.replace(r"^(\d{2})(\d{3})(\d{3})(\d)(\d{3})(\d{3})$", "$1.$2.$3.$4-$5.$6")
    npwp = np.where(style == 0, punctuated.to_numpy(), np.where(style == 1, npwp_digits,
                    np.where(style == 2, np.char.add("0", npwp_digits), "")))
    active_rows = np.bincount(pu["employer"][pu["aktif"]], minlength=n)
    declared = np.round(active_rows * rng.uniform(1.0, 1.6, n)).astype(np.int64) + rng.integers(0, 4, n)
    declared = np.where(emp.active, declared, np.where(rng.random(n) < 0.5, 0, declared))
    date_fmt, _, plain = _row_styles(rng, n)
    return pl.DataFrame({
        "npp": emp.npp.astype(str), "nama_perusahaan": name, "npwp": _blank_to_null(npwp),
        "jenis_pemberi_kerja": kinds, "kbli": _blank_to_null(kbli), "skala_usaha": sizes,
        "kode_wilayah": _render_codes(ref.village_codes, emp.village, plain),
        "jumlah_pekerja": declared.astype(str), "tanggal_daftar": _render_dates(emp.registered, date_fmt),
        "status": np.where(emp.active, "aktif", "nonaktif"),
    })


def _project_frame(rng, ref: _Reference, proj: _Projects, extra: dict, emp: _Employers) -> pl.DataFrame:
    n = len(proj.status)
    kendari = ref.kendari_villages
    near = np.flatnonzero(np.isin(ref.village_regency, ["74.02", "74.05"]))
    village = np.where(rng.random(n) < 0.88, kendari[rng.integers(0, len(kendari), n)],
                       near[rng.integers(0, len(near), n)])
    contractors = np.flatnonzero(emp.contractor)
    npp = np.where(rng.random(n) < 0.75, emp.npp[contractors[rng.integers(0, len(contractors), n)]].astype(str), "")
    fund = np.array(["APBN", "APBD", "BUMN", "SWASTA"])[rng.choice(4, n, p=[0.2, 0.45, 0.1, 0.25])]
    work = np.array(PROJECT_WORKS)[rng.integers(0, len(PROJECT_WORKS), n)]
    place_name = ref.village_names.gather(village)
    year = _ymd(proj.start)[0].astype(str)
    desa = ref.village_codes.gather(village).str.slice(9, 1) == "2"  # Permendagri coding: 1xxx kelurahan, 2xxx desa
    title = pl.DataFrame({"w": work, "p": place_name, "y": year, "d": desa}).select(pl.format(
        "{} {} {} TA {}", "w", pl.when("d").then(pl.lit("Desa")).otherwise(pl.lit("Kelurahan")), "p", "y")).to_series()
    date_fmt, money_style, plain = _row_styles(rng, n)
    return pl.DataFrame({
        "nomor_proyek": proj.number, "nama_proyek": title, "npp": _blank_to_null(npp),
        "nilai_kontrak": _render_money(extra["value"], money_style), "sumber_dana": fund,
        "kode_wilayah": _render_codes(ref.village_codes, village, plain),
        "tanggal_mulai": _render_dates(proj.start, date_fmt), "tanggal_selesai": _render_dates(proj.end, date_fmt),
    })


def _opd_roster(rng: np.random.Generator, ref: _Reference, people: _People, vocab: list[str], records: pl.DataFrame,
                scale: float) -> tuple[pl.DataFrame, dict]:
    """The regional information system's roster of non-ASN staff: the six OPD that registered theirs (all covered,
    PU) and every other OPD (a few covered; the rest registered once and lapsed, or never registered at all).

    Staff who exist among the registrants are people whose every row carries their NIK and birth date as issued
    (the roster holds what the civil registry issued, so identity finds them for sure), never one of a NIK
    collision; staff never registered get a fresh NIK."""
    dirty = records.filter((pl.col("nik_issue") != "none") | pl.col("birth_date_issue").cast(pl.Boolean)
                           | ~pl.col("usable"))["person_id"].unique().to_numpy() - 1
    usable = np.zeros(len(people.group), bool)
    usable[records["person_id"].unique().to_numpy() - 1] = True
    usable[dirty] = False
    usable &= ~people.collision & (ref.village_regency[people.home] == AREA_CODE)
    covered_pool = rng.permutation(np.flatnonzero(usable & (people.group == 0) & ((people.combo & 1) > 0)))
    lapsed_pool = rng.permutation(np.flatnonzero(usable & (people.group == 2)))

    others = [o for o in OPD if o not in OPD_REGISTERED]
    names = list(OPD_REGISTERED) + others
    registered = _apportion(_round(OPD_CALIBRATION["staff_registered"] * scale),
                            rng.lognormal(0, 0.4, len(OPD_REGISTERED)))
    sizes = np.maximum(3, np.round(OPD_STAFF_OTHERS * scale * rng.lognormal(0, 0.5, len(others)))).astype(np.int64)
    share = rng.uniform(0.05, 0.6, len(others))
    covered_n = np.r_[registered, np.round(sizes * share).astype(np.int64)]
    total_n = np.r_[registered, sizes]
    never_n = np.r_[np.zeros(len(registered), np.int64), np.round((sizes - covered_n[len(registered):]) * 0.4)]
    never_n = never_n.astype(np.int64)
    lapsed_n = total_n - covered_n - never_n
    if covered_n.sum() > len(covered_pool) or lapsed_n.sum() > len(lapsed_pool):
        raise ValueError("opd roster: too few registrants at this scale")
    opd = np.arange(len(names))
    covered = covered_pool[: covered_n.sum()]
    lapsed = lapsed_pool[: lapsed_n.sum()]
    existing = np.r_[covered, lapsed]
    existing_opd = np.r_[np.repeat(opd, covered_n), np.repeat(opd, lapsed_n)]

    # never registered: a name borrowed from a registrant, a birth date and NIK of their own (serials from 9000:
    # no registrant holds them)
    n_new = int(never_n.sum())
    lender = lapsed_pool[rng.integers(0, len(lapsed_pool), n_new)] if n_new else np.zeros(0, np.int64)
    kendari_districts = np.flatnonzero(ref.district_regency == AREA_CODE)
    new_district = kendari_districts[rng.integers(0, len(kendari_districts), n_new)]
    new_birth = people.birth[lender] + rng.integers(30, 3000, n_new)
    new_male = people.male[lender]
    new_nik = _make_niks(ref.district_int[new_district], new_birth, new_male) + 9000

    frame = pl.DataFrame({
        "opd": np.r_[existing_opd, np.repeat(opd, never_n)],
        "nik": np.r_[people.nik[existing], new_nik].astype(str),
        "nama": pl.concat([_render_names(rng, people, vocab, existing), _render_names(rng, people, vocab, lender)]),
        "birth": np.r_[people.birth[existing], new_birth],
        "male": np.r_[people.male[existing], new_male],
    })
    frame = frame[rng.permutation(frame.height)]
    codes = pl.Series([f"OPD-{i + 1:02d}" for i in range(len(names))])
    roster = pl.DataFrame({
        "kode_opd": codes.gather(frame["opd"].to_numpy()),
        "nama_opd": pl.Series([f"{o} Kota Kendari" if not o.startswith(("RSUD", "Puskesmas")) else o
                               for o in names]).gather(frame["opd"].to_numpy()),
        "nik": frame["nik"], "nama": frame["nama"],
        "tanggal_lahir": _render_dates(frame["birth"].to_numpy(), np.zeros(frame.height, np.int8)),
        "jenis_kelamin": np.where(frame["male"].to_numpy(), "L", "P"),
        "jabatan": np.array(JABATAN)[rng.integers(0, len(JABATAN), frame.height)],
    })
    summary = {
        "opd": len(names), "staff_on_roster": int(total_n.sum()), "staff_covered": int(covered_n.sum()),
        "staff_never_registered": n_new, "opd_all_staff_covered": len(OPD_REGISTERED),
        "staff_of_opd_all_covered": int(registered.sum()),
        "by_opd": {f"OPD-{i + 1:02d}": {"nama_opd": names[i], "staff": int(total_n[i]), "covered": int(covered_n[i])}
                   for i in opd},
    }
    return roster, summary


def _write(frame: pl.DataFrame, stem: Path, how: str, d: date) -> None:
    """One file per source: the other format's file, if an earlier run left one, is removed."""
    for ext in (".csv", ".xlsx"):
        stem.with_suffix(ext).unlink(missing_ok=True)
    if how == "xlsx":
        import xlsxwriter

        with xlsxwriter.Workbook(stem.with_suffix(".xlsx")) as workbook:
            workbook.set_properties({"created": datetime(d.year, d.month, d.day)})  # reproducible bytes
            frame.write_excel(workbook, worksheet=stem.name, autofit=False)
    else:
        frame.write_csv(stem.with_suffix(".csv"), separator=";" if how == "csv;bom" else ",",
                        include_bom=how == "csv;bom")


# --- truth -----------------------------------------------------------------------------------------

def _attribute_regions(ref: _Reference, people: _People, rows: dict[str, _Rows]) -> pl.DataFrame:
    """Each person's region by the contract: domicile of the most recent active registration that has one,
    else the district in the NIK; computed from the clean values."""
    n = len(people.group)
    person = np.concatenate([rows[s].person for s in WORKER_SOURCES])
    active = np.concatenate([rows[s].active for s in WORKER_SOURCES])
    start = np.concatenate([rows[s].start for s in WORKER_SOURCES])
    domicile = np.concatenate([rows[s].domicile for s in WORKER_SOURCES])
    segment = np.concatenate([np.full(len(rows[s].person), BIT[s]) for s in WORKER_SOURCES])
    seg_mask = np.zeros(n, np.int64)
    np.bitwise_or.at(seg_mask, person[active], segment[active])
    has = np.flatnonzero(active & (domicile >= 0))
    order = has[np.lexsort((-start[has], person[has]))]
    _, first = np.unique(person[order], return_index=True)
    village = np.full(n, -1)
    village[person[order[first]]] = domicile[order[first]]
    covered = seg_mask > 0
    by_village = village >= 0
    region = np.where(by_village, ref.village_codes.gather(np.maximum(village, 0)).to_numpy(),
                      ref.district_codes.gather(people.nik_district).to_numpy())
    district = np.where(by_village, ref.district_codes.gather(ref.village_district[np.maximum(village, 0)]).to_numpy(),
                        ref.district_codes.gather(people.nik_district).to_numpy())
    names = np.array(["", "PU", "BPU", "BPU+PU", "JAKON", "JAKON+PU", "BPU+JAKON", "BPU+JAKON+PU"])
    segments = names[seg_mask]
    year, _, _ = _ymd(people.birth)
    return pl.DataFrame({
        "person_id": np.arange(1, n + 1),
        "nik": people.nik.astype(str),
        "nik_collision": people.collision,
        "sex": np.where(people.male, "L", "P"),
        "birth_date": pl.Series(people.birth.astype(np.int32)).cast(pl.Date),
        "birth_year": year,
        "home_village": ref.village_codes.gather(people.home),
        "nik_district": ref.district_codes.gather(people.nik_district),
        "covered": covered,
        "segments": pl.Series(segments).replace("", None),
        "region_code": pl.DataFrame({"r": region, "c": covered}).select(pl.when("c").then("r")).to_series(),
        "region_level": pl.DataFrame({"v": by_village, "c": covered}).select(
            pl.when(pl.col("c")).then(pl.when(pl.col("v")).then(pl.lit("village")).otherwise(pl.lit("district")))
        ).to_series(),
        "district_code": pl.DataFrame({"r": district, "c": covered}).select(pl.when("c").then("r")).to_series(),
        "in_area": pl.Series(covered & np.char.startswith(region.astype(str), AREA_CODE + ".")),
    })


def _summary(d, ref, people, persons, records, target, employers, projects, cutoff, registry, eligible_per_village,
             seed, scale, formats) -> dict:
    covered = persons.filter(pl.col("covered"))
    inside = covered.filter(pl.col("in_area"))
    ok = records.filter(pl.col("usable"))
    active = ok.filter(pl.col("active"))
    active_people = active.join(persons.select("person_id", "in_area"), on="person_id")

    def per_segment(frame: pl.DataFrame) -> dict:
        return {SEGMENT[s]: frame.filter(pl.col("source") == s)["person_id"].n_unique() for s in WORKER_SOURCES}

    seg_counts = covered.group_by("segments").len().sort("segments")
    exclusive = {seg: int(covered.filter(pl.col("segments") == seg).height) for seg in ("PU", "BPU", "JAKON")}
    by_district = inside.group_by("district_code").len().sort("district_code")
    by_village = inside.filter(pl.col("region_level") == "village").group_by("region_code").len().sort("region_code")
    kendari_codes = ref.village_codes.gather(ref.kendari_villages).to_list()
    eligible_villages = dict(zip(kendari_codes, eligible_per_village.tolist()))
    village_pct = [n / eligible_villages[c] * 100 for c, n in by_village.iter_rows() if eligible_villages.get(c)]
    eligible = int(target["eligible_workforce"])
    inside_n = inside.height
    return {
        "snapshot_date": d.isoformat(),
        "area_code": AREA_CODE,
        "civil_registry_file": f"civil_registry/workforce_{cutoff.isoformat()}.csv",
        "civil_registry_cutoff": cutoff.isoformat(),
        "eligible_workforce": eligible,
        "covered_workers": inside_n,
        "uncovered_workers": eligible - inside_n,
        "coverage_pct": inside_n / eligible * 100,
        "covered_outside_area": covered.height - inside_n,
        "registrations": {s: int((records["source"] == s).sum()) for s in WORKER_SOURCES},
        "usable_rows": {s: int((ok["source"] == s).sum()) for s in WORKER_SOURCES},
        "unusable_rows": {**{s: int(((records["source"] == s) & ~records["usable"]).sum()) for s in WORKER_SOURCES},
                          "employers": 0, "jakon_projects": 0},
        "unusable_reasons": dict(sorted(records.filter(~pl.col("usable")).group_by("defect").len().iter_rows())),
        "active_registrations": {SEGMENT[s]: int((active["source"] == s).sum()) for s in WORKER_SOURCES},
        "active_workers": per_segment(active_people),
        "active_workers_in_area": per_segment(active_people.filter(pl.col("in_area"))),
        "exclusive_workers": exclusive,
        "segment_overlap": {k: v for k, v in seg_counts.iter_rows()},
        "workers_active_in_several_segments": covered.filter(pl.col("segments").str.contains("+", literal=True)).height,
        "persons": int(records["person_id"].n_unique()),
        "persons_without_active_registration": int(persons.height - covered.height),
        "covered_by_district": {k: v for k, v in by_district.iter_rows()},
        "covered_attributed_to_district_only": int(inside.filter(pl.col("region_level") == "district").height),
        "covered_by_village": {k: v for k, v in by_village.iter_rows()},
        "eligible_by_village": eligible_villages,
        "village_coverage_pct_range": [min(village_pct), max(village_pct)] if village_pct else None,
        "nik_issues": dict(sorted(records.group_by("nik_issue").len().iter_rows())),
        "nik_collision_pairs": int(people.collision.sum()),
        "birth_date_issues": int(records["birth_date_issue"].sum()),
        "employers": employers.height,
        "employers_by_type": dict(sorted(employers.group_by("jenis_pemberi_kerja").len().iter_rows())),
        "jakon_projects": projects.height,
        "civil_registry_rows": registry.height,
        "seed": seed,
        "scale": scale,
        "formats": formats,
    }
