"""Before and after a refactor: does every table of two DuckDB files hold the same rows?

    .venv/bin/python bench/compare_tables.py before/analytics.duckdb after/analytics.duckdb

Prints each table's rows and digest (bench/determinism.py: row count and the sum of its row hashes, order-free)
on both sides and whether they agree; exits 1 when a table differs or exists on one side only.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from determinism import digests  # noqa: E402


def main(before: str, after: str) -> int:
    a, b = digests(Path(before)), digests(Path(after))
    differ = 0
    for table in sorted(a.keys() | b.keys()):
        same = a.get(table) == b.get(table)
        differ += not same
        print(f"{table:28} {str(a.get(table, '-')):>34} {str(b.get(table, '-')):>34}  {'same' if same else 'DIFFERS'}")
    print(f"{len(a.keys() | b.keys()) - differ} of {len(a.keys() | b.keys())} tables the same")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
