"""/status: the customer's own page for where a request stands (no login).

The same check as the chat's (tickets/status_check.py): the reference number and the phone or
e-mail on the ticket, the same words, the same limits (the page's client, by a hash of its
address, stands for the conversation) and the same audit. The form is protected against
cross-site posts by a double-submit token (a SameSite=Strict cookie and the same value in the
form) and the page is never framed; it shows nothing of the ticket but its state and next step.
A reference or contact in the wrong form is refused with its reason, and audited (never what was
typed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from madoguchi.infra.settings import settings
from madoguchi.notice.window import default_window
from madoguchi.tickets.status_check import (
    BAD_CONTACT,
    StatusCheck,
    contact_key,
    parse_reference,
    status_texts,
)

from .auth import desk_of
from .pages import templates

router = APIRouter(include_in_schema=False)

COOKIE = "madoguchi_status_form"
MAX_FORM_BYTES = 4 * 1024
CHANNEL = "status_page"
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
WRONG_FORM = ("恐れ入ります、画面の有効期限が切れたか、別の画面から送信されました。"
              "お手数ですが、このページを開き直してからもう一度お試しください。")


def _status_check(request: Request) -> StatusCheck:
    """One StatusCheck per app, on the desk's database and ticket service."""
    check = getattr(request.app.state, "status_check", None)
    if check is None:
        desk, current = desk_of(request), settings()
        check = StatusCheck(desk.sessions, desk.tickets,
                            per_client=current.status_checks_per_conversation,
                            per_reference=current.status_checks_per_reference)
        request.app.state.status_check = check
    return check


@lru_cache(maxsize=1)
def _client_salt() -> bytes:
    """Client keys are hashes of addresses with this process's salt: the audit holds no IP."""
    return secrets.token_bytes(16)


def client_key(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    digest = hmac.new(_client_salt(), host.encode(), hashlib.sha256).hexdigest()[:20]
    return f"{CHANNEL}:{digest}"


def _page(request: Request, *, status_code: int = 200, token: str | None = None,
          **context: Any) -> HTMLResponse:
    token = token or request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    html = templates.get_template("status.html").render(csrf=token, **context)
    response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
    response.set_cookie(COOKIE, token, path="/status", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@router.get("/status")
def status_form(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/status")
async def status_answer(request: Request) -> HTMLResponse:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _page(request, status_code=413, error=WRONG_FORM)
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    field = (form.get("csrf") or [""])[0]
    cookie = request.cookies.get(COOKIE) or ""
    if not (cookie and field and hmac.compare_digest(cookie, field)):
        return _page(request, status_code=403, error=WRONG_FORM)
    typed_reference = (form.get("reference") or [""])[0][:100]
    contact = (form.get("contact") or [""])[0][:254]
    window = default_window().contact
    reference = parse_reference(typed_reference)
    if reference is None:  # none, or several: the customer types the one to check
        await run_in_threadpool(_status_check(request).refuse_reference, typed_reference,
                                client=client_key(request), channel=CHANNEL)
        return _page(request, status_code=422, token=cookie, reference=typed_reference,
                     error=status_texts().reply("bad_reference", window))
    if contact_key(contact) is None:
        await run_in_threadpool(_status_check(request).refuse, BAD_CONTACT, reference=reference,
                                client=client_key(request), channel=CHANNEL)
        return _page(request, status_code=422, token=cookie, reference=reference,
                     error=status_texts().reply("bad_contact", window))
    result = await run_in_threadpool(
        _status_check(request).check, reference, contact, client=client_key(request),
        channel=CHANNEL,
    )
    # The answer; the form comes back empty (the contact is never sent back to the browser).
    return _page(request, token=cookie, answer=status_texts().answer(result, window),
                 outcome=result.customer_outcome)
