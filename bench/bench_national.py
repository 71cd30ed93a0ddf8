"""Benchmark: provinces as partitions (assets/national.py): what running them side by side buys on one machine,
and what the national step costs.

    .venv/bin/python bench/bench_national.py --provinces 2 --scale 1 --parallel 1 2

Generates one landing zone per province (codes 71, 72, ...; seed = code; `--scale` as `jamsostek generate`),
then for each `--parallel` value runs `pipelines.national.run_national` on a fresh warehouse: every province's
whole run (`jamsostek run`, a process each, `parallel` at a time), then the national steps. Prints the wall time
of each, the national steps' own time (the national job run again on the same provinces: it is idempotent),
and the peak resident memory of the province processes (the largest child) and of this process.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DAY = date(2025, 6, 8)
KEY = "bench-national-key-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provinces", type=int, default=2, help="how many provinces")
    parser.add_argument("--scale", type=float, default=1.0, help="each province's size (1.0 = Kendari 2025)")
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2], help="provinces run at once")
    parser.add_argument("--data", type=Path, default=None, help="folder to keep the landing zones in")
    args = parser.parse_args()


    from pipelines.national import QUIET, _instance, defs, run_national
    from sample.generator import generate
    from warehouse.resources import NationalWarehouse

    root = args.data or Path(tempfile.mkdtemp(prefix="bench-national-"))
    landing = root / "landing"
    codes = [str(71 + i) for i in range(args.provinces)]
    for code in codes:
        if not (landing / code / DAY.isoformat()).is_dir():
            generate(landing / code, root / "truth" / code, DAY, seed=int(code), scale=args.scale)
    print(f"{args.provinces} provinces at scale {args.scale} in {landing}")
    for parallel in args.parallel:
        warehouse_dir = root / f"warehouse-p{parallel}"
        shutil.rmtree(warehouse_dir, ignore_errors=True)
        warehouse = NationalWarehouse(landing_dir=str(landing), warehouse_dir=str(warehouse_dir), pseudonym_key=KEY,
                                      province_areas=",".join(f"{c}=74.71" for c in codes))  # generated: Kendari's
        started = time.perf_counter()
        run_national(warehouse, DAY, parallel=parallel)
        whole = time.perf_counter() - started
        started = time.perf_counter()
        with _instance(DAY, codes) as instance:
            result = defs.resolve_job_def("national_job").execute_in_process(
                partition_key=DAY.isoformat(), instance=instance, resources={"warehouse": warehouse},
                run_config=QUIET)
        national = time.perf_counter() - started
        assert result.success
        registrations = result.asset_materializations_for_node("national__record_links")[0].metadata["registrations"].value
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(f"parallel {parallel}: whole {whole:.1f} s (provinces ~{whole - national:.1f} s, national steps "
              f"{national:.1f} s), {registrations:,} registrations; peak memory: largest province run "
              f"{child:.2f} GB, this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
