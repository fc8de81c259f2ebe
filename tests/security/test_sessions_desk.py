"""Issue 15, item 14 (first half): logging out of the console revokes the login, and a user's
token can be rotated.

Before: the login cookie held the permanent token, so logging out only asked the browser to
forget it; a copied cookie kept opening the desk until the token was replaced by hand. Now a
login issues a session (a random id in an HttpOnly, SameSite=Strict cookie, Secure behind TLS;
its hash and expiry on the server), logout deletes it, and `madoguchi user rotate NAME`
replaces the token and ends every session of the user.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta

import requests

from madoguchi.infra.db import utcnow
from tests.security.desk_server import desk, user  # noqa: F401
from tests.test_desk_api import ROOT, Desk, login


def opens(desk: Desk, session: str) -> bool:  # noqa: F811
    """Whether a login cookie opens the console's queue page and the API's reads."""
    cookies = {"madoguchi_desk": session}
    page = requests.get(desk.base + "/desk", cookies=cookies, timeout=20,
                        allow_redirects=False)
    api = requests.get(desk.base + "/api/tickets", cookies=cookies, timeout=20)
    assert (page.status_code == 200) == (api.status_code == 200)
    return page.status_code == 200


def test_login_issues_a_session_not_the_token(desk: Desk) -> None:  # noqa: F811
    response = requests.post(desk.base + "/desk/login", data={"token": desk.tokens["sato"]},
                             timeout=20, allow_redirects=False)

    cookie = response.headers["set-cookie"]
    session = response.cookies["madoguchi_desk"]
    assert session and session != desk.tokens["sato"] and desk.tokens["sato"] not in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here
    assert opens(desk, session)
    assert not opens(desk, desk.tokens["sato"])  # the token itself is no cookie


def test_behind_tls_the_cookie_is_secure(desk: Desk) -> None:  # noqa: F811
    """TLS ends at the balancer, which says so in X-Forwarded-Proto (trusted from loopback)."""
    response = requests.post(desk.base + "/desk/login", data={"token": desk.tokens["sato"]},
                             headers={"X-Forwarded-Proto": "https"}, timeout=20,
                             allow_redirects=False)

    assert "secure" in response.headers["set-cookie"].lower()


def test_logout_revokes_the_session_on_the_server(desk: Desk) -> None:  # noqa: F811
    session = login(desk.base, desk.tokens["sato"], fresh=True)
    other = login(desk.base, desk.tokens["sato"], fresh=True)  # another browser
    assert opens(desk, session)

    out = requests.post(desk.base + "/desk/logout", cookies={"madoguchi_desk": session},
                        timeout=20, allow_redirects=False)

    assert out.status_code == 303
    assert not opens(desk, session)  # a copy of the cookie opens nothing now
    assert opens(desk, other)


def test_an_expired_session_opens_nothing(desk: Desk) -> None:  # noqa: F811
    expired = desk.users.start_session(user(desk, "suzuki"), seconds=60,
                                       now=utcnow() - timedelta(minutes=5))

    assert not opens(desk, expired)


def test_rotating_a_token_revokes_the_old_one_and_every_session(desk: Desk) -> None:  # noqa: F811
    old_token = desk.tokens["kyoko"]
    session = login(desk.base, old_token, fresh=True)
    assert opens(desk, session)
    database_url = str(desk.sessions.kw["bind"].url.render_as_string(hide_password=False))

    done = subprocess.run([str(ROOT / ".venv" / "bin" / "madoguchi"), "user", "rotate", "kyoko"],
                          env={"MADOGUCHI_DB_URL": database_url, "PATH": "/usr/bin:/bin",
                               "HOME": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    new_token = done.stdout.strip().splitlines()[-1]

    assert new_token and new_token != old_token
    assert not opens(desk, session)
    api = "/api/tickets"
    assert requests.get(desk.base + api, headers={"Authorization": f"Bearer {old_token}"},
                        timeout=20).status_code == 401
    assert requests.get(desk.base + api, headers={"Authorization": f"Bearer {new_token}"},
                        timeout=20).status_code == 200
    assert opens(desk, login(desk.base, new_token, fresh=True))
    desk.tokens["kyoko"] = new_token


def test_rotating_an_unknown_user_fails_plainly(desk: Desk) -> None:  # noqa: F811
    database_url = str(desk.sessions.kw["bind"].url.render_as_string(hide_password=False))
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "madoguchi"), "user", "rotate", "nobody"],
                          env={"MADOGUCHI_DB_URL": database_url, "PATH": "/usr/bin:/bin",
                               "HOME": str(ROOT)},
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "nobody" in done.stderr and done.stdout == ""
