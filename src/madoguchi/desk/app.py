"""The desk: the operators' JSON API (/api), their console (/desk) and /health.

`uvicorn madoguchi.desk.app:create_app --factory` (what `make run` starts). The database is
migrated at start (idempotent), so a fresh checkout needs no extra step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from madoguchi.infra.db import DatabaseLocked
from madoguchi.infra.settings import Settings, load_settings
from madoguchi.tickets import Conflict, InvalidField, InvalidTransition, NotFound, TicketError
from madoguchi.tickets.refusals import is_audited

from . import api, assist_api, chat, figures, pages, review_api, review_pages, status
from .rasa import RasaError
from .service import Desk, warm_up

# The console runs only its own scripts and styles and is never framed.
PAGE_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


class ConsoleHeaders:
    """Security headers on the console's pages (plain ASGI: streams pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/desk"):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/desk/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [
                    (name, value) for name, value in PAGE_HEADERS
                    if name not in names and not (static and name == b"cache-control")
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


async def _note_refusal(request: Request, error: TicketError) -> None:
    """A change to a ticket the API refused leaves its audit entry (who, what, why): the
    service notes the refusals it makes; this notes the desk's own checks before the call (a
    body that is not an object, someone else's ticket, nothing to change)."""
    user = getattr(request.state, "user", None)
    reference = request.path_params.get("reference")
    if (request.method in ("GET", "HEAD", "OPTIONS") or is_audited(error) or user is None
            or not reference or not request.url.path.startswith("/api/tickets/")):
        return
    name = getattr(request.scope.get("endpoint"), "__name__", "") or request.url.path
    await run_in_threadpool(request.app.state.desk.tickets.record_refusal, reference, user,
                            api.ATTEMPTS.get(name, name), error)


def add_error_handlers(app: FastAPI) -> None:
    """Domain errors as JSON with a readable `detail` (the pages catch their own); a refused
    change is audited on its ticket first."""

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _error(404, f"見つかりません ({exc})")

    @app.exception_handler(Conflict)
    async def conflict(request: Request, exc: Conflict) -> JSONResponse:
        await _note_refusal(request, exc)
        return _error(409, str(exc), holder=exc.holder)

    @app.exception_handler(InvalidTransition)
    async def invalid_transition(request: Request, exc: InvalidTransition) -> JSONResponse:
        await _note_refusal(request, exc)
        return _error(409, str(exc), current=exc.current, requested=exc.requested)

    @app.exception_handler(InvalidField)
    async def invalid_field(request: Request, exc: InvalidField) -> JSONResponse:
        await _note_refusal(request, exc)
        return _error(422, str(exc))

    @app.exception_handler(RasaError)
    async def rasa_error(request: Request, exc: RasaError) -> JSONResponse:
        return _error(502, f"チャットサーバー（Rasa）に届きませんでした ({exc})")

    @app.exception_handler(DatabaseLocked)
    async def locked(request: Request, exc: DatabaseLocked) -> JSONResponse:
        return _error(503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ())[1:]) or 'body'}: {err.get('msg')}"
            for err in exc.errors()
        )
        return _error(422, f"リクエストの内容が正しくありません ({problems})",
                      errors=exc.errors())


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    desk = Desk.from_settings(settings)

    app = FastAPI(
        title="madoguchi desk",
        version="1",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
        redoc_url=None,
    )
    app.state.desk = desk
    add_error_handlers(app)
    app.add_middleware(ConsoleHeaders)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness, and whether the database, Rasa and the action server answer (2 s each)."""
        database, rasa, actions = await asyncio.gather(
            run_in_threadpool(desk.health_database),
            run_in_threadpool(desk.health_rasa),
            run_in_threadpool(desk.health_actions),
        )
        return {
            "status": "ok" if database and rasa and actions else "degraded",
            "database": database,
            "rasa": rasa,
            "actions": actions,
        }

    @app.get("/desk/", include_in_schema=False)
    def desk_slash() -> RedirectResponse:
        return RedirectResponse("/desk", status_code=307)

    app.include_router(api.router)
    app.include_router(assist_api.router)
    app.include_router(figures.router)
    app.include_router(review_api.router)
    app.include_router(review_pages.router)
    app.include_router(pages.router)
    app.include_router(chat.router)
    app.include_router(status.router)
    app.mount("/desk/static", StaticFiles(directory=pages.HERE / "static"), name="static")

    @app.on_event("startup")
    def started() -> None:
        warm_up()

    @app.on_event("shutdown")
    def stopped() -> None:
        desk.engine.dispose()

    return app
