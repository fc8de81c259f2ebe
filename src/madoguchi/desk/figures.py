"""The supervisor's quality figures (CSAT, containment, service levels) as JSON, as an export
(JSON or CSV for the numbers; one HTML file with the SVG charts, to keep or send on) and as the
SVG charts on top of the figures page (/desk/review/metrics).

The figures are computed by `madoguchi.review.quality`; the chart geometry is computed here, so
the SVG in the page needs no script and no inline style.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from madoguchi.infra.clock import now
from madoguchi.review import filters as flt
from madoguchi.review.export import csv_lines
from madoguchi.review.quality import FIGURE_COLUMNS, figure_rows, quality
from madoguchi.tickets import User

from . import views
from .auth import require_supervisor
from .errors import ERROR_RESPONSES
from .pages import templates
from .review_api import review_of

router = APIRouter(prefix="/api", tags=["review"], responses=ERROR_RESPONSES)
Supervisor = Annotated[User, Depends(require_supervisor)]

SINCE = Query(None, description="ISO date (a JST day) or date-time; default: 8 weeks back")
UNTIL = Query(None, description="ISO date (the whole JST day) or date-time; default: today")
# The exported file runs nothing and loads nothing, wherever it is opened.
EXPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def figures_of(request: Request, since: str | None, until: str | None) -> dict[str, Any]:
    """The quality figures over the range (the read model caught up first)."""
    start = flt.parse_time(since, "since")
    end = flt.parse_time(until, "until", end=True)
    review = review_of(request)
    review.refresh()
    with review.sessions() as session:
        return quality(session, now(), start, end)


@router.get("/figures")
def get_figures(request: Request, user: Supervisor, since: str | None = SINCE,
                until: str | None = UNTIL) -> dict[str, Any]:
    """Today, this week and the weekly trend of containment, CSAT and the service levels of
    handoffs (minutes to claim and to the first response, hours to a decision, share decided
    within the target); CSAT by request type and by operator; the worst-rated conversations."""
    return figures_of(request, since, until)


@router.get("/export/figures.json")
def export_figures_json(request: Request, user: Supervisor, since: str | None = SINCE,
                        until: str | None = UNTIL) -> Response:
    """The same figures as a file."""
    body = json.dumps(figures_of(request, since, until), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json; charset=utf-8", headers=_file("json"))


@router.get("/export/figures.csv", response_class=StreamingResponse, responses={
    200: {"description": "the figures", "content": {"text/csv": {}}},
})
def export_figures_csv(request: Request, user: Supervisor, since: str | None = SINCE,
                       until: str | None = UNTIL) -> StreamingResponse:
    """One row per period (today, this week, each week), request type and operator; UTF-8 with
    BOM, safe to open in a spreadsheet."""
    rows: Iterator[dict[str, Any]] = iter(figure_rows(figures_of(request, since, until)))
    return StreamingResponse(csv_lines(rows, FIGURE_COLUMNS),
                             media_type="text/csv; charset=utf-8", headers=_file("csv"))


@router.get("/export/figures.html", response_class=Response, responses={
    200: {"description": "the figures and their SVG charts", "content": {"text/html": {}}},
})
def export_figures_html(request: Request, user: Supervisor, since: str | None = SINCE,
                        until: str | None = UNTIL) -> Response:
    """The figures of today and this week and every chart of the figures page (inline SVG, no
    script, no link to the desk) in one file: the export the numbers alone do not make."""
    q = figures_of(request, since, until)
    body = templates.get_template("figures_export.html").render(
        quality=q, quality_charts=charts(q), generated=now())
    return Response(body, media_type="text/html; charset=utf-8", headers={
        **_file("html"), "Content-Security-Policy": EXPORT_POLICY})


def _file(ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="figures.{ext}"',
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


# --- charts ----------------------------------------------------------------------------------

BAR, GAP, PLOT_H, LEFT = 36, 10, 150, 30


def _week_label(iso: str) -> str:
    day = datetime.fromisoformat(iso)
    return f"{day.month}/{day.day}週"


def vbars(points: list[tuple[str, float | None, str, str]], top: float) -> dict[str, Any]:
    """Bars for (label, value, value text, note) on a 0..top scale; a missing value is a gap
    with a dash, never a zero."""
    bars = []
    for i, (label, value, text, note) in enumerate(points):
        height = round(PLOT_H * min(value, top) / top) if value is not None and top else 0
        x = LEFT + i * (BAR + GAP)
        bars.append({"x": x, "cx": x + BAR / 2, "y": 20 + PLOT_H - height, "h": height,
                     "label": label, "text": text if value is not None else "—", "note": note,
                     "empty": value is None})
    return {"width": LEFT + len(points) * (BAR + GAP) + 10, "height": PLOT_H + 62,
            "base": 20 + PLOT_H, "bar": BAR, "bars": bars,
            "grid": [{"y": 20 + PLOT_H - round(PLOT_H * f), "text": t}
                     for f, t in ((0.5, ""), (1.0, ""))]}


def hbars(rows: list[tuple[str, float | None, str]], top: float) -> dict[str, Any]:
    width = 220
    return {"height": 26 * len(rows) + 8, "rows": [
        {"y": 26 * i + 4, "label": label, "w": round(width * (value or 0) / top) if top else 0,
         "text": text} for i, (label, value, text) in enumerate(rows)]}


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "—"


def _num(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:g}{unit}"


def charts(q: dict[str, Any]) -> dict[str, Any]:
    weeks = q["weeks"]
    labels = views.type_labels()

    def week_points(get: Any, text: Any, note: Any = lambda w: "") -> list[Any]:
        return [(_week_label(w["week"]), get(w), text(get(w)), note(w)) for w in weeks]

    def scale(values: list[float | None], floor: float) -> float:
        return max([v for v in values if v is not None] + [floor])

    service = [w["service"] for w in weeks]
    return {
        "csat": vbars(week_points(lambda w: w["csat"]["average"], lambda v: _num(v),
                                  lambda w: f"{w['csat']['ratings']}件"), 5),
        "containment": vbars(week_points(lambda w: w["containment"], _pct,
                                         lambda w: f"{w['conversations']}件"), 1),
        "claim": vbars(week_points(lambda w: w["service"]["minutes_to_claim"],
                                   lambda v: _num(v, "分")),
                       scale([s["minutes_to_claim"] for s in service], 10)),
        "response": vbars(week_points(lambda w: w["service"]["minutes_to_first_response"],
                                      lambda v: _num(v, "分")),
                          scale([s["minutes_to_first_response"] for s in service], 10)),
        "within_target": vbars(week_points(lambda w: w["service"]["within_target"], _pct,
                                           lambda w: f"{w['service']['handoffs']}件"), 1),
        "by_type": hbars([(labels.get(g["name"], "種類なし" if g["name"] == "none"
                                      else g["name"]), g["average"],
                           f"{_num(g['average'])}（{g['ratings']}件）")
                          for g in q["csat_by_request_type"]], 5),
        "by_operator": hbars([(g["name"] if g["name"] != "bot" else "ボットのみ", g["average"],
                               f"{_num(g['average'])}（{g['ratings']}件）")
                              for g in q["csat_by_operator"]], 5),
        "distribution": hbars([(f"{n}", q["csat"]["distribution"][str(n)],
                                f"{q['csat']['distribution'][str(n)]}件")
                               for n in range(5, 0, -1)],
                              max(q["csat"]["distribution"].values()) or 1),
    }


def page_context(request: Request, since: str | None, until: str | None) -> dict[str, Any]:
    """What the figures page's quality section shows (None with the reason on a bad range)."""
    try:
        q = figures_of(request, since, until)
    except Exception as exc:  # the page's own figures still show
        return {"quality": None, "quality_error": str(exc)}
    return {"quality": q, "quality_charts": charts(q), "quality_error": None,
            "type_label_of": views.type_label}
