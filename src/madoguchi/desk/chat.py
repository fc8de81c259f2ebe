"""The customer's web chat: the widget's script and style, the notice it links to, a demo page.

Any page embeds the chat with one tag:

    <script src="http://DESK:8000/chat/madoguchi-chat.js" data-rasa-url="http://RASA:5005" defer>
    </script>

The script served here is the widget (static/chat/madoguchi-chat.js) bundled in one function
scope with the vendored socket.io client (static/chat/vendor/socket.io.min.js: socket.io-client
4.7.5 from npm, MIT, its LICENSE beside it), so the host page gets no global `io` and no AMD
loader picks it up. socket.io-client 4 speaks Engine.IO 4, as python-socketio 5 in Rasa does.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from madoguchi.infra.settings import load_settings, settings

from .pages import templates

HERE = Path(__file__).resolve().parent
CHAT = HERE / "static" / "chat"
WIDGET = CHAT / "madoguchi-chat.js"
STYLE = CHAT / "madoguchi-chat.css"
VENDOR = CHAT / "vendor" / "socket.io.min.js"
VENDOR_LICENSE = CHAT / "vendor" / "LICENSE"

# Other sites load these: allow it explicitly (COEP pages), never let them be sniffed as HTML.
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


def public_rasa_url() -> str:
    """The Rasa server as the customer's browser reaches it (not necessarily as the desk does)."""
    current = settings()
    url = current.public_rasa_url or current.rasa_url
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"not an http(s) URL for the chat: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def _websocket_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


@lru_cache(maxsize=4)
def _bundle(widget_mtime: float, vendor_mtime: float) -> str:
    # The vendored client's UMD wrapper sees a local `module` and exports into it.
    vendor = VENDOR.read_text(encoding="utf-8")
    vendor = "\n".join(
        line for line in vendor.splitlines() if not line.startswith("//# sourceMappingURL=")
    )
    return (
        "/*! madoguchi chat widget. Includes socket.io-client 4.7.5 (MIT License,"
        " /chat/vendor/LICENSE). */\n"
        "(function () {\n"
        "var module = { exports: {} }, exports = module.exports, define;\n"
        f"{vendor}\n"
        "var io = module.exports;\n"
        f"{WIDGET.read_text(encoding='utf-8')}\n"
        "})();\n"
    )


def widget_script() -> str:
    """The script a page embeds: the widget with its socket.io client."""
    return _bundle(WIDGET.stat().st_mtime, VENDOR.stat().st_mtime)


@router.get("/", response_class=HTMLResponse)
def demo_page(request: Request) -> HTMLResponse:
    """A fictional shop's page with the chat embedded, as a customer's site would do it."""
    rasa_url = public_rasa_url()
    nonce = secrets.token_urlsafe(16)
    html = templates.get_template("chat_demo.html").render(rasa_url=rasa_url, nonce=nonce)
    # A strict policy like a careful shop would set: the widget needs only its own script and
    # style, and a connection to Rasa (polling and WebSocket).
    policy = (
        f"default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
        f"img-src 'self' data:; connect-src 'self' {rasa_url} {_websocket_origin(rasa_url)}; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return HTMLResponse(html, headers={
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    })


@router.api_route("/chat/madoguchi-chat.js", methods=["GET", "HEAD"])
def chat_script() -> Response:
    return Response(widget_script(), media_type="text/javascript",
                    headers=ASSET_HEADERS)


@router.api_route("/chat/madoguchi-chat.css", methods=["GET", "HEAD"])
def chat_style() -> Response:
    return Response(STYLE.read_bytes(), media_type="text/css",
                    headers=ASSET_HEADERS)


@router.api_route("/chat/vendor/LICENSE", methods=["GET", "HEAD"])
def vendor_license() -> PlainTextResponse:
    return PlainTextResponse(VENDOR_LICENSE.read_text(encoding="utf-8"), headers=ASSET_HEADERS)


@router.api_route("/chat/notice", methods=["GET", "HEAD"])
def chat_notice() -> PlainTextResponse:
    """The privacy notice the chat's logging line links to, read afresh (a revision is a file)."""
    text = (load_settings().notice_dir / "privacy_notice_ja.txt").read_text(encoding="utf-8")
    return PlainTextResponse(text, headers={  # text/plain; charset=utf-8
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    })
