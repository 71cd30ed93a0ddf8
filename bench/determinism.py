"""Same snapshot, same tables, at scale: two full runs of one generated sample, DuckDB threads 1 and 2.

    nice -n 5 .venv/bin/python bench/determinism.py              # scale 1.0 (Kendari), seed 42
    nice -n 5 .venv/bin/python bench/determinism.py --scale 0.1

Each run is its own process with every DuckDB connection forced to the thread count. Digest of a table:
its row count and the sum of its row hashes (order-free, exact). Compared: every table of the analytics
database except `publication` (its id is a timestamp and a uuid), and identity.record_links, review_pairs
and linkage_models of the pipeline database. tests/test_determinism.py does the same at scale 0.03.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SNAPSHOT = date(2025, 6, 8)
ROOT = Path(__file__).resolve().parents[1]
PIPELINE_TABLES = ["identity.record_links", "identity.review_pairs", "identity.linkage_models"]


def digests(path: Path, tables: list[str] | None = None) -> dict[str, list]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        names = tables or [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE table_name <> 'publication' "
            "ORDER BY ALL").fetchall()]
        return {n: [str(v) for v in con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {n} t").fetchall()[0]]
                for n in names}


def one_run(workdir: Path, threads: int) -> dict:
    import duckdb

    connect = duckdb.connect

    def with_threads(database=":memory:", read_only=False, config=None, **kw):
        return connect(database, read_only=read_only, config={**(config or {}), "threads": threads}, **kw)

    duckdb.connect = with_threads  # every connection of this process, Splink's included
    from pipelines.cli import run_snapshot
    from warehouse.resources import Warehouse

    warehouse = Warehouse(landing_dir=str(workdir / "landing"), warehouse_dir=str(workdir / f"warehouse_{threads}"),
                          pseudonym_key="determinism")
    started = time.perf_counter()
    run_snapshot(warehouse, SNAPSHOT)
    seconds = round(time.perf_counter() - started, 1)
    duckdb.connect = connect
    return {"threads": threads, "seconds": seconds,
            "digests": {**digests(warehouse.analytics_db), **digests(warehouse.pipeline_db, PIPELINE_TABLES)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--one-run", type=int, help=argparse.SUPPRESS)  # internal: one run at this thread count
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(one_run(args.workdir, args.one_run)))
        return
    from sample.generator import generate

    with tempfile.TemporaryDirectory(prefix="determinism-") as tmp:
        workdir = Path(tmp)
        summary = generate(workdir / "landing", workdir / "truth", SNAPSHOT, seed=args.seed, scale=args.scale)
        runs = {}
        for threads in (1, 2):
            out = subprocess.run([sys.executable, __file__, "--one-run", str(threads), "--workdir", str(workdir)],
                                 capture_output=True, text=True, check=True)
            runs[threads] = json.loads(out.stdout.strip().splitlines()[-1])
    one, two = runs[1]["digests"], runs[2]["digests"]
    differ = sorted(n for n in one.keys() | two.keys() if one.get(n) != two.get(n))
    rows = sum(int(v[0]) for v in one.values())
    print(f"Scale {args.scale}, seed {args.seed}: {sum(summary['registrations'].values()):,} registrations; "
          f"runs of {runs[1]['seconds']} s (1 thread) and {runs[2]['seconds']} s (2 threads).")
    print(f"{len(one)} tables ({len(one) - len(PIPELINE_TABLES)} analytics + {len(PIPELINE_TABLES)} identity), "
          f"{rows:,} rows: " + ("identical digests." if not differ else f"{len(differ)} differ: {', '.join(differ)}"))
    for name in differ:
        print(f"  {name}: {one.get(name)} vs {two.get(name)}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
