"""The dirt real extracts carry, injected into the sample's rows: each row's own way of writing dates
(YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY), money (3500000, 3.500.000, Rp 3.500.000) and village codes (dotted or
10 digits); NIKs mistyped, transposed, missing or in spreadsheet notation; birth dates off; and rows no
pipeline can use (copies of real registrations with one clear defect each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from sample.draws import take, ymd

if TYPE_CHECKING:
    from sample.registrations import Rows

# NIK dirt per row: one-digit typo, transposed neighbours, missing, spreadsheet scientific notation.
NIK_DIRT = (("typo", 0.018), ("transposed", 0.012), ("missing", 0.02), ("scientific", 0.002))
DOB_DIRT = 0.015  # birth date on the row differs from the person's
NIK_ISSUE_NAMES = ("none", "typo", "transposed", "missing", "scientific")  # the codes 0-4 of a row's NIK issue

# --- how a row writes dates, money and codes ----------------------------------------------------------

def render_dates(day_numbers: np.ndarray, fmt: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    """Dates as text: YYYY-MM-DD (fmt 0), DD/MM/YYYY (1) or DD-MM-YYYY (2); empty where missing."""
    frame = pl.DataFrame({"d": pl.Series(day_numbers.astype(np.int32)).cast(pl.Date), "f": fmt.astype(np.int8),
                          "m": np.zeros(len(day_numbers), bool) if missing is None else missing})
    d = pl.col("d")
    text = (pl.when(pl.col("f") == 1).then(d.dt.strftime("%d/%m/%Y"))
            .when(pl.col("f") == 2).then(d.dt.strftime("%d-%m-%Y"))
            .otherwise(d.dt.strftime("%Y-%m-%d")))
    return frame.select(pl.when(~pl.col("m")).then(text)).to_series()


def render_money(amount: np.ndarray, style: np.ndarray) -> pl.Series:
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


def render_codes(codes: pl.Series, idx: np.ndarray, plain: np.ndarray) -> pl.Series:
    """Village codes dotted (74.71.01.1005) or, where plain, as 10 digits; empty where idx < 0."""
    dotted = take(codes, idx)
    return pl.DataFrame({"c": dotted, "p": plain}).select(
        pl.when(pl.col("p")).then(pl.col("c").str.replace_all(".", "", literal=True)).otherwise(pl.col("c"))
    ).to_series()


def row_styles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: date format, money style, plain village codes; a row keeps one style throughout."""
    date_fmt = rng.choice(3, size=n, p=[0.85, 0.10, 0.05])
    money = rng.choice(3, size=n, p=[0.80, 0.12, 0.08])
    plain = rng.random(n) < 0.25
    return date_fmt, money, plain



# --- NIK dirt --------------------------------------------------------------------------------------

def nik_issues(rng: np.random.Generator, n: int) -> np.ndarray:
    """0 clean, 1 typo, 2 transposed, 3 missing, 4 scientific notation."""
    p = [w for _, w in NIK_DIRT]
    return rng.choice(5, n, p=[1 - sum(p)] + p)


def render_niks(rng: np.random.Generator, nik: np.ndarray, issue: np.ndarray) -> tuple[pl.Series, np.ndarray]:
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


def render_births(rng: np.random.Generator, birth: np.ndarray, fmt: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Birth dates as written: mostly the true one, sometimes day and month swapped or a year off."""
    n = len(birth)
    year, month, day = ymd(birth)
    off = rng.random(n) < DOB_DIRT
    can_swap = (day <= 12) & (day != month)
    swapped_days = (np.array(year - 1970, "datetime64[Y]").astype("datetime64[M]")
                    + (day - 1).astype("timedelta64[M]")).astype("datetime64[D]") + (month - 1).astype("timedelta64[D]")
    shifted = birth + np.where(rng.random(n) < 0.5, -365, 365)
    written = np.where(off, np.where(can_swap, swapped_days.astype(np.int64), shifted), birth)
    return render_dates(written, fmt), off



def draw_nik_issues(rng: np.random.Generator, rows: dict[str, Rows], keep_clean: np.ndarray) -> dict[str, np.ndarray]:
    """NIK issue codes per row of each source; whoever `keep_clean` marks (people placed by their NIK district)
    keeps at least one clean NIK, on an active row, to be placed by."""
    issues = {s: nik_issues(rng, len(r.person)) for s, r in rows.items()}
    all_person = np.concatenate([r.person for r in rows.values()])
    all_issue = np.concatenate(list(issues.values()))
    all_active = np.concatenate([r.active for r in rows.values()])
    clean_count = np.bincount(all_person[all_issue == 0], minlength=len(keep_clean))
    fix_people = keep_clean & (clean_count == 0)
    candidates = np.flatnonzero(fix_people[all_person] & all_active)
    _, first = np.unique(all_person[candidates], return_index=True)
    all_issue[candidates[first]] = 0
    bounds = np.cumsum([0] + [len(r.person) for r in rows.values()])
    return {s: all_issue[bounds[i]:bounds[i + 1]] for i, s in enumerate(rows)}


# --- rows no pipeline can use ----------------------------------------------------------------------

BAD_DATES = ("31/02/2024", "2024-02-30", "30-02-2023", "2024-13-01", "00/00/0000")
UNUSABLE_KINDS = {
    "pu_workers": ("missing_kpj", "invalid_tanggal_mulai", "unknown_npp"),
    "bpu_participants": ("missing_kpj", "invalid_tanggal_daftar", "invalid_iuran_dibayar_sampai"),
    "jakon_workers": ("unknown_nomor_proyek", "missing_nomor_proyek"),
}


def add_unusable(rng, source: str, frame: pl.DataFrame, truth: pl.DataFrame, n: int, kpj, unknown_npp: np.ndarray,
                 unknown_project: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Extra rows no pipeline can use: copies of real registrations, each with one clear defect.

    kpj: the spare numbers the copies get (PU and BPU); unknown_npp, unknown_project: numbers that are no
    employer's, no project's."""
    unknown_npp = pl.Series(unknown_npp.astype(str))
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

