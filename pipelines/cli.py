"""`jamsostek`: generate a sample landing zone, run a snapshot, run the demo, print a summary."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from checks.deliveries import damage_summary
from warehouse.resources import DEMO_PSEUDONYM_KEY, Warehouse, warehouse_from_env
from warehouse.db import first

DEMO_DATE = date(2025, 6, 8)
DEMO_DIR = Path("data/demo")


class RunFailed(Exception):
    """A snapshot run that did not succeed; the message says which step and why."""


def run_snapshot(warehouse: Warehouse, snapshot_date: date) -> None:
    """Materialise every asset for one snapshot date and publish analytics.duckdb."""
    from checks.gx import GreatExpectationsResource
    from pipelines.definitions import all_asset_checks, all_assets  # heavy import, only when running

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*all_assets, *all_asset_checks], partition_key=snapshot_date.isoformat(),
        resources={"warehouse": warehouse, "gx": GreatExpectationsResource()},
        instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        reasons = [f"{e.step_key}: {_root_cause(e.step_failure_data.error)}" for e in failures]
        # a failed blocking check names itself only; its description says what was wrong and what to do
        reasons += [f"check {ev.asset_key.to_user_string()} {ev.check_name}: {ev.description or 'failed'}"
                    for ev in result.get_asset_check_evaluations()
                    if not ev.passed and ev.blocking and ev.severity == dg.AssetCheckSeverity.ERROR]
        raise RunFailed("\n".join(reasons) or "the run failed; see the Dagster logs")


def _root_cause(error) -> str:
    """The innermost error's message: the one that names the file and what to do."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def summary(analytics_db: Path, snapshot_date: date) -> str:
    """The figures a Pemkot officer reads every morning, in plain words."""
    with duckdb.connect(str(analytics_db), read_only=True) as con:
        city = first(con, """SELECT region_name, eligible_workforce, covered_workers, uncovered_workers, coverage_pct
                              FROM coverage_by_region WHERE snapshot_date = ? AND level = 'city'""", [snapshot_date])
        segments = con.execute("""SELECT segment, registrations, active_registrations, active_workers, exclusive_workers
                                  FROM coverage_by_segment WHERE snapshot_date = ?
                                  ORDER BY list_position(['PU', 'BPU', 'JAKON'], segment)""", [snapshot_date]).fetchall()
        outside = first(con, "SELECT coalesce(sum(covered_workers), 0) FROM covered_outside_area WHERE snapshot_date = ?",
                        [snapshot_date])[0]
        quarantined = first(con, "SELECT coalesce(sum(rows_quarantined), 0) FROM data_quality WHERE snapshot_date = ?",
                                  [snapshot_date])[0]
    if city is None:
        return f"No coverage figures for {snapshot_date} in {analytics_db}."
    name, eligible, covered, uncovered, pct = city
    lines = [
        f"Jamsostek coverage, {name}, snapshot {snapshot_date}",
        f"  eligible workforce   {eligible:>9,}   (Dukcapil: working residents except PNS/TNI/POLRI)",
        f"  covered workers      {covered:>9,}   distinct persons with an active registration",
        f"  coverage             {pct or 0:>9.2f} %",
        f"  not yet protected    {uncovered:>9,}",
        "",
        "  segment   registrations received   active registrations   distinct active workers   only in this segment",
    ]
    lines += [f"  {s:<8}  {r:>22,}   {a:>20,}   {w:>23,}   {x:>20,}" for s, r, a, w, x in segments]
    received = sum(r for _, r, _, _, _ in segments)
    lines.append("")
    if received > covered:
        lines.append(f"  The segments' registrations add up to {received:,}, yet only {covered:,} people are covered: "
                     "one person can hold several registrations, in one segment or across segments, and many "
                     "registrations are no longer active. Count people, not registrations.")
    if outside:
        lines.append(f"  {outside:,} covered workers live outside the area; they are reported apart, not in its rate.")
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
    parser = argparse.ArgumentParser(prog="jamsostek", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic Kendari landing zone and its ground truth")
    gen.add_argument("--landing", type=Path, default=None, help="landing zone (default $JAMSOSTEK_LANDING_DIR or data/landing)")
    gen.add_argument("--truth", type=Path, default=Path("data/truth"), help="ground truth, kept outside the landing zone")
    gen.add_argument("--date", type=date.fromisoformat, default=DEMO_DATE)
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--scale", type=float, default=1.0, help="1.0 = Kendari 2025 (140,940 registrations)")
    gen.add_argument("--formats", choices=("csv", "mixed"), default="csv")

    run = sub.add_parser("run", help="materialise every asset for one snapshot and publish analytics.duckdb")
    run.add_argument("--date", type=date.fromisoformat, required=True)

    demo = sub.add_parser("demo", help="generate the Kendari sample, run it and print the summary")
    demo.add_argument("--scale", type=float, default=1.0)
    demo.add_argument("--seed", type=int, default=42)

    show = sub.add_parser("summary", help="print the summary of a published snapshot")
    show.add_argument("--date", type=date.fromisoformat, required=True)

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
    series.add_argument("--end", type=date.fromisoformat, default=DEMO_DATE, help="newest snapshot (calibrated)")
    series.add_argument("--months", type=int, default=12)
    series.add_argument("--seed", type=int, default=42)
    series.add_argument("--scale", type=float, default=1.0)

    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            from sample.generator import generate
            landing = args.landing or Path(os.environ.get("JAMSOSTEK_LANDING_DIR", "data/landing"))
            truth = generate(landing, args.truth, args.date, seed=args.seed, scale=args.scale, formats=args.formats)
            print(f"Landing zone written to {landing / args.date.isoformat()}, ground truth to {args.truth}.")
            print(json.dumps(truth, indent=2, default=str))
        elif args.command == "run":
            warehouse = warehouse_from_env()
            if "JAMSOSTEK_PSEUDONYM_KEY" not in os.environ:
                raise RunFailed("JAMSOSTEK_PSEUDONYM_KEY is not set: export a secret key for the pseudonyms in "
                                "analytics.duckdb (for a trial, `jamsostek demo` uses a fixed demo key).")
            run_snapshot(warehouse, args.date)
            print(summary(warehouse.analytics_db, args.date))
            print(damage_summary(warehouse, args.date))
            print(_report_line(warehouse.analytics_db, args.date))
        elif args.command == "demo":
            from sample.generator import generate
            landing, truth_dir = DEMO_DIR / "landing", DEMO_DIR / "truth"
            shutil.rmtree(DEMO_DIR, ignore_errors=True)  # the demo always starts from nothing
            generate(landing, truth_dir, DEMO_DATE, seed=args.seed, scale=args.scale, formats="mixed")
            warehouse = Warehouse(landing_dir=str(landing), warehouse_dir=str(DEMO_DIR / "warehouse"),
                                  pseudonym_key=DEMO_PSEUDONYM_KEY)
            print(f"Demo: synthetic Kendari landing zone in {landing}; pseudonyms use a fixed demo key.")
            run_snapshot(warehouse, DEMO_DATE)
            print(summary(warehouse.analytics_db, DEMO_DATE))
            print(damage_summary(warehouse, DEMO_DATE))
            print(_truth_comparison(truth_dir, warehouse.analytics_db, DEMO_DATE))
            print(f"Analysts' copy: {warehouse.analytics_db}")
            print(_report_line(warehouse.analytics_db, DEMO_DATE))
        elif args.command == "summary":
            print(summary(warehouse_from_env().analytics_db, args.date))
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
