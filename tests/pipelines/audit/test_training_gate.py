"""The training gate (PP-9126 B.3, B.5) in the core services, over PostgreSQL and SeaweedFS: with
``audit.require_training`` on, search, alert review and preservation are refused (and the refusal
audited, naming what is missing) to a user without current training for them, expired training
included; with it, or with the setting off (the default), they run."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.alerts import AlertService
from pipelines.audit.tables import audit_events
from pipelines.audit.training import Course, TrainingRequired, record_training
from pipelines.audit.users import Role, User, add_user
from pipelines.config import Settings
from pipelines.preservation import Selection, request_preservation
from pipelines.search import SEARCH_ACTION, SearchRequest, search_reads
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.alerts._helpers import RAISED, match, matches
from tests.pipelines.search._reads import write_reads

GOOD: dict[str, Any] = {
    "reason_category": "criminal_investigation",
    "reason": "hit and run at Wadsworth and Alameda, white pickup",
    "case": "26-001234",
}


def _settings(settings: Settings, required: bool) -> Settings:
    upgrade_catalog(settings.catalog_url)
    return settings.replace(
        auth=FAST_AUTH,
        audit={"require_training": required},
        preservation={"evidence_bucket": f"evid-{uuid.uuid4().hex[:10]}"},
    )


@pytest.fixture
def required(settings: Settings) -> Settings:
    return _settings(settings, True)


def _user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


def _train(settings: Settings, name: str, now: datetime, *courses: Course, days: int = 365) -> None:
    """``courses`` completed 30 days before ``now``, expiring ``days`` after completion."""
    done = (now - timedelta(days=30)).date()
    with engine_for(settings.catalog_url).begin() as conn:
        for course in courses:
            record_training(
                conn, name, course, done, done + timedelta(days=days), actor="operator", now=now
            )


def _refusals(settings: Settings, action: str) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details)
            .where(audit_events.c.action == action, audit_events.c.outcome == "refused")
            .order_by(audit_events.c.event_id)
        ).all()
    return [{"actor": a, **json.loads(d)} for a, d in rows]


def test_search_needs_current_search_training_when_required(
    required: Settings, as_of: datetime
) -> None:
    write_reads(required, [("r1", "B0S123", "cam-07", as_of - timedelta(days=2))])
    agent = _user(required, "jdoe", Role.AGENT, as_of)
    request = SearchRequest(**GOOD, plate="B0S123")
    with pytest.raises(
        TrainingRequired, match="system_use \\(none recorded\\), queries_and_search"
    ):
        search_reads(required, agent, request, now=as_of)
    _train(required, "jdoe", as_of, Course.SYSTEM_USE, Course.DISPATCHER)
    _train(required, "jdoe", as_of, Course.QUERIES_AND_SEARCH, days=20)  # lapsed 10 days ago
    lapsed = (as_of - timedelta(days=10)).date().isoformat()
    with pytest.raises(
        TrainingRequired, match=f"missing queries_and_search \\(expired on {lapsed}\\);"
    ):
        search_reads(required, agent, request, now=as_of)
    refused = _refusals(required, SEARCH_ACTION)
    assert [(r["actor"], r["field"]) for r in refused] == [("jdoe", "training")] * 2
    assert "missing system_use (none recorded)" in refused[0]["why"]
    assert f"queries_and_search (expired on {lapsed})" in refused[1]["why"]
    _train(required, "jdoe", as_of, Course.QUERIES_AND_SEARCH)
    found = search_reads(required, agent, request, now=as_of)
    assert found.rows["read_id"].to_list() == ["r1"]


def test_searches_need_no_training_when_the_setting_is_off(
    settings: Settings, as_of: datetime
) -> None:
    off = _settings(settings, False)
    assert settings.audit.require_training is False  # the default
    write_reads(off, [("r1", "B0S123", "cam-07", as_of - timedelta(days=2))])
    agent = _user(off, "jdoe", Role.AGENT, as_of)
    found = search_reads(off, agent, SearchRequest(**GOOD, plate="B0S123"), now=as_of)
    assert found.total == 1


@pytest.mark.parametrize("verb", ["confirm", "reject"])
def test_alert_review_needs_current_dispatcher_training_when_required(
    required: Settings, verb: str
) -> None:
    now = RAISED + timedelta(minutes=5)
    service = AlertService(required)
    [alert_id] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    agent = _user(required, "jdoe", Role.AGENT, now)

    def review() -> str:
        if verb == "confirm":
            done = service.confirm(
                agent, alert_id, "plate and vehicle match", compared_with_record=True, now=now
            )
        else:
            done = service.reject(agent, alert_id, "a misread: the plate is B0S128", now=now)
        return done.state

    _train(required, "jdoe", now, Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH)
    _train(required, "jdoe", now, Course.DISPATCHER, days=29)  # lapsed yesterday
    with pytest.raises(TrainingRequired, match="missing dispatcher \\(expired on "):
        review()
    assert service.get_alert(agent, alert_id).state == "pending"
    [refusal] = _refusals(required, f"alert.{verb}")
    assert (refusal["actor"], refusal["field"]) == ("jdoe", "training")
    assert "dispatcher (expired on" in refusal["why"]
    _train(required, "jdoe", now, Course.DISPATCHER)
    assert review() == ("confirmed" if verb == "confirm" else "rejected")


def test_alert_review_needs_no_training_when_the_setting_is_off(
    catalog_settings: Settings,
) -> None:
    now = RAISED + timedelta(minutes=5)
    service = AlertService(catalog_settings)
    [alert_id] = service.raise_alerts(matches(match("r1")), hotlist_age_seconds={}, now=RAISED)
    agent = _user(catalog_settings, "jdoe", Role.AGENT, now)
    done = service.confirm(
        agent, alert_id, "plate and vehicle match", compared_with_record=True, now=now
    )
    assert done.state == "confirmed"


def _preserve(settings: Settings, user: User, now: datetime) -> str:
    done = request_preservation(
        settings,
        user,
        "26-4711",
        "felony criminal investigation",
        "armed robbery on Colfax, getaway car",
        Selection(plates=("ZZZ999",)),
        now=now,
    )
    return done.hold.status


def test_preservation_needs_current_training_when_required(
    required: Settings, as_of: datetime
) -> None:
    admin = _user(required, "ada", Role.ADMINISTRATOR, as_of)
    with pytest.raises(TrainingRequired, match=r"training for preservation .*system_use"):
        _preserve(required, admin, as_of)
    _train(required, "ada", as_of, Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH, days=25)
    with pytest.raises(TrainingRequired, match="expired on"):
        _preserve(required, admin, as_of)
    refused = _refusals(required, "preservation.request")
    assert [r["actor"] for r in refused] == ["ada", "ada"]
    assert "system_use (none recorded)" in refused[0]["why"]
    assert "queries_and_search (expired on" in refused[1]["why"]
    _train(required, "ada", as_of, Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH)
    assert _preserve(required, admin, as_of) == "preserved"


def test_preservation_needs_no_training_when_the_setting_is_off(
    settings: Settings, as_of: datetime
) -> None:
    off = _settings(settings, False)
    assert _preserve(off, _user(off, "ada", Role.ADMINISTRATOR, as_of), as_of) == "preserved"
