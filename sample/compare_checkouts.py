"""Byte-compare what the sample generator writes in two checkouts (a refactor of sample/ must change nothing).

Each checkout generates the same samples (seed, scale, formats, OPD roster) in its own process, with the
checkout as the first entry of the import path; every file of the landing zone and of the truth is hashed
(sha256) and the two sides compared file by file.

    git worktree add --detach /tmp/base HEAD          # before the change
    .venv/bin/python sample/compare_checkouts.py /tmp/base .
    .venv/bin/python sample/compare_checkouts.py /tmp/base . --scales 0.05 0.3 1   # also the Kendari sample
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCALES = (0.05, 0.3)
FORMATS = ("csv", "mixed")
OPD_ROSTER = (False, True)
SEED = 42

RUN = """
import json, sys
from datetime import date
from pathlib import Path
import sample.generator as g
assert Path(g.__file__).resolve().is_relative_to(Path.cwd().resolve()), g.__file__
out = Path(sys.argv[1])
g.generate(out / "landing", out / "truth", date(2025, 6, 8), seed=int(sys.argv[2]), scale=float(sys.argv[3]),
           formats=sys.argv[4], opd_roster=sys.argv[5] == "True")
"""


def digests(checkout: Path, out: Path, scale: float, formats: str, opd: bool, seed: int) -> dict[str, str]:
    """sha256 of every file the generator writes, by path under `out`."""
    subprocess.run([sys.executable, "-c", RUN, str(out), str(seed), str(scale), formats, str(opd)],
                   cwd=checkout, check=True)
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="checkout before the change")
    parser.add_argument("after", type=Path, help="checkout after the change")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--scales", type=float, nargs="+", default=SCALES, help=f"default {SCALES}")
    args = parser.parse_args(argv)
    compared, differing = 0, []
    with tempfile.TemporaryDirectory(prefix="jamsostek-compare-") as tmp:
        for scale, formats, opd in itertools.product(args.scales, FORMATS, OPD_ROSTER):
            case = f"scale={scale} formats={formats} opd_roster={opd}"
            sides = [digests(checkout.resolve(), Path(tmp) / side / case.replace(" ", "_"), scale, formats, opd,
                             args.seed) for side, checkout in (("before", args.before), ("after", args.after))]
            for name in sorted(set(sides[0]) | set(sides[1])):
                a, b = sides[0].get(name), sides[1].get(name)
                compared += 1
                if a != b:
                    differing.append({"case": case, "file": name, "before": a, "after": b})
            print(f"{case}: {len(sides[0])} files before, {len(sides[1])} after", flush=True)
    print(json.dumps({"files_compared": compared, "differing": differing}, indent=2))
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
