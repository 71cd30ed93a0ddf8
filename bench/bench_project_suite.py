"""Benchmark: the project's real GX suite for a staged worker source against one hand-written DuckDB query.

The suite is `staged_rules_hold` of staging.pu_workers exactly as the asset check runs it
(checks.suites.run_suite: 15 expectations on the snapshot's rows plus the employer-reference batch).
The hand-written query checks the same rules in one statement. The table is built at the requested
size with a sprinkling of rule-breaking rows, vectorised with DuckDB's range():

    .venv/bin/python bench/bench_project_suite.py --rows 10000000          # build and measure
    .venv/bin/python bench/bench_project_suite.py --rows 10000000 --reuse  # keep an existing file

Each variant runs in its own Python process: seconds are the validation alone (imports excluded),
peak MB is the child's maximum resident set. Both must report the same unexpected counts.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = date(2025, 6, 8)
EMPLOYERS = 100_000

# ~0.1% of rows break each rule, spread by a hash of the row number; every column of staging.pu_workers.
BUILD_SQL = """
CREATE OR REPLACE TABLE staging.employers AS
SELECT DATE '2025-06-08' AS snapshot_date, 'employers.csv' AS source_file, i + 1 AS source_row,
       'E' || lpad(i::VARCHAR, 7, '0') AS npp, 'PT ' || i AS nama_perusahaan
FROM range($employers) t(i);

CREATE OR REPLACE TABLE staging.pu_workers AS
SELECT DATE '2025-06-08' AS snapshot_date, 'pu_workers.csv' AS source_file, i + 1 AS source_row,
       CASE WHEN h % 1000 = 1 THEN NULL WHEN h % 1000 = 2 THEN lpad((i - 1)::VARCHAR, 11, '0')
            WHEN h % 1000 = 3 THEN '1.40123E+10' ELSE lpad(i::VARCHAR, 11, '0') END                AS kpj,
       '7471' || lpad((i % 1000000000000)::VARCHAR, 12, '0')                                          AS nik,
       CASE WHEN h % 1000 = 4 THEN NULL ELSE 'Nama ' || (h % 100000) END                              AS nama,
       CASE WHEN h % 1000 = 5 THEN DATE '2015-01-01' ELSE DATE '1960-01-01' + ((h // 1000) % 15000)::INTEGER END
                                                                                                     AS tanggal_lahir,
       CASE WHEN h % 1000 = 6 THEN 'X' WHEN h % 2 = 0 THEN 'L' ELSE 'P' END                          AS jenis_kelamin,
       CASE WHEN h % 1000 = 7 THEN 'NPP404' ELSE 'E' || lpad(((h // 7) % $employers)::VARCHAR, 7, '0') END AS npp,
       CASE WHEN h % 1000 = 8 THEN -1000 ELSE 1000000 + (h // 7) % 9000000 END::BIGINT              AS upah,
       CASE WHEN h % 1000 = 9 THEN 'JKK,JAMSOSTEK' ELSE ['JKK,JKM', 'JHT,JKK,JKM', 'JHT,JKK,JKM,JP'][(1 + h % 3)::BIGINT] END
                                                                                                     AS program,
       CASE WHEN h % 1000 = 10 THEN '7471011' ELSE '74.71.0' || (1 + h % 9) || '.100' || (h % 10) END AS kode_wilayah_domisili,
       DATE '2010-01-01' + ((h // 13) % 5000)::INTEGER                                               AS tanggal_mulai,
       CASE WHEN h % 1000 = 11 THEN DATE '2009-12-31' WHEN h % 5 = 0 THEN DATE '2024-12-31' END   AS tanggal_berhenti,
       CASE WHEN h % 1000 = 12 THEN 'meninggal' WHEN h % 4 = 0 THEN 'nonaktif' ELSE 'aktif' END     AS status
FROM (SELECT i, hash(i) AS h FROM range($rows) t(i));
"""


def hand_written_sql(snapshot: date) -> str:
    """The same rules as the suite, one statement, counted the way GX counts (NULLs are not unexpected)."""
    from checks.suites import KEY_REGEX, VILLAGE_REGEX, _years_before
    from assets.staging import MAX_AGE, MIN_AGE
    from sources.catalog import PU_PROGRAMS
    from datetime import timedelta

    one = "(" + "|".join(PU_PROGRAMS) + ")"
    born_min = _years_before(snapshot, MAX_AGE + 1) + timedelta(days=1)
    born_max = _years_before(snapshot, MIN_AGE)
    return f"""
    WITH rows AS (SELECT * FROM staging.pu_workers WHERE snapshot_date = DATE '{snapshot}'),
    repeated AS (SELECT kpj FROM rows WHERE kpj IS NOT NULL GROUP BY kpj HAVING count(*) > 1)
    SELECT
        count(*) FILTER (WHERE kpj IS NULL),
        (SELECT count(*) FROM rows JOIN repeated USING (kpj)),
        count(*) FILTER (WHERE NOT regexp_matches(kpj, '{KEY_REGEX}')),
        count(*) FILTER (WHERE nama IS NULL),
        count(*) FILTER (WHERE tanggal_lahir NOT BETWEEN DATE '{born_min}' AND DATE '{born_max}'),
        count(*) FILTER (WHERE jenis_kelamin NOT IN ('L', 'P')),
        count(*) FILTER (WHERE npp IS NULL),
        count(*) FILTER (WHERE NOT regexp_matches(npp, '{KEY_REGEX}')),
        count(*) FILTER (WHERE upah < 0),
        count(*) FILTER (WHERE NOT regexp_matches(program, '^{one}(,{one})*$')),
        count(*) FILTER (WHERE NOT regexp_matches(kode_wilayah_domisili, '{VILLAGE_REGEX}')),
        count(*) FILTER (WHERE tanggal_mulai IS NULL),
        count(*) FILTER (WHERE status IS NULL),
        count(*) FILTER (WHERE status NOT IN ('aktif', 'nonaktif')),
        count(*) FILTER (WHERE tanggal_berhenti < tanggal_mulai),
        count(*) FILTER (WHERE npp NOT IN (SELECT npp FROM staging.employers WHERE snapshot_date = DATE '{snapshot}'))
    FROM rows
    """


def build(path: Path, rows: int) -> None:
    import duckdb

    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        for statement in BUILD_SQL.split(";"):
            if statement.strip():
                used = {k: v for k, v in {"rows": rows, "employers": EMPLOYERS}.items() if f"${k}" in statement}
                con.execute(statement, used)


def _suite():
    from checks.suites import ALL_SUITES, STAGED_RULES_HOLD

    return next(s for s in ALL_SUITES if s.asset == ("staging", "pu_workers") and s.name == STAGED_RULES_HOLD)


def run_gx(path: Path) -> tuple[float, list[int]]:
    from checks.gx import GreatExpectationsResource
    from checks.suites import run_suite
    from warehouse.resources import Warehouse

    warehouse = Warehouse(warehouse_dir=str(path.parent), pseudonym_key="bench-not-used")
    assert warehouse.pipeline_db == path, "the benchmark file must be named pipeline.duckdb"
    started = time.perf_counter()
    outcome = run_suite(GreatExpectationsResource(), warehouse, _suite(), SNAPSHOT)
    seconds = time.perf_counter() - started
    errors = [r.error for r in outcome.results if r.error]
    if errors:
        raise SystemExit(f"GX could not evaluate: {errors}")
    return seconds, [r.unexpected_count or 0 for r in outcome.results]


def run_sql(path: Path) -> tuple[float, list[int]]:
    import duckdb

    sql = hand_written_sql(SNAPSHOT)
    started = time.perf_counter()
    with duckdb.connect(str(path), read_only=True) as con:
        counts = list(con.execute(sql).fetchall()[0])
    return time.perf_counter() - started, counts


def child(variant: str, path: Path) -> None:
    import duckdb  # noqa: F401

    if variant == "gx":
        import great_expectations  # noqa: F401
        import checks.suites  # noqa: F401
    with open("/proc/self/status") as f:
        baseline = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    seconds, counts = (run_gx if variant == "gx" else run_sql)(path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "counts": counts}))


def measure(variant: str, path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", variant, "--db", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, help="pipeline.duckdb to build or reuse (default: in the temp directory)")
    parser.add_argument("--reuse", action="store_true", help="reuse the file if it exists")
    parser.add_argument("--child", choices=("gx", "sql"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"bench_project_suite_{args.rows}" / "pipeline.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)

    if args.child:
        child(args.child, path)
        return
    if not (args.reuse and path.exists()):
        started = time.perf_counter()
        build(path, args.rows)
        print(f"built {args.rows:,} rows in {time.perf_counter() - started:.1f} s: {path}")
    results = {variant: measure(variant, path) for variant in ("gx", "sql")}
    names = [f"{r.expectation_type.removeprefix('expect_')}({r.column})" for r in _suite_outcome_names()]
    if results["gx"]["counts"] != results["sql"]["counts"]:
        raise SystemExit("counts differ:\n" + "\n".join(
            f"  {n}: gx {g:,} sql {s:,}" for n, g, s in zip(names, results["gx"]["counts"], results["sql"]["counts"])))
    print("unexpected counts (both):")
    for n, c in zip(names, results["sql"]["counts"]):
        print(f"  {n:<60}{c:>10,}")
    print(f"\n{'variant':<34}{'seconds':>9}{'peak MB':>10}{'after imports MB':>18}")
    labels = {"gx": "project suite (GX, SQL pushdown)", "sql": "one hand-written query"}
    for variant, r in results.items():
        print(f"{labels[variant]:<34}{r['seconds']:>9.2f}{r['peak_mb']:>10.0f}{r['baseline_mb']:>18.0f}")
    gx, sql = results["gx"], results["sql"]
    print(f"{'ratio GX / hand-written':<34}{gx['seconds'] / sql['seconds']:>9.1f}{gx['peak_mb'] / sql['peak_mb']:>10.1f}")


def _suite_outcome_names():
    """The suite's expectations in the order run_suite reports them (main batch, then extra batches)."""
    import great_expectations.expectations  # noqa: F401

    suite = _suite()
    out = list(suite.expectations(SNAPSHOT))
    for _, extra in suite.extra:
        out += extra(SNAPSHOT)

    class Named:
        def __init__(self, e):
            self.expectation_type = e.expectation_type
            self.column = getattr(e, "column", None) or getattr(e, "column_A", None) or getattr(e, "column_list", None)
    return [Named(e) for e in out]


if __name__ == "__main__":
    main()
