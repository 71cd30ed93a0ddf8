"""BPJS Ketenagakerjaan's side of the sample: employers (PU), construction projects (JAKON), and the registrations
of the three worker segments (PU workers, BPU participants, JAKON workers), each active or not at the snapshot
date by the rules the pipeline applies, and the rows the source systems write for them.

Drawing (`draw_registrations`: who is registered where, with which dates) is apart from writing the rows
(`registration_frame`, `employers_frame`, `projects_frame`), where each row also gets its dirt (sample.dirt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from sample.city_records import OPD
from sample.dirt import render_births, render_codes, render_dates, render_money, render_niks, row_styles
from sample.draws import (blank_to_null, days, month_end, pick_by_weight, pick_per_row, round_half_up,
                          unique_numbers, weighted, ymd)
from sample.kendari import Reference
from sample.people import People, render_names

WORKER_SOURCES = ("pu_workers", "bpu_participants", "jakon_workers")
SEGMENT = {"pu_workers": "PU", "bpu_participants": "BPU", "jakon_workers": "JAKON"}
BIT = {"pu_workers": 1, "bpu_participants": 2, "jakon_workers": 4}
# Rows per segment: a few people hold two active registrations at once; some rows leave the domicile empty.
SECOND_ACTIVE = {"pu_workers": 0.03, "bpu_participants": 0.01, "jakon_workers": 0.03}  # two active rows at once
EMPTY_DOMICILE = {"pu_workers": 0.30, "bpu_participants": 0.0, "jakon_workers": 0.50}

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

PROJECT_WORKS = ("Pembangunan Gedung Kantor", "Peningkatan Jalan", "Rehabilitasi Drainase", "Pembangunan Jembatan",
                 "Rehabilitasi Puskesmas", "Pembangunan Ruang Kelas Baru", "Revitalisasi Pasar", "Pembangunan Talud",
                 "Pemeliharaan Jalan", "Pembangunan Perumahan", "Pembangunan Masjid", "Penataan Kawasan Kumuh")

# --- employers and projects ------------------------------------------------------------------------

@dataclass
class Employers:
    npp: np.ndarray  # int64
    kind: np.ndarray  # 0 swasta, 1 bumn, 2 bumd, 3 instansi_pemerintah
    size: np.ndarray  # 0 mikro, 1 kecil, 2 menengah, 3 besar
    active: np.ndarray
    registered: np.ndarray  # days
    village: np.ndarray
    contractor: np.ndarray
    weight: np.ndarray  # how many workers it draws
    unknown_npp: np.ndarray  # numbers that are nobody's npp, for unusable rows


def draw_employers(rng: np.random.Generator, ref: Reference, scale: float, d: date, spare: int) -> Employers:
    n = max(20, round_half_up(3000 * scale))
    n_inst, n_bumn, n_bumd = (max(2, round_half_up(60 * scale)), max(1, round_half_up(40 * scale)),
                              max(1, round_half_up(15 * scale)))
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
    numbers = unique_numbers(rng, n + spare, 10_000_000, 99_999_999)
    registered = days(d) - 30 - (rng.random(n) * (days(d) - 30 - days(date(1995, 1, 1)))).astype(np.int64)
    kendari = ref.kendari_villages
    village = np.where(rng.random(n) < 0.93, kendari[rng.integers(0, len(kendari), n)],
                       rng.integers(0, len(ref.village_codes), n))
    contractor = (kind == 0) & (rng.random(n) < 0.06)
    contractor[np.flatnonzero(kind == 0)[0]] = True
    return Employers(numbers[:n], kind, size, active, registered, village, contractor, weight, numbers[n:])


@dataclass
class Projects:
    number: pl.Series
    status: np.ndarray  # 0 running at D, 1 ended, 2 not started
    start: np.ndarray
    end: np.ndarray
    weight: np.ndarray
    unknown: pl.Series  # numbers that are no project's, for unusable rows
    value: np.ndarray  # contract value, rupiah


def draw_projects(rng: np.random.Generator, scale: float, d: date, spare: int) -> Projects:
    n = max(6, round_half_up(400 * scale))
    n_run, n_future = max(2, round_half_up(0.45 * n)), max(1, round_half_up(0.10 * n))
    status = np.repeat(np.array([0, 2, 1], np.int8), [n_run, n_future, n - n_run - n_future])[rng.permutation(n)]
    today = days(d)
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
    year = ymd(start)[0]
    seq = unique_numbers(rng, n + spare, 1, 999_999)
    numbers = pl.DataFrame({"y": np.r_[year, np.full(spare, year.max())], "s": seq}).select(
        pl.format("JK-{}-{}", pl.col("y"), pl.col("s").cast(pl.String).str.zfill(6))).to_series()
    weight = np.sqrt(value / 1e6) * rng.lognormal(0, 0.3, n)
    return Projects(numbers[:n], status, start, end, weight, numbers[n:], value)


# --- registrations ---------------------------------------------------------------------------------

@dataclass
class Rows:
    person: np.ndarray
    active: np.ndarray  # intended activity; checked against the rules when the dates are drawn
    kind: np.ndarray  # 0 active, 1 second active, 2 the one lapsed row of an uncovered person, 3 history
    start: np.ndarray | None = None  # date of the registration that "most recent" is judged by
    domicile: np.ndarray | None = None  # village index, -1 = empty


def allocate(rng: np.random.Generator, people: People, source: str, usable_rows: int) -> Rows:
    """Rows of one segment: an active row per person active there (a few hold two), the rest inactive."""
    bit = BIT[source]
    holders = np.flatnonzero((people.combo & bit) > 0)
    second = rng.choice(holders, round_half_up(SECOND_ACTIVE[source] * len(holders)), replace=False)
    active_people = np.r_[holders, second]
    lapsed = np.flatnonzero(people.primary == bit)
    spare = usable_rows - len(active_people) - len(lapsed)
    if spare < 0:
        raise ValueError(f"{source}: {usable_rows} rows cannot hold {len(active_people)} active and "
                         f"{len(lapsed)} lapsed registrations; the scale is too small")
    weight = np.where(((people.combo & bit) > 0) | (people.primary == bit), 1.0, 0.3)
    if bit == 4:
        weight = weight * np.where(people.male, 1.0, 0.1)
    history = weighted(rng, weight, spare)
    person = np.r_[active_people, lapsed, history]
    active = np.r_[np.ones(len(active_people), bool), np.zeros(len(lapsed) + spare, bool)]
    kind = np.repeat(np.array([0, 1, 2, 3], np.int8), [len(holders), len(second), len(lapsed), spare])
    return Rows(person, active, kind)


def draw_domiciles(rng: np.random.Generator, ref: Reference, people: People, rows: Rows, source: str) -> np.ndarray:
    """Active rows give the current village; older rows sometimes a previous Kendari address."""
    n = len(rows.person)
    kendari = ref.kendari_villages
    previous = kendari[rng.integers(0, len(kendari), n)]
    village = np.where(rows.active | (rng.random(n) < 0.8), people.home[rows.person], previous)
    empty = rng.random(n) < EMPTY_DOMICILE[source]
    # someone whose NIK district lies on the other side of the area line has a domicile on an active row
    empty &= ~(rows.active & people.need_domicile[rows.person])
    return np.where(empty, -1, village)


def draw_pu_dates(rng: np.random.Generator, people: People, emp: Employers, rows: Rows, d: date) -> dict:
    n, today = len(rows.person), days(d)
    active_emp = np.flatnonzero(emp.active)
    employer = np.where(rows.active, active_emp[weighted(rng, emp.weight[active_emp], n)],
                        weighted(rng, emp.weight * np.where(emp.active, 1.0, 3.0), n))
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


def draw_bpu_dates(rng: np.random.Generator, people: People, rows: Rows, d: date) -> dict:
    n, today = len(rows.person), days(d)
    floor = people.birth[rows.person] + 6575 + 30
    ahead = rng.choice(12, n, p=np.array([45, 20, 10, 6, 5, 4, 2, 2, 2, 2, 1, 1]) / 100)
    paid_ahead = np.where(rng.random(n) < 0.03, today, month_end(np.full(n, today), ahead))
    paid_lapsed = month_end(np.full(n, today), -1 - np.minimum(rng.geometric(0.12, n) - 1, 35))
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
                    np.where(variant == 3, month_end(registered_future, 1), np.maximum(paid_lapsed, registered)))
    aktif = rows.active | (variant == 0) | (variant == 3)
    rule = aktif & (registered <= today) & (paid >= today)
    assert np.array_equal(rule, rows.active), "BPU dates break the active rule"
    rows.start = registered
    return {"registered": registered, "paid": paid, "aktif": aktif}


def draw_jakon_projects(rng: np.random.Generator, proj: Projects, rows: Rows, d: date) -> np.ndarray:
    """A project per JAKON row: running ones for active rows, ended or future ones for the rest.

    Nobody is listed twice on one project (that would be one registration sent twice): a later row that
    repeats a (person, project) pair draws again, its project and, for history rows, its person.
    """
    n, today = len(rows.person), days(d)
    running, other = np.flatnonzero(proj.status == 0), np.flatnonzero(proj.status != 0)
    other_weight = proj.weight[other] * np.where(proj.status[other] == 1, 1.0, 0.3)

    def draw(active: np.ndarray) -> np.ndarray:
        k = len(active)
        return np.where(active, running[weighted(rng, proj.weight[running], k)], other[weighted(rng, other_weight, k)])

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


@dataclass
class Registrations:
    """Everything drawn on BPJS's side before a row is written."""
    employers: Employers
    projects: Projects
    rows: dict[str, Rows]  # per worker source
    pu: dict  # per PU row: employer, start, stop, aktif
    bpu: dict  # per BPU row: registered, paid, aktif
    jakon_project: np.ndarray  # per JAKON row: index into the projects


def draw_registrations(rng: np.random.Generator, ref: Reference, people: People, usable_rows: dict[str, int],
                       unusable: dict[str, int], d: date, scale: float) -> Registrations:
    """Employers, projects and the usable registrations of each worker source; `unusable` reserves the
    numbers (npp, nomor_proyek) that the unusable rows will carry and nobody holds."""
    emp = draw_employers(rng, ref, scale, d, spare=unusable["pu_workers"])
    proj = draw_projects(rng, scale, d, spare=unusable["jakon_workers"])
    return draw_rows(rng, ref, people, emp, proj, usable_rows, d)


def draw_rows(rng: np.random.Generator, ref: Reference, people: People, emp: Employers, proj: Projects,
              usable_rows: dict[str, int], d: date) -> Registrations:
    """The usable registrations of each worker source of these people with these employers and projects (a block
    of a chunked run draws its people's rows against the employers and projects of the whole area)."""
    rows = {s: allocate(rng, people, s, usable_rows[s]) for s in WORKER_SOURCES}
    pu = draw_pu_dates(rng, people, emp, rows["pu_workers"], d)
    bpu = draw_bpu_dates(rng, people, rows["bpu_participants"], d)
    jakon_project = draw_jakon_projects(rng, proj, rows["jakon_workers"], d)
    for s in WORKER_SOURCES:
        rows[s].domicile = draw_domiciles(rng, ref, people, rows[s], s)
    return Registrations(emp, proj, rows, pu, bpu, jakon_project)



# --- the rows as the source systems write them -----------------------------------------------------

def registration_frame(rng: np.random.Generator, source: str, reg: Registrations, people: People, vocab: list[str],
                       ref: Reference, nik_issue: np.ndarray) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The rows of one worker source as written (without kpj), with the NIK issue each row really got and
    whether its birth date is off. Each row keeps one date, money and code style throughout."""
    r = reg.rows[source]
    date_fmt, money_style, plain = row_styles(rng, len(r.person))
    births, dob_off = render_births(rng, people.birth[r.person], date_fmt)
    niks, nik_issue = render_niks(rng, people.nik[r.person], nik_issue)
    common = {
        "nik": niks,
        "nama": render_names(rng, people, vocab, r.person),
        "tanggal_lahir": births,
        "jenis_kelamin": pl.Series(np.where(people.male[r.person], "L", "P")),
    }
    domicile = render_codes(ref.village_codes, r.domicile, plain)
    if source == "pu_workers":
        frame = pu_frame(rng, reg.employers, r, reg.pu, common, domicile, date_fmt, money_style)
    elif source == "bpu_participants":
        frame = bpu_frame(rng, r, reg.bpu, common, domicile, date_fmt, money_style)
    else:
        frame = pl.DataFrame({"nomor_proyek": reg.projects.number.gather(reg.jakon_project), **common,
                              "kode_wilayah_domisili": domicile})
    return frame, nik_issue, dob_off


KPJ_RANGE = (10_000_000_000, 99_999_999_999)


def assign_kpj(rng: np.random.Generator, frames: dict[str, pl.DataFrame], unusable: dict[str, int],
               kpj_range: tuple[int, int] = KPJ_RANGE) -> tuple[dict[str, pl.DataFrame], dict[str, np.ndarray]]:
    """kpj for the PU and BPU rows, unique across both, and the spare ones the unusable copies will carry; all in
    kpj_range (a block of a chunked run has its own part of the range, so kpj stay unique across blocks)."""
    n_pu, n_bpu = len(frames["pu_workers"]), len(frames["bpu_participants"])
    kpj = unique_numbers(rng, n_pu + n_bpu + unusable["pu_workers"] + unusable["bpu_participants"],
                         *kpj_range).astype(str)
    spare_pu, spare_bpu = np.split(kpj[n_pu + n_bpu:], [unusable["pu_workers"]])
    frames = {**frames,
              "pu_workers": frames["pu_workers"].with_columns(pl.Series("kpj", kpj[:n_pu])),
              "bpu_participants": frames["bpu_participants"].with_columns(pl.Series("kpj", kpj[n_pu:n_pu + n_bpu]))}
    return frames, {"pu_workers": spare_pu, "bpu_participants": spare_bpu}


def pu_frame(rng, emp: Employers, r: Rows, pu: dict, common: dict, domicile: pl.Series, date_fmt, money_style):
    n = len(r.person)
    employer = pu["employer"]
    size, kind = emp.size[employer], emp.kind[employer]
    wage = rng.lognormal(np.log(3.4e6), 0.35, n) * np.array([0.75, 0.9, 1.05, 1.3])[size]
    wage = np.where(kind == 3, rng.lognormal(np.log(2.2e6), 0.25, n), wage)
    wage = np.maximum(np.round(wage, -3), 500_000).astype(np.int64)
    programs = ("JKK,JKM", "JKK,JKM,JHT", "JKK,JKM,JHT,JP", "JKK,JKM,JHT,JP,JKP")
    category = np.where(kind == 3, 0, np.where(size == 0, 1, 2))
    probs = np.array([[0.70, 0.30, 0.0, 0.0], [0.15, 0.40, 0.45, 0.0], [0.0, 0.10, 0.55, 0.35]])
    program = np.array(programs)[pick_per_row(rng, probs, category)]
    program = np.where(rng.random(n) < 0.02, np.char.replace(program, ",", ", "), program)
    return pl.DataFrame({
        **common, "npp": emp.npp[employer].astype(str), "upah": render_money(wage, money_style),
        "program": program, "kode_wilayah_domisili": domicile,
        "tanggal_mulai": render_dates(pu["start"], date_fmt),
        "tanggal_berhenti": render_dates(np.maximum(pu["stop"], 0), date_fmt, missing=pu["stop"] < 0),
        "status": np.where(pu["aktif"], "aktif", "nonaktif"),
    })


def bpu_frame(rng, r: Rows, bpu: dict, common: dict, domicile: pl.Series, date_fmt, money_style):
    n = len(r.person)
    job = np.array([j for j, _ in BPU_JOBS])[pick_by_weight(rng, BPU_JOBS, n)]
    case = rng.choice(3, n, p=[0.7, 0.25, 0.05])
    job = np.where(case == 1, np.char.upper(job), np.where(case == 2, np.char.lower(job), job))
    income = np.array([1_000_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000, 5_000_000])
    income = income[rng.choice(len(income), n, p=[0.15, 0.20, 0.22, 0.15, 0.12, 0.07, 0.05, 0.04])]
    program = np.where(rng.random(n) < 0.75, "JKK,JKM", "JKK,JKM,JHT")
    return pl.DataFrame({
        **common, "pekerjaan": job, "penghasilan": render_money(income, money_style), "program": program,
        "kode_wilayah": domicile, "tanggal_daftar": render_dates(bpu["registered"], date_fmt),
        "iuran_dibayar_sampai": render_dates(bpu["paid"], date_fmt),
        "status": np.where(bpu["aktif"], "aktif", "nonaktif"),
    })


def active_rows_per_employer(emp: Employers, pu: dict) -> np.ndarray:
    """Active PU rows of each employer (a chunked run sums them over its blocks)."""
    return np.bincount(pu["employer"][pu["aktif"]], minlength=len(emp.npp))


def employers_frame(rng, ref: Reference, emp: Employers, active_rows: np.ndarray) -> pl.DataFrame:
    """The employers' file; `active_rows` (active_rows_per_employer) sizes the workforce each one declares."""
    n = len(emp.npp)
    kinds = np.array(["swasta", "bumn", "bumd", "instansi_pemerintah"])[emp.kind]
    sizes = np.array(["mikro", "kecil", "menengah", "besar"])[emp.size]
    words = np.array(COMPANY_WORDS)
    w = rng.integers(0, len(words), (n, 3))
    three = rng.random(n) < 0.4
    legal = np.array(["UD", "CV", "PT", "Koperasi", "Toko"])[
        pick_per_row(rng, np.array([[0.35, 0.35, 0.1, 0.05, 0.15], [0.15, 0.45, 0.35, 0.05, 0.0],
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
    npwp_digits = unique_numbers(rng, n, 10 ** 14, 10 ** 15 - 1).astype(str)
    style = rng.choice(4, n, p=[0.5, 0.2, 0.1, 0.2])  # punctuated 15, plain 15, 16 digits, missing
    punctuated = pl.Series(npwp_digits).str.replace(r"^(\d{2})(\d{3})(\d{3})(\d)(\d{3})(\d{3})$", "$1.$2.$3.$4-$5.$6")
    npwp = np.where(style == 0, punctuated.to_numpy(), np.where(style == 1, npwp_digits,
                    np.where(style == 2, np.char.add("0", npwp_digits), "")))
    declared = np.round(active_rows * rng.uniform(1.0, 1.6, n)).astype(np.int64) + rng.integers(0, 4, n)
    declared = np.where(emp.active, declared, np.where(rng.random(n) < 0.5, 0, declared))
    date_fmt, _, plain = row_styles(rng, n)
    return pl.DataFrame({
        "npp": emp.npp.astype(str), "nama_perusahaan": name, "npwp": blank_to_null(npwp),
        "jenis_pemberi_kerja": kinds, "kbli": blank_to_null(kbli), "skala_usaha": sizes,
        "kode_wilayah": render_codes(ref.village_codes, emp.village, plain),
        "jumlah_pekerja": declared.astype(str), "tanggal_daftar": render_dates(emp.registered, date_fmt),
        "status": np.where(emp.active, "aktif", "nonaktif"),
    })


def projects_frame(rng, ref: Reference, proj: Projects, emp: Employers) -> pl.DataFrame:
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
    year = ymd(proj.start)[0].astype(str)
    desa = ref.village_codes.gather(village).str.slice(9, 1) == "2"  # Permendagri coding: 1xxx kelurahan, 2xxx desa
    title = pl.DataFrame({"w": work, "p": place_name, "y": year, "d": desa}).select(pl.format(
        "{} {} {} TA {}", "w", pl.when("d").then(pl.lit("Desa")).otherwise(pl.lit("Kelurahan")), "p", "y")).to_series()
    date_fmt, money_style, plain = row_styles(rng, n)
    return pl.DataFrame({
        "nomor_proyek": proj.number, "nama_proyek": title, "npp": blank_to_null(npp),
        "nilai_kontrak": render_money(proj.value, money_style), "sumber_dana": fund,
        "kode_wilayah": render_codes(ref.village_codes, village, plain),
        "tanggal_mulai": render_dates(proj.start, date_fmt), "tanggal_selesai": render_dates(proj.end, date_fmt),
    })

