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

Above CHUNK_PEOPLE people (scale ~7.5, ~1.1 million registrations) the run is chunked, so that memory stays
bounded at any scale (the whole country, ~50 million registrations: scale ~350): the people come in blocks
(equal shares, none over `chunk_people` but for rounding), each drawn from its own random stream (derived from
the seed and the block's number) with its share of every calibrated figure (apportioned exactly: the totals
are the area's), its own part of the kpj range, NIK serials counting on from the earlier blocks
(people.NikSerials), its rows shuffled within the block and appended to the files, its truth appended to
records.parquet / persons.parquet (a row group per block) and its summary figures added up. Employers and
projects are drawn once for the area, before the blocks; the employers' file, the projects' file and the civil
registry (which follow the rows' counts) after them.
What stays in memory besides one block: employers and projects (~1/20 of the people), the NIK serial counter
(30 MB) and per-employer and per-village counts. Runs at or under the threshold are drawn in one pass exactly
as before chunking existed: the Kendari sample (scale 1) and every test scale keep their bytes. A chunked run
depends on `chunk_people` as on the seed (a different block size draws a different, equally calibrated sample).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from sample.city_records import civil_registry, covered_per_village, opd_roster_frame, registry_cutoff
from sample.dirt import add_unusable, draw_nik_issues
from sample.draws import apportion, round_half_up
from sample.kendari import CALIBRATION, Reference, load_reference
from sample.people import NikSerials, People, draw_people
from sample.registrations import (KPJ_RANGE, WORKER_SOURCES, Employers, Projects, active_rows_per_employer,
                                  assign_kpj, draw_employers, draw_projects, draw_registrations, draw_rows,
                                  employers_frame, projects_frame,
                                  registration_frame)
from sample.truth import (add_counts, attribute_regions, number_rows, record_truth, records_frame, truth_counts,
                          truth_summary)
from sample.writing import COLUMNS, FILE_FORMATS, BlockWriter, write_landing, write_truth

# progress(done, total, what): told as the work advances (people drawn and written, out of all the people)
Progress = Callable[[int, int, str], None]

__all__ = ["generate", "CALIBRATION", "COLUMNS", "registry_cutoff"]

# Shares of the population and of the rows; tuned so that every budget stays feasible.
OUTSIDE_SHARE = 0.015  # covered people living outside Kendari, relative to those inside
UNCOVERED_SHARE = 0.33  # registrants whose every registration is inactive, relative to covered inside
UNUSABLE_SHARE = 0.001  # rows per worker source that no pipeline can use
OPD_ROSTER_STREAM = 12  # the roster's own random stream: [seed, 12]
CHUNK_PEOPLE = 500_000  # above this many people the run is chunked; ~1 GB per block (50M registrations: 47 blocks)
BLOCK_STREAM = 13  # block b's random stream: SeedSequence(seed, spawn_key=(13, b))


def generate(landing_dir: Path, truth_dir: Path, snapshot_date: date = date(2025, 6, 8), *, seed: int = 42,
             scale: float = 1.0, formats: str = "csv", opd_roster: bool = False, chunk_people: int = CHUNK_PEOPLE,
             progress: Progress | None = None) -> dict:
    """Writes landing_dir/<date>/*.csv (+ civil_registry/), truth_dir/<date>/...; returns the truth summary dict.

    formats="csv": every file comma-delimited UTF-8; "mixed": employers as .xlsx (all text), bpu_participants
    semicolon-delimited with a BOM, the rest comma CSV. The truth (records.parquet, persons.parquet,
    summary.json) must live outside the landing zone. opd_roster=True also writes the optional OPD roster
    (opd_non_asn.csv), drawn with its own random stream: every other file is the same with or without it.
    More people than chunk_people: the run is chunked (see the module's docstring; no OPD roster then).
    progress(done, total, what) is told how far the work is.
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
    people_n = inside + outside + uncovered
    report = progress or (lambda done, total, what: None)
    if people_n > chunk_people:
        if opd_roster:
            raise ValueError(f"the OPD roster is drawn for the Kendari sample only: at most {chunk_people:,} "
                             f"people, not {people_n:,} (scale {scale})")
        return generate_chunked(landing_dir, truth_dir, d, seed, scale, formats, target,
                                (inside, outside, uncovered), unusable, chunk_people, report)

    # who exists and what they hold
    report(0, people_n, "people")
    ref = load_reference()
    people, vocab = draw_people(rng, ref, inside, outside, uncovered, d, scale)
    reg = draw_registrations(rng, ref, people, {s: target[s] - unusable[s] for s in WORKER_SOURCES}, unusable, d,
                             scale)
    # the rows as written, dirt included, and the truth of each row
    persons, frames, truth = rows_as_written(rng, ref, people, vocab, reg, inside)
    report(people_n // 2, people_n, "rows")
    frames, spare_kpj = assign_kpj(rng, frames, unusable)
    for s in WORKER_SOURCES:
        frames[s], truth[s] = add_unusable(rng, s, frames[s], truth[s], unusable[s], spare_kpj.get(s),
                                           reg.employers.unknown_npp, reg.projects.unknown)
        order = rng.permutation(len(frames[s]))  # a delivery lists its rows in no particular order
        frames[s], truth[s] = frames[s][order], number_rows(truth[s][order])
    frames = {"employers": employers_frame(rng, ref, reg.employers, active_rows_per_employer(reg.employers, reg.pu)),
              "jakon_projects": projects_frame(rng, ref, reg.projects, reg.employers), **frames}
    registry, eligible_per_village = civil_registry(rng, ref, target["eligible_workforce"],
                                                    covered_per_village(ref, people))

    cutoff = registry_cutoff(d)
    records = records_frame(list(truth.values()))
    summary = truth_summary(d, ref, truth_counts(people, persons, records), target, frames["employers"],
                            frames["jakon_projects"], cutoff, registry, eligible_per_village, seed, scale, formats)
    if opd_roster:
        frames["opd_non_asn"], summary["opd_non_asn"] = opd_roster_frame(
            np.random.default_rng([seed, OPD_ROSTER_STREAM]), ref, people, vocab, records, scale)

    report(people_n * 3 // 4, people_n, "writing")
    write_landing(landing_dir, d, formats, frames, registry, cutoff)
    write_truth(truth_dir, d, records, persons, summary)
    report(people_n, people_n, "done")
    return summary


def generate_chunked(landing_dir: Path, truth_dir: Path, d: date, seed: int, scale: float, formats: str,
                     target: dict[str, int], groups: tuple[int, int, int], unusable: dict[str, int],
                     chunk_people: int, report: Progress) -> dict:
    """The chunked run (see the module's docstring): every block's share of each figure by `apportion`, so the
    totals are exactly the unchunked run's calibration."""
    people_n = sum(groups)
    n_blocks = -(-people_n // chunk_people)
    even = np.ones(n_blocks)
    # each block's share: people of the three groups, rows and unusable rows per source, NIK collision pairs
    share = {"groups": np.stack([apportion(g, even) for g in groups], axis=1),
             "rows": {s: apportion(target[s], even) for s in WORKER_SOURCES},
             "unusable": {s: apportion(unusable[s], even) for s in WORKER_SOURCES},
             "pairs": apportion(max(1, round_half_up(6 * scale)), even)}
    kpj_width = (KPJ_RANGE[1] - KPJ_RANGE[0]) // n_blocks

    report(0, people_n, f"block 1 of {n_blocks}")
    rng = np.random.default_rng(seed)  # the area's draws: employers and projects now, their files after the blocks
    ref = load_reference()
    emp = draw_employers(rng, ref, scale, d, spare=unusable["pu_workers"])
    proj = draw_projects(rng, scale, d, spare=unusable["jakon_workers"])
    serials = NikSerials(len(ref.district_codes), d)
    active_rows = np.zeros(len(emp.npp), np.int64)
    covered_home = np.zeros(len(ref.kendari_villages), np.int64)
    counts: dict = {}
    first_person = 0
    spare_npp, spare_project = np.cumsum(np.r_[0, share["unusable"]["pu_workers"]]), np.cumsum(
        np.r_[0, share["unusable"]["jakon_workers"]])
    with BlockWriter(landing_dir, truth_dir, d, formats, WORKER_SOURCES) as writer:
        for b in range(n_blocks):
            block_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(BLOCK_STREAM, b)))
            unusable_b = {s: int(share["unusable"][s][b]) for s in WORKER_SOURCES}
            frames, records, persons, people, active_rows_b = draw_block(
                block_rng, ref, d, scale, emp, proj, serials, share["groups"][b], int(share["pairs"][b]),
                {s: int(share["rows"][s][b]) - unusable_b[s] for s in WORKER_SOURCES}, unusable_b, first_person,
                writer.rows, (KPJ_RANGE[0] + b * kpj_width, KPJ_RANGE[0] + (b + 1) * kpj_width),
                emp.unknown_npp[spare_npp[b]:spare_npp[b + 1]],
                proj.unknown[int(spare_project[b]):int(spare_project[b + 1])])
            counts = add_counts(counts, truth_counts(people, persons, records))
            active_rows += active_rows_b
            covered_home += covered_per_village(ref, people)
            writer.append(frames, records, persons)
            first_person += len(people.group)
            del frames, records, persons, people, active_rows_b
            report(first_person, people_n, f"block {min(b + 2, n_blocks)} of {n_blocks}"
                   if b + 1 < n_blocks else "employers, projects, civil registry")

        frames = {"employers": employers_frame(rng, ref, emp, active_rows),
                  "jakon_projects": projects_frame(rng, ref, proj, emp)}
        registry, eligible_per_village = civil_registry(rng, ref, target["eligible_workforce"], covered_home)
        cutoff = registry_cutoff(d)
        summary = truth_summary(d, ref, counts, target, frames["employers"], frames["jakon_projects"], cutoff,
                                registry, eligible_per_village, seed, scale, formats)
        summary["chunked"] = {"blocks": n_blocks, "chunk_people": chunk_people}
        if summary["covered_workers"] != target["covered_workers"]:  # by construction: a failure is a bug
            raise RuntimeError("the blocks do not add up to the calibrated number of covered workers")
        writer.finish(frames, registry, cutoff, summary)
    report(people_n, people_n, "done")
    return summary


def rows_as_written(rng: np.random.Generator, ref: Reference, people: People, vocab, reg, inside: int,
                    first_person: int = 0) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """(persons with their region, each worker source's rows as written with their dirt, the truth of each row)
    for people drawn with their registrations `reg`; person_id counts on from `first_person`. Raises
    RuntimeError when the region rule misses the calibrated `inside` covered workers (a bug)."""
    persons = attribute_regions(ref, people, reg.rows, first_person)
    covered = persons["covered"].to_numpy()
    if int((covered & persons["in_area"].to_numpy()).sum()) != inside:  # by construction: a failure is a bug
        raise RuntimeError("the region rule does not give the calibrated number of covered workers")
    placed_by_nik = covered & (persons["region_level"] == "district").fill_null(False).to_numpy()
    nik_issues = draw_nik_issues(rng, reg.rows, keep_clean=placed_by_nik)
    frames, truth = {}, {}
    for s in WORKER_SOURCES:
        frames[s], nik_issues[s], birth_date_issue = registration_frame(rng, s, reg, people, vocab, ref, nik_issues[s])
        truth[s] = record_truth(s, reg.rows[s], nik_issues[s], birth_date_issue, people.collision, first_person)
    return persons, frames, truth


def draw_block(rng: np.random.Generator, ref: Reference, d: date, scale: float, emp: Employers, proj: Projects,
               serials: NikSerials,
               groups: np.ndarray, pairs: int, usable_rows: dict[str, int], unusable: dict[str, int],
               first_person: int, rows_before: dict[str, int], kpj_range: tuple[int, int], unknown_npp: np.ndarray,
               unknown_project: pl.Series) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, pl.DataFrame, People,
                                                     np.ndarray]:
    """One block of a chunked run, drawn as the unchunked run draws the whole population: its rows (shuffled within
    the block), its records and persons (person_id and source_row numbered on from the earlier blocks), and its
    people with the active PU rows it gives each employer."""
    inside, outside, uncovered = (int(g) for g in groups)
    people, vocab = draw_people(rng, ref, inside, outside, uncovered, d, scale, serials=serials,
                                collision_pairs=pairs)
    reg = draw_rows(rng, ref, people, emp, proj, usable_rows, d)
    persons, frames, truth = rows_as_written(rng, ref, people, vocab, reg, inside, first_person)
    frames, spare_kpj = assign_kpj(rng, frames, unusable, kpj_range)
    for s in WORKER_SOURCES:
        frames[s], truth[s] = add_unusable(rng, s, frames[s], truth[s], unusable[s], spare_kpj.get(s),
                                           unknown_npp, unknown_project)
        order = rng.permutation(len(frames[s]))  # a delivery lists its rows in no particular order
        frames[s], truth[s] = frames[s][order], number_rows(truth[s][order], rows_before[s])
    return frames, records_frame(list(truth.values())), persons, people, active_rows_per_employer(emp, reg.pu)
