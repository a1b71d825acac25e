"""The review app's HTTP behaviour (FastAPI's TestClient, real PostgreSQL and SeaweedFS): login,
sessions, CSRF, headers, and the core's refusals shown as pages."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for
from tests.web.conftest import Clock, later
from web.security import SESSION_COOKIE, check_csrf

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client: TestClient, path: str = "/login") -> str:
    found = _TOKEN.search(client.get(path).text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: TestClient, name: str, password: str) -> None:
    answer = client.post(
        "/login", data={"username": name, "password": password, "csrf_token": token(client)}
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/alerts"


def test_every_post_route_checks_the_csrf_token(app: FastAPI) -> None:
    posts = [r for r in app.routes if "POST" in getattr(r, "methods", ())]
    assert posts, "no POST route found"
    for route in posts:
        dependencies = [d.call for d in route.dependant.dependencies]  # type: ignore[attr-defined]
        assert check_csrf in dependencies, route.path  # type: ignore[attr-defined]


def test_login_without_csrf_token_is_refused(client: TestClient, users: dict[str, str]) -> None:
    client.get("/login")  # the session (and its token) exists, the form does not send it
    answer = client.post("/login", data={"username": "ada", "password": users["ada"]})
    assert answer.status_code == 403
    wrong = client.post(
        "/login", data={"username": "ada", "password": users["ada"], "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    assert client.get("/alerts").status_code == 303  # still not logged in


def test_wrong_password_is_refused_with_a_generic_message(
    client: TestClient, users: dict[str, str], web_settings: Settings
) -> None:
    for name, password in (("ada", "not-her-password"), ("nobody", "whatever-it-is")):
        answer = client.post(
            "/login", data={"username": name, "password": password, "csrf_token": token(client)}
        )
        assert answer.status_code == 401
        assert "Sign-in failed: unknown user, wrong password" in answer.text
        assert password not in answer.text
    assert client.get("/alerts").status_code == 303
    with engine_for(web_settings.catalog_url).connect() as conn:
        failures = conn.execute(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(audit_events.c.action == "auth.login", audit_events.c.outcome == "failed")
        ).scalar_one()
    assert failures == 2  # the core counted and audited both


def test_login_is_throttled_by_the_core(
    client: TestClient, users: dict[str, str], web_settings: Settings
) -> None:
    for _ in range(web_settings.auth.max_failed_logins):
        client.post(
            "/login",
            data={"username": "ada", "password": "bad-guess!", "csrf_token": token(client)},
        )
    locked = client.post(
        "/login", data={"username": "ada", "password": users["ada"], "csrf_token": token(client)}
    )
    assert locked.status_code == 401  # even the right password, while locked


@pytest.mark.parametrize("path", ["/alerts", "/alerts/a1b2c3", "/alerts/a1b2c3/image"])
def test_pages_redirect_to_login_without_a_session(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"


def test_login_sets_a_strict_httponly_session_and_a_new_token(
    client: TestClient, users: dict[str, str]
) -> None:
    before = token(client)
    answer = client.post(
        "/login", data={"username": "ada", "password": users["ada"], "csrf_token": before}
    )
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "max-age=1800" in cookie  # web.session_minutes = 30
    queue = client.get("/alerts")
    assert queue.status_code == 200
    after = _TOKEN.search(queue.text)
    assert after and after.group(1) != before  # a token fixed before login is worthless after


def test_security_headers(client: TestClient, users: dict[str, str]) -> None:
    login(client, "ada", users["ada"])
    for path in ("/login", "/alerts"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"


def test_session_ends_after_its_lifetime(
    client: TestClient, users: dict[str, str], clock: Clock
) -> None:
    login(client, "ada", users["ada"])
    clock.now = later(29)
    assert client.get("/alerts").status_code == 200
    clock.now = later(31)  # web.session_minutes = 30, counted from login
    answer = client.get("/alerts")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_logout_needs_the_token_and_ends_the_session(
    client: TestClient, users: dict[str, str]
) -> None:
    login(client, "ada", users["ada"])
    assert client.post("/logout").status_code == 403
    assert client.get("/alerts").status_code == 200
    answer = client.post("/logout", data={"csrf_token": token(client, "/alerts")})
    assert answer.status_code == 303
    assert client.get("/alerts").status_code == 303


def test_a_forged_cookie_is_no_session(client: TestClient, users: dict[str, str]) -> None:
    client.cookies.set(SESSION_COOKIE, "eyJ1c2VyIjogImFkYSJ9.forged.signature")
    assert client.get("/alerts").status_code == 303
