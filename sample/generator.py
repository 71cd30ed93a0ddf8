"""Synthetic landing zone for Kota Kendari, calibrated to the published figures of 2025-06-08.

`generate()` writes what the source systems would drop (employers, PU/BPU/JAKON registrations,
construction projects, the Dukcapil workforce aggregate) with the dirt real extracts carry, and
beside it, never inside it, the ground truth: which rows belong to the same person, which are
usable and active, and the headline figures the pipeline should find. Vectorised end to end
(numpy draws, polars strings): no Python loop over people or rows.

At scale 1.0 the figures are exact: eligible workforce 140,940; covered workers living in Kendari
49,397; rows received PU 88,357, BPU 36,140, JAKON 16,443 (these include inactive registrations,
people holding several, and a few unusable rows, which is how the segment figures can add up to the
workforce while only about a third of it is covered). Other scales round each figure proportionally.

This module composes the parts, in the order their random draws are taken (changing the order changes
every file): sample.people (the population and its names), sample.registrations (employers, projects,
registrations and their rows), sample.dirt (what goes wrong in the rows), sample.city_records (the Dukcapil
aggregate, the OPD roster), sample.truth (the ground truth), sample.writing (the files).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from sample.city_records import civil_registry, opd_roster_frame, registry_cutoff
from sample.dirt import add_unusable, draw_nik_issues
from sample.draws import round_half_up
from sample.kendari import CALIBRATION, load_reference
from sample.people import draw_people
from sample.registrations import (WORKER_SOURCES, assign_kpj, draw_registrations, employers_frame, projects_frame,
                                  registration_frame)
from sample.truth import attribute_regions, number_rows, record_truth, records_frame, truth_summary
from sample.writing import COLUMNS, FILE_FORMATS, write_landing, write_truth

__all__ = ["generate", "CALIBRATION", "COLUMNS", "registry_cutoff"]

# Shares of the population and of the rows; tuned so that every budget stays feasible.
OUTSIDE_SHARE = 0.015  # covered people living outside Kendari, relative to those inside
UNCOVERED_SHARE = 0.33  # registrants whose every registration is inactive, relative to covered inside
UNUSABLE_SHARE = 0.001  # rows per worker source that no pipeline can use
OPD_ROSTER_STREAM = 12  # the roster's own random stream: [seed, 12]


def generate(landing_dir: Path, truth_dir: Path, snapshot_date: date = date(2025, 6, 8), *, seed: int = 42,
             scale: float = 1.0, formats: str = "csv", opd_roster: bool = False) -> dict:
    """Writes landing_dir/<date>/*.csv (+ civil_registry/), truth_dir/<date>/...; returns the truth summary dict.

    formats="csv": every file comma-delimited UTF-8; "mixed": employers as .xlsx (all text), bpu_participants
    semicolon-delimited with a BOM, the rest comma CSV. The truth (records.parquet, persons.parquet,
    summary.json) must live outside the landing zone. opd_roster=True also writes the optional OPD roster
    (opd_non_asn.csv), drawn with its own random stream: every other file is the same with or without it.
    """
    if formats not in FILE_FORMATS:
        raise ValueError(f"formats must be 'csv' or 'mixed', not {formats!r}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    if truth_dir.resolve().is_relative_to(landing_dir.resolve()):
        raise ValueError(f"the truth ({truth_dir}) must not be inside the landing zone ({landing_dir})")

    rng = np.random.default_rng(seed)
    d = snapshot_date
    target = {k: round_half_up(v * scale) for k, v in CALIBRATION.items()}
    inside = target["covered_workers"]
    outside = max(1, round_half_up(inside * OUTSIDE_SHARE))
    uncovered = round_half_up(inside * UNCOVERED_SHARE)
    if inside < 20:
        raise ValueError("scale too small: fewer than 20 covered workers")
    unusable = {s: max(1, round_half_up(target[s] * UNUSABLE_SHARE)) for s in WORKER_SOURCES}

    # who exists and what they hold
    ref = load_reference()
    people, vocab = draw_people(rng, ref, inside, outside, uncovered, d, scale)
    reg = draw_registrations(rng, ref, people, {s: target[s] - unusable[s] for s in WORKER_SOURCES}, unusable, d,
                             scale)
    persons = attribute_regions(ref, people, reg.rows)
    covered = persons["covered"].to_numpy()
    if int((covered & persons["in_area"].to_numpy()).sum()) != inside:  # by construction: a failure is a bug
        raise RuntimeError("the region rule does not give the calibrated number of covered workers")

    # the rows as written, dirt included, and the truth of each row
    placed_by_nik = covered & (persons["region_level"] == "district").fill_null(False).to_numpy()
    nik_issues = draw_nik_issues(rng, reg.rows, keep_clean=placed_by_nik)
    frames, truth = {}, {}
    for s in WORKER_SOURCES:
        frames[s], nik_issues[s], birth_date_issue = registration_frame(rng, s, reg, people, vocab, ref, nik_issues[s])
        truth[s] = record_truth(s, reg.rows[s], nik_issues[s], birth_date_issue, people.collision)
    frames, spare_kpj = assign_kpj(rng, frames, unusable)
    for s in WORKER_SOURCES:
        frames[s], truth[s] = add_unusable(rng, s, frames[s], truth[s], unusable[s], spare_kpj.get(s),
                                           reg.employers.unknown_npp, reg.projects.unknown)
        order = rng.permutation(len(frames[s]))  # a delivery lists its rows in no particular order
        frames[s], truth[s] = frames[s][order], number_rows(truth[s][order])
    frames = {"employers": employers_frame(rng, ref, reg.employers, reg.pu),
              "jakon_projects": projects_frame(rng, ref, reg.projects, reg.employers), **frames}
    registry, eligible_per_village = civil_registry(rng, ref, target["eligible_workforce"], people)

    cutoff = registry_cutoff(d)
    records = records_frame(list(truth.values()))
    summary = truth_summary(d, ref, people, persons, records, target, frames["employers"], frames["jakon_projects"],
                            cutoff, registry, eligible_per_village, seed, scale, formats)
    if opd_roster:
        frames["opd_non_asn"], summary["opd_non_asn"] = opd_roster_frame(
            np.random.default_rng([seed, OPD_ROSTER_STREAM]), ref, people, vocab, records, scale)

    write_landing(landing_dir, d, formats, frames, registry, cutoff)
    write_truth(truth_dir, d, records, persons, summary)
    return summary
