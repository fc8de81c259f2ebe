"""What the desk API's error answers look like, for its OpenAPI schema.

Every error is JSON with a readable `detail` string (app.py's handlers, FastAPI's HTTPException),
sometimes with more fields (`holder` on a claim conflict, `errors` on a 422). Declaring them on
the routers makes /api/openapi.json true to what clients get: the fuzz test
(tests/fuzz/test_desk_api_fuzz.py) checks every answer against it.
"""

from __future__ import annotations

from typing import Any

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not readable (FastAPI could not parse it)"),
    401: _error("No valid token (send Authorization: Bearer TOKEN)"),
    403: _error("The token's user lacks the role this call needs"),
    404: _error("No such ticket or conversation"),
    409: _error("Held by someone else, or not allowed from the current status"),
    422: _error("The request's parameters or body are not acceptable; `detail` says why"),
    502: _error("The chat server (Rasa) did not answer"),
    503: _error("The database is busy; try again"),
}
