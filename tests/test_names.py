"""The Indonesian name normaliser (assets/names.py): what two spellings of one name have in common."""

import duckdb
import polars as pl
import pytest

from assets.names import add_name_columns, name_table


def names(*raw: str | None) -> pl.DataFrame:
    return add_name_columns(pl.DataFrame({"nama": list(raw)}, schema={"nama": pl.String}))


def key(raw: str) -> str:
    return names(raw)["name_key"][0]


@pytest.mark.parametrize("raw", ["Muh. Rizal", "MUHAMMAD RIZAL", "H. Muhammad Rizal, S.E.", "Moh Rizal", "M. Rizal",
                                 "muhamad rizal ", "Mohammad  Rizal", "Dr. Muh. Rizal S.E. M.M."])
def test_muhammad_variants_and_titles_give_one_name(raw):
    row = names(raw).row(0, named=True)
    assert (row["name_clean"], row["name_prefix"], row["name_key"]) == ("muhammad rizal", "muhammad", "rizal")


@pytest.mark.parametrize("raw", ["Hj. Sitti Aminah, S.Pd", "St. Aminah", "SITI AMINAH", "Siti Aminah S.Kep"])
def test_siti_variants(raw):
    assert names(raw).select("name_prefix", "name_key").row(0) == ("siti", "amina")


@pytest.mark.parametrize("raw, clean", [
    ("drg. Andi Saputra, M.M.", "andi saputra"), ("Ir. Budi S.T.", "budi"), ("Budi ST", "budi"),
    ("Sumarni S.Pd", "sumarni"), ("RAHMAN RAMLI, S.PD.I", "rahman ramli"), ("H.Zainal", "zainal"),
    ("dr. Wa Ode Sari, S.Ked", "waode sari"), ("Prof. Dr. Ir. Hasan", "hasan"), ("Hasan A.Md", "hasan"),
    ("Ma'ruf Amin", "maruf amin"), ("Élodie", "elodie"),
])
def test_titles_degrees_and_punctuation_are_dropped(raw, clean):
    assert names(raw)["name_clean"][0] == clean


def test_names_that_look_like_titles_are_kept():
    # "Hasan" begins like "H.", "Drajat" like "dr", "Stefanus" like "St.": only whole titles go
    assert names("Hasan Basri", "Drajat", "Stefanus", "Irwan")["name_clean"].to_list() == [
        "hasan basri", "drajat", "stefanus", "irwan"]


def test_la_ode_wa_ode_and_other_weak_prefixes_are_set_apart():
    got = names("La Ode Rahman", "LAODE RAHMAN", "Wa Ode Nurhayati", "La Ndibu", "WA SIMA", "Andi Baharuddin",
                "Muhammad Andi Rizal").select("name_prefix", "name_key").rows()
    assert got == [("laode", "rahman"), ("laode", "rahman"), ("waode", "nurhayati"), ("la", "ndibu"),
                   ("wa", "sima"), ("andi", "baharudin"), ("muhammad andi", "rizal")]


def test_a_name_made_only_of_prefixes_keeps_them_as_its_key():
    assert names("Muhammad", "Andi", "La Ode")["name_key"].to_list() == ["muhamat", "andi", "laode"]


@pytest.mark.parametrize("a, b", [("Syamsuddin", "Samsudin"), ("Yusuf", "YUSUP"), ("Rahmat", "Rahmad"),
                                  ("Fatimah", "Fatima"), ("Nur Hayati", "NURHAYATI"), ("Wahyudi", "Wahyudy"),
                                  ("Zulkifli", "Zulkifly"), ("Djoko", "Joko"), ("Taufik", "Taufiq")])
def test_spelling_variants_share_a_key(a, b):
    assert key(a) == key(b)


@pytest.mark.parametrize("a, b", [("Rizal", "Risal Hamzah"), ("Hasan", "Husain"), ("Rina", "Rini"), ("Ali", "Alia")])
def test_different_names_keep_different_keys(a, b):
    assert key(a) != key(b)


def test_single_word_names_and_word_columns():
    row = names("Rina").row(0, named=True)
    assert (row["name_words"], row["name_first"], row["name_last"], row["name_tokens"]) == (1, "rina", "rina", ["rina"])
    row = names("Asrul  Burhanuddin Lapodi").row(0, named=True)
    assert row["name_words"] == 3 and row["name_first"] == "asrul" and row["name_last"] == "lapodi"
    assert row["name_sorted"] == "asrul burhanudin lapodi" and row["name_joined"] == "asrulburhanudinlapodi"
    assert names("Lapodi Asrul")["name_sorted"][0] == names("Asrul Lapodi")["name_sorted"][0]


def test_missing_and_empty_names_stay_missing():
    frame = names(None, "", "   ", "S.E.")
    assert frame["name_clean"].to_list()[:3] == [None, None, None]
    assert frame["name_key"].to_list()[:3] == [None, None, None]


def test_set_based_on_a_lazy_frame_of_many_rows():
    lazy = pl.LazyFrame({"nama": ["Muh. Rizal", "Siti Aminah"] * 50_000})
    out = add_name_columns(lazy).collect()
    assert out.height == 100_000 and out["name_key"].n_unique() == 2


def test_a_duckdb_table_goes_through_in_batches_with_the_same_columns_as_at_once(tmp_path):
    """`name_table` (distinct names, a few at a time, as the identity step does) gives every name exactly
    what `add_name_columns` gives it over the whole column: on the generator's names and awkward ones."""
    from sample.generator import generate

    generate(tmp_path / "landing", tmp_path / "truth", seed=3, scale=0.05)
    odd = ["", "   ", "S.E.", "Élodie", "ＭＵＨ．ＲＩＺＡＬ", "Ma'ruf Amin", "La Ode", "H. Muhammad Rizal, S.E."]
    with duckdb.connect() as con:
        con.execute(f"""CREATE TABLE people AS
                        SELECT nama FROM read_csv('{tmp_path}/landing/*/*_w*.csv', all_varchar = true, union_by_name = true)
                        UNION ALL SELECT nama FROM read_csv('{tmp_path}/landing/*/bpu_*.csv', all_varchar = true)
                        UNION ALL SELECT unnest(?::VARCHAR[]) UNION ALL SELECT NULL""", [odd])
        people = pl.from_arrow(con.sql("SELECT nama FROM people").to_arrow_table())
        distinct = name_table(con, "people", "people_names", batch=500)
        batched = pl.from_arrow(con.sql("SELECT * FROM people_names").to_arrow_table())
    at_once = add_name_columns(people).unique("nama")
    assert people.height > 3_000 and distinct == at_once.height == batched.height > 500 * 3  # several batches
    assert batched.sort("nama", nulls_last=True).equals(at_once.sort("nama", nulls_last=True))
