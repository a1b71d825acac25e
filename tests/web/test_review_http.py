"""Reviewing alerts over HTTP (TestClient): the core's rules reach the page as refusals, the
evidence routes stream the stored bytes to a session only, and nothing changes without a token."""

from __future__ import annotations

import json
from base64 import b64encode

import httpx
import itsdangerous
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.alerts.tables import alerts as alerts_table
from pipelines.audit.users import Role, disable_user, get_user, service_user
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for
from tests.web.conftest import NOW, Evidence
from tests.web.test_app import login, token
from web.security import SESSION_COOKIE


def state_of(settings: Settings, alert_id: str) -> tuple[str, str | None]:
    with engine_for(settings.catalog_url).connect() as conn:
        row = conn.execute(
            sa.select(alerts_table.c.state, alerts_table.c.decided_by).where(
                alerts_table.c.alert_id == alert_id
            )
        ).one()
    return row.state, row.decided_by


def confirm(client: TestClient, alert_id: str, **form: str) -> httpx.Response:
    data = {"csrf_token": token(client, f"/alerts/{alert_id}"), **form}
    return client.post(f"/alerts/{alert_id}/confirm", data=data)


def forged_session(settings: Settings, user: str) -> str:
    """A validly signed session cookie for ``user``, as Starlette writes one: only someone who
    holds the secret can make it, which is what the core's own role check is for."""
    payload = {"user": user, "login_at": NOW.timestamp(), "csrf": "t" * 43}
    data = b64encode(json.dumps(payload).encode())
    return itsdangerous.TimestampSigner(settings.web.session_secret).sign(data).decode()


def test_an_analyst_reads_alerts_but_the_core_refuses_their_confirmation(
    client: TestClient, users: dict[str, str], alerts: list[Evidence], web_settings: Settings
) -> None:
    login(client, "nick", users["nick"])
    alert = alerts[0]
    assert alert.plate in client.get("/alerts").text
    assert client.get(f"/alerts/{alert.alert_id}").status_code == 200
    answer = confirm(client, alert.alert_id, reason="looks right", compared="yes")
    assert answer.status_code == 403
    assert "role analyst" in answer.text and "may not confirm alerts" in answer.text
    assert state_of(web_settings, alert.alert_id) == ("pending", None)


def test_the_service_account_cannot_review_even_with_a_valid_session(
    client: TestClient, users: dict[str, str], alerts: list[Evidence], web_settings: Settings
) -> None:
    with engine_for(web_settings.catalog_url).begin() as conn:
        assert service_user(conn, now=NOW).role is Role.SERVICE
    client.cookies.set(SESSION_COOKIE, forged_session(web_settings, "service"))
    assert client.get("/alerts").status_code == 403
    answer = client.post(
        f"/alerts/{alerts[0].alert_id}/confirm",
        data={"csrf_token": "t" * 43, "reason": "scheduled", "compared": "yes"},
    )
    assert answer.status_code == 403
    assert "role service" in answer.text
    assert state_of(web_settings, alerts[0].alert_id) == ("pending", None)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"reason": "matches the record"}, "compared with the NCIC/CCIC record"),
        ({"reason": "   ", "compared": "yes"}, "a reason is required"),
    ],
    ids=["without-the-comparison", "without-a-reason"],
)
def test_confirmation_needs_the_comparison_and_a_reason(
    client: TestClient,
    users: dict[str, str],
    alerts: list[Evidence],
    web_settings: Settings,
    form: dict[str, str],
    message: str,
) -> None:
    login(client, "ada", users["ada"])
    answer = confirm(client, alerts[0].alert_id, **form)
    assert answer.status_code == 409
    assert message in answer.text
    assert state_of(web_settings, alerts[0].alert_id) == ("pending", None)


def test_a_decided_alert_cannot_be_decided_again(
    client: TestClient, users: dict[str, str], alerts: list[Evidence], web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    alert_id = alerts[0].alert_id
    done = confirm(client, alert_id, reason="matches the record", compared="yes")
    assert done.status_code == 303
    again = client.post(
        f"/alerts/{alert_id}/reject",
        data={"csrf_token": token(client, "/alerts"), "reason": "changed my mind"},
    )
    assert again.status_code == 409
    assert "is confirmed and cannot be rejected" in again.text
    assert state_of(web_settings, alert_id) == ("confirmed", "ada")


def test_a_decision_without_the_csrf_token_is_refused(
    client: TestClient, users: dict[str, str], alerts: list[Evidence], web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    alert_id = alerts[0].alert_id
    for data in ({}, {"csrf_token": "not-the-token"}):
        form = {**data, "reason": "matches the record", "compared": "yes"}
        assert client.post(f"/alerts/{alert_id}/confirm", data=form).status_code == 403
        assert client.post(f"/alerts/{alert_id}/reject", data=form).status_code == 403
    assert state_of(web_settings, alert_id) == ("pending", None)


def test_evidence_routes_stream_the_stored_bytes_to_a_session_only(
    client: TestClient, users: dict[str, str], alerts: list[Evidence]
) -> None:
    alert = alerts[1]
    for part in ("image", "crop"):
        refused = client.get(f"/alerts/{alert.alert_id}/{part}")
        assert refused.status_code == 303 and refused.content == b""
    login(client, "nick", users["nick"])  # analysts may read alerts, so see their evidence
    for part, expected in (("image", alert.image), ("crop", alert.crop)):
        answer = client.get(f"/alerts/{alert.alert_id}/{part}")
        assert answer.status_code == 200
        assert answer.content == expected
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["cache-control"] == "no-store"
    assert client.get("/alerts/000000000000000000000000/image").status_code == 404


def test_the_alert_page_shows_the_read_the_entry_and_the_notice(
    client: TestClient, users: dict[str, str], alerts: list[Evidence]
) -> None:
    login(client, "ada", users["ada"])
    page = client.get(f"/alerts/{alerts[1].alert_id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    assert "never by itself grounds for a stop" in text
    assert alerts[1].plate in text and "0.71" in text  # OCR text and confidence
    assert '0.71; <strong id="ocr-unsure">under 0.9: the OCR is unsure, compare every' in text
    assert "8XK904 (WY)" in text and "ncic-daily, version 3, code V" in text  # the entry
    assert "state not read: check it" in text and "look-alike" in text
    assert "1.5 h" in text  # the hotlist's age when the alert was raised
    assert "I compared the captured image with the NCIC/CCIC record" in text
    assert "<script" not in text and "style=" not in text  # the CSP allows neither inline
    sure = client.get(f"/alerts/{alerts[0].alert_id}").text  # confidence 0.93
    assert "0.93" in sure and "the OCR is unsure" not in sure


def test_a_session_ends_when_its_user_is_disabled(
    client: TestClient, users: dict[str, str], web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    assert client.get("/alerts").status_code == 200
    with engine_for(web_settings.catalog_url).begin() as conn:
        disable_user(conn, "ada", actor=get_user(conn, "root"), now=NOW)
    answer = client.get("/alerts")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
