"""Session, CSRF and response-header machinery of the review page; no business rule lives here.

The session is a signed cookie (Starlette's ``SessionMiddleware`` over itsdangerous): HttpOnly,
SameSite=Strict, with an absolute lifetime from login. Each session carries a random CSRF token
that every form posts back; a POST without the right one is refused with 403.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "SESSION_COOKIE",
    "LoginRequired",
    "SecurityHeaders",
    "check_csrf",
    "csrf_token",
    "end_session",
    "session_user",
    "start_session",
]

SESSION_COOKIE = "alpr_review"

# No inline script or style anywhere: the pages need nothing but their own images and stylesheet.
_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


class LoginRequired(Exception):
    """No valid session: the app answers with a redirect to the login page."""


class SecurityHeaders:
    """Adds the security headers to every response; everything but the stylesheet is no-store
    (alert pages and evidence images must not stay in a browser or proxy cache)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers[name] = value
                if not cacheable:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use (the login form needs one too)."""
    token: str | None = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Dependency of every POST route: the form's token must be this session's."""
    expected = request.session.get("csrf")
    if not expected or not hmac.compare_digest(str(expected), csrf_token):
        raise HTTPException(status_code=403, detail="The form expired or did not come from here.")


def start_session(request: Request, user_name: str, now: datetime) -> None:
    """A fresh session for a user who just logged in: old contents (and token) are dropped, so
    a session fixed before login is worth nothing after it."""
    request.session.clear()
    request.session.update(
        {"user": user_name, "login_at": now.timestamp(), "csrf": secrets.token_urlsafe(32)}
    )


def end_session(request: Request) -> None:
    request.session.clear()


def session_user(request: Request, now: datetime, lifetime_seconds: int) -> str:
    """The user name of a live session, or ``LoginRequired`` (none, or older than its lifetime)."""
    session: dict[str, Any] = request.session
    name = session.get("user")
    login_at = session.get("login_at")
    if not isinstance(name, str) or not isinstance(login_at, int | float):
        raise LoginRequired
    if not 0 <= now.timestamp() - login_at <= lifetime_seconds:
        session.clear()
        raise LoginRequired
    return name
