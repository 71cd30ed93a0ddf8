"""Benchmark at scale: the floor, a pandas peer and the project, each scale and contender in its own process.

    nice -n 5 .venv/bin/python bench/bench_scale.py --scales 7 35            # ~1M and ~5M registrations
    .venv/bin/python bench/bench_scale.py --scales 1 --data /tmp/bench        # keep the landing zones for reuse
    .venv/bin/python bench/bench_scale.py --scales 35 --contenders project --memory-limit 4GB

For each scale the generator writes a landing zone (`sample.generator.generate`, seed 1, timed in its own
process; reused when `--data` already holds it), then every contender runs in a fresh Python process, so
that the peak resident memory of each is its own (`ru_maxrss` of the child):

- floor:   DuckDB loads every input file of the landing zone into tables of an on-disk database, as text
           (`read_csv(all_varchar)`), nothing else: what any pipeline has to pay at least.
- pandas:  the peer a data analyst would write: read the worker files with pandas, apply the activity rule,
           count distinct NIKs (exact NIK only: no validation, no quarantine, no linkage).
- project: the Definitions' `snapshot_job`, in process, as `jamsostek run` executes it (without the writer
           lock and instance of `pipelines.cli.run_snapshot`). Start-up (importing the Definitions) is timed
           apart. A thread samples the resident memory every 50 ms, so each step gets its own peak.

Seconds are wall time (the machine may be shared: repeat with `--repeat`). Prints one table per scale,
then each project step's time and peak memory, and the ratios the issue's targets are written in.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = date(2025, 6, 8)
CONTENDERS = ("floor", "pandas", "project")
WORKER_FILES = ("pu_workers", "bpu_participants", "jakon_workers")


def peak_mb() -> int:
    """This process's peak resident memory so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def rss_mb() -> float:
    """This process's resident memory now, in MB (from /proc: no dependency)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler(threading.Thread):
    """Samples resident memory every `interval` seconds: (time.time(), MB) pairs, to find each step's peak."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval, self.samples, self._halt = interval, [], threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.time(), rss_mb()))
            self._halt.wait(self.interval)

    def stop(self) -> list[tuple[float, float]]:
        self._halt.set()
        self.join()
        return self.samples

    def peak_between(self, start: float, end: float) -> float | None:
        inside = [mb for t, mb in self.samples if start <= t <= end + self.interval]
        return round(max(inside)) if inside else None


# --- contenders (each runs in its own process: `--child NAME`) -----------------------------------------------

def run_generate(scale: float, data: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from sample.generator import generate

    started = time.perf_counter()
    truth = generate(data / "landing", data / "truth", SNAPSHOT, seed=1, scale=scale)
    seconds = time.perf_counter() - started
    summary = {"registrations": sum(truth["registrations"].values()), "seconds": round(seconds, 2)}
    (data / "generated.json").write_text(json.dumps(summary))
    return summary


def landing_files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".txt"))


def run_floor(landing: Path, work: Path) -> dict:
    """Every input file into a table of an on-disk DuckDB database, as text."""
    import duckdb

    started = time.perf_counter()
    rows = 0
    with duckdb.connect(str(work / "floor.duckdb")) as con:
        for i, path in enumerate(landing_files(landing)):
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
                        [str(path)])
            rows += con.execute(f"SELECT count(*) FROM t{i}").fetchall()[0][0]
    return {"seconds": round(time.perf_counter() - started, 2), "rows": rows}


def run_pandas(landing: Path, work: Path) -> dict:
    """Covered workers by exact NIK with pandas: active registrations at the snapshot, distinct NIKs."""
    import pandas as pd

    started = time.perf_counter()
    folder = landing / SNAPSHOT.isoformat()
    snap = pd.Timestamp(SNAPSHOT)

    def read(name: str, columns: list[str]) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv", dtype=str, usecols=columns, keep_default_na=False,
                           na_values=[""])

    def day(series: pd.Series, fmt: str) -> pd.Series:
        return pd.to_datetime(series, format=fmt, errors="coerce")

    pu = read("pu_workers", ["nik", "kode_wilayah_domisili", "tanggal_mulai", "tanggal_berhenti", "status"])
    pu_active = ((pu["status"] == "aktif") & (day(pu["tanggal_mulai"], "%d/%m/%Y") <= snap)
                 & ~(day(pu["tanggal_berhenti"], "%d/%m/%Y") <= snap))
    bpu = read("bpu_participants", ["nik", "kode_wilayah", "tanggal_daftar", "iuran_dibayar_sampai", "status"])
    bpu_active = ((bpu["status"] == "aktif") & (day(bpu["tanggal_daftar"], "%Y-%m-%d") <= snap)
                  & (day(bpu["iuran_dibayar_sampai"], "%Y-%m-%d") >= snap))
    jakon = read("jakon_workers", ["nomor_proyek", "nik", "kode_wilayah_domisili"])
    projects = read("jakon_projects", ["nomor_proyek", "tanggal_mulai", "tanggal_selesai"])
    jakon = jakon.merge(projects, on="nomor_proyek", how="left")
    jakon_active = ((day(jakon["tanggal_mulai"], "%Y-%m-%d") <= snap)
                    & (day(jakon["tanggal_selesai"], "%Y-%m-%d") >= snap))
    active = pd.concat([
        pu.loc[pu_active, ["nik", "kode_wilayah_domisili"]].set_axis(["nik", "area"], axis=1),
        bpu.loc[bpu_active, ["nik", "kode_wilayah"]].set_axis(["nik", "area"], axis=1),
        jakon.loc[jakon_active, ["nik", "kode_wilayah_domisili"]].set_axis(["nik", "area"], axis=1),
    ]).dropna(subset=["nik"])
    people = active.drop_duplicates("nik")
    inside = people["area"].fillna("").str.replace(".", "", regex=False).str.startswith("7471")
    return {"seconds": round(time.perf_counter() - started, 2), "rows": len(pu) + len(bpu) + len(jakon),
            "covered": int(people.shape[0]), "covered_inside": int(inside.sum())}


def run_project(landing: Path, work: Path, *, job: str = "snapshot_job") -> dict:
    """The Definitions' job in process, with each step's seconds and peak resident memory."""
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    import dagster as dg

    from pipelines.definitions import defs
    from warehouse.partitions import ensure_snapshots
    from warehouse.resources import Warehouse

    startup = time.perf_counter() - started
    warehouse = Warehouse(landing_dir=str(landing), warehouse_dir=str(work / "warehouse"), pseudonym_key="bench")
    began = time.perf_counter()
    with ensure_snapshots(SNAPSHOT) as instance:  # snapshots are dynamic partitions: the instance must know it
        result = defs.resolve_job_def(job).execute_in_process(
            partition_key=SNAPSHOT.isoformat(), instance=instance, raise_on_error=False,
            resources={"warehouse": warehouse},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        run = time.perf_counter() - began
        sampler.stop()
        entries = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]
    starts = {e.dagster_event.step_key: e.timestamp for e in entries if e.dagster_event.is_step_start}
    steps = {}
    for e in entries:
        if e.dagster_event.is_step_success or e.dagster_event.is_step_failure:
            key = e.dagster_event.step_key
            start = starts.get(key, e.timestamp)
            steps[key] = {"seconds": round(e.timestamp - start, 2), "peak_mb": sampler.peak_between(start, e.timestamp)}
    # a step that only evaluated asset checks (materialised nothing) is a check step
    materialised = {e.dagster_event.step_key for e in entries if e.dagster_event.is_step_materialization}
    evaluated = {e.dagster_event.step_key for e in entries
                 if e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"}
    for key in evaluated - materialised:
        if key in steps:
            steps[key]["check"] = True
    failures = [e.step_key for e in result.all_events if e.is_step_failure]
    # why each failed step failed: the error's last lines (a failed run's temp folder is gone afterwards)
    errors = {e.step_key: e.event_specific_data.error.to_string()[-3000:]
              for e in result.all_events if e.is_step_failure and e.event_specific_data.error is not None}
    # identity's own parts (features, estimation, blocking, scoring, clustering): kept, since the run's folder
    # is deleted afterwards and a 50-million run is not repeated lightly
    parts = [m.metadata.get("seconds") for m in result.asset_materializations_for_node("identity_record_links")
             if m.asset_key == dg.AssetKey(["identity", "record_links"])]
    return {"seconds": round(run, 2), "startup_s": round(startup, 2), "success": result.success,
            "failed_steps": failures, "errors": errors, "steps": steps, "db_mb": _size_mb(work / "warehouse"),
            "identity_seconds": parts[0].value if parts and parts[0] is not None else None}


def _size_mb(folder: Path) -> int:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20) if folder.exists() else 0


def child(name: str, scale: float, data: Path) -> dict:
    if name == "generate":
        out = run_generate(scale, data)
    else:
        with tempfile.TemporaryDirectory(dir=data) as tmp:
            out = {"floor": run_floor, "pandas": run_pandas, "project": run_project}[name](data / "landing", Path(tmp))
    return {**out, "peak_mb": peak_mb()}


# --- the parent: one process per scale and contender ---------------------------------------------------------

def spawn(name: str, scale: float, data: Path, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--scale", str(scale), "--data", str(data)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["(no output)"])[-1], "peak_mb": None, "seconds": None}
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    """Of repeated runs on a shared machine, the fastest (its peak memory with it); all times kept."""
    ok = [r for r in runs if r.get("seconds") is not None] or runs
    fastest = min(ok, key=lambda r: r["seconds"] if r.get("seconds") is not None else float("inf"))
    return {**fastest, "all_seconds": [r.get("seconds") for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 7.0])
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each contender (the fastest is shown)")
    parser.add_argument("--data", type=Path, help="keep landing zones here (scale-<S>/), reused when present; "
                                                  "default: a temporary folder under /tmp, deleted at the end")
    parser.add_argument("--memory-limit", help="JAMSOSTEK_DUCKDB_MEMORY_LIMIT for the project (e.g. 4GB)")
    parser.add_argument("--threads", help="JAMSOSTEK_DUCKDB_THREADS for the project")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.scale, args.data)))
        return

    env = dict(os.environ)
    env.update({k: v for k, v in (("JAMSOSTEK_DUCKDB_MEMORY_LIMIT", args.memory_limit),
                                  ("JAMSOSTEK_DUCKDB_THREADS", args.threads)) if v})
    keep = args.data is not None
    root = args.data or Path(tempfile.mkdtemp(prefix="bench_scale_", dir="/tmp"))
    results = []
    try:
        for scale in args.scales:
            data = root / f"scale-{scale:g}"
            row = {"scale": scale}
            if (data / "generated.json").exists():
                row["generate"] = {"peak_mb": None, **json.loads((data / "generated.json").read_text()), "reused": True}
            else:
                data.mkdir(parents=True, exist_ok=True)
                row["generate"] = spawn("generate", scale, data, env)
            row["registrations"] = row["generate"].get("registrations")
            for name in args.contenders:
                row[name] = best([spawn(name, scale, data, env) for _ in range(args.repeat)])
                print(f"scale {scale:g}: {name} {row[name].get('seconds')} s, {row[name].get('peak_mb')} MB"
                      + (f"  ERROR {row[name]['error']}" if "error" in row[name] else ""), file=sys.stderr)
                if args.json:  # as it goes: a long run that is stopped keeps what it measured
                    args.json.write_text(json.dumps([*results, row], indent=2))
            results.append(row)
            if not keep:
                subprocess.run(["rm", "-rf", str(data)], check=False)
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)
    report(results, args.contenders)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def report(results: list[dict], contenders: list[str]) -> None:
    print(f"\n{'scale':>6} {'registrations':>14} {'generate':>25}" + "".join(f" {c:>18}" for c in contenders)
          + ("  project/floor" if {"floor", "project"} <= set(contenders) else ""))
    for r in results:
        g = r["generate"]
        cells = [f"{g.get('seconds')} s {g.get('peak_mb')} MB" + (" (reused)" if g.get("reused") else "")]
        cells += [f"{r[c].get('seconds')} s {r[c].get('peak_mb')} MB" for c in contenders]
        line = f"{r['scale']:>6g} {r['registrations'] or 0:>14,} {cells[0]:>25}"
        line += "".join(f" {c:>18}" for c in cells[1:])
        if {"floor", "project"} <= set(contenders) and r["floor"].get("seconds") and r["project"].get("seconds"):
            line += f"  x{r['project']['seconds'] / r['floor']['seconds']:.1f}"
        print(line)
    for r in results:
        p = r.get("project", {})
        if "steps" not in p:
            continue
        in_steps = sum(s["seconds"] for s in p["steps"].values())
        checks = sum(s["seconds"] for s in p["steps"].values() if s.get("check"))
        print(f"\nscale {r['scale']:g} project: start-up {p['startup_s']} s, run {p['seconds']} s "
              f"(all runs: {p['all_seconds']}), peak {p['peak_mb']} MB, databases {p['db_mb']} MB"
              + ("" if p["success"] else f", FAILED: {', '.join(p['failed_steps'])}"))
        print(f"    {len(p['steps'])} steps: {in_steps:.1f} s inside steps (checks' own steps {checks:.1f} s), "
              f"{p['seconds'] - in_steps:.1f} s between them (Dagster)")
        if p.get("identity_seconds"):
            print(f"  identity's parts: {', '.join(f'{k} {v} s' for k, v in p['identity_seconds'].items())}")
        for step, s in sorted(p["steps"].items(), key=lambda kv: -kv[1]["seconds"]):
            if s["seconds"] >= 0.5:
                print(f"    {step:<48} {s['seconds']:>8.1f} s {s['peak_mb'] or 0:>7} MB")
        for step, error in p.get("errors", {}).items():
            print(f"    {step} failed:\n" + "\n".join(f"      {line}" for line in error.splitlines()[-12:]))
    timed = [r for r in results if r.get("project", {}).get("seconds")]
    for a, b in zip(timed, timed[1:]):
        k = b["registrations"] / a["registrations"]
        print(f"x{k:.1f} registrations ({a['scale']:g} -> {b['scale']:g}): project time "
              f"x{b['project']['seconds'] / a['project']['seconds']:.1f}, "
              f"peak x{b['project']['peak_mb'] / a['project']['peak_mb']:.1f}")


if __name__ == "__main__":
    main()
