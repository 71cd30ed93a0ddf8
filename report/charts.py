"""The report's charts: Altair specifications rendered to static SVG by vl-convert (no browser, no network).

Each function takes plain rows and returns SVG text. Axes use the report's language for numbers and months
(d3 locales from report.i18n), so a chart reads 35,02 where the text does.
"""

from __future__ import annotations

from datetime import date

import altair as alt
import vl_convert as vlc

from report.i18n import D3_FORMAT, D3_TIME, TEXT

WIDTH = 560  # drawn at this width, scaled by CSS to the page (phone or A4)
BLUE, GREY, RED, DARK = "#2c7fb8", "#9e9e9e", "#d7301f", "#253494"
FONT = "Helvetica, Arial, sans-serif"


def to_svg(chart: alt.TopLevelMixin, lang: str) -> str:
    """Render offline: data is inline, and no base URL is allowed, so nothing can be fetched."""
    spec = (chart.configure(font=FONT).configure_view(stroke=None)
            .configure_axis(labelFontSize=13, titleFontSize=13).configure_legend(labelFontSize=13).to_dict())
    svg = vlc.vegalite_to_svg(spec, format_locale=D3_FORMAT[lang], time_format_locale=D3_TIME[lang],
                              allowed_base_urls=[])
    return svg.replace("<svg ", '<svg role="img" class="chart" ', 1)


def trend(points: list[dict], targets: list[dict], lang: str) -> str:
    """Coverage at each snapshot (line and points) against the targets due by the end of their year."""
    words = TEXT[lang]
    shown = [t for t in targets if t["target_pct"] < 60] or targets  # 99.5% (2045) would flatten the rest
    last = max([p["date"] for p in points] + [t["date"] for t in shown])
    first = min(p["date"] for p in points)
    x_scale = alt.Scale(domain=[date(first.year, 1, 1).isoformat(), date(last.year, 12, 31).isoformat()])
    y_max = max([p["pct"] for p in points] + [t["target_pct"] for t in shown]) * 1.15
    y = alt.Y("pct:Q", title=words["coverage_axis"], scale=alt.Scale(domain=[0, y_max]), axis=alt.Axis(format=",.0f"))
    data = alt.Data(values=[{"date": p["date"].isoformat(), "pct": p["pct"]} for p in points])
    base = alt.Chart(data).encode(x=alt.X("date:T", title=words["date_axis"], scale=x_scale,
                                          axis=alt.Axis(format="%Y", tickCount="year")), y=y)
    line = base.mark_line(color=BLUE, strokeWidth=3) + base.mark_point(color=BLUE, filled=True, size=90)
    target_data = alt.Data(values=[{"date": t["date"].isoformat(), "pct": t["target_pct"], "label": t["label"]}
                                   for t in shown])
    tbase = alt.Chart(target_data).encode(x=alt.X("date:T", scale=x_scale), y=y)
    marks = tbase.mark_point(shape="diamond", color=RED, size=140, filled=True)
    labels = tbase.mark_text(align="right", dx=-9, dy=-9, color=RED, fontSize=12).encode(text="label:N")
    return to_svg(alt.layer(line, marks, labels).properties(width=WIDTH, height=280), lang)


def bars(rows: list[dict], value: str, label: str, lang: str, title: str, fmt: str = ",.2f",
         reference: float | None = None, color: str = BLUE) -> str:
    """Horizontal bars, largest first, with the value written at the end of each bar."""
    data = alt.Data(values=[{"label": r[label], "value": r[value]} for r in rows])
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("value:Q", title=title, axis=alt.Axis(format=fmt.replace(".2f", ".0f"))))
    layers = [base.mark_bar(color=color), base.mark_text(align="left", dx=4, fontSize=13)
              .encode(text=alt.Text("value:Q", format=fmt))]
    if reference is not None:
        layers.append(alt.Chart(alt.Data(values=[{"x": reference}])).mark_rule(color=RED, strokeDash=[4, 3],
                                                                              strokeWidth=2).encode(x="x:Q"))
    return to_svg(alt.layer(*layers).properties(width=WIDTH - 180, height=max(60, 26 * len(rows))), lang)


def stacked(rows: list[dict], lang: str, title: str, parts: list[tuple[str, str, str]]) -> str:
    """Horizontal stacked bars: one bar per `label`, one colour per part (key, legend name, colour)."""
    values = [{"label": r["label"], "part": name, "value": r[key], "order": i}
              for r in rows for i, (key, name, _) in enumerate(parts)]
    colors = alt.Scale(domain=[n for _, n, _ in parts], range=[c for _, _, c in parts])
    chart = alt.Chart(alt.Data(values=values)).mark_bar().encode(
        y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X("value:Q", title=title, stack="zero", axis=alt.Axis(format=",.0f")),
        color=alt.Color("part:N", scale=colors, title=None, legend=alt.Legend(orient="bottom")),
        order="order:Q")
    return to_svg(chart.properties(width=WIDTH - 180, height=max(60, 26 * len(rows))), lang)
