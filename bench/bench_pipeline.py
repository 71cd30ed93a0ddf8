"""Benchmark: generate a sample at several scales and time a full snapshot run, step by step.

    .venv/bin/python bench/bench_pipeline.py --scales 1 10

Prints registrations, the generator's time, the run's wall time, the slowest steps and the
peak memory of each run (each scale runs in its own process so peaks don't mix). The run is
`bench_scale.run_project` (the Definitions' snapshot_job); bench/bench_scale.py adds the floor
and the pandas peer, and each step's peak memory.
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

SNAPSHOT = date(2025, 6, 8)


def one_scale(scale: float, workdir: Path) -> dict:
    from bench_scale import run_project
    from sample.generator import generate

    started = time.perf_counter()
    truth = generate(workdir / "landing", workdir / "truth", SNAPSHOT, seed=1, scale=scale)
    generated = time.perf_counter() - started
    project = run_project(workdir / "landing", workdir)
    steps = {k: v["seconds"] for k, v in project["steps"].items()}
    return {
        "scale": scale, "registrations": sum(truth["registrations"].values()), "generate_s": round(generated, 2),
        "run_s": project["seconds"], "steps_s": dict(sorted(steps.items(), key=lambda kv: -kv[1])[:6]),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)  # internal: run one scale in this process
    args = parser.parse_args()
    if args.one is not None:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(one_scale(args.one, Path(tmp))))
        return
    rows = []
    for scale in args.scales:
        out = subprocess.run([sys.executable, __file__, "--one", str(scale)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'scale':>6} {'registrations':>14} {'generate s':>11} {'run s':>8} {'peak MB':>8}  slowest steps (s)")
    for r in rows:
        slow = ", ".join(f"{k} {v:.1f}" for k, v in list(r["steps_s"].items())[:4])
        print(f"{r['scale']:>6} {r['registrations']:>14,} {r['generate_s']:>11} {r['run_s']:>8} {r['peak_rss_mb']:>8}  {slow}")
    if len(rows) > 1:
        base = rows[0]
        for r in rows[1:]:
            k = r["registrations"] / base["registrations"]
            print(f"x{k:.0f} registrations: generate x{r['generate_s'] / base['generate_s']:.1f}, "
                  f"run x{r['run_s'] / base['run_s']:.1f}, peak memory x{r['peak_rss_mb'] / base['peak_rss_mb']:.1f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
