"""The operators' console: server-rendered pages on the same `Desk` as the API.

Forms post back to /desk/... (login cookie + CSRF field) and redirect on success, so a reload
never repeats an action; on an error the page is shown again with the reason and what was typed.
Jinja2 autoescapes everything: a customer's `<script>` shows as text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from madoguchi.conversation.transcript import WHO_LABELS
from madoguchi.tickets import (
    CONTACT_FIELDS,
    Conflict,
    InvalidField,
    InvalidTransition,
    NotFound,
    Ticket,
    User,
    load_rules,
    workflow,
)

from . import assist_api, views
from .api import decision_figures_of
from .auth import (
    cookie_token,
    csrf_ok,
    csrf_token,
    desk_of,
    end_session,
    page_user,
    start_session,
)
from .rasa import RasaError
from .service import MAX_TEXT, NOTE_BODY, Desk, typed_text

HERE = Path(__file__).resolve().parent
MAX_FORM_BYTES = 64 * 1024

router = APIRouter(prefix="/desk")

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# What the templates take from views.py, under the names views.py gives them.
VIEW_GLOBALS = ("STATUS_LABELS", "PRIORITY_LABELS", "FIELD_LABELS", "ACTION_LABELS",
                "CONTACT_LABELS")
VIEW_FILTERS = ("jst", "age", "hours_text", "due_class", "type_label", "value_text",
                "horizon_text", "horizon_class")
templates.globals.update({name: getattr(views, name) for name in VIEW_GLOBALS},
                         WHO_LABELS=WHO_LABELS, MAX_TEXT=MAX_TEXT, RULES=load_rules)
templates.filters.update({name: getattr(views, name) for name in VIEW_FILTERS})

# The law's steps on the ticket page (the `lifecycle` section, _lifecycle.html).
LIFECYCLE_DONE = {
    "received": "請求の到達日を変更しました。",
    "identity": "本人確認を記録しました。",
    "agent": "代理人の情報を保存しました。",
    "disclosure": "開示の種類・方法を保存しました。",
    "fee": "手数料を記録しました。",
    "fee_clear": "手数料の記録を取り消しました。",
    "decision": "判断を記録しました。",
    "approve": "判断を承認しました。",
    "return": "判断を差し戻しました。",
}

ROLE_LABELS = {"operator": "オペレーター", "supervisor": "スーパーバイザー"}

DONE_MESSAGES = {
    "claim": "この受付の担当になりました。",
    "status": "状態を変更しました。",
    "fields": "保存しました。",
    "notes": "メモを追加しました。",
    "messages": "お客様に送信しました。",
    "handback": "会話をボットに戻しました。",
    **LIFECYCLE_DONE,
}

# A form's action → the TicketService method it calls (the audit entry of a refused attempt
# names the method, whichever way it came; the service notes its own refusals).
PAGE_ATTEMPTS = {
    "approve": "approve_decision", "return": "return_decision", "received": "set_received_at",
    "identity": "record_identity", "agent": "set_agent", "disclosure": "set_disclosure",
    "fee": "record_fee", "fee_clear": "clear_fee", "decision": "propose_decision",
    "claim": "claim", "status": "update_fields", "fields": "update_fields",
    "notes": "add_note", "messages": "record_message", "handback": "record_handback",
}

# Where each form sits on the ticket page (the redirect comes back to it).
ANCHORS = {
    "claim": "top",
    "status": "top",
    "fields": "contact",
    "notes": "notes",
    "messages": "chat",
    "handback": "chat",
    **dict.fromkeys(LIFECYCLE_DONE, "lifecycle"),
}

# The contact form: (field, multi-line).
CONTACT_FORM = [(name, name == "customer_postal_address") for name in CONTACT_FIELDS]


def render(
    name: str, request: Request, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    token = cookie_token(request)
    html = templates.get_template(name).render(
        user=user,
        role_label=ROLE_LABELS.get(user.role, user.role) if user else "",
        csrf=csrf_token(token) if token and user else "",
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/desk/login?{urlencode({'next': target})}", status_code=303)


def safe_next(value: str | None) -> str:
    """Only back into the console: never an open redirect."""
    if value and value.startswith("/desk") and not value.startswith("//") and "\\" not in value:
        return value
    return "/desk"


async def read_form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="送信内容が大きすぎます")
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def first(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0] if values else default


async def form_action(request: Request, action: str, actions: Collection[str],
                      act: Callable[..., Response], *args: str) -> Response:
    """A page form's POST, for every page: an unknown action is a 404, the form is read here
    (size-checked) and `act(request, *args, action, form)` runs in a thread (it blocks on the
    database)."""
    if action not in actions:
        raise HTTPException(status_code=404, detail="Not Found")
    form = await read_form(request)
    return await run_in_threadpool(act, request, *args, action, form)


def supervisor_page(request: Request) -> tuple[User | None, Response | None]:
    """The user of a supervisors' page, or the answer instead of it: the login page for
    strangers, a 403 page for operators."""
    user = page_user(request)
    if user is None:
        return None, to_login(request)
    if user.role != "supervisor":
        return user, render("review_forbidden.html", request, user, 403)
    return user, None


# --- login -----------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    if page_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render("login.html", request, None, next=safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    token = first(form, "token").strip()
    target = safe_next(first(form, "next"))
    user = await run_in_threadpool(desk_of(request).users.authenticate, token or None)
    if user is None:
        return render(
            "login.html", request, None, 401, next=target,
            error="トークンが正しくないか、無効になっています。",
        )
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, response, request, user)
    return response


# One route for both methods, so its operationId is named here: FastAPI's default takes the
# suffix from a set of the methods (logout_desk_logout_get or _post, by the run's hash seed).
@router.api_route("/logout", methods=["GET", "POST"], operation_id="logout_desk_logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/desk/login", status_code=303)
    end_session(response, request)
    return response


# --- queue -----------------------------------------------------------------------------------


# Rows on one page of the console's queue; more are a page further (?page=2).
QUEUE_PAGE_SIZE = 200


def _page_number(page: str | None) -> int:
    """?page=N, read leniently: anything that is not a positive number is the first page."""
    try:
        return max(1, min(int(page or 1), 100_000))
    except ValueError:
        return 1


def _queue_query(
    status: str | None = None,
    type: str | None = None,
    assignee: str | None = None,
    page: str | None = None,
) -> tuple[dict[str, str], int]:
    """The queue's filters and page number from the query string (unknown values are no
    filter): the page and its live refresh both read them through this dependency."""
    filters = {
        "status": status if status in (*workflow.STATUSES, "all") else "",
        "type": type if type in workflow.REQUEST_TYPES else "",
        "assignee": "me" if assignee == "me" else "",
    }
    return filters, _page_number(page)


QueueQuery = Annotated[tuple[dict[str, str], int], Depends(_queue_query)]


def _queue_rows(
    desk: Desk, user: User, filters: dict[str, str], page: int = 1
) -> tuple[list[dict[str, Any]], bool]:
    """One page of queue rows, and whether there are more after it."""
    tickets = desk.tickets.list_queue(
        status=filters["status"] or None,
        type=filters["type"] or None,
        assignee=user.name if filters["assignee"] else None,
        limit=QUEUE_PAGE_SIZE + 1,
        offset=(page - 1) * QUEUE_PAGE_SIZE,
    )
    now = views.now_utc()
    rows = []
    for ticket in tickets[:QUEUE_PAGE_SIZE]:
        row = desk.queue_item(ticket, user, now)
        row["age"] = views.age(ticket.created_at, now)
        row["overdue"] = views.is_overdue(row)
        rows.append(row)
    return rows, len(tickets) > QUEUE_PAGE_SIZE


def _page_url(path: str, filters: dict[str, str], page: int) -> str:
    query = urlencode({**{k: v for k, v in filters.items() if v},
                       **({"page": str(page)} if page > 1 else {})})
    return f"{path}?{query}" if query else path


@router.get("", response_class=HTMLResponse)
def queue_page(request: Request, query: QueueQuery) -> Response:
    user = page_user(request)
    if user is None:
        return to_login(request)
    filters, number = query
    tickets, more = _queue_rows(desk_of(request), user, filters, number)
    first_row = (number - 1) * QUEUE_PAGE_SIZE + 1
    return render(
        "queue.html", request, user,
        tickets=tickets,
        filters=filters,
        rows_url=_page_url("/desk/partials/queue", filters, number),
        pager={
            "first": first_row,
            "last": first_row + len(tickets) - 1,
            "prev": _page_url("/desk", filters, number - 1) if number > 1 else None,
            "next": _page_url("/desk", filters, number + 1) if more else None,
            "size": QUEUE_PAGE_SIZE,
        },
        status_options=[(s, views.STATUS_LABELS[s]) for s in workflow.STATUSES],
        type_options=list(views.type_labels().items()),
    )


@router.get("/partials/queue", response_class=HTMLResponse)
def queue_rows(request: Request, query: QueueQuery) -> Response:
    """The queue's rows alone, for the page's live refresh."""
    user = page_user(request)
    if user is None:
        return HTMLResponse("", status_code=401)
    tickets, _ = _queue_rows(desk_of(request), user, *query)
    return render("_queue_rows.html", request, user, tickets=tickets)


# --- ticket ----------------------------------------------------------------------------------


def _ticket_page(
    request: Request,
    user: User,
    ticket: Ticket,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    desk = desk_of(request)
    # The holder and supervisors see the clear data (the read is audited), others a mask.
    ticket, detail, conversation = desk.read(ticket.reference, user)
    holder_elsewhere = ticket.assignee != user.name and user.role != "supervisor"
    return render(
        "ticket.html", request, user, status_code,
        t=detail,
        ticket=ticket,
        conversation=conversation,
        **assist_api.page_context(ticket, conversation, user),
        assist_url=f"/api/tickets/{quote(ticket.reference)}/assist",
        transitions=[(s, views.STATUS_LABELS[s]) for s in workflow.STATUSES
                     if s in detail["allowed_transitions"]],
        can_claim=ticket.status in workflow.OPEN_STATUSES and ticket.assignee != user.name
        and (not ticket.assignee or user.role == "supervisor"),
        can_work=not holder_elsewhere,
        contact_form=CONTACT_FORM,
        type_options=list(views.type_labels().items()),
        priority_options=[(p, views.PRIORITY_LABELS[p]) for p in workflow.PRIORITIES],
        details=views.detail_rows(ticket.details) if detail["contact_visible"] else [],
        audit=[
            {**entry, "rows": views.change_rows(entry["changes"])}
            for entry in reversed(detail["audit"])
        ],
        notes=detail["notes"],
        due_class=views.due_class(detail["hours_left"]),
        error=error,
        done=DONE_MESSAGES.get(done or ""),
        typed=typed or {},
        transcript_url=f"/api/tickets/{quote(ticket.reference)}/transcript",
    )


@router.get("/tickets/{reference}", response_class=HTMLResponse)
def ticket_page(request: Request, reference: str, done: str | None = None) -> Response:
    user = page_user(request)
    if user is None:
        return to_login(request)
    ticket = desk_of(request).tickets.get(reference)
    if ticket is None:
        return render("not_found.html", request, user, 404, reference=reference)
    return _ticket_page(request, user, ticket, done=done)


def _problem(exc: Exception) -> tuple[int, str]:
    """The status code and the operator's explanation of a refused action."""
    if isinstance(exc, InvalidTransition):
        old = views.STATUS_LABELS.get(exc.current, exc.current)
        new = views.STATUS_LABELS.get(exc.requested, exc.requested)
        return 409, f"状態を「{old}」から「{new}」には変更できません。"
    if isinstance(exc, Conflict):
        if exc.holder:
            return 409, f"この受付は {exc.holder} さんが担当しています。"
        return 409, f"この操作はできません（{exc}）。"
    if isinstance(exc, InvalidField):
        return 422, f"入力内容を確認してください: {exc}"
    return 502, (
        "チャットサーバー（Rasa）に届きませんでした。時間をおいてもう一度お試しください。"
        f"（{exc}）"
    )


def _field_changes(form: dict[str, list[str]]) -> dict[str, Any]:
    changes: dict[str, Any] = {name: first(form, name) for name, _ in CONTACT_FORM}
    changes["priority"] = first(form, "priority")
    changes["request_types"] = form.get("request_types", [])
    changes["is_agent"] = first(form, "is_agent") == "1"
    return changes


def _typed(form: dict[str, list[str]], *old_names: str) -> tuple[str, str | None]:
    """(field, words) of a note or message form (`text`; older pages sent a note as `body`)."""
    return typed_text({name: first(form, name) for name in form}, *old_names)


def _lifecycle_act(desk: Desk, user: User, reference: str, action: str,
                   form: dict[str, list[str]]) -> None:
    """The law's steps from the ticket page's forms (the same service calls as the API)."""
    tickets = desk.tickets
    if action in ("approve", "return"):  # a supervisor's, on someone else's ticket
        if action == "approve":
            desk.approve_decision(reference, user)
        else:
            tickets.return_decision(reference, user, first(form, "reason"))
        return
    desk.check_holder(desk.ticket(reference), user)
    if action == "received":
        tickets.set_received_at(reference, first(form, "received_at"), user)
    elif action == "identity":
        tickets.record_identity(reference, user, method=first(form, "method"),
                                received=first(form, "received"),
                                received_at=first(form, "received_at") or None)
    elif action == "agent":
        tickets.set_agent(reference, user, kind=first(form, "kind") or None,
                          relation=first(form, "relation"))
    elif action == "disclosure":
        items = [i for i in first(form, "items").replace("、", "\n").splitlines() if i.strip()]
        tickets.set_disclosure(reference, user, kind=first(form, "kind") or None,
                               delivery_method=first(form, "delivery_method") or None,
                               scope=first(form, "scope") or None, items=items or None)
    elif action == "fee":
        amount = first(form, "amount").strip()
        if amount and not amount.isdigit():
            raise InvalidField("手数料は半角数字（円）で入力してください")
        tickets.record_fee(reference, user, amount=int(amount) if amount else None,
                           told_at=first(form, "told_at") or None)
    elif action == "fee_clear":
        tickets.clear_fee(reference, user)
    elif action == "decision":
        desk.decide(reference, user, outcome=first(form, "outcome"),
                    ground=first(form, "ground") or None,
                    explanation=first(form, "explanation"),
                    letter=first(form, "letter") or None)


def _act(desk: Desk, user: User, reference: str, action: str, form: dict[str, list[str]]) -> None:
    if action in LIFECYCLE_DONE:
        _lifecycle_act(desk, user, reference, action, form)
    elif action == "claim":
        desk.tickets.claim(reference, user)
    elif action == "status":
        reason = {"reason": first(form, "reason")} if first(form, "reason") else {}
        desk.update(reference, {"status": first(form, "status"), **reason}, user)
    elif action == "fields":
        changes = _field_changes(form)
        if set(changes["request_types"]) == set(desk.ticket(reference).request_types or []):
            del changes["request_types"]  # the same types in another order are no change
        desk.update(reference, changes, user)
    elif action == "notes":
        field, text = _typed(form, NOTE_BODY)
        desk.add_note(reference, text, user, field=field)
    elif action == "messages":
        desk.send_message(reference, _typed(form)[1], user)
    elif action == "handback":
        desk.hand_back(reference, user)


def _ticket_action(
    request: Request, reference: str, action: str, form: dict[str, list[str]]
) -> Response:
    user = page_user(request)
    if user is None:
        return to_login(request)
    if not csrf_ok(request, first(form, "csrf")):
        return render("not_found.html", request, user, 403, reference=reference,
                      message="フォームの有効期限が切れました。ページを開き直してください。")
    desk = desk_of(request)
    try:
        _act(desk, user, reference, action, form)
    except NotFound:
        return render("not_found.html", request, user, 404, reference=reference)
    except (Conflict, InvalidTransition, InvalidField, RasaError) as exc:
        if not isinstance(exc, RasaError):  # a refused change leaves its audit entry
            desk.tickets.record_refusal(reference, user, PAGE_ATTEMPTS.get(action, action), exc)
        status_code, message = _problem(exc)
        ticket = desk.tickets.get(reference)
        if ticket is None:
            return render("not_found.html", request, user, 404, reference=reference)
        # What was typed goes back into the form it came from.
        typed = {"notes": _typed(form, NOTE_BODY)[1] if action == "notes" else None,
                 "messages": _typed(form)[1] if action == "messages" else None}
        return _ticket_page(request, user, ticket, status_code=status_code, error=message,
                            typed=typed)
    target = f"/desk/tickets/{quote(reference.strip().upper())}?done={action}#{ANCHORS[action]}"
    return RedirectResponse(target, status_code=303)


@router.post("/tickets/{reference}/{action}", response_class=HTMLResponse)
async def ticket_action(request: Request, reference: str, action: str) -> Response:
    return await form_action(request, action, DONE_MESSAGES, _ticket_action, reference)

# --- supervisors: decided within target ---------------------------------------------------------


@router.get("/review/decisions", response_class=HTMLResponse)
def decisions_page(request: Request, since: str | None = None,
                   until: str | None = None) -> Response:
    """The share of requests ①–⑤ decided within the internal target, by type and week."""
    user, refused = supervisor_page(request)
    if refused:
        return refused
    params = {"since": since or "", "until": until or ""}
    error, figures = None, None
    try:
        figures = decision_figures_of(desk_of(request), since, until)
    except InvalidField as exc:
        error = str(exc)
    return render("review_decisions.html", request, user, 422 if error else 200,
                  f=figures, params=params, error=error, type_label=views.type_label)
