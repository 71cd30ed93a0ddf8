"""Benchmark: what identity resolution costs, and the pair recall its blocking keeps.

    .venv/bin/python bench/bench_linkage.py                       # both parts below
    .venv/bin/python bench/bench_linkage.py --part kendari        # full run, exact vs probabilistic, scale 1.0
    .venv/bin/python bench/bench_linkage.py --part million        # linkage alone on ~1,000,000 registrations

kendari: one generated Kendari sample (scale 1.0, 140,940 registrations) run end to end twice, each
run in its own process: identity by NIK only (`exact`), then NIK + Splink (`probabilistic`). Prints
both wall times (imports excluded) and their ratio; then, in a third process, `assets.linkage.resolve`
alone on the probabilistic run's staged registrations, timed step by step: the linkage's share of the run.

million: a generated sample of about a million registrations (scale 7.1) is staged once (not timed);
then, in a fresh process, `assets.linkage.resolve` runs on it with the shipped model and is timed step
by step. Pair recall of blocking = true pairs (two registrations of one person) that stage one joins
by NIK or that blocking hands to Splink, over all true pairs; and the final pairwise precision,
recall and F1. Peak memory is the child process's maximum resident set.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SNAPSHOT = date(2025, 6, 8)
ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def one_run(workdir: Path, method: str) -> dict:
    """A full snapshot run (every asset, checks included) with one identity method."""
    import duckdb

    from pipelines.cli import run_snapshot
    from warehouse.resources import Warehouse

    warehouse = Warehouse(landing_dir=str(workdir / "landing"), warehouse_dir=str(workdir / f"warehouse_{method}"),
                          pseudonym_key="bench", identity_method=method)
    started = time.perf_counter()
    run_snapshot(warehouse, SNAPSHOT)
    seconds = time.perf_counter() - started
    with duckdb.connect(str(warehouse.pipeline_db), read_only=True) as con:
        persons = con.execute("SELECT count(DISTINCT person_id) FROM identity.record_links").fetchall()[0][0]
    with duckdb.connect(str(warehouse.analytics_db), read_only=True) as con:
        covered = con.execute("SELECT covered_workers FROM coverage_by_region WHERE level = 'city'").fetchall()[0][0]
    return {"method": method, "run_s": round(seconds, 1), "persons": persons, "covered": covered, "peak_mb": _peak_mb()}


def one_link(workdir: Path, warehouse_dir: str = "warehouse") -> dict:
    """linkage.resolve alone on staged registrations, timed; then its blocking recall and pairwise scores."""
    import duckdb
    import polars as pl

    from assets import linkage
    from sample.evaluate import MODEL_PATH, pairwise
    from warehouse.db import load_macros

    with duckdb.connect(str(workdir / warehouse_dir / "pipeline.duckdb")) as con, linkage.workspace(con) as (_, home):
        load_macros(con)
        con.execute(f"CREATE VIEW identity_input AS SELECT * FROM {home}.staging.registrations")
        started = time.perf_counter()
        stats = linkage.resolve(con, "identity_input",
                                options=linkage.Options(model_path=MODEL_PATH, keep_candidates=True))
        seconds = time.perf_counter() - started
        truth = pl.read_parquet(workdir / "truth" / SNAPSHOT.isoformat() / "records.parquet").select(
            "source", pl.col("source_row").cast(pl.Int64), pl.col("person_id").cast(pl.String))
        con.register("truth", truth.to_arrow())
        recall = con.execute("""
            WITH t AS (SELECT f.unique_id, f.nik, f.nik_trusted, truth.person_id FROM link_features f
                       JOIN truth USING (source, source_row)),
            pairs AS (SELECT a.unique_id AS id_l, b.unique_id AS id_r,
                             a.nik_trusted AND b.nik_trusted AND a.nik = b.nik AS by_nik
                      FROM t a JOIN t b ON a.person_id = b.person_id AND a.unique_id < b.unique_id)
            SELECT count(*), count(*) FILTER (WHERE by_nik),
                   count(*) FILTER (WHERE by_nik OR c.id_l IS NOT NULL)
            FROM pairs p LEFT JOIN link_candidates c USING (id_l, id_r)""").fetchall()[0]
        links = pl.from_arrow(con.sql("SELECT source, source_row::BIGINT AS source_row, person_id FROM resolved")
                              .to_arrow_table())
    true_pairs, by_nik, reachable = recall
    scores = pairwise(links, truth)
    return {"registrations": stats["records"], "linkage_s": round(seconds, 1), "steps_s": stats["seconds"],
            "pairs_scored": stats["pairs_scored"], "pairs_by_blocking_rule": stats["pairs_by_blocking_rule"],
            "true_pairs": true_pairs, "joined_by_nik": by_nik, "pair_recall": reachable / true_pairs,
            "precision": scores["precision"], "recall": scores["recall"], "f1": scores["f1"], "peak_mb": _peak_mb()}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def kendari(tmp: Path) -> None:
    from sample.generator import generate

    generate(tmp / "landing", tmp / "truth", SNAPSHOT, seed=42, scale=1.0)
    rows = [_child("--one-run", method, "--workdir", str(tmp)) for method in ("exact", "probabilistic")]
    print(f"Kendari (scale 1.0, {140_940:,} registrations), a full run each, in its own process:")
    for r in rows:
        print(f"  {r['method']:<14} {r['run_s']:>6} s   persons {r['persons']:>7,}   covered {r['covered']:>7,}   "
              f"peak {r['peak_mb']:>5} MB")
    print(f"  probabilistic / exact: x{rows[1]['run_s'] / rows[0]['run_s']:.2f} (must stay at or under x2)")
    r = _child("--one-link", "--workdir", str(tmp), "--warehouse", "warehouse_probabilistic")
    print(f"  linkage alone on its staged registrations: {r['linkage_s']} s = {r['linkage_s'] / rows[1]['run_s']:.0%} "
          "of the probabilistic run: " + ", ".join(f"{k} {v}" for k, v in r["steps_s"].items()))


def million(tmp: Path, scale: float) -> None:
    import dagster as dg

    from pipelines.definitions import defs
    from warehouse.partitions import ensure_snapshots
    from sample.generator import generate
    from warehouse.resources import Warehouse

    started = time.perf_counter()
    summary = generate(tmp / "landing", tmp / "truth", SNAPSHOT, seed=11, scale=scale)
    warehouse = Warehouse(landing_dir=str(tmp / "landing"), warehouse_dir=str(tmp / "warehouse"), pseudonym_key="bench")
    staging = dg.AssetSelection.assets(dg.AssetKey(["staging", "registrations"])).upstream()
    dg.materialize(defs.assets, selection=staging, partition_key=SNAPSHOT.isoformat(),
                   instance=ensure_snapshots(SNAPSHOT), resources={"warehouse": warehouse},
                   run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    prepared = time.perf_counter() - started
    r = _child("--one-link", "--workdir", str(tmp))
    print(f"Million (scale {scale}: {sum(summary['registrations'].values()):,} registrations received, "
          f"{r['registrations']:,} loaded; generated and staged in {prepared:.0f} s, not timed):")
    print(f"  linkage {r['linkage_s']} s (must stay within 60 s): " +
          ", ".join(f"{k} {v}" for k, v in r["steps_s"].items()))
    print(f"  pairs scored {r['pairs_scored']:,}: " + ", ".join(f"{k} {v:,}" for k, v in r["pairs_by_blocking_rule"].items()))
    print(f"  true pairs {r['true_pairs']:,}, joined by NIK {r['joined_by_nik']:,}; "
          f"pair recall of NIK + blocking {r['pair_recall']:.4f} (must be at least 0.99)")
    print(f"  result: precision {r['precision']:.4f}, recall {r['recall']:.4f}, F1 {r['f1']:.4f}; "
          f"peak {r['peak_mb']} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("kendari", "million", "both"), default="both")
    parser.add_argument("--scale", type=float, default=7.1, help="scale of the million part (7.1 ≈ 1,000,000)")
    parser.add_argument("--one-run", help=argparse.SUPPRESS)  # internal: one full run in this process
    parser.add_argument("--one-link", action="store_true", help=argparse.SUPPRESS)  # internal: linkage alone
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", default="warehouse", help=argparse.SUPPRESS)  # internal: for --one-link
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(args.workdir, args.one_run)))
        return
    if args.one_link:
        print(json.dumps(one_link(args.workdir, args.warehouse)))
        return
    if args.part in ("kendari", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-linkage-") as tmp:
            kendari(Path(tmp))
    if args.part in ("million", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-linkage-") as tmp:
            million(Path(tmp), args.scale)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
