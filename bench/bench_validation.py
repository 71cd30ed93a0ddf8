"""Benchmark: a GX suite by SQL pushdown (checks.gx) against one hand-written DuckDB query.

Builds a DuckDB file of staged-registration-shaped rows (vectorised, DuckDB `range()`), then runs
each variant in its own Python process so that time and peak memory are its alone:

    .venv/bin/python bench/bench_validation.py --rows 10000000          # build and measure
    .venv/bin/python bench/bench_validation.py --rows 10000000 --reuse  # keep an existing file

Seconds are the validation alone (imports excluded), best and median of `--repeat` runs. Peak MB
is the child's maximum resident set (`ru_maxrss`), split into what its imports hold and what the
validation added. Both variants must report the same unexpected counts, or the benchmark fails.
The machine's load average is printed too: on a shared machine, read timings with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLE = "staging.registrations"
STATUSES = ("aktif", "nonaktif", "meninggal")
BIRTH_MIN, BIRTH_MAX = "1940-01-01", "2010-12-31"
NIK_REGEX = "^[0-9]{16}$"

# Roughly 2% bad NIK (15 digits + a letter), 0.1% missing KPJ, 0.1% negative wage, 0.3% status
# out of set, 0.5% impossible birth dates; spread by a hash of the row number.
BUILD_SQL = f"""
CREATE OR REPLACE TABLE {TABLE} AS
SELECT
    CASE WHEN h % 1000 = 1 THEN NULL ELSE lpad(i::VARCHAR, 11, '0') END                AS kpj,
    CASE WHEN h % 50 = 7 THEN '7471' || lpad((i % 100000000000)::VARCHAR, 11, '0') || 'X'
         ELSE '7471' || lpad((i % 1000000000000)::VARCHAR, 12, '0') END               AS nik,
    CASE WHEN h % 200 = 3 THEN DATE '1899-12-31'
         ELSE DATE '{BIRTH_MIN}' + ((h // 1000) % 25000)::INTEGER END                  AS tanggal_lahir,
    CASE WHEN h % 1000 = 5 THEN -1000 ELSE 1000000 + (h // 7) % 9000000 END::BIGINT    AS upah,
    CASE WHEN h % 1000 < 3 THEN 'AKTIF ' ELSE
         ['{STATUSES[0]}', '{STATUSES[1]}', '{STATUSES[2]}'][(1 + (h // 13) % 3)::BIGINT] END AS status,
    DATE '2025-06-01' + 7 * (i % 2)::INTEGER                                             AS snapshot_date
FROM (SELECT i, hash(i) AS h FROM range(?) t(i));
"""

HAND_SQL = f"""
SELECT
    count(*) FILTER (WHERE nik IS NOT NULL AND NOT regexp_matches(nik, '{NIK_REGEX}')),
    count(*) FILTER (WHERE kpj IS NULL),
    count(*) FILTER (WHERE upah < 0),
    count(*) FILTER (WHERE status NOT IN {STATUSES!r}),
    count(*) FILTER (WHERE tanggal_lahir NOT BETWEEN DATE '{BIRTH_MIN}' AND DATE '{BIRTH_MAX}')
FROM {TABLE}
"""
NAMES = ("nik_regex", "kpj_not_null", "upah_min", "status_in_set", "tanggal_lahir_between")


def build(path: Path, rows: int) -> None:
    import duckdb

    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        con.execute(BUILD_SQL, [rows])


def run_gx(path: Path) -> tuple[float, list[int]]:
    import datetime as dt

    import great_expectations.expectations as gxe

    from checks.gx import GreatExpectationsResource

    suite = [
        gxe.ExpectColumnValuesToMatchRegex(column="nik", regex=NIK_REGEX),
        gxe.ExpectColumnValuesToNotBeNull(column="kpj"),
        gxe.ExpectColumnValuesToBeBetween(column="upah", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        gxe.ExpectColumnValuesToBeBetween(
            column="tanggal_lahir",
            min_value=dt.date.fromisoformat(BIRTH_MIN),
            max_value=dt.date.fromisoformat(BIRTH_MAX),
        ),
    ]
    started = time.perf_counter()
    outcome = GreatExpectationsResource().validate(str(path), TABLE, suite)
    return time.perf_counter() - started, [r.unexpected_count for r in outcome.results]


def run_sql(path: Path) -> tuple[float, list[int]]:
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(str(path), read_only=True) as con:
        counts = list(con.execute(HAND_SQL).fetchone())
    return time.perf_counter() - started, counts


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def child(variant: str, path: Path, repeat: int) -> None:
    """Run one variant `repeat` times in this process and print its figures as JSON."""
    import duckdb  # noqa: F401  (both variants need it; count it in the import baseline)

    if variant == "gx":
        import great_expectations  # noqa: F401
        import checks.gx  # noqa: F401
    baseline = _rss_mb()
    runs = [(run_gx if variant == "gx" else run_sql)(path) for _ in range(repeat)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    seconds = sorted(s for s, _ in runs)
    figures = {"seconds": seconds[0], "median": seconds[len(seconds) // 2], "peak_mb": peak}
    print(json.dumps(figures | {"baseline_mb": baseline, "counts": runs[0][1]}))


def measure(variant: str, path: Path, repeat: int) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--db", str(path), "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, help="DuckDB file (default: in the temp directory)")
    parser.add_argument("--reuse", action="store_true", help="reuse the file if it exists")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; best is shown")
    parser.add_argument("--child", choices=("gx", "sql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"bench_validation_{args.rows}.duckdb"

    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        child(args.child, path, args.repeat)
        return

    if not (args.reuse and path.exists()):
        started = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {path}")
    load_before = os.getloadavg()[0]
    results = {variant: measure(variant, path, args.repeat) for variant in ("gx", "sql")}
    load_after = os.getloadavg()[0]

    if results["gx"]["counts"] != results["sql"]["counts"]:
        raise SystemExit(f"counts differ: {results}")
    counts = zip(NAMES, results["sql"]["counts"])
    print("unexpected counts (equal in both): " + ", ".join(f"{n}={c:,}" for n, c in counts))
    print(f"load average (1 min): {load_before:.1f} before, {load_after:.1f} after")

    header = ("best s", "median s", "peak MB", "imports MB", "validation MB")
    print(f"\n{'variant':<26}" + "".join(f"{h:>14}" for h in header))
    rows = {}
    for variant, r in results.items():
        rows[variant] = (
            r["seconds"], r["median"], r["peak_mb"], r["baseline_mb"], r["peak_mb"] - r["baseline_mb"]
        )
    labels = {"gx": "GX suite, SQL pushdown", "sql": "one hand-written query"}
    for variant, values in rows.items():
        print(f"{labels[variant]:<26}" + "".join(f"{v:>14.{2 if i < 2 else 0}f}" for i, v in enumerate(values)))
    ratios = (g / s for g, s in zip(rows["gx"], rows["sql"]))
    print(f"{'ratio GX / hand-written':<26}" + "".join(f"{v:>14.1f}" for v in ratios))


if __name__ == "__main__":
    main()
