"""`jamsostek evaluate`: its pairwise scores, its FEBRL recast, and the accuracy it reports on FEBRL."""

import polars as pl
import pytest

from sample import evaluate
from pipelines.cli import main


def frame(rows):
    return pl.DataFrame(rows, schema=["source", "source_row", "person_id"], orient="row")


def test_pairwise_scores_count_pairs_of_registrations():
    truth = frame([("pu", 1, "a"), ("pu", 2, "a"), ("bpu", 1, "a"), ("pu", 3, "b"), ("bpu", 2, "b"), ("pu", 4, "c")])
    links = frame([("pu", 1, "x"), ("pu", 2, "x"), ("bpu", 1, "y"), ("pu", 3, "z"), ("bpu", 2, "z"), ("pu", 4, "z")])
    got = evaluate.pairwise(links, truth)
    # true pairs: a 3 + b 1 = 4; found: x 1 + z 3 = 4; correct: (pu1, pu2) and (pu3, bpu2) = 2
    assert (got["true_pairs"], got["predicted_pairs"], got["correct_pairs"]) == (4, 4, 2)
    assert got["precision"] == got["recall"] == got["f1"] == 0.5
    assert (got["persons_true"], got["persons_found"]) == (3, 3)


def test_pairwise_refuses_links_without_truth():
    with pytest.raises(ValueError, match="no ground truth"):
        evaluate.pairwise(frame([("pu", 9, "x")]), frame([("pu", 1, "a")]))


def test_febrl_is_recast_into_the_contract_with_typos_flowing_into_the_nik(tmp_path):
    febrl4 = evaluate.febrl_dataset("febrl4", tmp_path)
    regs, truth = febrl4.registrations, febrl4.truth
    assert regs.height == truth.height == 10_000
    assert regs.group_by("source").len().sort("source").rows() == [("bpu_participants", 5000), ("pu_workers", 5000)]
    assert truth["person_id"].n_unique() == 5000  # FEBRL 4: the same 5,000 people in files A and B
    assert regs["record_key"].n_unique() == 10_000
    niks = regs.filter(pl.col("nik").is_not_null())["nik"]
    assert niks.str.contains(r"^74\d{14}$").mean() > 0.99
    # the NIK carries the record's own birth date (DDMMYY) and soc_sec_id: a typo in either changes it
    born = regs.filter(pl.col("tanggal_lahir").is_not_null() & pl.col("nik").str.contains(r"^\d{16}$"))
    assert (born["nik"].str.slice(6, 6) == born["tanggal_lahir"].dt.strftime("%d%m%y")).all()
    same = regs.join(truth, on=["source", "source_row"]).group_by("person_id").agg(pl.col("nik").n_unique())
    assert 0.05 < (same["nik"] > 1).mean() < 0.3  # duplicates whose NIK differs: what NIK matching alone misses
    febrl3 = evaluate.febrl_dataset("febrl3", tmp_path / "3")
    assert febrl3.registrations.height == 5000 and set(febrl3.registrations["source"]) == {"pu_workers"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    probabilistic = evaluate.evaluate(("febrl3", "febrl4"), workdir=root / "p")
    exact = evaluate.evaluate(("febrl4",), method="exact", workdir=root / "e")
    return {(r["dataset"], r["method"]): r for r in probabilistic + exact}


def test_febrl_accuracy(results):
    assert results[("febrl3", "probabilistic")]["f1"] >= 0.97
    assert results[("febrl4", "probabilistic")]["f1"] >= 0.99
    assert results[("febrl4", "probabilistic")]["precision"] >= 0.99
    exact = results[("febrl4", "exact")]
    assert exact["precision"] == 1.0 and exact["recall"] < 0.9  # NIK alone: sure, but blind to typos
    assert results[("febrl4", "probabilistic")]["model"] == "trained on it"


def test_report_names_each_figure(results):
    text = evaluate.report(list(results.values()))
    assert "precision" in text and "recall" in text and "F1" in text and "febrl4" in text


def test_evaluate_is_a_jamsostek_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert "--datasets" in capsys.readouterr().out
