"""Laporan Cakupan: one self-contained HTML file per snapshot, written beside analytics.duckdb.

Reads only the open tier (report.data), draws the charts (report.charts) and the kelurahan map (report.map) as
inline SVG, and fills templates/report.html.j2. Every section carries one sentence of plain reading. No
script, font, style or image is fetched: the file opens offline.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import jinja2

from report import charts, report_path
from report.data import ReportData, Row, load
from report.i18n import LANGUAGES, SUPPRESSED_MARK, TEXT, advice, long_date, number, pct, signed
from report.map import Area, kelurahan_map

PROJECT_DIR = Path(__file__).resolve().parents[1]
BOUNDARIES = PROJECT_DIR / "reference" / "boundaries_sultra.geojson"
TEMPLATES = Path(__file__).parent / "templates"
TOP = 10  # rows of each ranked list


def render_report(analytics_db: Path, snapshot_date: date, lang: str = "id", out: Path | None = None,
                  boundaries: Path = BOUNDARIES) -> Path:
    """Write the report of `snapshot_date` (atomically: a reader never sees half a file) and return its path."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    html = render_html(load(Path(analytics_db), snapshot_date), lang, Path(boundaries))
    out = Path(out) if out else report_path(analytics_db, snapshot_date, lang)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out


class Fmt:
    """Cell formatting in one language; a suppressed cell reads SUPPRESSED_MARK, never a number."""

    def __init__(self, lang: str):
        self.lang = lang

    def n(self, row: Row, column: str) -> str:
        return SUPPRESSED_MARK if row.is_hidden(column) else number(row.get(column), self.lang)

    def p(self, row: Row, column: str) -> str:
        return SUPPRESSED_MARK if row.is_hidden(column) else pct(row.get(column), self.lang)

    def pp(self, row: Row, column: str) -> str:
        return SUPPRESSED_MARK if row.is_hidden(column) else signed(row.get(column), self.lang)


def _total(rows: list[Row], column: str) -> tuple[int, bool]:
    """Sum of the published cells, and whether a suppressed cell was left out (the sum is then a lower bound)."""
    return sum(r[column] or 0 for r in rows if not r.is_hidden(column)), any(r.is_hidden(column) for r in rows)


def _table(head: list[str], rows: list[list[str]], numeric: list[bool], **extra) -> dict:
    return {"head": head, "rows": rows, "numeric": numeric, **extra}


def render_html(data: ReportData, lang: str, boundaries: Path) -> str:
    words, f = TEXT[lang], Fmt(lang)
    city = data.city
    area = city["region_name"]
    sections = [
        _headline(data, words, f, lang), _trend(data, words, f, lang), _map(data, words, f, lang, boundaries),
        _districts(data, words, f, lang), _targets(data, words, f, lang), _occupation(data, words, f, lang),
        _overlap(data, words, f, lang), _employers(data, words, f, lang), _opd(data, words, f, lang),
        _lapsed(data, words, f, lang), _churn(data, words, f, lang), _outside(data, words, f, lang),
        _quality(data, words, f, lang),
    ]
    defaults = {"reading": "", "kpis": [], "map": "", "figures": [], "lists": [], "tables": [], "notes": []}
    sections = [defaults | s for s in sections if s]
    snapshot = data.snapshot or {}
    cutoff = snapshot.get("civil_registry_cut_off")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(
        lang=lang, words=words, sections=sections,
        title=words["title"], subtitle=words["subtitle"].format(area=area, date=long_date(data.snapshot_date, lang)),
        source_note=words["generated"].format(
            when=long_date(data.snapshot_date, lang), cutoff=long_date(cutoff, lang) if cutoff else "–"),
        demo=bool(snapshot.get("pseudonymised_with_demo_key")),
        suppressed_note=words["suppressed_note"].format(mark=SUPPRESSED_MARK, threshold=data.threshold or 5)
        if data.threshold or "suppressed" in city else None,
    )


def _target_now(data: ReportData) -> Row | None:
    """The target of the snapshot's own year, else the next one due."""
    ahead = [t for t in data.vs_targets if t["target_year"] >= data.snapshot_date.year]
    return ahead[0] if ahead else None


def _headline(data: ReportData, words: dict, f: Fmt, lang: str) -> dict:
    city = data.city
    kpis = [(words["eligible"], f.n(city, "eligible_workforce")), (words["covered"], f.n(city, "covered_workers")),
            (words["uncovered"], f.n(city, "uncovered_workers")), (words["rate"], f.p(city, "coverage_pct"))]
    if city.get("ucj_category"):
        kpis.append((words["ucj"], city["ucj_category"]))
    values = dict(area=city["region_name"], rate=f.p(city, "coverage_pct"), covered=f.n(city, "covered_workers"),
                  eligible=f.n(city, "eligible_workforce"), uncovered=f.n(city, "uncovered_workers"))
    target = _target_now(data)
    if target and target["gap_pp"] is not None:
        reading = words["headline_read"].format(
            **values, gap=number(abs(target["gap_pp"]), lang, 2), side=words["above" if target["gap_pp"] >= 0 else "below"],
            target_name=f"{target['source'].split()[0]} {target['target_year']}", target=pct(target["target_pct"], lang))
    else:
        reading = words["headline_read_no_target"].format(**values)
    return {"id": "ringkasan", "title": words["s_headline"], "reading": reading, "kpis": kpis}


def _trend(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    if not data.trend:
        return None
    points = [{"date": r["snapshot_date"], "pct": r["coverage_pct"]} for r in data.trend if r["coverage_pct"] is not None]
    targets = [{"date": date(int(t["year"]), 12, 31), "target_pct": t["value"],
                "label": f"{t['source'].split()[0]} {t['year']}: {pct(t['value'], lang)}"}
               for t in data.targets if t["indicator"] == "coverage_pct"]
    now = data.trend[-1]
    reading = words["trend_read"].format(
        final=pct(now["final_target_pct"], lang), year=now["final_target_year"],
        source=next((t["source"] for t in data.targets if t["year"] == now["final_target_year"]), ""),
        pp=number(now["required_pp_per_year"], lang, 2), growth=pct(now["required_growth_pct_per_year"], lang))
    if now.get("covered_workers_growth_pct_per_year") is not None:
        reading += words["trend_read_growth"].format(achieved=pct(now["covered_workers_growth_pct_per_year"], lang),
                                                     push=pct(now["participant_growth_target_pct"], lang))
    rows = [[f"{t['source']}", str(t["target_year"]), pct(t["target_pct"], lang), f.pp(t, "gap_pp"),
             words["yes"] if t["met"] else words["no"],
             "–" if t["met"] else f.pp(t, "required_pp_per_year") if t["required_pp_per_year"] is not None
             else words["passed"],
             "–" if t["met"] else f.p(t, "required_growth_pct_per_year") if t["required_growth_pct_per_year"] is not None
             else words["passed"]]
            for t in data.vs_targets]
    table = _table([words["target"], words["target_year"], words["rate"], words["gap_pp"], words["met"],
                    words["required_pp"], words["required_growth"]], rows, [False, True, True, True, False, True, True])
    figures = [charts.trend(points, targets, lang)] if points else []  # every rate suppressed: the table only
    return {"id": "tren", "title": words["s_trend"], "reading": reading, "figures": figures, "tables": [table]}


def _unassigned(data: ReportData) -> tuple[dict[str, int | None], int | None]:
    """Covered workers known only by their district, per district and in all: the published `unassigned` rows,
    else each district less its villages (None where a suppressed village cell makes that unknowable)."""
    per = {}
    for d in data.districts:
        code = d["region_code"]
        if data.unassigned:
            row = data.unassigned.get(code)
            per[code] = None if row is None or row.is_hidden("covered_workers") else row["covered_workers"]
        else:
            villages = [v for v in data.villages if v["region_code"].startswith(code + ".")]
            total, partial = _total(villages, "covered_workers")
            per[code] = None if partial or d.is_hidden("covered_workers") else d["covered_workers"] - total
    known = [v for v in per.values() if v is not None]
    return per, (sum(known) if len(known) == len(per) else None)


def _map(data: ReportData, words: dict, f: Fmt, lang: str, boundaries: Path) -> dict:
    villages = [Area(v["region_code"], v["region_name"], v["coverage_pct"], v.is_hidden("coverage_pct"))
                for v in data.villages]
    districts = [Area(d["region_code"], d["region_name"], d["coverage_pct"]) for d in data.districts]
    svg, missing = kelurahan_map(boundaries, data.city["region_code"], villages, districts, lang)
    rated = [v for v in data.villages if v["coverage_pct"] is not None and not v.is_hidden("coverage_pct")]
    _, unassigned = _unassigned(data)
    low = min(rated, key=lambda v: (v["coverage_pct"], v["region_code"])) if rated else None
    high = max(rated, key=lambda v: (v["coverage_pct"], v["region_code"])) if rated else None
    covered = data.city["covered_workers"] or 0
    reading = words["map_read"].format(
        low=low["region_name"] if low else "–", low_rate=pct(low["coverage_pct"], lang) if low else "–",
        high=high["region_name"] if high else "–", high_rate=pct(high["coverage_pct"], lang) if high else "–",
        unassigned=number(unassigned, lang) if unassigned is not None else SUPPRESSED_MARK,
        share=pct(100 * unassigned / covered, lang, 1) if unassigned is not None and covered else "–")
    notes = [words["map_caption"]]
    lists = []
    if missing:
        by_code = {v["region_code"]: v for v in data.villages}
        lists.append({"title": words["map_missing"], "items": [
            f"{m.name} ({m.code}): {words['rate'].lower()} {f.p(by_code[m.code], 'coverage_pct')}, "
            f"{words['covered'].lower()} {f.n(by_code[m.code], 'covered_workers')}, "
            f"{words['eligible'].lower()} {f.n(by_code[m.code], 'eligible_workforce')}" for m in missing]})
    return {"id": "peta", "title": words["s_map"], "reading": reading, "map": svg, "lists": lists, "notes": notes}


def _districts(data: ReportData, words: dict, f: Fmt, lang: str) -> dict:
    ranked = sorted(data.districts, key=lambda d: (-(d["coverage_pct"] or -1), d["region_code"]))
    shown = [d for d in ranked if d["coverage_pct"] is not None and not d.is_hidden("coverage_pct")]
    per, _ = _unassigned(data)
    has_ucj = any(d.get("ucj_category") for d in ranked)
    rows = []
    for d in ranked:
        u = per.get(d["region_code"])
        share = (pct(100 * u / d["covered_workers"], lang, 1) if u is not None and d["covered_workers"]
                 else SUPPRESSED_MARK if u is None else "–")
        rows.append([d["region_name"], f.n(d, "eligible_workforce"), f.n(d, "covered_workers"),
                     f.n(d, "uncovered_workers"), f.p(d, "coverage_pct"), share]
                    + ([d.get("ucj_category") or "–"] if has_ucj else []))
    head = [words["district"], words["eligible_short"], words["covered_short"], words["uncovered"], words["rate"],
            words["unassigned_share"]] + ([words["ucj"]] if has_ucj else [])
    reading = ""
    if shown:
        best, worst = shown[0], shown[-1]
        reading = words["districts_read"].format(
            best=best["region_name"], best_rate=pct(best["coverage_pct"], lang), worst=worst["region_name"],
            worst_rate=pct(worst["coverage_pct"], lang),
            spread=number(best["coverage_pct"] - worst["coverage_pct"], lang, 2))
    figure = charts.bars([{"label": d["region_name"], "value": d["coverage_pct"]} for d in shown], "value", "label",
                         lang, words["chart_districts"], reference=data.city["coverage_pct"])
    return {"id": "kecamatan", "title": words["s_districts"], "reading": reading, "figures": [figure],
            "tables": [_table(head, rows, [False, True, True, True, True, True, False][:len(head)])]}


def _targets(data: ReportData, words: dict, f: Fmt, lang: str) -> dict:
    names = {d["region_code"]: d["region_name"] for d in data.districts}
    published = data.optional.get("village_targets")
    if published:
        top = sorted(published, key=lambda r: r["rank"])[:TOP]
        rows = [[str(r["rank"]), r["village_name"], r.get("district_name") or names.get(r["district_code"], ""),
                 f.n(r, "uncovered_workers"), f.n(r, "uncovered_workers_at_least"), f.p(r, "coverage_pct"),
                 r.get("ucj_category") or "–"] for r in top]
        head = [words["rank"], words["village"], words["district"], words["uncovered"], words["uncovered_at_least"],
                words["rate"], words["ucj"]]
        numeric = [True, False, False, True, True, True, False]
    else:
        ranked = sorted((v for v in data.villages if not v.is_hidden("uncovered_workers")),
                        key=lambda v: (-(v["uncovered_workers"] or 0), v["region_code"]))
        top = ranked[:TOP]
        rows = [[str(i), v["region_name"], names.get(v["region_code"][:8], ""), f.n(v, "uncovered_workers"),
                 f.n(v, "eligible_workforce"), f.p(v, "coverage_pct")] for i, v in enumerate(top, 1)]
        head = [words["rank"], words["village"], words["district"], words["uncovered"], words["eligible_short"],
                words["rate"]]
        numeric = [True, False, False, True, True, True]
    top_sum = sum(r["uncovered_workers"] or 0 for r in top if not r.is_hidden("uncovered_workers"))
    all_uncovered = data.city["uncovered_workers"] or 0
    reading = words["targets_read"].format(top=number(top_sum, lang),
                                           share=pct(100 * top_sum / all_uncovered, lang, 1) if all_uncovered else "–")
    return {"id": "sasaran", "title": words["s_targets"], "reading": reading,
            "tables": [_table(head, rows, numeric)], "notes": [words["targets_caveat"]]}


def _occupation(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    occupations, sexes = data.optional.get("coverage_by_occupation"), data.optional.get("coverage_by_sex")
    if not occupations and not sexes:
        return None
    section = {"id": "pekerjaan", "title": words["s_occupation"], "figures": [], "tables": [], "notes": [],
               "reading": ""}
    def name(r: Row) -> str:
        return words["unmapped"] if r["occupation"] == "unmapped" else r["occupation"].title()

    if occupations:
        eligible = [r for r in occupations if r.get("category") == "eligible" or r.get("occupation") == "unmapped"]
        ranked = sorted(eligible, key=lambda r: (-(r.get("uncovered_workers_estimate") or 0), r["occupation"]))
        top = [r for r in ranked if r.get("uncovered_workers_estimate") is not None
               and not r.is_hidden("uncovered_workers_estimate")][:TOP]
        if top:
            section["reading"] = words["occupation_read"].format(
                top=name(top[0]), n=number(top[0]["uncovered_workers_estimate"], lang))
            section["figures"].append(charts.bars(
                [{"label": name(r), "value": r["uncovered_workers_estimate"]} for r in top],
                "value", "label", lang, words["chart_occupation"], fmt=",.0f"))
        rows = [[name(r), f.n(r, "eligible_workforce"), f.n(r, "covered_workers_estimate"),
                 f.n(r, "uncovered_workers_estimate"), f.p(r, "coverage_pct_estimate")] for r in ranked[:TOP + 5]]
        section["tables"].append(_table([words["occupation"], words["eligible_short"], words["covered_short"], words["uncovered"],
                                         words["rate"]], rows, [False, True, True, True, True]))
        section["notes"].append(words["occupation_caveat"])
    if sexes:
        city_rows = [r for r in sexes if r.get("level") == "city"]
        by_sex = {r["sex"]: r for r in city_rows}
        if "L" in by_sex and "P" in by_sex:
            sentence = words["sex_read"].format(l_rate=f.p(by_sex["L"], "coverage_pct"),
                                                p_rate=f.p(by_sex["P"], "coverage_pct"))
            section["reading"] = (section["reading"] + " " + sentence).strip()
        rows = [[words.get(f"sex_{r['sex']}", r["sex"]), f.n(r, "eligible_workforce"), f.n(r, "covered_workers"),
                 f.n(r, "uncovered_workers"), f.p(r, "coverage_pct")] for r in city_rows]
        section["tables"].append(_table([words["sex"], words["eligible_short"], words["covered_short"], words["uncovered"],
                                         words["rate"]], rows, [False, True, True, True, True]))
    return section


def _overlap(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    if not data.overlap:
        return None
    multi, _ = _total([r for r in data.overlap if "+" in (r["segments"] or "")], "workers")
    workers, _ = _total(data.overlap, "workers")
    registrations, _ = _total(data.segments, "active_registrations")
    reading = words["overlap_read"].format(multi=number(multi, lang), registrations=number(registrations, lang),
                                           workers=number(workers, lang))
    shown = [r for r in data.overlap if r["workers"] is not None and not r.is_hidden("workers")]
    figure = charts.bars([{"label": r["segments"] or "–", "value": r["workers"]} for r in shown], "value", "label",
                         lang, words["chart_overlap"], fmt=",.0f")
    overlap = _table([words["segments"], words["workers"], words["workers_in_area"]],
                     [[r["segments"] or "–", f.n(r, "workers"), f.n(r, "workers_in_area")] for r in data.overlap],
                     [False, True, True])
    segments = _table([words["segments"], words["registrations"], words["active_registrations"], words["active_workers"],
                       words["exclusive_workers"]],
                      [[r["segment"], f.n(r, "registrations"), f.n(r, "active_registrations"), f.n(r, "active_workers"),
                        f.n(r, "exclusive_workers")] for r in data.segments], [False, True, True, True, True])
    return {"id": "segmen", "title": words["s_overlap"], "reading": reading, "figures": [figure],
            "tables": [segments, overlap]}


def _employers(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    rows = data.optional.get("employer_compliance")
    if rows is None:
        return None
    if rows and "inspection_rank" in rows[0]:  # the published ranking for BPJS inspectors
        flagged = sorted((r for r in rows if r["inspection_rank"] is not None), key=lambda r: r["inspection_rank"])
    else:
        flagged = [r for r in rows if r.get("employer_status", "aktif") == "aktif"
                   and any(r.get(k) for k in ("pds_tenaga_kerja", "pds_upah", "pds_program"))]
        flagged.sort(key=lambda r: (-(r.get("pds_kinds") or 0), -(r.get("unregistered_workers") or 0),
                                    -(r.get("workers_below_wage_floor") or 0), r["npp"]))

    def kinds(r: Row) -> str:
        return "PDS " + ", ".join(words[k] for k, c in (("pds_tk", "pds_tenaga_kerja"), ("pds_upah", "pds_upah"),
                                                ("pds_program", "pds_program")) if r.get(c))

    table = _table([words["rank"], words["employer"], "NPP", words["declared"], words["registered"],
                    words["unregistered"], words["below_floor"], words["missing_programs"], "PDS"],
                   [[str(i), r["employer_name"], r["npp"], f.n(r, "declared_workers"), f.n(r, "active_workers"),
                     f.n(r, "unregistered_workers"), f.n(r, "workers_below_wage_floor"),
                     r.get("programs_missing") or "–", kinds(r)] for i, r in enumerate(flagged[:TOP], 1)],
                   [True, False, False, True, True, True, True, False, False])
    reading = words["employers_read"].format(n=number(len(flagged), lang),
                                             top=flagged[0]["employer_name"] if flagged else "–",
                                             kinds=kinds(flagged[0]) if flagged else "–")
    return {"id": "pds", "title": words["s_employers"], "reading": reading, "tables": [table]}


def _opd(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    rows = data.optional.get("opd_coverage")
    if not rows:
        return None
    staff, _ = _total(rows, "staff_on_roster")
    covered, _ = _total(rows, "staff_covered")
    rated = [r for r in rows if r.get("staff_covered_pct") is not None and not r.is_hidden("staff_covered_pct")]
    low = min(rated, key=lambda r: (r["staff_covered_pct"], r["kode_opd"])) if rated else None
    reading = words["opd_read"].format(n=number(len(rows), lang), covered=number(covered, lang),
                                       staff=number(staff, lang), rate=pct(100 * covered / staff, lang) if staff else "–",
                                       low=low["nama_opd"] if low else "–",
                                       low_rate=pct(low["staff_covered_pct"], lang) if low else "–")
    table = _table([words["opd"], words["staff"], words["staff_covered"], words["staff_not_covered"], words["rate"]],
                   [[r["nama_opd"], f.n(r, "staff_on_roster"), f.n(r, "staff_covered"), f.n(r, "staff_not_covered"),
                     f.p(r, "staff_covered_pct")] for r in rows], [False, True, True, True, True])
    return {"id": "opd", "title": words["s_opd"], "reading": reading, "tables": [table]}


LAPSE_COLUMNS = ("bpu_participants", "paid_up_participants", "lapsed_1_30_days", "lapsed_31_60_days",
                 "lapsed_61_90_days", "lapsed_over_90_days")


def _lapsed(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    rows = data.optional.get("bpu_lapse")
    city = next((r for r in rows or [] if r.get("level") == "city"), None)
    if city is None:
        return None
    recent, partial = _total([city], "lapsed_1_30_days")
    for column in ("lapsed_31_60_days", "lapsed_61_90_days"):
        n, hidden = _total([city], column)
        recent, partial = recent + n, partial or hidden
    reading = words["lapsed_read"].format(lapsed=("≥ " if partial else "") + number(recent, lang),
                                          long=f.n(city, "lapsed_over_90_days"))
    places = [city] + sorted((r for r in rows if r.get("level") == "district"), key=lambda r: r["region_code"])
    table = _table([words["district"], words["bpu_participants"], words["paid_up"], words["lapsed_30"],
                    words["lapsed_60"], words["lapsed_90"], words["lapsed_long"]],
                   [[r["region_name"]] + [f.n(r, c) for c in LAPSE_COLUMNS] for r in places],
                   [False] + [True] * len(LAPSE_COLUMNS))
    return {"id": "menunggak", "title": words["s_lapsed"], "reading": reading, "tables": [table]}


def _churn(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    rows = data.optional.get("coverage_changes")
    if not rows:
        return None
    order = {"ALL": 0, "PU": 1, "BPU": 2, "JAKON": 3}
    rows = sorted(rows, key=lambda r: (order.get(r["segment"], 9), r["segment"]))
    total = rows[0]
    if total.get("days_since_previous_snapshot") is None:
        return {"id": "perubahan", "title": words["s_churn"], "reading": words["churn_first"]}
    else:
        reading = words["churn_read"].format(new=f.n(total, "newly_covered_workers"), lost=f.n(total, "lost_coverage_workers"))
    table = _table([words["segments"], words["covered_short"] + " (" + words["before"] + ")", words["covered_short"],
                    words["newly_covered"], words["lost_coverage"]],
                   [[words["all_segments"] if r["segment"] == "ALL" else r["segment"],
                     f.n(r, "covered_workers_before"), f.n(r, "covered_workers_now"), f.n(r, "newly_covered_workers"),
                     f.n(r, "lost_coverage_workers")] for r in rows], [False, True, True, True, True])
    return {"id": "perubahan", "title": words["s_churn"], "reading": reading, "tables": [table]}


def _outside(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    if not data.outside:
        return None
    total, partial = _total(data.outside, "covered_workers")
    reading = words["outside_read"].format(n=("≥ " if partial else "") + number(total, lang),
                                           area=data.city["region_name"])
    table = _table([words["regency"], words["covered_short"]],
                   [[r.get("regency_name") or r["regency_code"], f.n(r, "covered_workers")] for r in data.outside],
                   [False, True])
    return {"id": "luar", "title": words["s_outside"], "reading": reading, "tables": [table]}


def _quality(data: ReportData, words: dict, f: Fmt, lang: str) -> dict | None:
    if not data.quality:
        return None
    sources: dict[str, dict] = {}
    for r in data.quality:
        s = sources.setdefault(r["source"], {"label": r["source"], "received": 0, "loaded": 0, "refused": 0})
        s["received"] += r["rows_received"] or 0
        s["loaded"] += r["rows_loaded"] or 0
        s["refused"] += r["rows_quarantined"] or 0
    received = sum(s["received"] for s in sources.values())
    refused = sum(s["refused"] for s in sources.values())
    reasons = sorted((r for r in data.quality if r["reason"] != "ok"), key=lambda r: (-r["rows_quarantined"], r["source"]))
    if refused:
        reading = words["quality_read"].format(received=number(received, lang), refused=number(refused, lang),
                                               share=pct(100 * refused / received, lang), top=reasons[0]["reason"])
    else:
        reading = words["quality_read_clean"].format(received=number(received, lang))
    by_source = _table([words["source"], words["received"], words["loaded"], words["refused"]],
                       [[s["label"], number(s["received"], lang), number(s["loaded"], lang), number(s["refused"], lang)]
                        for s in sources.values()], [False, True, True, True])
    by_reason = _table([words["source"], words["reason"], words["refused"], words["fix"]],
                       [[r["source"], r["reason"], f.n(r, "rows_quarantined"), advice(r["reason"], lang)]
                        for r in reasons], [False, False, True, False])
    figure = charts.stacked(list(sources.values()), lang, words["chart_quality"],
                            [("loaded", words["loaded"], charts.BLUE), ("refused", words["refused"], charts.RED)])
    return {"id": "kualitas", "title": words["s_quality"], "reading": reading, "figures": [figure],
            "tables": [by_source] + ([by_reason] if reasons else [])}
