"""Indonesian personal names, normalised for matching: the heart of probabilistic identity.

One person's name arrives as "H. Muhammad Rizal, S.E.", "MUH. RIZAL" or "Moh Rizal". Matching
compares what is left once the name is stripped of what says nothing about who someone is:

- titles before the name (H., Hj., Dr., dr., drg., Ir., Prof., Drs., KH …) and academic degrees
  after it (S.Pd, S.E., S.H., S.Kom, S.Ked, M.M., A.Md …, with or without a comma);
- spelling of the same word: Muh./Moh./M./Muhamad/Mohammad are Muhammad, Sitti/St. is Siti,
  Laode is La Ode; old and new spelling and common slips (Syamsuddin/Samsudin, Yusuf/Yusup,
  Rahmat/Rahmad, Fatimah/Fatima, Nur Hayati/Nurhayati) share one phonetic key;
- very common leading words (La Ode, Wa Ode, La, Wa, Andi, Muhammad, Siti) are weak evidence: they
  are kept apart as the `name_prefix` and left out of the `name_key` the comparisons use, unless
  they are the whole name.

Everything is a Polars expression over whole columns: no Python loop over records. `name_table` feeds a
DuckDB table of any size through them in bounded batches, each distinct name once.
"""

from __future__ import annotations

import duckdb
import polars as pl

# Titles written before a name: haji/hajjah, doctors, engineer, professor, Drs./Dra., kiai, ustadz.
PREFIX_TITLES = ("hj", "h", "hajjah", "haji", "dr", "drg", "drh", "ir", "prof", "drs", "dra", "kh", "ust",
                 "ustadz", "ustadzah", "apt", "ns")
# Degrees written after a name without dots (with dots they are caught by shape: `s.pd`, `m.si`, `a.md`).
DOTLESS_DEGREES = ("se", "sh", "st", "spd", "spdi", "skom", "sked", "skep", "ssos", "sip", "sag", "ssi", "sth",
                   "sp", "mm", "msi", "mpd", "mkes", "mh", "mt", "amd", "ama", "mba", "msc", "bsc", "phd")
# Spellings of Muhammad and Siti (a single-letter "m" or "st" only when a name follows it).
MUHAMMAD = ("muhammad", "muhamad", "muhammed", "mohammad", "mohamad", "mohammed", "mohamed", "muhamed",
            "mochammad", "mochamad", "moch", "muh", "moh", "mhd", "mhmd", "md")
SITI = ("siti", "sitti", "sti")
# Leading words so common that sharing them says little about being the same person.
WEAK_PREFIXES = ("laode", "waode", "la", "wa", "andi", "muhammad", "siti")

_DEGREE = (r"(?:[a-z]\.[a-z]{1,5}(?:\.[a-z]{1,5})*\.?|(?:" + "|".join(DOTLESS_DEGREES) + r")\.?)")
_TITLE = r"(?:" + "|".join(PREFIX_TITLES) + r")(?:\.\s*|\s+)"
# Old Dutch-era spelling and letters that sound alike, per token (applied in this order).
_SOUNDS = ((r"sy", "s"), (r"dj", "j"), (r"tj", "c"), (r"oe", "u"), (r"kh", "k"), (r"dh", "d"), (r"th", "t"),
           (r"ph", "f"), (r"ch", "k"), (r"sh", "s"), (r"q", "k"), (r"v", "f"), (r"x", "ks"),
           (r"y\b", "i"), (r"([aiueo])h\b", "$1"), (r"d\b", "t"), (r"f\b", "p"))
_DOUBLES = [c + c for c in "abcdefghijklmnopqrstuvwxyz"]


def clean(name: pl.Expr) -> pl.Expr:
    """Lower-case words of the name without titles, degrees or punctuation; Muhammad, Siti and La Ode canonical."""
    s = name.str.normalize("NFKD").str.replace_all(r"[^\x00-\x7f]", "").str.to_lowercase()
    s = s.str.replace(r",.*$", "")  # degrees follow a comma: "rizal, s.e., m.m."
    s = s.str.replace(r"(?:\s+" + _DEGREE + r")+\s*$", "")  # or just a space: "rizal s.pd m.si"
    s = s.str.replace(r"^\s*(?:" + _TITLE + r")+", "")  # "h. dr. rizal"
    s = s.str.replace_all(r"['`’]", "").str.replace_all(r"[^a-z]+", " ").str.strip_chars()
    s = s.str.replace_all(r"\bla\s*ode\b", "laode").str.replace_all(r"\bwa\s*ode\b", "waode")
    s = s.str.replace_all(r"\b(?:" + "|".join(MUHAMMAD) + r")\b", "muhammad")
    s = s.str.replace_all(r"\bm\s+([a-z])", "muhammad $1")  # "m. rizal": an initial with a name after it
    s = s.str.replace_all(r"\b(?:" + "|".join(SITI) + r")\b", "siti").str.replace_all(r"\bst\s+([a-z])", "siti $1")
    s = s.str.replace_all(r"\babd\b", "abdul")
    s = s.str.replace_all(r"\bnur\s+([a-z])", "nur$1")  # "nur hayati" is "nurhayati"
    return pl.when(s != "").then(s)


def _key_words(words: pl.Expr) -> pl.Expr:
    """Phonetic key of space-separated words: spelling variants of one name share it."""
    for pattern, repl in _SOUNDS:
        words = words.str.replace_all(pattern, repl)
    return words.str.replace_many(_DOUBLES, [d[0] for d in _DOUBLES])


def add_name_columns(frame: pl.DataFrame | pl.LazyFrame, column: str = "nama"):
    """`frame` with the columns the comparisons and blocking rules use, from the raw name in `column`.

    name_clean: cleaned name; name_prefix: its weak leading words ("laode", "muhammad" …);
    name_key: phonetic key of the rest (the whole name when it is nothing but weak words);
    name_tokens: the key's words; name_sorted: those words sorted; name_joined: the key without spaces
    ("har risn" and "harrisn" alike); name_first / name_last: first and
    last word of the key; name_words: how many words the key has (1 = a single-word name).
    Computed in stages so that each expression runs once over the column.
    """
    weak = r"(?:(?:" + "|".join(WEAK_PREFIXES) + r")(?:\s+|$))+"
    cleaned, core = pl.col("name_clean"), pl.col("_core")
    tokens = pl.col("name_tokens")
    return (
        frame.with_columns(clean(pl.col(column)).alias("name_clean"))
        .with_columns(cleaned.str.extract("^(" + weak + ")", 1).str.strip_chars().alias("name_prefix"),
                      cleaned.str.replace("^" + weak, "").alias("_core"))
        .with_columns(pl.when(pl.col("name_prefix") != "").then(pl.col("name_prefix")).alias("name_prefix"),
                      _key_words(pl.when(core.is_null() | (core == "")).then(cleaned).otherwise(core)).alias("name_key"))
        .with_columns(pl.col("name_key").str.split(" ").alias("name_tokens"))
        .with_columns(tokens.list.sort().list.join(" ").alias("name_sorted"), tokens.list.join("").alias("name_joined"),
                      tokens.list.first().alias("name_first"), tokens.list.last().alias("name_last"),
                      tokens.list.len().cast(pl.Int8).alias("name_words"))
        .drop("_core")
    )


NAMES_PER_BATCH = 250_000  # distinct names per batch through Polars: bounds the memory, whatever the records


def name_table(con: duckdb.DuckDBPyConnection, source: str, out: str, *, column: str = "nama",
               batch: int = NAMES_PER_BATCH) -> int:
    """Table `out` (in the current catalog): every distinct value of `column` in the table or view `source`
    (NULL included), with the columns of `add_name_columns`. The names go through Polars `batch` at a time, so
    memory stays bounded however many records there are; the columns are a function of the name alone, so a
    record gets the same ones as if its whole table had gone through at once. Returns the names."""
    todo = f"{out}_todo"
    con.execute(f"CREATE OR REPLACE TABLE {todo} AS SELECT row_number() OVER () AS i, {column} "
                f"FROM (SELECT DISTINCT {column} FROM {source})")
    total = con.execute(f"SELECT count(*) FROM {todo}").fetchall()[0][0]
    try:
        for start in range(0, max(total, 1), batch):
            frame = pl.from_arrow(con.sql(f"SELECT {column} FROM {todo} WHERE i > $1 AND i <= $2 ORDER BY i",
                                          params=[start, start + batch]).to_arrow_table())
            con.register(f"{out}_batch", add_name_columns(frame, column).to_arrow())
            try:
                con.execute(f"CREATE OR REPLACE TABLE {out} AS SELECT * FROM {out}_batch" if start == 0
                            else f"INSERT INTO {out} SELECT * FROM {out}_batch")
            finally:
                con.unregister(f"{out}_batch")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {todo}")
    return total
