"""`jamsostek`: generate a sample landing zone, run a snapshot, run the demo, print a summary."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb

# Dagster's preview/beta warnings speak to the pipeline's developers, not to its users.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from checks.deliveries import damage_summary  # noqa: E402
from pipelines import progress  # noqa: E402
from warehouse.lock import WarehouseBusy, writer_lock  # noqa: E402
from warehouse.partitions import ensure_snapshots, is_due, landing_dates  # noqa: E402
from warehouse.resources import (BadSetting, DEMO_PSEUDONYM_KEY, Warehouse, check_pseudonym_key,  # noqa: E402
                                 warehouse_from_env)
from warehouse.db import first  # noqa: E402

DEMO_DATE = date(2025, 6, 8)
DEMO_DIR = Path("data/demo")


class RunFailed(Exception):
    """A snapshot run that did not succeed; the message says which step and why."""


CLI_PID_TAG, CLI_HOST_TAG = "jamsostek/cli_pid", "jamsostek/cli_host"
POOL = "pipeline_db"


def run_snapshot(warehouse: Warehouse, snapshot_date: date, *, wait_seconds: float = 0,
                 progress: bool = False) -> None:
    """Run the Definitions' own `snapshot_job` for one snapshot date, with this warehouse, and publish.

    Holds the warehouse's writer lock for the whole run (a second run waits `wait_seconds`, then fails
    naming the holder). With DAGSTER_HOME set, the run is recorded in that instance and takes its pool.
    `progress`: a line on stderr per step as it ends (pipelines/progress.py).
    """
    from pipelines.definitions import defs  # heavy import, only when running

    folder = warehouse.landing / snapshot_date.isoformat()
    if not folder.is_dir():
        delivered = ", ".join(d.isoformat() for d in landing_dates(warehouse.landing)) or "none"
        raise RunFailed(f"{folder}: no landing folder for snapshot {snapshot_date}; deliver the extracts there "
                        f"(one file per source) or pick a snapshot date that has one (delivered: {delivered}).")
    job = defs.resolve_job_def("snapshot_job")
    _import_in_background("great_expectations")
    try:
        with writer_lock(Path(warehouse.warehouse_dir), wait_seconds=wait_seconds), _instance() as instance:
            _fail_dead_cli_runs(instance)
            _wait_for_pool(instance, wait_seconds)
            ensure_snapshots(snapshot_date, instance=instance)  # a delivered folder is a partition (the UI shows it)
            result = job.execute_in_process(
                partition_key=snapshot_date.isoformat(), instance=instance, raise_on_error=False,
                resources={"warehouse": warehouse},
                tags={CLI_PID_TAG: str(os.getpid()), CLI_HOST_TAG: socket.gethostname()},
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}},
                                        **({"progress": {}} if progress else {})}},
            )
    except WarehouseBusy as exc:
        raise RunFailed(str(exc)) from None
    if not result.success:
        raise RunFailed("\n".join(failure_reasons(result)))


def failure_reasons(result: dg.ExecuteInProcessResult) -> list[str]:
    """Why a run did not succeed, a line per failed step or blocking check (each once), never empty."""
    # a failed blocking check names itself only; its description says what was wrong and what to do
    checks = [f"check {ev.asset_key.to_user_string()} {ev.check_name}: {ev.description or 'failed'}"
              for ev in result.get_asset_check_evaluations()
              if not ev.passed and ev.blocking and ev.severity == dg.AssetCheckSeverity.ERROR]
    # the step that stopped on such a check only repeats it, behind Dagster's class name
    failures = [e for e in result.all_events if e.is_step_failure
                and not (checks and _innermost(e.step_failure_data.error).cls_name == "DagsterAssetCheckFailedError")]
    reasons = [f"{e.step_key}: {_said(e.step_failure_data)}" for e in failures] + checks
    if not reasons:  # the run failed outside a step: a resource that refused its settings or the lock
        errors = [getattr(e.event_specific_data, "error", None) for e in result.all_events if e.is_failure]
        reasons = [_root_cause(err) for err in errors if err is not None]
    return list(dict.fromkeys(reasons)) or ["the run failed; see the Dagster logs"]


def _import_in_background(module: str) -> None:
    """Import a slow module on a thread while the run's first steps wait on DuckDB, which releases the GIL.

    Great Expectations takes seconds to import and is first needed by the staging checks; by then it is
    loaded. A run that needs it sooner waits for the import as it would have anyway (Python's import lock).
    """
    threading.Thread(target=importlib.import_module, args=(module,), name=f"import {module}", daemon=True).start()


@contextmanager
def _instance() -> Iterator[dg.DagsterInstance]:
    """The instance of $DAGSTER_HOME when set (the run is recorded there and waits for its pool), else a
    throw-away one."""
    if os.environ.get("DAGSTER_HOME"):
        with dg.DagsterInstance.get() as instance:
            yield instance
    else:
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance


def _fail_dead_cli_runs(instance: dg.DagsterInstance) -> None:
    """A `jamsostek run` killed with DAGSTER_HOME set stays "started" and keeps its pool slot, since no code
    server watches it: mark such runs of this machine failed and give their slots back."""
    host = socket.gethostname()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED,
                                                                 dg.DagsterRunStatus.STARTING],
                                                       tags={CLI_HOST_TAG: host})):
        pid = int(run.tags.get(CLI_PID_TAG, "0"))
        if pid and not _alive(pid):
            instance.report_run_failed(run, f"jamsostek run (process {pid}) is gone; its pool slot is freed.")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_pool(instance: dg.DagsterInstance, wait_seconds: float) -> None:
    """Wait at most `wait_seconds` for a free slot of the pool (a Dagster run may hold it), then fail naming the run."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            info = instance.event_log_storage.get_concurrency_info(POOL)
        except Exception:  # an instance without pools (ephemeral): nothing to wait for
            return
        limit = info.slot_count or info.limit
        if not limit or info.active_slot_count < limit:
            return
        if time.monotonic() >= deadline:
            holders = sorted({s.run_id for s in info.claimed_slots})
            raise RunFailed(f"The pool {POOL} of {instance.root_directory} is held by Dagster run(s) "
                            f"{', '.join(holders)}: wait for them (or pass --wait SECONDS), or terminate them in "
                            "the UI if their process is gone.")
        time.sleep(1)


def register_snapshots(landing: Path, *, prune: bool = False) -> str:
    """Make the snapshot partitions of $DAGSTER_HOME's instance the delivered landing folders (dated on or before
    today, WITA); with `prune`, drop partitions without a folder. Returns what was done, in words."""
    if not os.environ.get("DAGSTER_HOME"):
        raise BadSetting("DAGSTER_HOME is not set: the snapshot partitions live in the Dagster instance there "
                         "(the one `dagster dev` uses).")
    from warehouse.partitions import SNAPSHOTS

    delivered = [d.isoformat() for d in landing_dates(landing) if is_due(d)]
    with dg.DagsterInstance.get() as instance:
        before = set(instance.get_dynamic_partitions(SNAPSHOTS))
        ensure_snapshots(*delivered, instance=instance)
        gone = sorted(before - set(delivered)) if prune else []
        for key in gone:
            instance.delete_dynamic_partition(SNAPSHOTS, key)
        now = instance.get_dynamic_partitions(SNAPSHOTS)
    added = [k for k in delivered if k not in before]
    lines = [f"{len(now)} snapshot partitions in {os.environ['DAGSTER_HOME']}: {', '.join(sorted(now)) or 'none'}",
             f"  added: {', '.join(added) or 'none'}"]
    if prune:
        lines.append(f"  removed (no landing folder): {', '.join(gone) or 'none'}")
    elif extra := sorted(set(now) - set(delivered)):
        lines.append(f"  without a landing folder: {', '.join(extra)} (--prune removes them)")
    return "\n".join(lines)


def _said(failure) -> str:
    """What a failed step said: a dagster.Failure's own description, else its innermost error's message."""
    described = failure.user_failure_data.description if failure.user_failure_data else None
    return described or _root_cause(failure.error)


def _root_cause(error) -> str:
    """The innermost error's message: the one that names the file and what to do."""
    return _innermost(error).message.strip()


def _innermost(error):
    while error.cause is not None:
        error = error.cause
    return error


def _n(value: int | None) -> str:
    return "suppressed" if value is None else f"{value:,}"


def summary(analytics_db: Path, snapshot_date: date) -> str:
    """The figures a Pemkot officer reads every morning, in plain words."""
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        city = first(con, """SELECT region_name, eligible_workforce, covered_workers, uncovered_workers, coverage_pct
                              FROM coverage_by_region WHERE snapshot_date = ? AND level = 'city'""", [snapshot_date])
        segments = con.execute("""SELECT segment, registrations, active_registrations, active_workers, exclusive_workers
                                  FROM coverage_by_segment WHERE snapshot_date = ?
                                  ORDER BY list_position(['PU', 'BPU', 'JAKON'], segment)""", [snapshot_date]).fetchall()
        # a sum over rows with hidden cells (under the disclosure threshold) is a lower bound, and says so
        outside, outside_hidden = first(con, "SELECT coalesce(sum(covered_workers), 0), count(*) FILTER (WHERE "
                                             "covered_workers IS NULL) FROM covered_outside_area WHERE snapshot_date = ?",
                                        [snapshot_date])
        quarantined = first(con, "SELECT coalesce(sum(rows_quarantined), 0) FROM data_quality WHERE snapshot_date = ?",
                                  [snapshot_date])[0]
        opd = None  # the OPD roster is optional (issue 12): an OPD all of whose non-ASN staff are covered, and the rest
        if first(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'opd_coverage'")[0]:
            opd = first(con, """SELECT count(*), sum(staff_on_roster), sum(staff_covered),
                                       count(*) FILTER (WHERE staff_covered = staff_on_roster),
                                       sum(staff_on_roster) FILTER (WHERE staff_covered = staff_on_roster),
                                       count(*) FILTER (WHERE staff_covered IS NULL OR staff_on_roster IS NULL)
                                FROM opd_coverage WHERE snapshot_date = ?""", [snapshot_date])
    if city is None:
        return f"No coverage figures for {snapshot_date} in {analytics_db}."
    name, eligible, covered, uncovered, pct = city
    lines = [
        f"Jamsostek coverage, {name}, snapshot {snapshot_date}",
        f"  eligible workforce   {_n(eligible):>9}   (Dukcapil: working residents except PNS/TNI/POLRI)",
        f"  covered workers      {_n(covered):>9}   distinct persons with an active registration",
        f"  coverage             {'suppressed' if pct is None else f'{pct:.2f}':>9} %",
        f"  not yet protected    {_n(uncovered):>9}",
        "",
        "  segment   registrations received   active registrations   distinct active workers   only in this segment",
    ]
    lines += [f"  {s:<8}  {_n(r):>22}   {_n(a):>20}   {_n(w):>23}   {_n(x):>20}" for s, r, a, w, x in segments]
    received = sum(r or 0 for _, r, _, _, _ in segments)
    lines.append("")
    if None in (eligible, covered, uncovered, pct) or any(None in row for row in segments):
        lines.append("  (suppressed: fewer people than the disclosure threshold; see the column `suppressed`)")
    if covered is not None and received > covered:
        lines.append(f"  The segments' registrations add up to {received:,}, yet only {covered:,} people are covered: "
                     "one person can hold several registrations, in one segment or across segments, and many "
                     "registrations are no longer active. Count people, not registrations.")
    at_least = "at least "  # the sum leaves out cells hidden under the disclosure threshold
    if outside or outside_hidden:
        lines.append(f"  {at_least if outside_hidden else ''}{outside:,} covered workers live outside the area; they are "
                     "reported apart, not in its rate.")
    if opd and opd[0]:
        n_opd, staff, staff_covered, full, full_staff, hidden = opd
        lines.append(f"  Non-ASN staff of {n_opd} OPD on the roster: {at_least if hidden else ''}{staff_covered or 0:,} "
                     f"of {at_least if hidden else ''}{staff or 0:,} covered; {full} OPD have registered all theirs "
                     f"({full_staff or 0:,} staff; see opd_coverage" + (f"; {hidden} OPD with cells hidden under the "
                     "disclosure threshold)." if hidden else ")."))
    lines.append(f"  {quarantined:,} rows were quarantined (see the data_quality table).")
    return "\n".join(lines)


def _truth_comparison(truth_dir: Path, analytics_db: Path, snapshot_date: date) -> str:
    truth = json.loads((truth_dir / snapshot_date.isoformat() / "summary.json").read_text())
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        eligible, covered = first(con, "SELECT eligible_workforce, covered_workers FROM coverage_by_region "
                                        "WHERE snapshot_date = ? AND level = 'city'", [snapshot_date])
    diff = covered - truth["covered_workers"]
    return (f"Against the sample's ground truth: eligible {eligible:,} (truth {truth['eligible_workforce']:,}), "
            f"covered {covered:,} (truth {truth['covered_workers']:,}, difference {diff:+,} = "
            f"{diff / truth['covered_workers']:+.2%}; more: one person's registrations left unjoined, "
            "fewer: different people joined as one).")


class NotPublished(Exception):
    """A summary asked for a date (or a warehouse) that is not published; the message lists what is."""


def summary_of_published(analytics_db: Path, snapshot_date: date | None) -> str:
    """The summary of one published snapshot (the newest by default); a date not published lists those that are."""
    if not analytics_db.is_file():
        raise NotPublished(f"{analytics_db} does not exist: nothing is published there yet (`jamsostek run --date "
                           "YYYY-MM-DD`), or JAMSOSTEK_WAREHOUSE_DIR points elsewhere.")
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        published = [d for (d,) in con.execute("SELECT snapshot_date FROM snapshots ORDER BY 1").fetchall()]
    if not published:
        raise NotPublished(f"{analytics_db} holds no snapshot yet.")
    snapshot_date = snapshot_date or published[-1]
    if snapshot_date not in published:
        raise NotPublished(f"{snapshot_date} is not published in {analytics_db}; published snapshots: "
                           f"{', '.join(d.isoformat() for d in published)}.")
    return summary(analytics_db, snapshot_date)


HELP = argparse.ArgumentDefaultsHelpFormatter


class _Parser(argparse.ArgumentParser):
    """Sub-command parsers show their defaults in --help too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HELP)
        super().__init__(*args, **kwargs)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _version() -> str:
    try:
        return metadata.version("jamsostek-coverage")
    except metadata.PackageNotFoundError:
        return "unknown"


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops a run like Ctrl-C: the writer lock is released, the run marked


def report_of_published(analytics_db: Path, snapshot_date: date, lang: str = "id") -> Path:
    """Draw the Laporan Cakupan of a published snapshot again (e.g. in English) and return its path."""
    from report.render import render_report  # chart libraries load only here

    if not analytics_db.is_file():
        raise LookupError(f"{analytics_db} does not exist: nothing is published there yet.")
    return render_report(analytics_db, snapshot_date, lang=lang,
                         boundaries=warehouse_from_env().reference / "boundaries_sultra.geojson")


def _report_line(analytics_db: Path, snapshot_date: date) -> str:
    from report import report_path

    path = report_path(analytics_db, snapshot_date)
    return f"Report (Laporan Cakupan): {path}" if path.is_file() else "Report: not written (see the Dagster logs)."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jamsostek", description=__doc__, formatter_class=HELP)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    gen = sub.add_parser("generate", help="write a synthetic Kendari landing zone and its ground truth")
    gen.add_argument("--landing", type=Path, default=None, help="landing zone (default $JAMSOSTEK_LANDING_DIR or data/landing)")
    gen.add_argument("--truth", type=Path, default=Path("data/truth"), help="ground truth, kept outside the landing zone")
    gen.add_argument("--date", type=_date, default=DEMO_DATE, help="snapshot date, YYYY-MM-DD")
    gen.add_argument("--seed", type=int, default=42, help="random seed (same seed, same sample)")
    gen.add_argument("--scale", type=float, default=1.0, help="1.0 = Kendari 2025 (140,940 registrations)")
    gen.add_argument("--formats", choices=("csv", "mixed"), default="csv",
                     help="csv: every file CSV; mixed: some XLSX, semicolons, Windows-1252, as deliveries arrive")
    gen.add_argument("--quiet", action="store_true",
                     help="no progress bar (none either when stderr is not a terminal)")

    run = sub.add_parser("run", help="materialise every asset for one snapshot and publish analytics.duckdb")
    run.add_argument("--date", type=_date, required=True, help="snapshot date: a landing folder YYYY-MM-DD")
    run.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="when another run writes the warehouse, wait this long for it before giving up")
    run.add_argument("--quiet", action="store_true",
                     help="no progress lines (none either when stderr is not a terminal)")

    nat = sub.add_parser("national", help="every province that delivered a snapshot, each a run of its own (in "
                                           "parallel), then identity and coverage across the country (docs/scaling.md)")
    nat.add_argument("--date", type=_date, required=True, help="snapshot date: a folder <province>/YYYY-MM-DD")
    nat.add_argument("--parallel", type=int, default=2, help="provinces run at once")
    nat.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                     help="if another run holds a province's or the national warehouse, wait this long for it")
    demo = sub.add_parser("demo", help="generate the Kendari sample, run it and print the summary")
    demo.add_argument("--scale", type=float, default=1.0, help="1.0 = Kendari 2025 (140,940 registrations)")
    demo.add_argument("--seed", type=int, default=42, help="random seed of the sample")
    demo.add_argument("--quiet", action="store_true",
                      help="no progress lines (none either when stderr is not a terminal)")

    snaps = sub.add_parser("snapshots", help="register every delivered landing folder as a snapshot partition of "
                                             "the Dagster instance of $DAGSTER_HOME (what the landing sensor does "
                                             "every minute; once after upgrading an instance) and list them")
    snaps.add_argument("--prune", action="store_true",
                       help="also remove partitions whose landing folder is gone (their run history stays)")

    show = sub.add_parser("summary", help="print the summary of a published snapshot")
    show.add_argument("--date", type=_date, default=None,
                      help="published snapshot date, YYYY-MM-DD (default: the newest published)")

    rep = sub.add_parser("report", help="write the Laporan Cakupan of a published snapshot (one HTML file beside "
                                        "analytics.duckdb, opens offline) and print its path")
    rep.add_argument("--date", type=date.fromisoformat, required=True, help="published snapshot date, YYYY-MM-DD")
    rep.add_argument("--lang", choices=("id", "en"), default="id", help="Bahasa Indonesia or English")

    from sample import evaluate  # identity resolution against ground truth (docs/identity.md)
    evaluate.add_arguments(sub.add_parser("evaluate", help="pairwise precision, recall and F1 of identity "
                                          "resolution on the generator's sample, FEBRL 3 and FEBRL 4"))

    series = sub.add_parser("series", help="write a monthly series of snapshots of one synthetic population "
                                            "(for the trend and for backfills; docs/operations.md)")
    series.add_argument("--landing", type=Path, default=None, help="landing zone (default $JAMSOSTEK_LANDING_DIR or data/landing)")
    series.add_argument("--truth", type=Path, default=Path("data/truth"), help="ground truth of the newest snapshot")
    series.add_argument("--end", type=_date, default=DEMO_DATE, help="newest snapshot (calibrated)")
    series.add_argument("--months", type=int, default=12, help="number of monthly snapshots")
    series.add_argument("--seed", type=int, default=42, help="random seed of the population")
    series.add_argument("--scale", type=float, default=1.0, help="1.0 = Kendari 2025")

    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "generate":
            from sample.generator import generate
            landing = args.landing or Path(os.environ.get("JAMSOSTEK_LANDING_DIR", "data/landing"))
            from sample.progress import progress_bar
            with progress_bar(quiet=args.quiet) as bar:
                truth = generate(landing, args.truth, args.date, seed=args.seed, scale=args.scale,
                                 formats=args.formats, progress=bar)
            print(f"Landing zone written to {landing / args.date.isoformat()}, ground truth to {args.truth}.")
            print(json.dumps(truth, indent=2, default=str))
        elif args.command == "run":
            check_pseudonym_key(os.environ.get("JAMSOSTEK_PSEUDONYM_KEY"))
            warehouse = warehouse_from_env()
            warehouse.validate()
            run_snapshot(warehouse, args.date, wait_seconds=args.wait, progress=progress.wanted(args.quiet))
            print(summary(warehouse.analytics_db, args.date))
            print(damage_summary(warehouse, args.date))
            print(_report_line(warehouse.analytics_db, args.date))
        elif args.command == "national":
            check_pseudonym_key(os.environ.get("JAMSOSTEK_PSEUDONYM_KEY"))
            from pipelines.national import deliveries_summary, national_summary, run_national
            from warehouse.resources import national_warehouse_from_env
            warehouse = national_warehouse_from_env(lock_wait_seconds=args.wait)
            warehouse.validate()
            provinces = run_national(warehouse, args.date, parallel=args.parallel)
            print(f"Provinces run: {', '.join(provinces)} (each published in {warehouse.warehouse_dir}/provinces/<code>/).")
            print(deliveries_summary(warehouse, args.date, provinces))
            print(national_summary(warehouse, args.date))
        elif args.command == "demo":
            from sample.generator import generate
            landing, truth_dir = DEMO_DIR / "landing", DEMO_DIR / "truth"
            shutil.rmtree(DEMO_DIR, ignore_errors=True)  # the demo always starts from nothing
            generate(landing, truth_dir, DEMO_DATE, seed=args.seed, scale=args.scale, formats="mixed",
                     opd_roster=True)
            warehouse = Warehouse(landing_dir=str(landing), warehouse_dir=str(DEMO_DIR / "warehouse"),
                                  pseudonym_key=DEMO_PSEUDONYM_KEY)
            print(f"Demo: synthetic Kendari landing zone in {landing}; pseudonyms use the published demo key, "
                  "so they are NOT secret (every table's comment and the Parquet metadata say so too).")
            run_snapshot(warehouse, DEMO_DATE, progress=progress.wanted(args.quiet))
            print(summary(warehouse.analytics_db, DEMO_DATE))
            print(damage_summary(warehouse, DEMO_DATE))
            print(_truth_comparison(truth_dir, warehouse.analytics_db, DEMO_DATE))
            print(f"Analysts' copy: {warehouse.analytics_db}")
            print(_report_line(warehouse.analytics_db, DEMO_DATE))
        elif args.command == "snapshots":
            print(register_snapshots(warehouse_from_env().landing, prune=args.prune))
        elif args.command == "summary":
            print(summary_of_published(warehouse_from_env().analytics_db, args.date))
        elif args.command == "report":
            try:
                print(f"Report (Laporan Cakupan): {report_of_published(warehouse_from_env().analytics_db, args.date, args.lang)}")
            except LookupError as exc:
                print(f"jamsostek report: {exc}", file=sys.stderr)
                return 1
        elif args.command == "evaluate":
            evaluate.run(args)
        elif args.command == "series":
            from sample.series import generate_series
            landing = args.landing or Path(os.environ.get("JAMSOSTEK_LANDING_DIR", "data/landing"))
            written = generate_series(landing, args.truth, args.end, args.months, seed=args.seed, scale=args.scale)
            print(f"{len(written)} monthly snapshots written to {landing}: {written[0]['snapshot_date']} to "
                  f"{written[-1]['snapshot_date']}.")
    except RunFailed as exc:
        print(f"jamsostek {args.command}: the run did not succeed.\n{exc}", file=sys.stderr)
        return 1
    except (BadSetting, NotPublished, WarehouseBusy) as exc:
        print(f"jamsostek {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"jamsostek {args.command}: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # one message, never a traceback; JAMSOSTEK_DEBUG=1 shows it
        if os.environ.get("JAMSOSTEK_DEBUG"):
            raise
        print(f"jamsostek {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from pipelines.cli import main as cli_main  # the module's own classes (RunFailed), not __main__'s copies
    sys.exit(cli_main())
