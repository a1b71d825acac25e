"""The search page over HTTP (TestClient, real PostgreSQL and SeaweedFS): the page hands the form
to ``search_reads`` as the logged-in user, shows the core's refusal naming the field, lists what
it finds, and every search it runs is in the audit log."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pipelines.audit.tables import audit_events
from pipelines.audit.users import service_user
from pipelines.config import Settings
from pipelines.search import SEARCH_ACTION
from pipelines.storage.catalog import engine_for
from tests.pipelines.search._reads import write_reads
from tests.web.conftest import NOW, Clock
from tests.web.test_app import login, token
from tests.web.test_review_http import forged_session
from web.app import create_app
from web.security import SESSION_COOKIE

T0 = NOW - timedelta(days=2)
REASON = "hit and run at Wadsworth and Alameda, white pickup"
GOOD = {"reason_category": "criminal_investigation", "reason": REASON, "case": "26-001234"}
SEEDED = [
    ("r1", "8OS1Z3", "cam-07", T0),  # a look-alike reading of B0S123
    ("r2", "B0S123", "cam-07", T0 + timedelta(days=1)),
    ("r3", "B0S123", "cam-09", T0 + timedelta(days=1, minutes=5)),
    ("r4", "XKC442", "cam-07", T0 + timedelta(days=1, minutes=10)),
]
_ROW = re.compile(r'<tr id="read-\d+">\s*<td class="plate">([^<]*)</td>')


@pytest.fixture
def reads(web_settings: Settings) -> None:
    write_reads(web_settings, SEEDED)


def search(client: TestClient, **form: str) -> httpx.Response:
    return client.post("/search", data={"csrf_token": token(client, "/search"), **form})


def plates(page: str) -> list[str]:
    """The plates of the results table, in its order."""
    return _ROW.findall(page)


def searches(settings: Settings) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.action == SEARCH_ACTION)
            .order_by(audit_events.c.event_id)
        ).mappings()
        return [dict(r) | {"details": json.loads(r["details"])} for r in rows]


def test_the_form_marks_the_reason_fields_required_and_agents_find_it_in_the_navigation(
    client: TestClient, users: dict[str, str], web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    assert 'href="/search"' in client.get("/alerts").text
    form = client.get("/search")
    assert form.status_code == 200
    assert re.search(r'<select name="reason_category" required>', form.text)
    assert re.search(r'<textarea name="reason" required>', form.text)
    for category in web_settings.audit.reason_categories:
        assert f'<option value="{category}">' in form.text
    assert 'name="csrf_token"' in form.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**GOOD, "reason": ""}, "reason: missing: say why this search is made"),
        ({**GOOD, "reason": "   "}, "reason: missing"),
        ({**GOOD, "reason": "inv. investigation test case"}, "reason: too vague"),
        ({**GOOD, "reason": "hit and run"}, "reason: too short (11 characters; at least 20"),
        ({**GOOD, "reason_category": ""}, "reason_category: missing; valid values:"),
        ({**GOOD, "case": ""}, "case: missing: a case number is required"),
        ({**GOOD, "case": "last week"}, "case: not a valid case number"),
    ],
    ids=["no-reason", "blank-reason", "vague", "short", "no-category", "no-case", "bad-case"],
)
def test_a_search_without_a_documented_reason_is_refused_naming_the_field(
    client: TestClient,
    users: dict[str, str],
    reads: None,
    web_settings: Settings,
    form: dict[str, str],
    message: str,
) -> None:
    login(client, "ada", users["ada"])
    answer = search(client, **form, plate="B0S123")
    assert answer.status_code == 422
    assert f"search refused (PP-9126 B.6): {message}" in answer.text
    assert plates(answer.text) == [] and 'id="count"' not in answer.text
    assert 'value="B0S123"' in answer.text  # the form is kept, to fix what was refused
    [entry] = searches(web_settings)
    assert (entry["actor"], entry["outcome"]) == ("ada", "refused")
    assert entry["details"]["field"] == message.split(":")[0]


def test_vague_criteria_and_a_bad_time_are_refused(
    client: TestClient, users: dict[str, str], reads: None, web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    nothing = search(client, **GOOD)
    assert nothing.status_code == 422
    assert "criteria: give a plate, a camera, a state or a time window" in nothing.text
    half = search(client, **GOOD, start="2026-03-09T14:00")
    assert "window: a time window needs both a start and an end" in half.text
    garbled = search(client, **GOOD, start="yesterday", end="2026-03-09T14:00")
    assert garbled.status_code == 422
    assert "from: not a date and time (YYYY-MM-DDTHH:MM, UTC)" in garbled.text
    # the core refused (and recorded) the first two; the third never reached it
    assert [e["details"]["field"] for e in searches(web_settings)] == ["criteria", "window"]


def test_a_search_without_the_csrf_token_is_refused(
    client: TestClient, users: dict[str, str], reads: None, web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    for extra in ({}, {"csrf_token": "not-the-token"}):
        answer = client.post("/search", data={**GOOD, "plate": "B0S123", **extra})
        assert answer.status_code == 403
        assert "The form expired or did not come from here." in answer.text
        assert plates(answer.text) == []
    assert searches(web_settings) == []  # never reached the core


def test_an_analyst_and_the_service_account_get_the_cores_refusal(
    client: TestClient, users: dict[str, str], reads: None, web_settings: Settings
) -> None:
    login(client, "nick", users["nick"])
    assert 'href="/search"' not in client.get("/alerts").text
    offered = client.get("/search")
    assert offered.status_code == 403
    assert "role analyst) may not search reads; allowed roles: administrator, agent" in (
        offered.text
    )
    # a form posted anyway (the token is the session's) reaches the core, which refuses it
    posted = client.post(
        "/search", data={"csrf_token": token(client, "/alerts"), **GOOD, "plate": "B0S123"}
    )
    assert posted.status_code == 403
    assert "role analyst) may not search reads" in posted.text
    assert plates(posted.text) == [] and "8OS1Z3" not in posted.text
    with engine_for(web_settings.catalog_url).begin() as conn:
        service_user(conn, now=NOW)  # the schedules' built-in account, as they create it
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, forged_session(web_settings, "service"))
    forced = client.post("/search", data={"csrf_token": "t" * 43, **GOOD, "plate": "B0S123"})
    assert forced.status_code == 403
    assert "role service) may not search reads" in forced.text
    assert [(e["actor"], e["outcome"], e["details"]["field"]) for e in searches(web_settings)] == [
        ("nick", "refused", "user"),
        ("service", "refused", "user"),
    ]


def test_a_good_search_lists_the_reads_and_is_recorded(
    client: TestClient, users: dict[str, str], reads: None, web_settings: Settings
) -> None:
    login(client, "ada", users["ada"])
    answer = search(client, **GOOD, plate="b0s-123")
    assert answer.status_code == 200, answer.text
    assert plates(answer.text) == ["8OS1Z3", "B0S123", "B0S123"]  # look-alikes, by time
    assert "cam-09" in answer.text and "0.90" in answer.text
    assert f"{T0:%Y-%m-%d %H:%M:%S} UTC" in answer.text
    assert "39.70000, -105.08000" in answer.text
    assert 'id="capped"' not in answer.text
    [entry] = searches(web_settings)
    assert f"3 reads found. Recorded in the audit log as entry {entry['event_id']}." in (
        answer.text
    )
    assert (entry["actor"], entry["outcome"], entry["occurred_at"]) == ("ada", "ok", NOW)
    assert entry["details"] == {
        "criteria": {"plate": "B0S123", "cameras": [], "states": [], "start": None, "end": None},
        **GOOD,
        "results": 3,
        "returned": 3,
    }


def test_a_camera_window_and_state_search_capped_at_the_limit_says_so(
    users: dict[str, str], reads: None, web_settings: Settings, clock: Clock
) -> None:
    limited = web_settings.replace(audit={"max_search_results": 2})
    with TestClient(
        create_app(limited, clock=clock), base_url="http://127.0.0.1", follow_redirects=False
    ) as client:
        login(client, "root", users["root"])
        window = {
            "start": f"{T0:%Y-%m-%dT%H:%M}",
            "end": f"{T0 + timedelta(days=2):%Y-%m-%dT%H:%M}",
        }
        answer = search(client, **GOOD, camera="cam-07, cam-09", state="CO", **window)
    assert answer.status_code == 200, answer.text
    assert plates(answer.text) == ["8OS1Z3", "B0S123"]
    assert "4 reads found." in answer.text
    assert "Only the first 2 (by capture time) are shown" in answer.text
    assert "at most 2 reads (audit.max_search_results)" in answer.text
    [entry] = searches(limited)
    assert entry["details"]["criteria"] == {
        "plate": None,
        "cameras": ["cam-07", "cam-09"],
        "states": ["co"],
        "start": T0.isoformat(),
        "end": (T0 + timedelta(days=2)).isoformat(),
    }
    assert (entry["details"]["results"], entry["details"]["returned"]) == (4, 2)
