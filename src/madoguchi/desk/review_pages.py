"""The supervisors' pages: conversation list with filters, transcript with review work, figures.

Same rules as the operators' console (pages.py): login cookie, CSRF field on every form,
redirect after a change; a reveal is the exception: its raw value is shown once, in the
answer to the POST, never in a URL. Operators see a 403 page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madoguchi.review import filters as flt
from madoguchi.review.training import domain_intents
from madoguchi.tickets import Conflict, InvalidField, NotFound, User

from . import figures as quality_figures
from . import views
from .auth import csrf_ok
from .pages import first, form_action, render, supervisor_page
from .review_api import FILTER_NAMES, review_of

router = APIRouter(prefix="/desk/review", include_in_schema=False)

PAGE_SIZE = 50
DONE = {
    "tags": "タグを更新しました。",
    "reviewed": "確認済みの印を更新しました。",
    "comment": "コメントを追加しました。",
    "training": "学習データのレビューファイルに追加しました。",
}
ACTIONS = (*DONE, "reveal")
FLAG_OPTIONS = [("", "すべて"), ("true", "はい"), ("false", "いいえ")]


def _problem(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, NotFound):
        return 404, f"見つかりません（{exc}）。"
    if isinstance(exc, Conflict):
        return 409, str(exc)
    return 422, f"入力内容を確認してください: {exc}"


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, offset: int = 0) -> Response:
    user, refused = supervisor_page(request)
    if refused:
        return refused
    params = {n: request.query_params.get(n) or "" for n in FILTER_NAMES}
    error, result = None, None
    try:
        result = review_of(request).list(flt.parse_filters(params), limit=PAGE_SIZE,
                                         offset=max(0, offset))
    except InvalidField as exc:
        error = str(exc)
    query = urlencode({k: v for k, v in params.items() if v})
    return render(
        "review_list.html", request, user, 422 if error else 200,
        result=result, params=params, error=error, query=query, offset=max(0, offset),
        page_size=PAGE_SIZE, flag_options=FLAG_OPTIONS,
        type_options=list(views.type_labels().items()),
        jst=views.jst,
    )


def _conversation_page(request: Request, user: User, conversation_id: str, *,
                       status_code: int = 200, error: str | None = None,
                       done: str | None = None, revealed: dict[str, Any] | None = None,
                       typed: dict[str, str] | None = None) -> Response:
    try:
        conv = review_of(request).conversation(conversation_id)
    except NotFound:
        return render("review_forbidden.html", request, user, 404,
                      message="この会話は見つかりません。")
    return render(
        "review_conversation.html", request, user, status_code,
        c=conv, error=error, done=DONE.get(done or ""), revealed=revealed or {},
        typed=typed or {}, intents=domain_intents(),
        action_base=f"/desk/review/conversations/{quote(conversation_id, safe='')}",
        jst=views.jst,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(request: Request, conversation_id: str,
                      done: str | None = None) -> Response:
    user, refused = supervisor_page(request)
    if refused:
        return refused
    return _conversation_page(request, user, conversation_id, done=done)


def _act(request: Request, conversation_id: str, action: str,
         form: dict[str, list[str]]) -> Response:
    user, refused = supervisor_page(request)
    if refused:
        return refused
    if not csrf_ok(request, first(form, "csrf")):
        return render("review_forbidden.html", request, user, 403,
                      message="フォームの有効期限が切れました。ページを開き直してください。")
    review = review_of(request)
    event = first(form, "event_id")
    event_id: Any = int(event) if event.isdigit() else event
    try:
        if action == "tags":
            review.tag(conversation_id, user,
                       add=[t for t in first(form, "add").replace("、", ",").split(",")
                            if t.strip()],
                       remove=form.get("remove", []))
        elif action == "reviewed":
            review.tag(conversation_id, user, reviewed=first(form, "reviewed") == "1")
        elif action == "comment":
            review.comment(conversation_id, event_id, first(form, "body"), user)
        elif action == "training":
            review.label_for_training(conversation_id, event_id, first(form, "intent"), user)
        elif action == "reveal":
            shown = review.reveal(conversation_id, event_id, first(form, "field"),
                                  first(form, "reason"), user)
            return _conversation_page(request, user, conversation_id,
                                      revealed={shown["event_id"]: shown})
    except (NotFound, Conflict, InvalidField) as exc:
        status_code, message = _problem(exc)
        return _conversation_page(request, user, conversation_id, status_code=status_code,
                                  error=message, typed={"body": first(form, "body")})
    target = (f"/desk/review/conversations/{quote(conversation_id, safe='')}?done={action}"
              + (f"#e{event_id}" if isinstance(event_id, int) else ""))
    return RedirectResponse(target, status_code=303)


@router.post("/conversations/{conversation_id}/{action}", response_class=HTMLResponse)
async def conversation_action(request: Request, conversation_id: str, action: str) -> Response:
    return await form_action(request, action, ACTIONS, _act, conversation_id)


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request) -> Response:
    user, refused = supervisor_page(request)
    if refused:
        return refused
    params = {n: request.query_params.get(n) or "" for n in ("since", "until")}
    error, figures = None, None
    try:
        figures = review_of(request).metrics(flt.parse_filters(params))
    except InvalidField as exc:
        error = str(exc)
    return render("review_metrics.html", request, user, 422 if error else 200,
                  m=figures, params=params, error=error, charts=_charts(figures),
                  type_labels=views.type_labels(),
                  **quality_figures.page_context(request, params["since"], params["until"]))


BAR_WIDTH, CHART_HEIGHT = 28, 160


def _charts(m: dict[str, Any] | None) -> dict[str, Any]:
    """Bar geometry computed here, so the SVG needs no script and no inline style."""
    if not m:
        return {}
    days = m["days"][-31:]
    top = max([d["conversations"] for d in days] or [1]) or 1

    def bars(key: str, scale: float, ratio: bool = False) -> list[dict[str, Any]]:
        out = []
        for i, d in enumerate(days):
            value = d[key] if d[key] is not None else 0
            height = round(CHART_HEIGHT * (value if ratio else value / scale))
            out.append({"x": 40 + i * (BAR_WIDTH + 6), "y": 10 + CHART_HEIGHT - height,
                        "h": height, "label": d["day"][5:],
                        "value": f"{value:.0%}" if ratio else str(value)})
        return out

    width = 60 + len(days) * (BAR_WIDTH + 6)
    handoffs = m["handoffs_by_request_type"]
    most = max(handoffs.values() or [1])
    sections_top = max([s["conversations"] for s in m["top_sections"]] or [1])
    return {
        "width": max(width, 300), "height": CHART_HEIGHT + 40, "bar": BAR_WIDTH,
        "conversations": bars("conversations", top),
        "containment": bars("containment", 1, ratio=True),
        "fallback": bars("fallback_rate", 1, ratio=True),
        "handoffs": [{"name": k, "w": round(300 * v / most), "value": v}
                     for k, v in handoffs.items()],
        "sections": [{"name": s["section"], "w": round(300 * s["conversations"] / sections_top),
                      "value": s["conversations"]} for s in m["top_sections"]],
    }
