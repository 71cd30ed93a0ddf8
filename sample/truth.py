"""The ground truth beside the landing zone, never inside it: which rows belong to the same person and are usable
and active (records), each person's coverage and region by the contract's rule (persons), and the headline
figures the pipeline should find (summary)."""

from __future__ import annotations

import numpy as np
import polars as pl

from sample.dirt import NIK_ISSUE_NAMES
from sample.draws import ymd
from sample.kendari import AREA_CODE, Reference
from sample.people import People
from sample.registrations import BIT, SEGMENT, WORKER_SOURCES, Rows

RECORD_COLUMNS = ("source", "source_row", "person_id", "usable", "active", "nik_issue", "birth_date_issue", "defect")


def record_truth(source: str, rows: Rows, nik_issue: np.ndarray, birth_date_issue: np.ndarray,
                 collision: np.ndarray, first_person: int = 0) -> pl.DataFrame:
    """The truth of each usable row of one source, in the order the rows were drawn (numbered on delivery);
    person_id counts from first_person + 1 (the people of earlier blocks of a chunked run come first)."""
    issue_name = np.array(NIK_ISSUE_NAMES)[nik_issue]
    issue_name = np.where((nik_issue == 0) & collision[rows.person], "collision", issue_name)
    return pl.DataFrame({"person_id": rows.person.astype(np.int64) + 1 + first_person, "active": rows.active,
                         "nik_issue": issue_name, "birth_date_issue": birth_date_issue}).with_columns(
        pl.lit(source).alias("source"), pl.lit(True).alias("usable"), pl.lit(None, pl.String).alias("defect"))


def number_rows(truth: pl.DataFrame, rows_before: int = 0) -> pl.DataFrame:
    """source_row: the row's line in the delivered file (1 = the first row after the header); rows_before: the
    rows earlier blocks of a chunked run wrote to the file."""
    return truth.with_row_index("source_row", offset=1 + rows_before).with_columns(pl.col("source_row").cast(pl.Int64))


def records_frame(parts: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(parts).select(*RECORD_COLUMNS)


def attribute_regions(ref: Reference, people: People, rows: dict[str, Rows], first_person: int = 0) -> pl.DataFrame:
    """Each person's region by the contract: domicile of the most recent active registration that has one,
    else the district in the NIK; computed from the clean values. person_id counts from first_person + 1."""
    n = len(people.group)
    person = np.concatenate([rows[s].person for s in WORKER_SOURCES])
    active = np.concatenate([rows[s].active for s in WORKER_SOURCES])
    start = np.concatenate([rows[s].start for s in WORKER_SOURCES])
    domicile = np.concatenate([rows[s].domicile for s in WORKER_SOURCES])
    segment = np.concatenate([np.full(len(rows[s].person), BIT[s]) for s in WORKER_SOURCES])
    seg_mask = np.zeros(n, np.int64)
    np.bitwise_or.at(seg_mask, person[active], segment[active])
    has = np.flatnonzero(active & (domicile >= 0))
    order = has[np.lexsort((-start[has], person[has]))]
    _, first = np.unique(person[order], return_index=True)
    village = np.full(n, -1)
    village[person[order[first]]] = domicile[order[first]]
    covered = seg_mask > 0
    by_village = village >= 0
    region = np.where(by_village, ref.village_codes.gather(np.maximum(village, 0)).to_numpy(),
                      ref.district_codes.gather(people.nik_district).to_numpy())
    district = np.where(by_village, ref.district_codes.gather(ref.village_district[np.maximum(village, 0)]).to_numpy(),
                        ref.district_codes.gather(people.nik_district).to_numpy())
    names = np.array(["", "PU", "BPU", "BPU+PU", "JAKON", "JAKON+PU", "BPU+JAKON", "BPU+JAKON+PU"])
    segments = names[seg_mask]
    year, _, _ = ymd(people.birth)
    return pl.DataFrame({
        "person_id": np.arange(first_person + 1, first_person + n + 1),
        "nik": people.nik.astype(str),
        "nik_collision": people.collision,
        "sex": np.where(people.male, "L", "P"),
        "birth_date": pl.Series(people.birth.astype(np.int32)).cast(pl.Date),
        "birth_year": year,
        "home_village": ref.village_codes.gather(people.home),
        "nik_district": ref.district_codes.gather(people.nik_district),
        "covered": covered,
        "segments": pl.Series(segments).replace("", None),
        "region_code": pl.DataFrame({"r": region, "c": covered}).select(pl.when("c").then("r")).to_series(),
        "region_level": pl.DataFrame({"v": by_village, "c": covered}).select(
            pl.when(pl.col("c")).then(pl.when(pl.col("v")).then(pl.lit("village")).otherwise(pl.lit("district")))
        ).to_series(),
        "district_code": pl.DataFrame({"r": district, "c": covered}).select(pl.when("c").then("r")).to_series(),
        "in_area": pl.Series(covered & np.char.startswith(region.astype(str), AREA_CODE + ".")),
    })


def truth_counts(people: People, persons: pl.DataFrame, records: pl.DataFrame) -> dict:
    """The figures of the summary that add up over disjoint sets of people (the blocks of a chunked run): counts,
    and counts per key."""
    covered = persons.filter(pl.col("covered"))
    inside = covered.filter(pl.col("in_area"))
    ok = records.filter(pl.col("usable"))
    active = ok.filter(pl.col("active"))
    active_people = active.join(persons.select("person_id", "in_area"), on="person_id")

    def per_segment(frame: pl.DataFrame) -> dict:
        return {SEGMENT[s]: frame.filter(pl.col("source") == s)["person_id"].n_unique() for s in WORKER_SOURCES}

    return {
        "covered_workers": inside.height,
        "covered": covered.height,
        "registrations": {s: int((records["source"] == s).sum()) for s in WORKER_SOURCES},
        "usable_rows": {s: int((ok["source"] == s).sum()) for s in WORKER_SOURCES},
        "unusable_rows": {s: int(((records["source"] == s) & ~records["usable"]).sum()) for s in WORKER_SOURCES},
        "unusable_reasons": dict(records.filter(~pl.col("usable")).group_by("defect").len().iter_rows()),
        "active_registrations": {SEGMENT[s]: int((active["source"] == s).sum()) for s in WORKER_SOURCES},
        "active_workers": per_segment(active_people),
        "active_workers_in_area": per_segment(active_people.filter(pl.col("in_area"))),
        "exclusive_workers": {seg: int(covered.filter(pl.col("segments") == seg).height)
                              for seg in ("PU", "BPU", "JAKON")},
        "segment_overlap": dict(covered.group_by("segments").len().iter_rows()),
        "workers_active_in_several_segments": covered.filter(pl.col("segments").str.contains("+", literal=True)).height,
        "persons": int(records["person_id"].n_unique()),
        "people": persons.height,
        "covered_by_district": dict(inside.group_by("district_code").len().iter_rows()),
        "covered_attributed_to_district_only": int(inside.filter(pl.col("region_level") == "district").height),
        "covered_by_village": dict(inside.filter(pl.col("region_level") == "village").group_by("region_code").len()
                                   .iter_rows()),
        "nik_issues": dict(records.group_by("nik_issue").len().iter_rows()),
        "nik_collision_pairs": int(people.collision.sum()),
        "birth_date_issues": int(records["birth_date_issue"].sum()),
    }


def add_counts(a: dict, b: dict) -> dict:
    """Two truth_counts summed, key by key (keys of `a` first)."""
    return {k: (add_counts(a.get(k, {}), b.get(k, {})) if isinstance(a.get(k, b.get(k)), dict)
                else a.get(k, 0) + b.get(k, 0)) for k in dict.fromkeys([*a, *b])}


def truth_summary(d, ref, counts, target, employers, projects, cutoff, registry, eligible_per_village, seed, scale,
                  formats) -> dict:
    """The headline figures from truth_counts (of the whole population, or summed over the blocks)."""
    c = counts
    by_village = dict(sorted(c["covered_by_village"].items()))
    kendari_codes = ref.village_codes.gather(ref.kendari_villages).to_list()
    eligible_villages = dict(zip(kendari_codes, eligible_per_village.tolist()))
    village_pct = [n / eligible_villages[v] * 100 for v, n in by_village.items() if eligible_villages.get(v)]
    eligible = int(target["eligible_workforce"])
    inside_n = c["covered_workers"]
    return {
        "snapshot_date": d.isoformat(),
        "area_code": AREA_CODE,
        "civil_registry_file": f"civil_registry/workforce_{cutoff.isoformat()}.csv",
        "civil_registry_cutoff": cutoff.isoformat(),
        "eligible_workforce": eligible,
        "covered_workers": inside_n,
        "uncovered_workers": eligible - inside_n,
        "coverage_pct": inside_n / eligible * 100,
        "covered_outside_area": c["covered"] - inside_n,
        "registrations": c["registrations"],
        "usable_rows": c["usable_rows"],
        "unusable_rows": {**c["unusable_rows"], "employers": 0, "jakon_projects": 0},
        "unusable_reasons": dict(sorted(c["unusable_reasons"].items())),
        "active_registrations": c["active_registrations"],
        "active_workers": c["active_workers"],
        "active_workers_in_area": c["active_workers_in_area"],
        "exclusive_workers": c["exclusive_workers"],
        "segment_overlap": dict(sorted(c["segment_overlap"].items())),
        "workers_active_in_several_segments": c["workers_active_in_several_segments"],
        "persons": c["persons"],
        "persons_without_active_registration": c["people"] - c["covered"],
        "covered_by_district": dict(sorted(c["covered_by_district"].items())),
        "covered_attributed_to_district_only": c["covered_attributed_to_district_only"],
        "covered_by_village": by_village,
        "eligible_by_village": eligible_villages,
        "village_coverage_pct_range": [min(village_pct), max(village_pct)] if village_pct else None,
        "nik_issues": dict(sorted(c["nik_issues"].items())),
        "nik_collision_pairs": c["nik_collision_pairs"],
        "birth_date_issues": c["birth_date_issues"],
        "employers": employers.height,
        "employers_by_type": dict(sorted(employers.group_by("jenis_pemberi_kerja").len().iter_rows())),
        "jakon_projects": projects.height,
        "civil_registry_rows": registry.height,
        "seed": seed,
        "scale": scale,
        "formats": formats,
    }
