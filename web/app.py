"""The alert review and search pages: a thin FastAPI adapter over ``pipelines.alerts``,
``pipelines.search`` and ``pipelines.audit``.

Every rule (who may see or decide an alert, which transitions are legal, that a reason and the
comparison with the record are required; who may search, with which reason, and the search's
audit entry) lives in the core; this module turns HTTP into calls made as the logged-in user and
the core's refusals into pages. Handlers are plain ``def``s, so FastAPI runs their blocking
database and S3 calls in its thread pool.

URLs carry alert ids only, never plate text, since the access log prints every path; a search
is posted for the same reason.
"""

# No ``from __future__ import annotations``: FastAPI reads the handlers' annotations, some of
# which (``Reviewer``) are local to ``create_app``.

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from botocore.exceptions import ClientError
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from pipelines.alerts import ALERT_NOTICE, Alert, AlertService
from pipelines.audit.log import record
from pipelines.audit.users import User, authenticate, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import (
    AlertError,
    AuthenticationError,
    PermissionDenied,
    PolicyRefusal,
)
from pipelines.search import SEARCHERS, SearchRequest, SearchResult, search_reads
from pipelines.storage.catalog import engine_for
from pipelines.storage.objects import s3_client
from web.security import (
    SESSION_COOKIE,
    LoginRequired,
    SecurityHeaders,
    check_csrf,
    csrf_token,
    end_session,
    session_user,
    start_session,
)

__all__ = ["create_app"]

_HERE = Path(__file__).parent
_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_LOGIN_FAILED = "Sign-in failed: unknown user, wrong password, or too many failed attempts."
Clock = Callable[[], datetime]


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The review app for ``settings``; ``clock`` gives the current UTC time (tests pass theirs).

    The catalog must be migrated already (``alpr serve`` does it at start-up).
    """
    now: Clock = clock or (lambda: datetime.now(UTC))
    web = settings.web
    engine = engine_for(settings.catalog_url)
    service = AlertService(settings)
    templates = Jinja2Templates(directory=_HERE / "templates")
    templates.env.filters.update(utc=_utc_text, age=_age_text)
    templates.env.globals.update(searchers=SEARCHERS)  # who gets the navigation's search link
    lifetime = web.session_minutes * 60

    app = FastAPI(title="ALPR alert review", docs_url=None, redoc_url=None, openapi_url=None)
    # Outermost first: headers go on every answer, the session is there for every handler.
    app.add_middleware(
        SessionMiddleware,
        secret_key=web.session_secret or secrets.token_urlsafe(48),
        session_cookie=SESSION_COOKIE,
        max_age=lifetime,
        same_site="strict",
        https_only=web.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("user", None)
        context["csrf_token"] = csrf_token(request)
        context["flash"] = request.session.pop("flash", None)
        return templates.TemplateResponse(request, name, context, status_code=status)

    def current_user(request: Request) -> User:
        name = session_user(request, now(), lifetime)
        try:
            with engine.connect() as conn:
                return get_user(conn, name)
        except AuthenticationError:  # disabled since login: the session ends with the account
            end_session(request)
            raise LoginRequired from None

    Reviewer = Annotated[User, Depends(current_user)]
    forms = APIRouter(dependencies=[Depends(check_csrf)])  # every POST lives here

    @app.exception_handler(LoginRequired)
    def _login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(AuthenticationError)
    def _account_gone(request: Request, exc: AuthenticationError) -> Response:
        end_session(request)  # the core no longer knows this user (disabled since login)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return page(request, "error.html", exc.status_code, message=exc.detail)

    @app.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/alerts", status_code=303)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)  # none, and no 404 in every browser console

    @app.get("/login")
    def login_form(request: Request) -> Response:
        if isinstance(request.session.get("user"), str):
            return RedirectResponse("/alerts", status_code=303)
        return page(request, "login.html")

    @forms.post("/login")
    def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        moment = now()
        try:
            with engine.begin() as conn:
                user = authenticate(conn, username, password, now=moment, auth=settings.auth)
        except AuthenticationError:  # one message, whatever the cause (the core decides)
            return page(request, "login.html", 401, error=_LOGIN_FAILED, username=username)
        start_session(request, user.name, moment)
        return RedirectResponse("/alerts", status_code=303)

    @forms.post("/logout")
    def logout(request: Request) -> RedirectResponse:
        name = request.session.get("user")
        if isinstance(name, str):
            with engine.begin() as conn:
                record(conn, actor=name, action="auth.logout", subject=f"user:{name}", now=now())
        end_session(request)
        return RedirectResponse("/login", status_code=303)

    @app.get("/alerts")
    def queue(request: Request, user: Reviewer) -> Response:
        try:
            alerts = service.list_alerts(user, state="pending")
        except PermissionDenied as exc:
            return page(request, "error.html", 403, user=user, message=str(exc))
        return page(request, "queue.html", user=user, alerts=alerts, notice=ALERT_NOTICE)

    @app.get("/alerts/{alert_id}")
    def alert_page(request: Request, alert_id: str, user: Reviewer) -> Response:
        return _alert_response(request, user, alert_id)

    @forms.post("/alerts/{alert_id}/confirm")
    def confirm(
        request: Request,
        alert_id: str,
        user: Reviewer,
        reason: Annotated[str, Form()] = "",
        compared: Annotated[str, Form()] = "",
    ) -> Response:
        def act() -> None:
            service.confirm(
                user, alert_id, reason, compared_with_record=compared == "yes", now=now()
            )

        return _decide(request, user, alert_id, act, "confirmed")

    @forms.post("/alerts/{alert_id}/reject")
    def reject(
        request: Request, alert_id: str, user: Reviewer, reason: Annotated[str, Form()] = ""
    ) -> Response:
        def act() -> None:
            service.reject(user, alert_id, reason, now=now())

        return _decide(request, user, alert_id, act, "rejected")

    @app.get("/alerts/{alert_id}/image")
    def image(alert_id: str, user: Reviewer) -> Response:
        alert = _readable(user, alert_id)  # the captured frame: the source object of the ledger
        return _stream(alert.image_bucket, alert.image_key)

    @app.get("/alerts/{alert_id}/crop")
    def crop(alert_id: str, user: Reviewer) -> Response:
        alert = _readable(user, alert_id)
        return _stream(settings.s3.lake_bucket, alert.crop_key)

    @app.get("/search")
    def search_form(request: Request, user: Reviewer) -> Response:
        try:  # the core's own check, so an analyst is not offered a form the core would refuse
            require_role(user, *SEARCHERS, action="search reads")
        except PermissionDenied as exc:
            return page(request, "error.html", 403, user=user, message=str(exc))
        return _search_page(request, user, SearchForm())

    @forms.post("/search")
    def search(
        request: Request,
        user: Reviewer,
        reason_category: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        case: Annotated[str, Form()] = "",
        plate: Annotated[str, Form()] = "",
        camera: Annotated[str, Form()] = "",
        state: Annotated[str, Form()] = "",
        start: Annotated[str, Form()] = "",
        end: Annotated[str, Form()] = "",
    ) -> Response:
        """A POST, so that no criterion or reason reaches a URL (the access log, the history)."""
        form = SearchForm(reason_category, reason, case, plate, camera, state, start, end)
        try:
            wanted = form.request()
        except _FormError as exc:
            return _search_page(request, user, form, 422, str(exc))
        try:
            result = search_reads(settings, user, wanted, now=now())
        except PermissionDenied as exc:
            return page(request, "error.html", 403, user=user, message=str(exc))
        except PolicyRefusal as exc:  # the reason gate or the criteria: the field is named
            return _search_page(request, user, form, 422, str(exc))
        return _search_page(request, user, form, result=result)

    def _search_page(
        request: Request,
        user: User,
        form: SearchForm,
        status: int = 200,
        error: str | None = None,
        result: SearchResult | None = None,
    ) -> Response:
        return page(
            request,
            "search.html",
            status,
            user=user,
            form=form,
            error=error,
            result=result,
            rows=list(result.rows.iter_rows(named=True)) if result else [],
            categories=settings.audit.reason_categories,
            case_categories=settings.audit.case_required_categories,
            limit=settings.audit.max_search_results,
        )

    def _alert_response(
        request: Request, user: User, alert_id: str, status: int = 200, error: str | None = None
    ) -> Response:
        try:
            alert = service.get_alert(user, alert_id)
        except PermissionDenied as exc:
            return page(request, "error.html", 403, user=user, message=str(exc))
        except AlertError as exc:
            return page(request, "error.html", 404, user=user, message=str(exc))
        return page(
            request,
            "alert.html",
            status,
            user=user,
            alert=alert,
            notice=ALERT_NOTICE,
            error=error,
            # the own OCR's reads at or above it were exact; a read under it wants a closer look
            ocr_gate=settings.recognition.ocr_cascade_gate,
        )

    def _decide(
        request: Request, user: User, alert_id: str, act: Callable[[], None], done: str
    ) -> Response:
        """Run one transition through the core; its refusal is shown on the alert's page."""
        try:
            act()
        except PermissionDenied as exc:
            return _alert_response(request, user, alert_id, 403, str(exc))
        except (PolicyRefusal, AlertError) as exc:
            return _alert_response(request, user, alert_id, 409, str(exc))
        request.session["flash"] = f"Alert {alert_id} {done}."
        return RedirectResponse("/alerts", status_code=303)

    def _readable(user: User, alert_id: str) -> Alert:
        """The alert, if the core lets this user see it; evidence keys come from its row,
        never from the request."""
        try:
            return service.get_alert(user, alert_id)
        except PermissionDenied as exc:
            raise StarletteHTTPException(403, str(exc)) from None
        except AlertError:
            raise StarletteHTTPException(404, "No such alert.") from None

    def _stream(bucket: str | None, key: str | None) -> Response:
        """The object's bytes, streamed; only from the buckets this deployment is configured
        with, so a row can never point the app at another one."""
        if not key or bucket not in (settings.s3.lake_bucket, settings.s3.drops_bucket):
            raise StarletteHTTPException(404, "This image is not available.")
        try:
            obj = s3_client(settings.s3).get_object(Bucket=bucket, Key=key)
        except ClientError:
            raise StarletteHTTPException(404, "This image is not in the store.") from None
        media = _IMAGE_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")
        return StreamingResponse(_chunks(obj["Body"]), media_type=media)

    app.include_router(forms)
    return app


class _FormError(Exception):
    """A form field that is not even a value (a time that does not parse): the core never sees
    such a request, so the page says what is wrong itself."""


@dataclass(frozen=True)
class SearchForm:
    """The search page's fields as posted, unchecked: ``request()`` only turns text into the
    core's ``SearchRequest``; the reason gate and the criteria checks are ``search_reads``'s."""

    reason_category: str = ""
    reason: str = ""
    case: str = ""
    plate: str = ""
    camera: str = ""  # camera ids, comma-separated
    state: str = ""  # jurisdictions, comma-separated
    start: str = ""  # YYYY-MM-DDTHH:MM, UTC (the form's datetime-local)
    end: str = ""

    def request(self) -> SearchRequest:
        return SearchRequest(
            reason_category=self.reason_category,
            reason=self.reason,
            case=self.case,
            plate=self.plate,
            cameras=_listed(self.camera),
            states=_listed(self.state),
            start=_moment(self.start, "from"),
            end=_moment(self.end, "to"),
        )


def _listed(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _moment(text: str, name: str) -> datetime | None:
    """The form's time, in UTC as its label says (a time zone given is kept)."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _FormError(
            f"search refused: {name}: not a date and time (YYYY-MM-DDTHH:MM, UTC)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(64 * 1024)
    finally:
        body.close()


def _utc_text(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _age_text(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
