"""Laporan Cakupan: the report's numbers are those of analytics.duckdb, small cells stay suppressed, and the file
opens offline in a browser with every chart and the map drawn."""

import base64
import json
import os
import re
import time
from datetime import date
from html import unescape
from pathlib import Path

import duckdb
import pytest

from report import report_path
from report.i18n import SUPPRESSED_MARK, number, pct
from report.render import render_report
from tests.browser import chromium, chromium_path

SNAPSHOT = date(2025, 6, 8)

# A hand-made open tier: Kota Kendari with two districts. Labibia's cells count fewer than 5 people and are
# suppressed (NULL, named in `suppressed`); Wundumbatu has no polygon in the boundaries file.
REGIONS = [  # level, code, name, eligible, covered, pct, suppressed
    ("city", "74.71", "Kota Kendari", 1000, 350, 35.0, None),
    ("district", "74.71.01", "Mandonga", 600, 200, 100 * 200 / 600, None),
    ("district", "74.71.04", "Poasia", 400, 150, 37.5, None),
    ("village", "74.71.01.1005", "Mandonga", 300, 120, 40.0, None),
    ("village", "74.71.01.1006", "Korumba", 297, 70, 100 * 70 / 297, None),
    ("village", "74.71.01.1007", "Labibia", None, None, None,
     "eligible_workforce,covered_workers,uncovered_workers,coverage_pct"),
    ("village", "74.71.04.1003", "Andonohu", 250, 100, 40.0, None),
    ("village", "74.71.04.1021", "Wundumbatu", 150, 40, 100 * 40 / 150, None),
]


def make_open_tier(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("""CREATE TABLE coverage_by_region (snapshot_date DATE, level VARCHAR, region_code VARCHAR,
                       region_name VARCHAR, eligible_workforce BIGINT, covered_workers BIGINT, uncovered_workers BIGINT,
                       coverage_pct DOUBLE, covered_pu BIGINT, covered_bpu BIGINT, covered_jakon BIGINT,
                       suppressed VARCHAR)""")
        for level, code, name, eligible, covered, rate, hidden in REGIONS:
            uncovered = None if eligible is None else eligible - covered
            con.execute("INSERT INTO coverage_by_region VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [SNAPSHOT, level, code, name, eligible, covered, uncovered, rate, covered, None, None, hidden])
        con.execute("""CREATE TABLE coverage_by_segment AS SELECT * FROM (VALUES
            (DATE '2025-06-08', 'PU', 400, 300, 280, 230, 270, NULL),
            (DATE '2025-06-08', 'BPU', 150, 100, 95, 60, 90, NULL),
            (DATE '2025-06-08', 'JAKON', 30, 12, 12, NULL, 11, 'exclusive_workers'))
            t(snapshot_date, segment, registrations, active_registrations, active_workers, exclusive_workers,
              active_workers_in_area, suppressed)""")
        con.execute("""CREATE TABLE segment_overlap AS SELECT * FROM (VALUES
            (DATE '2025-06-08', 'PU', 230, 222, NULL), (DATE '2025-06-08', 'BPU', 60, 58, NULL),
            (DATE '2025-06-08', 'BPU+PU', 35, 34, NULL), (DATE '2025-06-08', 'JAKON', NULL, NULL, 'workers,workers_in_area'),
            (DATE '2025-06-08', 'JAKON+PU', 15, 15, NULL))
            t(snapshot_date, segments, workers, workers_in_area, suppressed)""")
        con.execute("""CREATE TABLE covered_outside_area AS SELECT * FROM (VALUES
            (DATE '2025-06-08', '74.02', 'Kabupaten Konawe', 21, NULL),
            (DATE '2025-06-08', '74.05', 'Kabupaten Konawe Selatan', NULL, 'covered_workers'))
            t(snapshot_date, regency_code, regency_name, covered_workers, suppressed)""")
        con.execute("""CREATE TABLE data_quality AS SELECT * FROM (VALUES
            (DATE '2025-06-08', 'pu_workers', 'ok', 396, 396, 0, NULL),
            (DATE '2025-06-08', 'pu_workers', 'missing_kpj', 3, 0, 3, NULL),
            (DATE '2025-06-08', 'pu_workers', 'invalid_tanggal_mulai+missing_kpj', 1, 0, 1, NULL),
            (DATE '2025-06-08', 'bpu_participants', 'ok', 150, 150, 0, NULL))
            t(snapshot_date, source, reason, rows_received, rows_loaded, rows_quarantined, suppressed)""")
        con.execute("""CREATE TABLE coverage_targets AS SELECT * FROM (VALUES
            ('coverage_pct', 2025, 32.15, 'RPJMN 2025-2029', ''), ('coverage_pct', 2026, 34.99, 'RKP 2026', ''),
            ('coverage_pct', 2029, 43.92, 'RPJMN 2025-2029', ''), ('coverage_pct', 2045, 99.5, 'RPJPN 2025-2045', ''),
            ('participant_growth_pct', NULL, 20.0, 'BPJS Ketenagakerjaan', ''))
            t(indicator, year, value, source, note)""")
        con.execute("""CREATE TABLE coverage_trend AS SELECT * FROM (VALUES
            (DATE '2025-01-08', 1000, 320, 32.0, NULL, NULL, NULL, 99.5, 2045, 3.2, 5.6),
            (DATE '2025-06-08', 1000, 350, 35.0, 23.9, 20.0, 7.2, 99.5, 2045, 3.13, 5.2))
            t(snapshot_date, eligible_workforce, covered_workers, coverage_pct, covered_workers_growth_pct_per_year,
              participant_growth_target_pct, coverage_pp_per_year, final_target_pct, final_target_year,
              required_pp_per_year, required_growth_pct_per_year)""")
        con.execute("""CREATE TABLE coverage_vs_targets AS
            SELECT DATE '2025-06-08' AS snapshot_date, year AS target_year, value AS target_pct, source,
                   35.0 AS coverage_pct, 35.0 - value AS gap_pp, 35.0 >= value AS met, 1.0 AS years_left,
                   (value - 35.0) / 2 AS required_pp_per_year, 4.0 AS required_growth_pct_per_year
            FROM coverage_targets WHERE indicator = 'coverage_pct'""")
        con.execute("""CREATE TABLE snapshots AS SELECT DATE '2025-06-08' AS snapshot_date,
                       DATE '2024-12-31' AS civil_registry_cut_off, true AS pseudonymised_with_demo_key""")
        con.execute("CREATE TABLE publication AS SELECT 'test' AS publication_id, 5 AS disclosure_threshold")
    return path


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory) -> Path:
    analytics = make_open_tier(tmp_path_factory.mktemp("open_tier") / "analytics.duckdb")
    render_report(analytics, SNAPSHOT)
    return analytics


def _html(analytics: Path, lang: str = "id") -> str:
    return report_path(analytics, SNAPSHOT, lang).read_text(encoding="utf-8")


def _kpis(html: str) -> list[str]:
    return [unescape(v) for v in re.findall(r'data-kpi="\d+">([^<]*)<', html)]


def _table_row(html: str, section: str, first_cell: str, table: int = 0) -> list[str]:
    """The cells of the row of `section`'s table number `table` whose first cell is `first_cell`."""
    body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
    body = body.split("<table>")[table + 1].split("</table>")[0]
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = [unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in section {section}")


def _village_path(html: str, code: str) -> dict:
    match = re.search(rf'<path class="village" data-code="{re.escape(code)}" data-pct="([^"]*)" '
                      rf'data-suppressed="(\w+)" fill="([^"]+)"[^>]*><title>([^<]*)</title>', html)
    assert match, f"village {code} is not on the map"
    return {"pct": match.group(1), "suppressed": match.group(2) == "true", "fill": match.group(3),
            "title": unescape(match.group(4))}


def check_against_open_tier(analytics: Path, html: str, lang: str = "id") -> None:
    """Headline, every district and every village on the map read as analytics.duckdb says."""
    with duckdb.connect(str(analytics), read_only=True) as con:
        def rows(level):
            cursor = con.execute("SELECT * FROM coverage_by_region WHERE snapshot_date = ? AND level = ? "
                                 "ORDER BY region_code", [SNAPSHOT, level])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]
        city, districts, villages = rows("city")[0], rows("district"), rows("village")
    assert _kpis(html)[:4] == [number(city["eligible_workforce"], lang), number(city["covered_workers"], lang),
                               number(city["uncovered_workers"], lang), pct(city["coverage_pct"], lang)]
    for d in districts:
        cells = _table_row(html, "kecamatan", d["region_name"])
        assert cells[1:5] == [number(d["eligible_workforce"], lang), number(d["covered_workers"], lang),
                              number(d["uncovered_workers"], lang), pct(d["coverage_pct"], lang)]
    drawn = 0
    for v in villages:
        if f'data-code="{v["region_code"]}"' not in html:
            assert f"({v['region_code']})" in html, f"{v['region_code']} is neither drawn nor listed"
            continue
        on_map = _village_path(html, v["region_code"])
        if v.get("suppressed") and "coverage_pct" in v["suppressed"]:
            assert on_map["suppressed"] and on_map["pct"] == "" and on_map["fill"] == "url(#hatch)"
        else:
            assert not on_map["suppressed"]
            assert on_map["pct"] == ("" if v["coverage_pct"] is None else f"{v['coverage_pct']:.4f}")
            if v["coverage_pct"] is not None:
                assert on_map["title"] == f"{v['region_name']}: {pct(v['coverage_pct'], lang)}"
        drawn += 1
    assert drawn >= len(villages) - 1  # Kendari: Wundumbatu alone has no polygon


def test_hand_made_report_reads_as_the_open_tier(hand_made):
    html = _html(hand_made)
    check_against_open_tier(hand_made, html)
    assert _kpis(html) == ["1.000", "350", "650", "35,00%"]
    assert "Cakupan Kota Kendari 35,00%, 2,85 poin di atas target RPJMN 2025 (32,15%)" in html
    assert _table_row(html, "kecamatan", "Poasia") == ["Poasia", "400", "150", "250", "37,50%", "6,7%"]
    assert _village_path(html, "74.71.01.1005")["title"] == "Mandonga: 40,00%"
    assert "Data contoh sintetis (demo)" in html


def test_suppressed_cells_stay_suppressed(hand_made):
    html = _html(hand_made)
    labibia = _village_path(html, "74.71.01.1007")
    assert labibia["suppressed"] and labibia["fill"] == "url(#hatch)" and labibia["title"] == "Labibia: disembunyikan"
    # Mandonga's unassigned share depends on Labibia's hidden count: suppressed too, not worked out
    assert _table_row(html, "kecamatan", "Mandonga")[5] == SUPPRESSED_MARK
    assert _table_row(html, "segmen", "JAKON", table=0) == ["JAKON", "30", "12", "12", SUPPRESSED_MARK]
    assert _table_row(html, "segmen", "JAKON", table=1) == ["JAKON", SUPPRESSED_MARK, SUPPRESSED_MARK]
    assert _table_row(html, "luar", "Kabupaten Konawe Selatan") == ["Kabupaten Konawe Selatan", SUPPRESSED_MARK]
    assert "≥ 21 pekerja terlindungi tinggal di luar Kota Kendari" in html
    assert "kurang dari 5 orang" in html


def test_a_village_without_a_polygon_is_listed(hand_made):
    html = _html(hand_made)
    assert 'data-code="74.71.04.1021"' not in html
    assert "Wundumbatu (74.71.04.1021): cakupan 26,67%, pekerja terlindungi 40, angkatan kerja yang memenuhi syarat 150" in html


def test_data_quality_says_what_to_fix(hand_made):
    html = _html(hand_made)
    assert "Dari 550 baris yang diterima, 4 ditolak (0,73%); penyebab terbanyak: missing_kpj." in html
    assert _table_row(html, "kualitas", "pu_workers")[:4] == ["pu_workers", "400", "396", "4"]
    assert "perbaiki nilai yang tidak sah; isi kolom wajib yang kosong" in html


def test_english_option(hand_made):
    path = render_report(hand_made, SNAPSHOT, lang="en")
    assert path == report_path(hand_made, SNAPSHOT, "en")
    html = path.read_text(encoding="utf-8")
    check_against_open_tier(hand_made, html, "en")
    assert _kpis(html) == ["1,000", "350", "650", "35.00%"] and '<html lang="en">' in html
    assert "Coverage of Kota Kendari is 35.00%, 2.85 points above the RPJMN 2025 target (32.15%)" in html


def test_an_unpublished_date_is_refused(hand_made):
    with pytest.raises(LookupError, match="2025-07-08 is not published .* 2025-06-08"):
        render_report(hand_made, date(2025, 7, 8))


def test_nothing_points_outside_the_file(hand_made):
    html = _html(hand_made)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html), "a resource outside the file"
    assert "<script" not in html and "@import" not in html and "url(http" not in html


# The browser test: file:// page, network emulated offline, every request the page makes recorded.

def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("JAMSOSTEK_TEST_ARTIFACTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


DRAWN = """(() => {
  const svgs = [...document.querySelectorAll('figure svg')];
  return svgs.map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('path, rect, line, text, circle')]
      .filter(e => { try { const b = e.getBBox(); return b.width > 0 || b.height > 0; } catch (x) { return false; } });
    return {cls: svg.getAttribute('class') || '', width: box.width, height: box.height, marks: marks.length,
            villages: svg.querySelectorAll('path.village').length};
  });
})()"""


def open_offline(html: Path, tmp_path: Path, shot: Path, width: int = 1000) -> tuple[list[str], list[dict]]:
    """Open `html` in headless Chromium with the network offline; return the URLs it requested and what drew."""
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed")
        pytest.skip("chromium is not installed: apt-get install chromium")
    with chromium(tmp_path / "profile", tmp_path / "chromium.log") as page:
        page.call("Network.enable")
        page.call("Network.emulateNetworkConditions", offline=True, latency=0, downloadThroughput=-1,
                  uploadThroughput=-1)
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=1200, deviceScaleFactor=1,
                  mobile=width < 600)
        requests = []
        ws = page._ws  # read the events Page.call skips: every request the page sends
        ws.send(json.dumps({"id": 10_000, "method": "Page.navigate", "params": {"url": html.as_uri()}}))
        deadline, loaded = time.monotonic() + 60, False
        while not loaded:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("method") == "Network.requestWillBeSent":
                requests.append(message["params"]["request"]["url"])
            loaded = message.get("method") == "Page.loadEventFired"
        time.sleep(1)  # anything the page would fetch after load
        drawn = page.js(DRAWN)
        height = page.js("document.documentElement.scrollHeight")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=min(height, 16000), deviceScaleFactor=1,
                  mobile=width < 600)
        shot.write_bytes(base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"]))
        # late events (none expected) arrive before the screenshot's answer and are dropped by Page.call; the
        # Performance API still lists any resource the document fetched
        requests += page.js("performance.getEntriesByType('resource').map(e => e.name)")
    return requests, drawn


def test_report_opens_offline_and_every_chart_draws(hand_made, tmp_path):
    html = report_path(hand_made, SNAPSHOT)
    shot = _artifacts(tmp_path) / "report_hand_made.png"
    requests, drawn = open_offline(html, tmp_path, shot)
    assert requests == [html.as_uri()], f"requests left the page: {requests}"
    expected = html.read_text().count("<figure")
    assert len(drawn) == expected >= 5
    for svg in drawn:
        assert svg["width"] > 100 and svg["height"] > 50 and svg["marks"] > 5, svg
    assert [s["villages"] for s in drawn if "map" in s["cls"]] == [4]
    assert shot.stat().st_size > 20_000


# The demo's report: a small generated Kendari sample through the whole pipeline, the report asset included.

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from pipelines.cli import run_snapshot
    from sample.generator import generate
    from tests.conftest import make_warehouse

    root = tmp_path_factory.mktemp("demo_report")
    generate(root / "landing", root / "truth", SNAPSHOT, seed=7, scale=0.05, formats="mixed")
    warehouse = make_warehouse(root / "landing", root / "warehouse")
    run_snapshot(warehouse, SNAPSHOT)
    return warehouse


def test_demo_report_is_written_by_the_run_and_reads_as_the_open_tier(demo, tmp_path):
    path = report_path(demo.analytics_db, SNAPSHOT)
    assert path.is_file(), "the publish/report asset did not write the report"
    started = time.monotonic()
    assert render_report(demo.analytics_db, SNAPSHOT) == path
    print(f"\nreport rendered in {time.monotonic() - started:.2f} s, {path.stat().st_size:,} bytes")
    html = path.read_text(encoding="utf-8")
    check_against_open_tier(demo.analytics_db, html)
    assert html.count('class="village"') >= 60  # Kendari: 64 of 65 kelurahan have a polygon
    assert "Wundumbatu (74.71.04.1021)" in html
    requests, drawn = open_offline(path, tmp_path, _artifacts(tmp_path) / "report_demo.png")
    assert requests == [path.as_uri()]
    assert all(s["marks"] > 5 for s in drawn) and len(drawn) == html.count("<figure")


def test_report_command_prints_the_path(demo, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("JAMSOSTEK_WAREHOUSE_DIR", str(demo.warehouse_dir))
    monkeypatch.setenv("JAMSOSTEK_LANDING_DIR", str(demo.landing_dir))
    assert main(["report", "--date", SNAPSHOT.isoformat(), "--lang", "en"]) == 0
    assert str(report_path(demo.analytics_db, SNAPSHOT, "en")) in capsys.readouterr().out
    assert main(["report", "--date", "2025-07-08"]) == 1
    assert "2025-07-08 is not published" in capsys.readouterr().err
