"""The kelurahan map: a choropleth drawn as plain SVG paths from reference/boundaries_sultra.geojson.

An equirectangular projection scaled by cos(latitude) is exact enough for a city (Kendari spans 0.3°), and it
keeps the map free of any library or tile server. Every village path carries its code, name and figure
(`data-code`, `data-pct`, and a <title> a phone shows on a long press); a village without a polygon is
returned so that the report lists it rather than dropping it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from report.i18n import TEXT, pct

WIDTH = 800
PAD = 10
# Coverage classes of the legend, in %, and their colours (ColorBrewer YlGnBu, colour-blind safe).
BREAKS = (20, 30, 40, 50, 60)
COLORS = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494")
NO_DATA = "#e0e0e0"


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    pct: float | None
    suppressed: bool = False


@lru_cache(maxsize=4)
def _features(path: str) -> list[dict]:
    return json.loads(Path(path).read_text())["features"]


def color(value: float | None) -> str:
    if value is None:
        return NO_DATA
    return COLORS[sum(value >= b for b in BREAKS)]


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def kelurahan_map(boundaries: Path, area_code: str, villages: list[Area], districts: list[Area],
                  lang: str) -> tuple[str, list[Area]]:
    """SVG of the area's villages coloured by coverage, district names on top; and the villages
    that have no polygon in the boundaries file."""
    words = TEXT[lang]
    prefix = area_code + "."
    features = [f for f in _features(str(boundaries)) if f["properties"]["code"].startswith(prefix)]
    by_level: dict[str, dict[str, dict]] = {"village": {}, "district": {}}
    for f in features:
        if f["properties"]["level"] in by_level:
            by_level[f["properties"]["level"]][f["properties"]["code"]] = f
    points = [pt for f in features for poly in _polygons(f["geometry"]) for ring in poly for pt in ring]
    if not points:
        return "", villages
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
    scale = (WIDTH - 2 * PAD) / ((max(lons) - min(lons)) * kx)
    height = (max(lats) - min(lats)) * scale + 2 * PAD
    legend_h = 84
    x0, y1 = min(lons), max(lats)

    def path(geometry: dict) -> str:
        parts = []
        for poly in _polygons(geometry):
            for ring in poly:
                coords = " ".join(f"{(lon - x0) * kx * scale + PAD:.1f},{(y1 - lat) * scale + PAD:.1f}"
                                  for lon, lat in ring)
                parts.append(f"M{coords}Z")
        return "".join(parts)

    def centre(geometry: dict) -> tuple[float, float]:
        ring = max((poly[0] for poly in _polygons(geometry)), key=len)
        lon = sum(p[0] for p in ring) / len(ring)
        lat = sum(p[1] for p in ring) / len(ring)
        return (lon - x0) * kx * scale + PAD, (y1 - lat) * scale + PAD

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="map" role="img" viewBox="0 0 {WIDTH} '
           f'{height + legend_h:.0f}" width="{WIDTH}" height="{height + legend_h:.0f}">',
           '<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f5f5f5"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>',
           '<g class="villages" stroke="#fff" stroke-width="0.6" fill-rule="evenodd">']
    missing = []
    for v in villages:
        feature = by_level["village"].get(v.code)
        if feature is None:
            missing.append(v)
            continue
        fill = "url(#hatch)" if v.suppressed else color(v.pct)
        shown = words["map_suppressed"] if v.suppressed else pct(v.pct, lang) if v.pct is not None else words["map_no_data"]
        value = "" if v.pct is None else f"{v.pct:.4f}"
        out.append(f'<path class="village" data-code="{v.code}" data-pct="{value}" '
                   f'data-suppressed="{str(v.suppressed).lower()}" fill="{fill}" d="{path(feature["geometry"])}">'
                   f'<title>{_escape(v.name)}: {shown}</title></path>')
    # District names only: the districts' own polygons are simplified apart from the villages' and would cross them.
    out.append('</g><g class="labels" font-family="Helvetica, Arial, sans-serif" font-size="19" font-weight="bold" '
               'text-anchor="middle" fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">')
    for d in districts:
        feature = by_level["district"].get(d.code)
        if feature is not None:
            cx, cy = centre(feature["geometry"])
            out.append(f'<text x="{cx:.0f}" y="{cy:.0f}">{_escape(d.name)}</text>')
    out.append("</g>")
    out.append(_legend(height, lang))
    out.append("</svg>")
    return "".join(out), missing


def _legend(top: float, lang: str) -> str:
    words = TEXT[lang]
    bounds = (0, *BREAKS)
    labels = [f"{'≥' if i == len(BREAKS) else ''}{bounds[i]}{'' if i == len(BREAKS) else '–' + str(BREAKS[i])}%"
              for i in range(len(COLORS))]
    items = list(zip(COLORS, labels)) + [("url(#hatch)", words["map_suppressed"]), (NO_DATA, words["map_no_data"])]
    width = (WIDTH - 2 * PAD) / len(items)
    parts = [f'<g class="legend" transform="translate({PAD},{top + 8:.0f})" font-family="Helvetica, Arial, sans-serif" '
             f'font-size="15"><text x="0" y="12" font-weight="bold">{words["map_legend"]}</text>']
    for i, (fill, label) in enumerate(items):
        parts.append(f'<rect x="{i * width:.0f}" y="18" width="{width - 4:.0f}" height="20" fill="{fill}" '
                     f'stroke="#999" stroke-width="0.5"/><text x="{i * width:.0f}" y="56">{_escape(label)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
