"""The people of the sample: who they are (covered in Kendari, covered outside, registered but nowhere active),
their sex, birth date, home village, NIK and name, and how each record spells that name.

A name is drawn once per person as parts (titles, La Ode/Wa Ode, Muhammad/Siti, given names, family name) from
the naming customs of Kendari's ethnic groups; every record then writes it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from sample.draws import days, pick_by_weight, round_half_up, shift_years, take, weighted, ymd
from sample.kendari import AREA_CODE, Reference

# Active segment combinations of covered people (bit mask PU=1, BPU=2, JAKON=4) and their shares.
ACTIVE_COMBOS = np.array([1, 2, 4, 3, 6, 5, 7])
ACTIVE_COMBO_P = np.array([0.62, 0.20, 0.07, 0.05, 0.03, 0.025, 0.005])

# --- names (as the people of Kendari are named) ---------------------------------------------------
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

# --- the population --------------------------------------------------------------------------------

@dataclass
class People:
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


def draw_people(rng: np.random.Generator, ref: Reference, inside: int, outside: int, uncovered: int, d: date,
                scale: float, serials: NikSerials | None = None,
                collision_pairs: int | None = None) -> tuple[People, list[str]]:
    """The people: `serials` (a block of a chunked run) carries the NIK serials already issued in earlier blocks;
    `collision_pairs` (default: 6 per unit of scale) is this block's share of the NIKs issued twice."""
    n = inside + outside + uncovered
    group = np.repeat(np.array([0, 1, 2], np.int8), [inside, outside, uncovered])
    combo = np.where(group < 2, ACTIVE_COMBOS[rng.choice(len(ACTIVE_COMBOS), n, p=ACTIVE_COMBO_P)], 0)
    primary = np.where(group == 2, np.array([1, 2, 4])[rng.choice(3, n, p=[0.5, 0.4, 0.1])], 0)
    construction = ((combo & 4) > 0) | (primary == 4)
    male = rng.random(n) < np.where(construction, 0.95, 0.60)

    # ages 18-64 at D, most of them 25-45
    earliest = days(shift_years(d, -65)) + 1
    latest = days(shift_years(d, -18)) - 60
    birth = earliest + np.floor(rng.beta(2.2, 3.0, n) * (latest - earliest + 1)).astype(np.int64)

    # where people live: Kendari villages carry uneven weights; outside people mostly in Konawe and Konawe Selatan
    kendari = ref.kendari_villages
    village_weight = rng.gamma(2.5, 1.0, len(kendari))
    near = np.flatnonzero(np.isin(ref.village_regency, ["74.02", "74.05"]))
    elsewhere = np.flatnonzero((ref.village_regency != AREA_CODE) & ~np.isin(ref.village_regency, ["74.02", "74.05"]))
    home_kendari = kendari[weighted(rng, village_weight, n)]
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

    nik = (make_niks(ref.district_int[nik_district], birth, male) if serials is None
           else serials.issue(ref.district_int[nik_district], nik_district, birth, male))

    # a handful of NIKs issued twice: B's records carry A's NIK (both live and registered in Kendari)
    pool = np.flatnonzero((group == 0) & (ref.district_regency[nik_district] == AREA_CODE))
    pairs = max(1, round_half_up(6 * scale)) if collision_pairs is None else collision_pairs
    pairs = min(pairs, len(pool) // 2)
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
    name, vocab = draw_names(rng, ethnic, male, birth, days(d))
    return People(group, combo, primary, male, birth, home, nik_district, nik, collision, need_domicile, name), vocab


def make_niks(district6: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
    """district(6) + DDMMYY (women: day + 40) + serial(4), serials counting up within each prefix."""
    year, month, day = ymd(birth)
    prefix = district6 * 1_000_000 + (day + np.where(male, 0, 40)) * 10_000 + month * 100 + year % 100
    order = np.argsort(prefix, kind="stable")
    sorted_prefix = prefix[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_prefix)) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(prefix)]))
    serial = np.empty(len(prefix), np.int64)
    serial[order] = np.arange(len(prefix)) - group_start + 1
    return prefix * 10_000 + serial


class NikSerials:
    """The NIK serials issued so far per prefix (district, birth date, sex), carried from block to block of a chunked
    run so that every block's people get NIKs nobody in an earlier block holds. A dense counter over the prefixes
    the people can have (districts x birth dates of ages 18-65 x sex: about 7.5 million int32, 30 MB): it grows
    with the reference, never with the population."""

    def __init__(self, n_districts: int, d: date):
        self.first = days(shift_years(d, -65)) + 1  # the earliest birth date draw_people draws
        self.span = days(shift_years(d, -18)) - 60 - self.first + 1
        self.issued = np.zeros(n_districts * self.span * 2, np.int32)

    def issue(self, district6: np.ndarray, district: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
        """NIKs as make_niks writes them, the serials counting on from what earlier blocks issued."""
        key = (district.astype(np.int64) * self.span + (birth - self.first)) * 2 + male
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
        group_start = np.repeat(starts, np.diff(np.r_[starts, len(key)]))
        serial = np.empty(len(key), np.int64)
        serial[order] = np.arange(len(key)) - group_start + 1
        serial += self.issued[key]
        self.issued[sorted_key[starts]] += np.diff(np.r_[starts, len(key)]).astype(np.int32)
        if len(serial) and serial.max() > 9999:
            raise ValueError("more than 9,999 people share a NIK prefix (district, birth date, sex)")
        year, month, day = ymd(birth)
        prefix = district6 * 1_000_000 + (day + np.where(male, 0, 40)) * 10_000 + month * 100 + year % 100
        return prefix * 10_000 + serial


def draw_names(rng: np.random.Generator, ethnic: np.ndarray, male: np.ndarray, birth: np.ndarray,
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


def render_names(rng: np.random.Generator, people: People, vocab: list[str], person: np.ndarray) -> pl.Series:
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
    muh = np.where(p["muh"] >= 0, muh_base + pick_by_weight(rng, MUH_FORMS, n), -1)
    siti = np.where(p["siti"] >= 0, siti_base + pick_by_weight(rng, SITI_FORMS, n), -1)
    given2 = np.where(rng.random(n) < 0.05, -1, p["given2"])
    family = np.where(rng.random(n) < 0.05, -1, p["family"])
    with_title = rng.random((n, 3)) < np.array([0.6, 0.7, 0.5])
    frame = pl.DataFrame({
        "haji": take(words, np.where(with_title[:, 0], p["haji"], -1)),
        "prof": take(words, np.where(with_title[:, 1], p["prof"], -1)),
        "suffix": take(words, np.where(with_title[:, 2], p["suffix"], -1)),
        "noble": take(words, noble), "muh": take(words, muh), "siti": take(words, siti),
        "given1": take(words, p["given1"]), "given2": take(words, given2), "family": take(words, family),
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

