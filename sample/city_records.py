"""What the city holds beside BPJS Ketenagakerjaan's registrations: the Dukcapil workforce aggregate (residents
per Kendari village, KTP occupation and sex, published per semester) and the roster of the OPD's non-ASN staff
(opd_non_asn.csv, optional)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from sample.dirt import render_codes, render_dates
from sample.draws import apportion, round_half_up
from sample.kendari import AREA_CODE, Reference
from sample.people import People, make_niks, render_names

# The offices (OPD) of Pemkot Kendari; they are also employers (instansi_pemerintah).
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


def registry_cutoff(snapshot_date: date) -> date:
    """Dukcapil publishes per semester: the newest 30 June or 31 December on or before the snapshot."""
    for cutoff in (date(snapshot_date.year, 12, 31), date(snapshot_date.year, 6, 30)):
        if cutoff <= snapshot_date:
            return cutoff
    return date(snapshot_date.year - 1, 12, 31)


def covered_per_village(ref: Reference, people: People) -> np.ndarray:
    """The people covered in Kendari living in each Kendari village (a chunked run sums them over its blocks)."""
    kendari = ref.kendari_villages
    return np.bincount(np.searchsorted(kendari, people.home[(people.group == 0)]), minlength=len(kendari))


def civil_registry(rng: np.random.Generator, ref: Reference, eligible: int,
                   covered_home: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Dukcapil residents per Kendari village, KTP occupation and sex; eligible sums exactly to `eligible`.

    A village's eligible workforce follows its covered workers (covered_home: covered_per_village) with its own
    coverage rate, so rates vary (roughly 20-50%) but stay well under 100%.
    """
    kendari = ref.kendari_villages
    rate = rng.uniform(0.65, 1.75, len(kendari))
    per_village = apportion(eligible, (covered_home + 1) / rate)
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
    codes = render_codes(ref.village_codes, kendari[frame["v"].to_numpy()], plain[frame["v"].to_numpy()])
    out = frame.select(pl.Series("kode_wilayah", codes), "pekerjaan", pl.col("s").alias("jenis_kelamin"),
                       pl.col("n").cast(pl.String).alias("jumlah"))
    return out, per_village



def opd_roster_frame(rng: np.random.Generator, ref: Reference, people: People, vocab: list[str], records: pl.DataFrame,
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
    registered = apportion(round_half_up(OPD_CALIBRATION["staff_registered"] * scale),
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
    new_nik = make_niks(ref.district_int[new_district], new_birth, new_male) + 9000

    frame = pl.DataFrame({
        "opd": np.r_[existing_opd, np.repeat(opd, never_n)],
        "nik": np.r_[people.nik[existing], new_nik].astype(str),
        "nama": pl.concat([render_names(rng, people, vocab, existing), render_names(rng, people, vocab, lender)]),
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
        "tanggal_lahir": render_dates(frame["birth"].to_numpy(), np.zeros(frame.height, np.int8)),
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

