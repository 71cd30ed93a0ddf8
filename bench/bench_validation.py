"""Benchmark: a GX suite by SQL pushdown (checks.gx) against one hand-written DuckDB query.

Builds a DuckDB file of staged-registration-shaped rows (vectorised, DuckDB `range()`), then runs
each variant in its own Python process so that time and peak memory are its alone:

    .venv/bin/python bench/bench_validation.py --rows 10000000          # build and measure
    .venv/bin/python bench/bench_validation.py --rows 10000000 --reuse  # keep an existing file

Seconds are the validation alone (imports excluded); peak MB is the child's maximum resident set
(`ru_maxrss`), with its resident set after imports shown beside it. Both variants must report the
same unexpected counts, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
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


def child(variant: str, path: Path) -> None:
    """Run one variant in this process and print its figures as JSON."""
    import duckdb  # noqa: F401  (both variants need it; count it in the import baseline)

    if variant == "gx":
        import great_expectations  # noqa: F401
        import checks.gx  # noqa: F401
    baseline = _rss_mb()
    seconds, counts = (run_gx if variant == "gx" else run_sql)(path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "counts": counts}))


def measure(variant: str, path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--db", str(path)],
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
    parser.add_argument("--child", choices=("gx", "sql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"bench_validation_{args.rows}.duckdb"

    if args.child:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        child(args.child, path)
        return

    if not (args.reuse and path.exists()):
        started = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {path}")
    results = {variant: measure(variant, path) for variant in ("gx", "sql")}

    if results["gx"]["counts"] != results["sql"]["counts"]:
        raise SystemExit(f"counts differ: {results}")
    print("unexpected counts: " + ", ".join(f"{n}={c:,}" for n, c in zip(NAMES, results["sql"]["counts"])))
    print(f"\n{'variant':<28}{'seconds':>9}{'peak MB':>10}{'after imports MB':>18}")
    labels = {"gx": "GX suite, SQL pushdown", "sql": "one hand-written query"}
    for variant, r in results.items():
        print(f"{labels[variant]:<28}{r['seconds']:>9.2f}{r['peak_mb']:>10.0f}{r['baseline_mb']:>18.0f}")
    gx, sql = results["gx"], results["sql"]
    print(
        f"{'ratio GX / hand-written':<28}{gx['seconds'] / sql['seconds']:>9.1f}"
        f"{gx['peak_mb'] / sql['peak_mb']:>10.1f}"
    )


if __name__ == "__main__":
    main()
