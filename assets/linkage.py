"""Who is who: registrations of the three worker sources resolved to persons, in two stages.

1. NIK. Registrations that carry the same trusted NIK are one person. Trusted: valid, agreeing with
   the record's own birth date and sex (staging's nik_agrees) and, when other agreeing records carry
   it too, with at least one of them bearing a name like this one (a slip can turn one person's NIK
   into a namesake's born the same day).
2. Probabilistic. Every pair of records that a blocking rule brings together and that stage one has
   not already joined is scored by a Fellegi-Sunter model (Splink 5, on a scratch DuckDB file under the
   pipeline's memory limit, fed by SQL: `_splink`): records without a trusted NIK against everyone, and
   NIK groups against each other, since a mistyped NIK can still look valid. NIK, birth date and sex
   are one joint comparison.

Clustering keeps one path to one NIK: NIK groups join each other only through a direct link; a record
without a trusted NIK joins the group it matches best. Links are refused between records carrying the
same NIK under clearly different names and birth dates (a NIK collision), and between two different
NIKs each confirmed by other registrations. Reviewers' decisions (`reference/review_decisions.csv`,
by record key) override the model on every run.

The model's structure is code (`settings`, `BLOCKING_RULES`); its trained parameters and acceptance
threshold are a versioned JSON file (`reference/linkage_model.json`). Only the prior (the chance that
two random records are one person, which falls as the number of records grows) is set per run, from
the NIK stage. docs/identity.md explains the choices and their measured effect.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from assets import names
from warehouse.db import first, scratch

# The input: one row per loaded registration (staging.registrations) with at least these columns.
RECORD_COLUMNS = ("source", "source_row", "record_key", "nik", "nik_valid", "nik_agrees", "nama",
                  "tanggal_lahir", "jenis_kelamin", "domicile_village")
METHODS = ("probabilistic", "exact")
MODEL_VERSION = 1

ACCEPT = 0.5  # a pair at or above this probability is one person, unless the model file says otherwise
REVIEW_HIGH = 0.99  # pairs from half the acceptance threshold up to this are listed for a person to review
NIK_PAIR_RECALL = 0.88  # share of true same-person pairs that the NIK stage alone finds (sets the prior)
DECISIONS = ("same", "different")

# --- features --------------------------------------------------------------------------------------

# unique_id: the record's rank by (record_key, source, source_row), numbered in a narrow table (link_ids) of its
# own: numbered in the wide statement, the window sorted every column (0.5 GB more at 4.9 million registrations)
LINK_IDS_SQL = """SELECT source, source_row, row_number() OVER (ORDER BY record_key, source, source_row) AS unique_id
                  FROM {records}"""
# A NIK that is not 16 digits is no NIK here: NULL, and neither valid nor agreeing whatever the input says
FEATURES_SQL = """
SELECT i.unique_id, source, source_row, record_key,
       CASE WHEN formed THEN nik END AS nik,
       CASE WHEN formed THEN substr(nik, 1, 6) || substr(nik, 13, 4) END AS nik_rest,
       CASE WHEN formed THEN substr(nik, 13, 4) END AS nik_serial,
       coalesce(nik_valid AND formed, false) AS nik_valid, coalesce(nik_agrees AND formed, false) AS nik_agrees,
       nama, tanggal_lahir AS dob, strftime(tanggal_lahir, '%Y%m%d') AS dob_text,
       year(tanggal_lahir) AS birth_year, strftime(tanggal_lahir, '%m%d') AS birth_md,
       jenis_kelamin AS sex, domicile_village AS village, substr(domicile_village, 1, 8) AS district
FROM (SELECT *, regexp_full_match(nik, '[0-9]{{16}}') AS formed FROM {records})
JOIN link_ids i USING (source, source_row)
"""


# A NIK is trusted when it agrees with the record's birth date and sex and, if other agreeing
# records carry it, at least one of them bears a name like this one: a typo can turn one person's
# NIK into another's born the same day. It is confirmed when another record with a like name carries it.
# The records that share a NIK with another, narrow (a record is its source and source_row):
NIK_SHARED_SQL = """
WITH r AS (
    SELECT source, source_row, nik, coalesce(nik_agrees, false) AS nik_agrees, nama
    FROM {records} WHERE regexp_full_match(nik, '[0-9]{{16}}')
)
SELECT r.source, r.source_row, r.nik, r.nik_agrees, n.name_key, n.name_tokens
FROM r SEMI JOIN (SELECT nik FROM r GROUP BY nik HAVING count(*) > 1) shared USING (nik)
LEFT JOIN link_names n ON r.nama IS NOT DISTINCT FROM n.nama
"""
# and for each of them, how many others carry its NIK: agreeing, of a like name, both
NIK_PARTNERS_SQL = """
WITH pairs AS (
    SELECT a.source, a.source_row, b.nik_agrees AS other_agrees,
           a.name_key = b.name_key OR len(list_intersect(a.name_tokens, b.name_tokens)) > 0
               OR jaro_winkler_similarity(a.name_key, b.name_key) >= 0.82 AS alike
    FROM link_nik_shared a JOIN link_nik_shared b
      ON a.nik = b.nik AND NOT (a.source = b.source AND a.source_row = b.source_row)
)
SELECT source, source_row, count(*) FILTER (WHERE other_agrees) AS agreeing, count(*) FILTER (WHERE alike) AS alike,
       count(*) FILTER (WHERE other_agrees AND alike) AS alike_agreeing
FROM pairs GROUP BY source, source_row
"""
# every record with the columns the model compares: its own, its name's, its NIK's trust
LINK_FEATURES_SQL = """
SELECT r.*, n.* EXCLUDE (nama),
       r.nik_agrees AND coalesce(p.agreeing = 0 OR p.alike_agreeing > 0, true) AS nik_trusted,
       coalesce(p.alike > 0, false) AS nik_confirmed
FROM ({features}) r
LEFT JOIN link_names n ON r.nama IS NOT DISTINCT FROM n.nama
LEFT JOIN link_nik_partners p ON p.source = r.source AND p.source_row = r.source_row
ORDER BY r.unique_id  -- Splink's seeded sampling of pairs depends on the rows' order
"""


WORKSPACE = "identity_work"


@contextmanager
def workspace(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[str, str]]:
    """Where the linkage's working tables live: a scratch database file in the spill directory, the
    connection's default catalog inside (`warehouse.db.scratch`), deleted afterwards. Yields (its catalog,
    the connection's own catalog, to reach the pipeline's tables as `<home>.staging.registrations`).

    Every function here creates its tables (link_features, resolved, ...) in the current catalog: on an
    in-memory connection that is memory; on the pipeline database it must be a workspace, so that 50 million
    records' features, pairs and clusters are written compressed to disk under the memory limit."""
    home = first(con, "SELECT current_database()")[0]
    with scratch(con, WORKSPACE, use=True) as name:
        yield name, home


def _require_workspace(con: duckdb.DuckDBPyConnection) -> None:
    name, path = first(con, "SELECT database_name, path FROM duckdb_databases() "
                            "WHERE database_name = current_database()")
    if path and not name.startswith(WORKSPACE):
        raise RuntimeError(f"the linkage would write its working tables into {path}: call it inside "
                           "`with linkage.workspace(con):` (a scratch database), or on an in-memory connection")


def features(con: duckdb.DuckDBPyConnection, records: str, out: str = "link_features") -> int:
    """Table `out` in the current catalog (`workspace`): one row per record of `records` with the columns the
    model compares (names normalised by assets.names, each distinct name once, in bounded batches) and whether
    its NIK is trusted. Set-based in DuckDB: no table passes through Python whole. The wide table is written
    once, after the narrow ones its trust comes from (each table is written compressed, on disk: one statement
    with materialised CTEs spilled uncompressed and filled 50 GB of disk at 50 million registrations).
    Records are told apart by (source, source_row). Returns the number of records; raises ValueError when a
    record of `records` lacks its source or source_row, or two share them."""
    _require_workspace(con)
    names.name_table(con, records, "link_names", column="nama")
    try:
        con.execute(f"CREATE OR REPLACE TABLE link_ids AS {LINK_IDS_SQL.format(records=records)}")
        unnamed = first(con, "SELECT count(*) FROM link_ids WHERE source IS NULL OR source_row IS NULL")[0]
        if unnamed:  # it would join no id and be lost
            raise ValueError(f"{records}: {unnamed:,} records have no source or no source_row; each registration "
                             "must name its source file and row")
        con.execute(f"CREATE OR REPLACE TABLE link_nik_shared AS {NIK_SHARED_SQL.format(records=records)}")
        con.execute(f"CREATE OR REPLACE TABLE link_nik_partners AS {NIK_PARTNERS_SQL}")
        con.execute(f"CREATE OR REPLACE TABLE {out} AS "
                    + LINK_FEATURES_SQL.format(features=FEATURES_SQL.format(records=records)))
        records_in, rows = first(con, f"SELECT (SELECT count(*) FROM link_ids), (SELECT count(*) FROM {out})")
    finally:
        for table in ("link_nik_partners", "link_nik_shared", "link_ids", "link_names"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    if rows != records_in:  # every record joins one id at least (none unnamed): more rows is a pair twice
        con.execute(f"DROP TABLE {out}")
        raise ValueError(f"{records}: some (source, source_row) is carried by more than one record ({records_in:,} "
                         f"records gave {rows:,} rows); each registration must be one row of its source file")
    return rows


# --- the model -------------------------------------------------------------------------------------

SEX_OK = '("sex_l" IS NULL OR "sex_r" IS NULL OR "sex_l" = "sex_r")'
# a digit slipped, day and month swapped, or a year off (give or take the leap day)
DOB_CLOSE = ('(hamming("dob_text_l", "dob_text_r") <= 1'
             ' OR (hamming("dob_text_l", "dob_text_r") = 2 AND damerau_levenshtein("dob_text_l", "dob_text_r") = 1)'
             ' OR (year("dob_l") = year("dob_r") AND month("dob_l") = day("dob_r") AND day("dob_l") = month("dob_r"))'
             ' OR abs(date_diff(\'day\', "dob_l", "dob_r")) BETWEEN 364 AND 366)')
# a NIK a digit or a swap away from another may be it mistyped, unless both are confirmed by other records
NIK_MAYBE_TYPO = 'NOT ("nik_confirmed_l" AND "nik_confirmed_r")'
NIK_EDITS = 'hamming("nik_l", "nik_r")'  # digits that differ: a slip is 1, two swapped digits are 2
# Two digits that differ apart from a swap are rarely a slip: namesakes born the same day in districts
# 05 and 10 have NIKs that differ just so.
NIK_SWAPPED = 'damerau_levenshtein("nik_l", "nik_r") = 1'
SUBSET = '(list_has_all("name_tokens_l", "name_tokens_r") OR list_has_all("name_tokens_r", "name_tokens_l"))'


def _level(sql: str, label: str, **extra) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


# The civil registry issues each NIK once: two different people share one about once in 10^8 pairs
# (a NIK issued twice, or mistyped into another's). Estimated by random sampling, this u would count
# the true duplicates the sample holds (as many as the prior), so it is fixed instead.
NIK_U = {"u_probability": 1e-8, "fix_u_probability": True}
U_FLOOR = 1e-8  # no level is rarer among different people than sharing a NIK
# NIK, birth date and sex are one comparison: the NIK encodes the birth date and sex, so scoring
# them as independent would count the same evidence twice. Each level is one joint outcome.
# The m given here are where EM starts: what a record's usual slips make of a pair.
IDENTITY = {
    "output_column_name": "nik_birth",
    "comparison_description": "NIK, birth date and sex together",
    "comparison_levels": [
        _level('("dob_l" IS NULL OR "dob_r" IS NULL) AND ("nik_l" IS NULL OR "nik_r" IS NULL)',
               "no birth date and no NIK to compare", is_null_level=True),
        _level(f'"nik_l" = "nik_r" AND "dob_l" = "dob_r" AND {SEX_OK}', "same NIK, same birth date",
               m_probability=0.9, **NIK_U),
        _level(f'{NIK_EDITS} = 1 AND {NIK_MAYBE_TYPO} AND "dob_l" = "dob_r" AND {SEX_OK}',
               "NIK one digit apart, same birth date", m_probability=0.03),
        _level(f'("nik_l" IS NULL OR "nik_r" IS NULL) AND "dob_l" = "dob_r" AND {SEX_OK}',
               "same birth date, NIK missing or malformed", m_probability=0.03),
        _level(f'"nik_l" = "nik_r" AND ({DOB_CLOSE} OR "dob_l" IS NULL OR "dob_r" IS NULL)',
               "same NIK, birth date mistyped or missing", m_probability=0.02, **NIK_U),
        _level(f'{NIK_EDITS} = 2 AND {NIK_SWAPPED} AND {NIK_MAYBE_TYPO} AND "dob_l" = "dob_r" AND {SEX_OK}',
               "NIK with two neighbouring digits swapped, same birth date", m_probability=0.01),
        _level(f'"dob_l" = "dob_r" AND {SEX_OK}', "same birth date, different NIKs", m_probability=0.001),
        _level(f'{DOB_CLOSE} AND ("nik_l" IS NULL OR "nik_r" IS NULL OR ({NIK_EDITS} <= 1 AND {NIK_MAYBE_TYPO}) '
               f'OR ({NIK_EDITS} = 2 AND {NIK_SWAPPED} AND {NIK_MAYBE_TYPO}))',
               "birth date mistyped, NIK close or missing", m_probability=0.003),
        # Weak where serials repeat (Indonesia: 0001 in every district), strong where they do not: weighted by
        # the frequency of the serial alone. Its m is fixed by judgement: the region in a NIK is where its holder
        # lives, so among different people this level goes with a shared domicile, and EM would read that as a
        # match. For the same reason the region is left out of the frequency: namesakes of one village share it
        # anyway, and counting it again (the domicile comparison does) merged them on the demo (docs/identity.md).
        _level('"nik_rest_l" = "nik_rest_r"', "birth date differs or missing, NIK same but for its birth digits",
               tf_adjustment_column="nik_serial", tf_adjustment_weight=1.0, disable_tf_exact_match_detection=True,
               m_probability=0.02, fix_m_probability=True),
        _level(f'"dob_l" IS NULL OR "dob_r" IS NULL OR {DOB_CLOSE} OR "dob_l" = "dob_r"',
               "birth date missing or close, NIK far", m_probability=0.001),
        _level("ELSE", "all other", m_probability=0.001),
    ],
}

NAME = {
    "output_column_name": "name",
    "comparison_description": "name without titles, degrees and weak prefixes (assets.names)",
    "comparison_levels": [
        _level('"name_key_l" IS NULL OR "name_key_r" IS NULL', "name missing", is_null_level=True),
        _level('"name_key_l" = "name_key_r"', "same name", tf_adjustment_column="name_key", tf_adjustment_weight=1.0),
        _level('"name_sorted_l" = "name_sorted_r" OR "name_joined_l" = "name_joined_r"', "same words, other order or spacing"),
        _level('jaro_winkler_similarity("name_key_l", "name_key_r") >= 0.93 '
               'OR jaro_winkler_similarity("name_sorted_l", "name_sorted_r") >= 0.93 '
               'OR jaro_winkler_similarity("name_joined_l", "name_joined_r") >= 0.93', "one slip apart"),
        _level(f'{SUBSET} AND least("name_words_l", "name_words_r") >= 2', "one name holds the other (2+ words)"),
        _level(SUBSET, "one name holds the other (one word)"),
        _level('"name_first_l" = "name_first_r" OR "name_last_l" = "name_last_r" '
               'OR jaro_winkler_similarity("name_key_l", "name_key_r") >= 0.82', "partly alike"),
        _level("ELSE", "different"),
    ],
}

# La Ode, Wa Ode, La, Wa, Andi, Muhammad, Siti: weak evidence of their own, apart from the name.
# Forms often drop them ("Muh. Rizal" is "Rizal" on the next form), which the synthetic training
# data never does: that level's m is fixed from judgement rather than learnt (docs/identity.md).
PREFIX = {
    "output_column_name": "name_prefix",
    "comparison_description": "weak leading words of the name (assets.names.WEAK_PREFIXES)",
    "comparison_levels": [
        _level('"name_key_l" IS NULL OR "name_key_r" IS NULL', "name missing", is_null_level=True),
        _level('"name_prefix_l" = "name_prefix_r"', "same prefix"),
        _level('"name_prefix_l" IS NULL AND "name_prefix_r" IS NULL', "no prefix on either"),
        _level('"name_prefix_l" IS NULL OR "name_prefix_r" IS NULL', "prefix on one only",
               m_probability=0.03, fix_m_probability=True),
        _level("ELSE", "different prefixes"),
    ],
}

DOMICILE = {
    "output_column_name": "domicile",
    "comparison_description": "village of domicile",
    "comparison_levels": [
        _level('"village_l" IS NULL OR "village_r" IS NULL', "domicile missing", is_null_level=True),
        _level('"village_l" = "village_r"', "same village"),
        _level('"district_l" = "district_r"', "same district"),
        _level("ELSE", "different"),
    ],
}


@dataclass(frozen=True)
class Rule:
    """Records sharing the values of `columns` are compared (hashed to one integer: every rule is an
    integer equi-join). A key shared by more than `cap` records identifies nobody at this scale and is
    skipped (a placeholder NIK, a common name in a big village). `explode`: one key per name word.

    `cap_trusted` (None: `cap`) is the cap for pairing two records that each carry a trusted NIK, different
    ones: such a pair is one person only if one NIK is a slip of the other, which the NIK rules look for.
    The wide rules pair them only in small blocks: pairs of namesakes born the same day grow as the square
    of the population (at 4.9 million registrations they were 10 of the 13.8 million pairs scored;
    docs/identity.md), while where names are rare such a pair still catches heavier damage (FEBRL).
    """

    columns: tuple[str, ...]
    cap: int
    explode: bool = False
    cap_trusted: int | None = None


# Candidate pairs. Pairs already joined by the NIK stage (same trusted NIK) are never scored again.
# Where recall is won or lost: bench/bench_linkage.py measures each rule's pairs and pair recall.
BLOCKING_RULES = {
    "nik": Rule(("nik",), 50, cap_trusted=0),  # NIK right, birth date or sex wrong; and collisions
    "birth_first_name": Rule(("dob", "name_first"), 200, cap_trusted=6),
    "birth_last_name": Rule(("dob", "name_last"), 200, cap_trusted=6),
    "name_day_month_swapped": Rule(("name_key", "birth_year", "least(day(dob), month(dob))",
                                    "greatest(day(dob), month(dob))"), 200, cap_trusted=6),
    "name_year_off": Rule(("name_key", "birth_md"), 4),  # year mistyped
    "nik_head": Rule(("substr(nik, 1, 12)",), 3),  # serial mistyped
    # serial mistyped where more than three people of one region share the birth date (a city or more)
    "nik_head_name": Rule(("substr(nik, 1, 12)", "name_first"), 10),
    "nik_tail_name": Rule(("substr(nik, 7, 10)", "name_first"), 10),  # region mistyped
    "nik_without_birth": Rule(("substr(nik, 1, 6)", "substr(nik, 13, 4)"), 10),  # birth date digits mistyped
    "birth_village": Rule(("dob", "village"), 6),  # name spelt past recognition
    "name_words": Rule(("name_sorted",), 6),  # birth date missing; words in another order
    "first_last_name": Rule(("name_first", "name_last"), 6),
    "village_name_word": Rule(("village", "name_word"), 6, explode=True),  # a word of the name, one village
}


def blocking_sql(table: str, out: str = "blocked") -> list[str]:
    """Statements that create table `out` (rule, id_l, id_r): the candidate pairs of `table`, each pair once,
    under the rule that found it first. DuckDB SQL (transpiled for Spark).

    One rule at a time: its keys (one per record, per name word for an `explode` rule; a record without every
    column of the rule has none) with their block's size, then its pairs, each a table of its own, so that every
    statement's working set is one rule's and spills where it must. One query holding every rule's keys at once
    (windows over 13 materialised CTEs) ran out of memory at 50 million registrations under an 8 GB limit."""
    statements, parts = [], []
    for i, rule in enumerate(BLOCKING_RULES.values()):
        source = (f"(SELECT *, unnest(name_tokens) AS name_word FROM {table})" if rule.explode else table)
        present = " AND ".join(f"({column}) IS NOT NULL" for column in rule.columns)
        # each key of a block within the cap, with the block's size n: made once, read by every join below
        statements.append(f"""CREATE OR REPLACE TABLE {out}_sized AS
            WITH keys AS MATERIALIZED (
                SELECT {"DISTINCT" if rule.explode else ""} unique_id, hash({", ".join(rule.columns)}) AS k,
                       nik_trusted AS trusted, TRY_CAST(nik AS BIGINT) AS nik  -- 16 digits: a number, narrower
                FROM {source} WHERE {present})
            SELECT x.*, b.n FROM keys x
            JOIN (SELECT k, count(*) AS n FROM keys GROUP BY k HAVING count(*) <= {rule.cap}) b ON b.k = x.k""")
        keys = f"{out}_sized"
        # each record without a trusted NIK to every other record of its key; records with one to each other
        # only in blocks within cap_trusted, never two of one NIK (stage one joined them). Each pair once.
        joins = [f"""SELECT {i} AS rule, least(u.unique_id, o.unique_id) AS id_l,
                            greatest(u.unique_id, o.unique_id) AS id_r
            FROM {keys} u JOIN {keys} o ON u.k = o.k AND NOT u.trusted AND (o.trusted OR u.unique_id < o.unique_id)"""]
        cap_trusted = rule.cap if rule.cap_trusted is None else rule.cap_trusted
        if cap_trusted > 1:
            joins.append(f"""SELECT {i}, l.unique_id, r.unique_id
                FROM (SELECT * FROM {keys} WHERE trusted AND n <= {cap_trusted}) l
                JOIN (SELECT * FROM {keys} WHERE trusted AND n <= {cap_trusted}) r
                  ON l.k = r.k AND l.unique_id < r.unique_id AND l.nik <> r.nik""")
        statements.append(f"CREATE OR REPLACE TABLE {out}_{i} AS {' UNION ALL '.join(joins)}")
        parts.append(f"SELECT * FROM {out}_{i}")
    statements.append(f"CREATE OR REPLACE TABLE {out} AS SELECT min(rule) AS rule, id_l, id_r "
                      f"FROM ({' UNION ALL '.join(parts)}) GROUP BY id_l, id_r")
    statements += [f"DROP TABLE {out}_{i}" for i in range(len(BLOCKING_RULES))]
    statements.append(f"DROP TABLE {out}_sized")
    return statements


def settings(prior: float = 1e-5) -> dict:
    """The model's structure: its comparisons (parameters come from training; pairs from `blocking_sql`)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "comparisons": [IDENTITY, NAME, PREFIX, DOMICILE],
        "blocking_rules_to_generate_predictions": [],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "max_iterations": 40,
        "em_convergence": 0.0001,
    }


ENGINES = ("duckdb", "spark")  # where Splink runs (docs/scaling.md); the model, blocking and clustering are the same
SPLINK_COLUMNS = ("unique_id", "nik", "nik_rest", "nik_serial", "nik_trusted", "nik_confirmed", "dob", "dob_text",
                  "birth_year", "birth_md", "sex", "village", "district", "name_key", "name_prefix", "name_sorted",
                  "name_joined", "name_tokens", "name_first", "name_last", "name_words")




class Engine:
    """Splink on one engine: `linker` on the records (the engine's table `records`), `linker_on(table)` a
    linker with the same model on another table of the engine, its database API, a connection for SQL on the
    engine's side (`execute`, `sql`) and `table(name)`: how the pipeline connection reads that engine's table
    `name`. Linkers are made on first use, so that SQL can run on the engine while the model is still estimated."""

    def __init__(self, linker_on: Callable[[str], object], db_api: object, con: object, version: str,
                 table: Callable[[str], str]):
        self.linker_on, self._linker = linker_on, None
        self.db_api, self.con, self.version, self.table = db_api, con, version, table

    @property
    def linker(self) -> object:
        if self._linker is None:
            self._linker = self.linker_on("records")
        return self._linker


def _sample_filter(con: duckdb.DuckDBPyConnection, table: str, most: int) -> tuple[str, int, int]:
    """(A WHERE clause that keeps at most about `most` records of `table` and at least about half as many, the
    records kept, the records): one record in every ceil(records / most), by a hash of unique_id (the same
    records on every run and thread count); all of them when they are no more than `most`."""
    records = first(con, f"SELECT count(*) FROM {table}")[0]
    if records <= most:
        return "true", records, records
    where = f"hash(unique_id) % {math.ceil(records / most)} = 0"
    return where, first(con, f"SELECT count(*) FROM {table} WHERE {where}")[0], records


@contextmanager
def _splink(con: duckdb.DuckDBPyConnection, model: dict | Callable[[], dict], engine: str = "duckdb",
            table: str = "link_features", where: str = "true") -> Iterator[Engine]:
    """Splink on the records of table `table` (its SPLINK_COLUMNS, as Splink's table `records`; only those
    for which `where` holds), with the model `model` (or what calling it returns, asked once, when a linker
    is first made; spark asks at once).

    duckdb: an on-disk scratch database in the spill directory, attached to the pipeline connection, its
    `records` a view of `table` (a table of the records kept, when `where` keeps some); Splink works on a
    cursor of that connection, so under the pipeline database's memory limit and spill directory
    (warehouse/db.py), and its results are read back by SQL. The file is deleted afterwards. spark: the same
    model and SQL on a Spark session, through Parquet (assets/spark_engine.py).
    """
    columns = ", ".join(SPLINK_COLUMNS)
    settled = functools.cache(model) if callable(model) else (lambda: model)
    if engine == "spark":
        from assets import spark_engine
        linker_on, db_api, spark_con, version = spark_engine.splink(con, f"SELECT {columns} FROM {table} WHERE {where}",
                                                                    settled())
        try:
            yield Engine(linker_on, db_api, spark_con, version, spark_con.export)
        finally:
            spark_con.close()
        return
    if engine != "duckdb":
        raise ValueError(f"unknown linkage engine {engine!r}; use one of {', '.join(ENGINES)}")
    import splink
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)  # its per-level training notes go to the metadata instead
    home = first(con, "SELECT current_database()")[0]
    with scratch(con, "linkage_splink") as name:
        # all records: a view, read where they are (a copy cost 3 s at 4.9 million); a sample: its own table,
        # which Splink reads several times. In unique_id order, as link_features: Splink's seeded sampling of
        # pairs depends on the rows' order
        con.execute(f"CREATE VIEW {name}.records AS SELECT {columns} FROM {home}.{table}" if where == "true" else
                    f"CREATE TABLE {name}.records AS SELECT {columns} FROM {home}.{table} WHERE {where} ORDER BY unique_id")
        cursor = con.cursor()  # same database instance: the same memory limit and spill directory
        try:
            cursor.execute(f"USE {name}")  # Splink's tables go to the scratch file
            cursor.execute("SET lambda_syntax='ENABLE_SINGLE_ARROW'")  # Splink's SQL uses arrow lambdas
            db_api = DuckDBAPI(cursor)
            yield Engine(lambda records: Linker(db_api.register(records, table_name=records), settled(), log_level=None),
                         db_api, cursor, splink.__version__, lambda table: f"{name}.{table}")
        finally:
            cursor.close()


def _check_structure(model: dict) -> None:
    """A model file trained for another structure would silently mis-score: refuse it."""
    expected = settings()
    got = [[lvl["sql_condition"] for lvl in c["comparison_levels"]] for c in model["comparisons"]]
    want = [[lvl["sql_condition"] for lvl in c["comparison_levels"]] for c in expected["comparisons"]]
    if got != want:
        raise ValueError("the linkage model file was trained for other comparisons than assets/linkage.py defines; "
                         "retrain it (`jamsostek evaluate --retrain`, see docs/identity.md)")


def train(con: duckdb.DuckDBPyConnection, table: str = "link_features", *, start: dict | None = None, seed: int = 42,
          u_pairs: float = 2e6, em_pairs: float = 3e6, engine: str = "duckdb", where: str = "true") -> dict:
    """Estimate the model's parameters without labels: u by random sampling, m by EM on two blockings, on the
    records of `table` for which `where` holds.

    `start`: the parameters EM starts from (the shipped model, as a prior), else the structure's defaults.
    Random pairs are assumed to be different people; on small data they hold true duplicates too
    (about prior x m of them at each level), which would weaken the rarest, strongest levels to no
    more than the prior: that share is taken back out of u. A level never seen in the sample gets
    half a pair's worth of u. Parameters are rounded to 6 significant digits, so that the sums of EM,
    which a thread count may order differently, give the same model.
    """
    start = copy.deepcopy(start) if start is not None else settings()
    start.pop("linker_uid", None)
    with _splink(con, start, engine, table, where) as splink:
        linker = splink.linker
        linker.training.estimate_probability_two_random_records_match(
            ["l.nik = r.nik AND l.nik_trusted AND r.nik_trusted"], recall=NIK_PAIR_RECALL)
        linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        # m of the names and domicile from pairs born the same day; m of NIK and birth date from pairs named alike
        linker.training.estimate_parameters_using_expectation_maximisation(
            "l.dob = r.dob", max_pairs=em_pairs, estimate_without_term_frequencies=True)
        linker.training.estimate_parameters_using_expectation_maximisation(
            "l.name_key = r.name_key AND coalesce(l.name_prefix, '') = coalesce(r.name_prefix, '') AND l.village = r.village", max_pairs=em_pairs)
        model = linker.misc.save_model_to_json()
    prior = model["probability_two_random_records_match"]
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level"):
                continue
            if not level.get("fix_u_probability"):
                if u is None:  # never seen among the sampled pairs: rarer than one in the sample
                    level["u_probability"] = 0.5 / u_pairs
                elif m is not None:
                    level["u_probability"] = max(u - prior * m, U_FLOOR)
            for key in ("m_probability", "u_probability"):
                if level.get(key) is not None:
                    level[key] = float(f"{level[key]:.6g}")
    model.pop("linker_uid", None)
    return model


# A run estimates its own parameters when it has at least this many registrations; with fewer, EM has
# too few pairs of each kind to go by and the shipped parameters are used as they are.
MIN_RECORDS_TO_ESTIMATE = 2_000
ESTIMATION_SEED = 42
# Above this many registrations the parameters are estimated on a fixed sample of at most about this many:
# u and m are shares of pairs, which a uniform sample of records keeps, while Splink's cost of drawing the pairs
# grows with the records (4.9 million: 9.7 s on all, 8.3 s on 987,905, F1 0.99247 and 0.99252; docs/identity.md).
ESTIMATION_MAX_RECORDS = 1_000_000


def estimate(con: duckdb.DuckDBPyConnection, prior: dict, engine: str = "duckdb",
             table: str = "link_features") -> tuple[dict, str]:
    """This run's parameters, estimated on its own records (table `table`; a fixed sample of at most about
    ESTIMATION_MAX_RECORDS of them when there are more) without labels, starting from `prior` (the shipped
    model); the shipped model itself when the run is too small or EM finds nothing to learn from."""
    where, kept, records = _sample_filter(con, table, ESTIMATION_MAX_RECORDS)
    if records < MIN_RECORDS_TO_ESTIMATE:
        return copy.deepcopy(prior), (f"shipped parameters: {records:,} registrations, fewer than "
                                      f"{MIN_RECORDS_TO_ESTIMATE:,} to estimate on")
    try:
        model = train(con, table, start=prior, seed=ESTIMATION_SEED, engine=engine, where=where)
    except Exception as error:  # Splink refuses EM when a blocking yields no pairs: nothing to learn from
        if "splink" not in type(error).__module__ and "EM" not in str(error):
            raise
        return copy.deepcopy(prior), f"shipped parameters: estimation failed on this run ({error})"
    on = f"{records:,} registrations" if kept == records else f"{records:,} registrations, a fixed sample of {kept:,}"
    return model, f"estimated on this run's {on} (seed {ESTIMATION_SEED}), from the shipped model"


def save_model(model: dict, path: Path, *, trained_on: str, accept: float = ACCEPT, note: str = "") -> None:
    """The model as Splink's JSON, with our own header: version, provenance and acceptance threshold."""
    meta = {"version": MODEL_VERSION, "trained_on": trained_on, "trained": date.today().isoformat(),
            "accept": accept, "note": note}
    path.write_text(json.dumps({"jamsostek_model": meta, **model}, indent=2) + "\n", encoding="utf-8")


def load_model(path: Path) -> tuple[dict, dict]:
    """(Splink settings with trained parameters, our header)."""
    model = json.loads(Path(path).read_text(encoding="utf-8"))
    meta = model.pop("jamsostek_model", {})
    if meta.get("version") != MODEL_VERSION:
        raise ValueError(f"{path}: linkage model version {meta.get('version')}, expected {MODEL_VERSION}; retrain it")
    _check_structure(model)
    return model, meta


def run_prior(con: duckdb.DuckDBPyConnection, table: str = "link_features") -> float:
    """Chance that two random records are one person, from this run's NIK groups (it falls as 1/N)."""
    n, nik_pairs = first(con, f"""SELECT (SELECT count(*) FROM {table}),
                                         (SELECT coalesce(sum(size * (size - 1) // 2), 0)::DOUBLE FROM (
                                              SELECT count(*) AS size FROM {table} WHERE nik_trusted GROUP BY nik))""")
    expected = max(nik_pairs / NIK_PAIR_RECALL, 1.0)
    return min(expected / max(n * (n - 1) / 2, 1.0), 0.5)


def parameters(model: dict) -> str:
    """The model's match weights per comparison level, as markdown for the asset's metadata."""
    lines = ["| comparison | level | m | u | weight (bits) |", "|---|---|---|---|---|"]
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = f"{math.log2(m / u):+.1f}" if m and u else ""
            lines.append(f"| {comparison['output_column_name']} | {level['label_for_charts']} | "
                         f"{m if m is None else f'{m:.3g}'} | {u if u is None else f'{u:.3g}'} | {weight} |")
    return "\n".join(lines)


# --- resolution ------------------------------------------------------------------------------------

@dataclass
class Options:
    """How `resolve` runs: the method, the model file and the reviewers' decisions."""

    method: str = "probabilistic"
    model_path: Path | None = None  # None: train on this run's records
    decisions_path: Path | None = None
    accept: float | None = None  # None: the model file's threshold (ACCEPT for a model trained on the run)
    review_band: tuple[float, float] | None = None  # None: [accept / 2, REVIEW_HIGH)
    estimate: bool = True  # re-estimate u and m on this run's records, the model file as the prior
    charts_dir: Path | None = None  # where to write the model's charts (offline HTML); None: none written
    keep_candidates: bool = False  # keep table link_candidates(rule, id_l, id_r): to measure blocking
    engine: str = "duckdb"  # where Splink runs: "duckdb" (a scratch file) or "spark" (assets/spark_engine.py)
    # Splink scores the candidate pairs in chunks of about this many: each chunk's records on both sides are
    # hash-join builds in memory (about 1 KB a record); 10 million ran out of an 8 GB limit at 50 million
    pairs_per_chunk: int = 2_000_000


def resolve(con: duckdb.DuckDBPyConnection, records: str, *, method: str = "probabilistic",
            options: Options | None = None) -> dict:
    """Create tables, in the current catalog (`workspace`): `resolved` (per record: person_id, match_method,
    match_probability), `review_pairs` (the uncertain band, with reviewers' decisions) and `nik_collisions`
    (NIKs carried by several persons).

    `person_id` is an internal anchor (the person's smallest trusted NIK, else smallest record key): it
    never leaves the pipeline database; the published copy shows only its keyed pseudonym.
    """
    _require_workspace(con)
    options = options or Options(method=method)
    if options.method not in METHODS:
        raise ValueError(f"unknown identity method {options.method!r}; use one of {', '.join(METHODS)}")
    if options.method == "exact":
        return _resolve_exact(con, records)
    return _resolve_probabilistic(con, records, options)


REVIEW_SCHEMA = """record_key_1 VARCHAR, record_key_2 VARCHAR, match_probability DOUBLE, linked BOOLEAN,
    decision VARCHAR, source_1 VARCHAR, source_row_1 BIGINT, nama_1 VARCHAR, tanggal_lahir_1 DATE, nik_1 VARCHAR,
    domicile_1 VARCHAR, source_2 VARCHAR, source_row_2 BIGINT, nama_2 VARCHAR, tanggal_lahir_2 DATE, nik_2 VARCHAR,
    domicile_2 VARCHAR"""
COLLISION_SCHEMA = "nik VARCHAR, persons BIGINT, records BIGINT, person_ids VARCHAR[]"


def _resolve_exact(con: duckdb.DuckDBPyConnection, records: str) -> dict:
    con.execute(f"""
        CREATE OR REPLACE TABLE resolved AS
        WITH anchored AS (
            SELECT source, source_row, record_key,
                   CASE WHEN nik_valid THEN 'nik:' || nik ELSE 'rec:' || record_key END AS person_id,
                   CASE WHEN nik_valid THEN nik END AS person_nik
            FROM {records}
        )
        SELECT source, source_row, record_key, person_id, person_nik,
               CASE WHEN count(*) OVER (PARTITION BY person_id) > 1 THEN 'nik' ELSE 'single' END AS match_method,
               CASE WHEN count(*) OVER (PARTITION BY person_id) > 1 THEN 1.0 END::DOUBLE AS match_probability
        FROM anchored
    """)
    con.execute(f"CREATE OR REPLACE TABLE review_pairs ({REVIEW_SCHEMA})")
    con.execute(f"CREATE OR REPLACE TABLE nik_collisions ({COLLISION_SCHEMA})")
    con.execute(f"CREATE OR REPLACE TABLE link_model ({MODEL_SCHEMA})")
    stats = dict(zip(("records", "persons"), first(con, "SELECT count(*), count(DISTINCT person_id) FROM resolved")))
    return {**stats, "method": "exact"}


PREDICTIONS_SCHEMA = "unique_id_l BIGINT, unique_id_r BIGINT, match_probability DOUBLE"


# Below this many records, the model is estimated on a second connection while the main one blocks: Splink's
# estimation is mostly small queries and Python, which leave a core free (Kendari: about 1 s of 8). Above it
# both would fill the cores and share one memory limit, so they run one after the other.
OVERLAP_MAX_RECORDS = 2_000_000


def _resolve_probabilistic(con: duckdb.DuckDBPyConnection, records: str, options: Options) -> dict:
    started = clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = round(now - clock, 2)
        clock = now

    stats = {"records": features(con, records), "method": "probabilistic", "seconds": seconds}
    lap("features")
    if options.model_path is not None and not Path(options.model_path).exists():
        raise FileNotFoundError(f"linkage model {options.model_path} not found: restore it from the repository or "
                                "train one (`jamsostek evaluate --retrain`, docs/identity.md)")
    overlap = options.engine == "duckdb" and stats["records"] <= OVERLAP_MAX_RECORDS
    worker = _cursor_here(con) if overlap else None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linkage-estimation") as pool:
        if overlap:
            estimation = pool.submit(_model_of_run, worker, options, stats)
        else:
            estimation = Future()
            estimation.set_result(_model_of_run(con, options, stats))
            lap("estimation")

        def settle() -> dict:
            """The run's model (waiting for its estimation), with its prior and acceptance; kept in link_model."""
            model, meta, _ = estimation.result()
            accept = options.accept if options.accept is not None else meta.get("accept", ACCEPT)
            stats.update(accept=accept, review_band=options.review_band or (accept / 2, max(REVIEW_HIGH, accept)))
            model["probability_two_random_records_match"] = stats["prior"] = run_prior(con)
            stats["parameters"] = parameters(model)
            _keep_model(con, model, stats, accept)
            return model

        try:
            con.execute(f"CREATE OR REPLACE TABLE link_predictions ({PREDICTIONS_SCHEMA})")
            stats["pairs_scored"], stats["pairs_by_blocking_rule"] = 0, {name: 0 for name in BLOCKING_RULES}
            if stats["records"] <= 1:
                settle()
            else:
                with _splink(con, settle, options.engine) as splink:
                    stats["splink_version"] = splink.version
                    for statement in blocking_sql("records"):
                        splink.con.execute(statement)
                    by_rule = dict(splink.con.execute("SELECT rule, count(*) FROM blocked GROUP BY rule").fetchall())
                    stats["pairs_scored"] = sum(by_rule.values())
                    stats["pairs_by_blocking_rule"] = {name: by_rule.get(i, 0) for i, name in enumerate(BLOCKING_RULES)}
                    lap("blocking")
                    if options.keep_candidates:
                        con.execute(f"CREATE OR REPLACE TABLE link_candidates AS SELECT * FROM {splink.table('blocked')}")
                    linker = splink.linker  # made with the settled model
                    if overlap:  # the wait for what was left of it when blocking was done, and its own time
                        lap("estimation")
                        seconds["estimation_beside_blocking"] = estimation.result()[2]
                    if options.charts_dir is not None:
                        stats["charts"] = write_charts(linker, Path(options.charts_dir))
                    band = stats["review_band"]
                    stats["scoring_chunks"] = _score(con, splink, stats["pairs_scored"], options.pairs_per_chunk,
                                                     low=min(band[0], stats["accept"]))
                lap("scoring")
        finally:
            if worker is not None:
                wait([estimation])  # before its connection closes, also when blocking failed
                worker.close()
    _load_decisions(con, options.decisions_path)
    stats.update(cluster(con, stats["accept"]))
    lap("clustering")
    stats.update(_review(con, stats["review_band"]))
    lap("review")
    seconds["total"] = round(time.perf_counter() - started, 2)
    return stats


def _model_of_run(con: duckdb.DuckDBPyConnection, options: Options, stats: dict) -> tuple[dict, dict, float]:
    """(The Splink model this run scores with, the model file's header, seconds it took): the shipped model,
    re-estimated on the run's records (table link_features) unless `options.estimate` is off, or one trained on
    them from the structure's defaults. Notes in `stats` where the parameters came from (model, estimation)."""
    clock = time.perf_counter()
    if options.model_path is None:
        stats["model"], stats["estimation"] = "trained on this run", "estimated on this run from the structure's defaults"
        model, meta = train(con, engine=options.engine), {}
    else:
        model, meta = load_model(options.model_path)
        stats["model"] = f"{options.model_path} ({meta.get('trained_on', '?')}, {meta.get('trained', '?')})"
        stats["estimation"] = "shipped parameters, as they are"
        if options.estimate:
            model, stats["estimation"] = estimate(con, model, options.engine)
    return model, meta, round(time.perf_counter() - clock, 2)


def _cursor_here(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to `con`'s database instance, in the same current catalog (the workspace)."""
    cursor = con.cursor()
    cursor.execute(f'USE "{first(con, "SELECT current_database()")[0]}"')
    return cursor


def _score(con: duckdb.DuckDBPyConnection, splink: Engine, pairs: int, pairs_per_chunk: int, low: float) -> int:
    """Splink scores exactly the blocked pairs (table `blocked` of its engine), in chunks of about
    `pairs_per_chunk` pairs, each pair's probability >= `low` appended to link_predictions. Returns the chunks.

    A chunk is the pairs whose left record has a birth date of one share of them (hashed; a record without
    one by its id), and its records are a table of their own, `scoring_records` (chunk, record), clustered by
    chunk: most pairs share the birth date, so a record is mostly in one chunk and the chunks' records are
    about the records once. Splink's linker for a chunk reads only that chunk's records, with the term
    frequencies of all of them (computed once). Pairs chunked otherwise (by id) made Splink read all records
    for every chunk, both sides: 50 s of 59 at 5 million registrations, and most of the time at 50 million.
    Chunks bound memory: at 50 million registrations all pairs at once outgrew 40 GB of spill disk."""
    chunks = max(1, -(-pairs // pairs_per_chunk))
    if chunks == 1:  # the records themselves, as they are
        splink.linker.table_management.register_blocked_pairs_for_predict(
            splink.db_api.register(_pairs_view(splink, "blocked", "blocked_ids"), table_name="blocked_ids"))
        _predict(con, splink, splink.linker, low)
        return 1
    splink.con.execute(f"""CREATE OR REPLACE TABLE scoring_pairs AS
        SELECT hash(coalesce(r.dob_text, r.unique_id::VARCHAR)) % {chunks} AS chunk, b.rule, b.id_l, b.id_r
        FROM blocked b JOIN records r ON r.unique_id = b.id_l ORDER BY chunk, b.id_l, b.id_r""")
    splink.con.execute("""CREATE OR REPLACE TABLE scoring_records AS
        SELECT c.chunk, r.* FROM (SELECT chunk, id_l AS id FROM scoring_pairs UNION SELECT chunk, id_r FROM scoring_pairs) c
        JOIN records r ON r.unique_id = c.id ORDER BY c.chunk, r.unique_id""")
    frequencies = {column: splink.linker.table_management.compute_tf_table(column) for column in _tf_columns()}
    numbers = [row[0] for row in splink.con.execute("SELECT DISTINCT chunk FROM scoring_pairs ORDER BY chunk").fetchall()]
    for i, chunk in enumerate(numbers):  # (Spark's hash is signed: a chunk number may be negative)
        records, ids = f"scoring_records_{i}", f"scoring_pairs_{i}"  # Splink registers a table name once
        splink.con.execute(f"CREATE VIEW {records} AS SELECT * EXCLUDE (chunk) FROM scoring_records WHERE chunk = {chunk}")
        linker = splink.linker_on(records)
        for column, frequency in frequencies.items():
            linker.table_management.register_term_frequency_lookup(frequency, column)
        linker.table_management.register_blocked_pairs_for_predict(splink.db_api.register(
            _pairs_view(splink, f"scoring_pairs WHERE chunk = {chunk}", ids), table_name=ids))
        _predict(con, splink, linker, low)
    return len(numbers)


def _pairs_view(splink: Engine, pairs: str, view: str) -> str:
    """View `view` of the pairs `pairs` (rule, id_l, id_r), in the columns Splink takes blocked pairs in."""
    splink.con.execute(f"CREATE VIEW {view} AS SELECT rule::VARCHAR AS match_key, id_l AS join_key_l, "
                       f"id_r AS join_key_r FROM {pairs}")
    return view


def _predict(con: duckdb.DuckDBPyConnection, splink: Engine, linker: object, low: float) -> None:
    """The linker's registered pairs scored, those of probability >= `low` appended to link_predictions."""
    predictions = linker.inference.predict(threshold_match_probability=low, warning_mode="never")
    con.execute(f"INSERT INTO link_predictions SELECT unique_id_l, unique_id_r, match_probability "
                f"FROM {splink.table(predictions.physical_name)}")
    predictions.drop_table_from_database_and_remove_from_cache()


def _tf_columns() -> list[str]:
    """The columns whose value frequencies weigh a comparison level (the model's tf_adjustment_column)."""
    return sorted({level["tf_adjustment_column"] for comparison in settings()["comparisons"]
                   for level in comparison["comparison_levels"] if level.get("tf_adjustment_column")})


MODEL_SCHEMA = ("parameters_from VARCHAR, model_file VARCHAR, records BIGINT, accept DOUBLE, prior DOUBLE, "
                "splink_settings VARCHAR")


def _keep_model(con: duckdb.DuckDBPyConnection, model: dict, stats: dict, accept: float) -> None:
    """`link_model`: the parameters this run used (Splink's JSON, prior included), to be stored with the snapshot."""
    con.execute(f"CREATE OR REPLACE TABLE link_model ({MODEL_SCHEMA})")
    con.execute("INSERT INTO link_model VALUES (?, ?, ?, ?, ?, ?)",
                [stats["estimation"], stats["model"], stats["records"], accept, stats["prior"],
                 json.dumps(model, sort_keys=True)])


CHARTS = {"match_weights": "match_weights_chart", "m_u_parameters": "m_u_parameters_chart"}


def write_charts(linker, folder: Path) -> dict[str, str]:
    """Splink's match-weight and m/u charts of the parameters in use, as HTML files that open without a
    network (Vega inlined)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, method in CHARTS.items():
        path = folder / f"linkage_{name}.html"
        path.write_text(getattr(linker.visualisations, method)().to_html(inline=True), encoding="utf-8")
        written[name] = str(path)
    return written


def _load_decisions(con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """The reviewers' decisions, naming records by record key (stable across snapshots, unlike row numbers)."""
    con.execute("CREATE OR REPLACE TABLE link_decisions (record_key_1 VARCHAR, record_key_2 VARCHAR, "
                "decision VARCHAR, decided_by VARCHAR, decided_on VARCHAR, note VARCHAR, line BIGINT)")
    if path is None or not Path(path).exists():
        return
    con.execute("""INSERT INTO link_decisions
                   SELECT trim(record_key_1), trim(record_key_2), lower(trim(decision)), decided_by, decided_on, note,
                          row_number() OVER () AS line
                   FROM read_csv(?, header = true, all_varchar = true,
                                 columns = {'record_key_1': 'VARCHAR', 'record_key_2': 'VARCHAR', 'decision': 'VARCHAR',
                                            'decided_by': 'VARCHAR', 'decided_on': 'VARCHAR', 'note': 'VARCHAR'})""",
                [str(path)])
    bad = first(con, f"""SELECT count(*), min(coalesce(decision, '(empty)')) FROM link_decisions
                         WHERE decision IS NULL OR decision NOT IN {DECISIONS!r}
                            OR record_key_1 IS NULL OR record_key_2 IS NULL""")
    if bad[0]:
        raise ValueError(f"{path}: {bad[0]} decision row(s) lack a record key or a decision of "
                         f"{' or '.join(DECISIONS)} (e.g. {bad[1]!r}); fix the file and run again")


# Twins and look-alikes: same birth date, same place (village, or none on either), same weak prefix and
# family name (the last word), but given names that differ otherwise than by spelling, word order or a
# dropped word (Wa Ode Fitri / Wa Ode Fitria Lapodi, Ikhsan / Ikhwan Ramadhan). A slip and a sibling look
# the same here, so such a pair is never linked on its own evidence: it goes to review. A NIK decides it when
# it cannot be a twin's. Twins are registered together, on one family card: their NIKs share the region and
# birth digits (the sex digit aside) and their serials were issued one after the other (...0001, ...0002).
# So the pair is decided by: the same NIK; two neighbouring digits swapped; a slip in the region digits;
# NIKs of two different regions, each agreeing with its record's birth date and sex (a twin's would share
# the region); or NIKs equal in their first twelve digits whose serials are one digit apart but not
# consecutive (0565 / 0165 is a slip, 0001 / 0002 may be twins). So do other registrations (a link through
# a third record still joins them) and a reviewer.
LOOK_ALIKE = """(l.dob = r.dob AND l.village IS NOT DISTINCT FROM r.village
           AND l.name_prefix IS NOT DISTINCT FROM r.name_prefix
           AND l.name_last = r.name_last AND l.name_words >= 2 AND r.name_words >= 2  -- one family name
           AND l.name_key <> r.name_key AND l.name_sorted <> r.name_sorted AND l.name_joined <> r.name_joined
           AND NOT (list_has_all(l.name_tokens, r.name_tokens) OR list_has_all(r.name_tokens, l.name_tokens))
           AND NOT coalesce(l.nik = r.nik
                            OR (hamming(l.nik, r.nik) = 2 AND damerau_levenshtein(l.nik, r.nik) = 1)
                            OR (substr(l.nik, 7) = substr(r.nik, 7) AND hamming(l.nik, r.nik) = 1)
                            OR (l.nik_agrees AND r.nik_agrees AND substr(l.nik, 1, 6) <> substr(r.nik, 1, 6))
                            OR (substr(l.nik, 1, 12) = substr(r.nik, 1, 12) AND hamming(l.nik, r.nik) = 1
                                AND abs(l.nik_serial::INTEGER - r.nik_serial::INTEGER) <> 1), false))"""

CLUSTER_SQL = """
-- reviewers' decisions between records (a JAKON key may name several identical rows), latest first
CREATE OR REPLACE TABLE link_decided AS
SELECT least(a.unique_id, b.unique_id) AS id_l, greatest(a.unique_id, b.unique_id) AS id_r,
       arg_max(d.decision, (coalesce(d.decided_on, ''), d.line)) AS decision  -- same day: the later line
FROM link_decisions d
JOIN link_features a ON a.record_key = d.record_key_1
JOIN link_features b ON b.record_key = d.record_key_2
WHERE a.unique_id <> b.unique_id
GROUP BY ALL;

-- accepted links: confident predictions, less NIK collisions and pairs a reviewer kept apart; plus "same"
CREATE OR REPLACE TABLE link_edges AS
WITH scored AS (
    SELECT p.unique_id_l AS id_l, p.unique_id_r AS id_r, p.match_probability AS p,
           -- one NIK carried by two clearly different people: birth dates and names disagree
           l.nik = r.nik AND l.dob IS DISTINCT FROM r.dob
               AND coalesce(damerau_levenshtein(l.dob_text, r.dob_text) > 1, true)
               AND coalesce(abs(date_diff('day', l.dob, r.dob)) NOT BETWEEN 364 AND 366, true)
               AND coalesce(jaro_winkler_similarity(l.name_key, r.name_key) < 0.82
                            AND l.name_first <> r.name_first AND l.name_last <> r.name_last, true) AS collision,
           -- two different NIKs, each confirmed by another registration of a like name: two people
           l.nik_trusted AND r.nik_trusted AND l.nik_confirmed AND r.nik_confirmed AND l.nik <> r.nik AS two_niks,
           {LOOK_ALIKE} AS look_alike
    FROM link_predictions p
    JOIN link_features l ON l.unique_id = p.unique_id_l
    JOIN link_features r ON r.unique_id = p.unique_id_r
)
SELECT s.id_l, s.id_r, s.p, s.look_alike FROM scored s
ANTI JOIN link_decided d ON d.id_l = s.id_l AND d.id_r = s.id_r
WHERE s.p >= $accept AND NOT s.collision AND NOT s.two_niks;

-- look-alikes (twins?) go to review, not into one person on this evidence alone
CREATE OR REPLACE TABLE link_look_alikes AS SELECT id_l, id_r, p FROM link_edges WHERE look_alike;
DELETE FROM link_edges WHERE look_alike;
ALTER TABLE link_edges DROP COLUMN look_alike;
INSERT INTO link_edges SELECT id_l, id_r, 1.0 FROM link_decided WHERE decision = 'same';

-- groups: records sharing a trusted NIK are one group (stage one); every other record is its own. Numbered
-- NIK groups first, by NIK (16 digits less 10^16: negative), then records by unique_id (positive)
CREATE OR REPLACE TABLE link_groups AS
SELECT unique_id, CASE WHEN nik_trusted THEN nik::BIGINT - 10_000_000_000_000_000 ELSE unique_id END AS grp,
       nik_trusted AS anchored
FROM link_features
"""

CLUSTER_SQL = CLUSTER_SQL.replace("{LOOK_ALIKE}", LOOK_ALIKE)

GROUP_EDGES_SQL = """
CREATE OR REPLACE TABLE link_group_edges AS
WITH e AS (
    SELECT gl.grp AS g1, gr.grp AS g2, gl.anchored AS a1, gr.anchored AS a2, e.p
    FROM link_edges e JOIN link_groups gl ON gl.unique_id = e.id_l JOIN link_groups gr ON gr.unique_id = e.id_r
    WHERE gl.grp <> gr.grp
)
SELECT g1 AS src, g2 AS dst, a1 AS src_anchored, a2 AS dst_anchored, max(p) AS p FROM e GROUP BY ALL
UNION ALL
SELECT g2, g1, a2, a1, max(p) FROM e GROUP BY ALL
"""

RESOLVED_SQL = """
CREATE OR REPLACE TABLE resolved AS
WITH rec AS (
    SELECT f.*, g.grp, g.anchored, lb.label,
           count(*) OVER (PARTITION BY g.grp) AS group_size,
           count(*) OVER (PARTITION BY lb.label) AS person_size
    FROM link_features f JOIN link_groups g USING (unique_id) JOIN link_labels lb USING (grp)
),
regions AS (  -- how many records carry each NIK region: a real district is shared by many, a slip's by few
    SELECT substr(nik, 1, 6) AS region, count(*) AS region_records FROM link_features WHERE nik_valid GROUP BY ALL
),
niks AS (  -- each person's NIKs: trusted ones first, then by how many of their records carry them
    SELECT label, nik, bool_or(nik_trusted) AS trusted, count(*) AS records FROM rec WHERE nik_valid GROUP BY ALL
),
person_nik AS (  -- the person's own NIK, not a slip on one form: for the region, and the anchor of person_id
    SELECT n.label, arg_min(n.nik, (NOT n.trusted, -n.records, -r.region_records, n.nik)) AS nik,
           bool_or(n.trusted) AS trusted
    FROM niks n JOIN regions r ON r.region = substr(n.nik, 1, 6) GROUP BY n.label
),
anchor AS (  -- stable across snapshots: the person's own trusted NIK, else their smallest record key
    SELECT rec.label, coalesce(CASE WHEN bool_or(p.trusted) THEN 'nik:' || min(p.nik) END,
                               'rec:' || min(rec.record_key)) AS person_id, min(p.nik) AS person_nik  -- one p per label
    FROM rec LEFT JOIN person_nik p USING (label) GROUP BY rec.label
),
best AS (  -- strongest accepted link from each record to another record of the same person
    SELECT x.id, max(x.p) AS p FROM (
        SELECT id_l AS id, id_r AS other, p FROM link_edges UNION ALL SELECT id_r, id_l, p FROM link_edges
    ) x
    JOIN rec a ON a.unique_id = x.id JOIN rec b ON b.unique_id = x.other
    WHERE a.label = b.label GROUP BY x.id
)
SELECT rec.unique_id, rec.source, rec.source_row, rec.record_key, anchor.person_id, anchor.person_nik,
       CASE WHEN person_size = 1 THEN 'single' WHEN anchored AND group_size > 1 THEN 'nik'
            ELSE 'probabilistic' END AS match_method,
       CASE WHEN person_size = 1 THEN NULL WHEN anchored AND group_size > 1 THEN 1.0
            ELSE best.p END::DOUBLE AS match_probability
FROM rec JOIN anchor USING (label) LEFT JOIN best ON best.id = rec.unique_id
"""

# Reviewer said "different" yet the pair still ended in one person through other links: cut the
# links that tie the less anchored record of the pair to that person, then cluster again.
CUT_SQL = """
WITH broken AS (
    SELECT CASE WHEN fr.nik_trusted AND NOT fl.nik_trusted THEN d.id_l
                WHEN fl.nik_trusted AND NOT fr.nik_trusted THEN d.id_r
                ELSE greatest(d.id_l, d.id_r) END AS loose, rl.person_id
    FROM link_decided d
    JOIN resolved rl ON rl.unique_id = d.id_l JOIN resolved rr ON rr.unique_id = d.id_r
    JOIN link_features fl ON fl.unique_id = d.id_l JOIN link_features fr ON fr.unique_id = d.id_r
    WHERE d.decision = 'different' AND rl.person_id = rr.person_id
),
cut AS (
    SELECT e.id_l, e.id_r FROM link_edges e
    JOIN broken b ON b.loose IN (e.id_l, e.id_r)
    JOIN resolved o ON o.unique_id = CASE WHEN e.id_l = b.loose THEN e.id_r ELSE e.id_l END AND o.person_id = b.person_id
)
DELETE FROM link_edges e USING cut c WHERE e.id_l = c.id_l AND e.id_r = c.id_r
"""


def _components(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, out: str) -> int:
    """`out(node, label)`: connected components of an undirected graph, label = smallest node id.

    Label propagation, one set-based query per step; the steps grow with the longest chain, not the data."""
    con.execute(f"CREATE OR REPLACE TABLE {out} AS SELECT DISTINCT node, node AS label FROM ({nodes})")
    con.execute(f"""CREATE OR REPLACE TABLE link_cc_edges AS
                    SELECT src, dst FROM ({edges}) UNION SELECT dst, src FROM ({edges})""")
    steps = 0
    while True:
        steps += 1
        con.execute(f"""CREATE OR REPLACE TABLE link_cc_next AS
                        SELECT o.node, least(o.label, coalesce(min(n.label), o.label)) AS label
                        FROM {out} o
                        LEFT JOIN link_cc_edges e ON e.src = o.node
                        LEFT JOIN {out} n ON n.node = e.dst
                        GROUP BY o.node, o.label""")
        changed = first(con, f"SELECT count(*) FROM link_cc_next n JOIN {out} o USING (node) WHERE n.label <> o.label")[0]
        con.execute(f"CREATE OR REPLACE TABLE {out} AS SELECT * FROM link_cc_next")
        if not changed:
            return steps


def _label(con: duckdb.DuckDBPyConnection) -> int:
    """`link_labels(grp, label)`: which person each group belongs to, from the accepted links.

    NIK groups join each other only through a direct link (a mistyped NIK). A record without a
    trusted NIK that links to NIK groups joins the one it matches best. Records that link to no NIK
    group cluster with each other, and such a cluster follows its best link to a record that did
    join a NIK group, if any: one path to one NIK, never a chain across two.
    """
    con.execute(GROUP_EDGES_SQL)
    steps = _components(con, "SELECT grp AS node FROM link_groups WHERE anchored",
                        "SELECT src, dst FROM link_group_edges WHERE src_anchored AND dst_anchored", "link_anchor_labels")
    con.execute("""CREATE OR REPLACE TABLE link_attached AS
                   SELECT e.src AS grp, arg_max(a.label, (e.p, -a.label)) AS label
                   FROM link_group_edges e JOIN link_anchor_labels a ON a.node = e.dst
                   WHERE NOT e.src_anchored AND e.dst_anchored GROUP BY e.src""")
    steps += _components(con, """SELECT grp AS node FROM link_groups
                                 WHERE NOT anchored AND grp NOT IN (SELECT grp FROM link_attached)""",
                         """SELECT src, dst FROM link_group_edges
                            WHERE NOT src_anchored AND NOT dst_anchored AND src NOT IN (SELECT grp FROM link_attached)
                              AND dst NOT IN (SELECT grp FROM link_attached)""", "link_free_labels")
    con.execute("""
        CREATE OR REPLACE TABLE link_labels AS
        WITH free_joins AS (
            SELECT f.label AS free_label, arg_max(a.label, (e.p, -a.label)) AS label
            FROM link_free_labels f
            JOIN link_group_edges e ON e.src = f.node
            JOIN link_attached a ON a.grp = e.dst
            GROUP BY f.label
        )
        SELECT node AS grp, label FROM link_anchor_labels
        UNION ALL SELECT grp, label FROM link_attached
        UNION ALL SELECT f.node, coalesce(j.label, f.label) FROM link_free_labels f
                  LEFT JOIN free_joins j ON j.free_label = f.label
    """)
    return steps


def cluster(con: duckdb.DuckDBPyConnection, accept: float) -> dict:
    """`resolved`: one person per record, from the accepted links and the reviewers' decisions."""
    for statement in [s for s in CLUSTER_SQL.split(";\n") if s.strip()]:
        con.execute(statement, {"accept": accept} if "$accept" in statement else None)
    steps, repairs = _label(con), 0
    con.execute(RESOLVED_SQL)
    while repairs < 5 and first(con, "SELECT count(*) FROM link_decided d JOIN resolved a ON a.unique_id = d.id_l "
                                     "JOIN resolved b ON b.unique_id = d.id_r "
                                     "WHERE d.decision = 'different' AND a.person_id = b.person_id")[0]:
        con.execute(CUT_SQL)
        steps, repairs = steps + _label(con), repairs + 1
        con.execute(RESOLVED_SQL)
    con.execute("""
        CREATE OR REPLACE TABLE nik_collisions AS
        SELECT f.nik, count(DISTINCT r.person_id) AS persons, count(*) AS records,
               list_sort(list(DISTINCT r.person_id)) AS person_ids
        FROM link_features f JOIN resolved r USING (unique_id)
        WHERE f.nik_valid GROUP BY f.nik HAVING count(DISTINCT r.person_id) > 1
    """)
    records, persons = first(con, "SELECT count(*), count(DISTINCT person_id) FROM resolved")
    if records != first(con, "SELECT count(*) FROM link_features")[0]:
        raise RuntimeError("identity resolution lost or duplicated records; this is a bug in assets/linkage.py")
    return {"persons": persons, "cluster_steps": steps, "links_accepted": first(con, "SELECT count(*) FROM link_edges")[0],
            "look_alikes_to_review": first(con, "SELECT count(*) FROM link_look_alikes")[0]}


def _review(con: duckdb.DuckDBPyConnection, band: tuple[float, float]) -> dict:
    """`review_pairs`: pairs a person should look at, the uncertain band and every pair already decided."""
    con.execute(f"CREATE OR REPLACE TABLE review_pairs ({REVIEW_SCHEMA})")
    con.execute("""
        INSERT INTO review_pairs
        WITH pairs AS (
            SELECT least(unique_id_l, unique_id_r) AS id_l, greatest(unique_id_l, unique_id_r) AS id_r, match_probability
            FROM link_predictions WHERE match_probability >= $low AND match_probability < $high
            UNION
            SELECT id_l, id_r, p FROM link_look_alikes
            UNION
            SELECT d.id_l, d.id_r, p.match_probability FROM link_decided d
            LEFT JOIN link_predictions p ON p.unique_id_l = d.id_l AND p.unique_id_r = d.id_r
        )
        SELECT l.record_key, r.record_key, pairs.match_probability, rl.person_id = rr.person_id, d.decision,
               l.source, l.source_row, l.nama, l.dob, l.nik, l.village,
               r.source, r.source_row, r.nama, r.dob, r.nik, r.village
        FROM pairs
        JOIN link_features l ON l.unique_id = pairs.id_l JOIN link_features r ON r.unique_id = pairs.id_r
        JOIN resolved rl ON rl.unique_id = l.unique_id JOIN resolved rr ON rr.unique_id = r.unique_id
        LEFT JOIN link_decided d ON d.id_l = pairs.id_l AND d.id_r = pairs.id_r
        ORDER BY pairs.match_probability DESC NULLS LAST, l.record_key, r.record_key
    """, {"low": band[0], "high": band[1]})
    pending, decided = first(con, "SELECT count(*) FILTER (WHERE decision IS NULL), count(decision) FROM review_pairs")
    stale = first(con, """SELECT count(*) FROM link_decisions d
                          WHERE d.record_key_1 NOT IN (SELECT record_key FROM link_features)
                             OR d.record_key_2 NOT IN (SELECT record_key FROM link_features)""")[0]
    return {"review_pending": pending, "review_decided": decided, "review_decisions_not_found": stale}
