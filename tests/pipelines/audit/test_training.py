"""Training records (PP-9126 B.3, B.5) over PostgreSQL: recorded by administrators as the catalog
knows them (or the server operator), each audited; current until the day before they expire."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.training import (
    REQUIRED_COURSES,
    Course,
    Function,
    TrainingRequired,
    current_courses,
    list_training,
    record_training,
    require_training,
)
from pipelines.audit.users import Role, User, add_user, service_user
from pipelines.config import Settings
from pipelines.errors import AlprError, PermissionDenied
from tests._users import PASSWORD

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
LAST_YEAR = date(2025, 3, 1)
NEXT_YEAR = date(2027, 3, 1)


@pytest.fixture
def people(engine: sa.Engine, catalog_settings: Settings) -> dict[str, User]:
    with engine.begin() as conn:
        made = {
            name: add_user(
                conn, name, role, PASSWORD, actor="operator", now=NOW, auth=catalog_settings.auth
            )
            for name, role in (("chief", "administrator"), ("jdoe", "agent"))
        }
        service_user(conn, now=NOW)
    return made


def _add(conn: sa.Connection, name: str, course: str, completed: date, expires: date) -> None:
    """A record made by the server operator."""
    record_training(conn, name, course, completed, expires, actor="operator", now=NOW)


def _entries(engine: sa.Engine) -> list[tuple[str, str, dict[str, str]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.subject, audit_events.c.details)
            .where(audit_events.c.action == "user.training")
            .order_by(audit_events.c.event_id)
        ).all()
    return [(a, s, json.loads(d)) for a, s, d in rows]


def test_only_administrators_record_training_and_each_record_is_audited(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    forged = User("jdoe", Role.ADMINISTRATOR, True)  # an agent in the catalog
    with (
        pytest.raises(PermissionDenied, match="role agent\\) may not record training"),
        engine.begin() as conn,
    ):
        record_training(conn, "jdoe", "system_use", LAST_YEAR, NEXT_YEAR, actor=forged, now=NOW)
    with engine.begin() as conn:
        record_training(
            conn, "jdoe", Course.SYSTEM_USE, LAST_YEAR, NEXT_YEAR, actor=people["chief"], now=NOW
        )
        record_training(
            conn, "chief", "dispatcher", LAST_YEAR, NEXT_YEAR, actor="operator:root", now=NOW
        )
    assert _entries(engine) == [
        (
            "chief",
            "user:jdoe",
            {"course": "system_use", "completed_on": "2025-03-01", "expires_on": "2027-03-01"},
        ),
        (
            "operator:root",
            "user:chief",
            {"course": "dispatcher", "completed_on": "2025-03-01", "expires_on": "2027-03-01"},
        ),
    ]
    with engine.connect() as conn:
        records = list_training(conn)
        assert [(r.user, r.course, r.recorded_by) for r in records] == [
            ("chief", Course.DISPATCHER, "operator:root"),
            ("jdoe", Course.SYSTEM_USE, "chief"),
        ]
        assert [r.user for r in list_training(conn, "jdoe")] == ["jdoe"]


@pytest.mark.parametrize(
    ("name", "course", "completed", "expires", "message"),
    [
        ("jdoe", "ethics", LAST_YEAR, NEXT_YEAR, "course 'ethics' is not valid; valid values: "),
        ("jdoe", "system_use", date(2026, 3, 11), NEXT_YEAR, "2026-03-11 is in the future"),
        ("jdoe", "system_use", LAST_YEAR, LAST_YEAR, "must expire after its completion"),
        ("service", "system_use", LAST_YEAR, NEXT_YEAR, "takes no training"),
        ("nobody", "system_use", LAST_YEAR, NEXT_YEAR, "unknown or disabled user 'nobody'"),
    ],
)
def test_a_record_that_cannot_be_true_is_refused_and_nothing_is_written(
    engine: sa.Engine,
    people: dict[str, User],
    name: str,
    course: str,
    completed: date,
    expires: date,
    message: str,
) -> None:
    with pytest.raises(AlprError, match=message), engine.begin() as conn:
        record_training(conn, name, course, completed, expires, actor="operator", now=NOW)
    assert _entries(engine) == []
    with engine.connect() as conn:
        assert list_training(conn) == []


def test_training_is_current_from_completion_until_the_day_before_expiry(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        _add(conn, "jdoe", "system_use", date(2026, 3, 10), date(2026, 6, 1))
        _add(conn, "jdoe", "queries_and_search", LAST_YEAR, date(2026, 3, 11))
    with engine.connect() as conn:

        def on(day: str) -> frozenset[Course]:
            return current_courses(conn, "jdoe", now=datetime.fromisoformat(f"{day}T23:59Z"))

        assert on("2026-03-09") == {Course.QUERIES_AND_SEARCH}
        assert on("2026-03-10") == {Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH}
        assert on("2026-03-11") == {Course.SYSTEM_USE}  # expires_on is the first day it lapses
        assert on("2026-06-01") == frozenset()


def test_the_gate_names_each_missing_course_and_why(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    assert REQUIRED_COURSES[Function.SEARCH] == (Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH)
    with engine.begin() as conn:
        _add(conn, "jdoe", "system_use", LAST_YEAR, NEXT_YEAR)
        _add(conn, "jdoe", "dispatcher", date(2025, 1, 2), date(2026, 1, 2))
        _add(conn, "jdoe", "dispatcher", date(2025, 2, 3), date(2026, 2, 3))
    with engine.connect() as conn:
        with pytest.raises(TrainingRequired) as refused:
            require_training(conn, "jdoe", Function.ALERT_REVIEW, now=NOW)
        assert str(refused.value) == (
            "user 'jdoe' has no current training for alert_review (PP-9126 B.3, B.5): missing "
            "dispatcher (expired on 2026-02-03); an administrator records training "
            "(alpr users training add)"
        )
        assert refused.value.missing == (Course.DISPATCHER,)
        assert refused.value.field == "training"
        with pytest.raises(TrainingRequired, match="missing queries_and_search \\(none recorded"):
            require_training(conn, "jdoe", Function.SEARCH, now=NOW)
        with pytest.raises(TrainingRequired, match="system_use \\(none recorded\\), queries_and"):
            require_training(conn, "chief", Function.PRESERVATION, now=NOW)
    with engine.begin() as conn:
        _add(conn, "jdoe", "dispatcher", date(2026, 3, 1), NEXT_YEAR)
    with engine.connect() as conn:
        require_training(conn, "jdoe", Function.ALERT_REVIEW, now=NOW)  # renewed: passes
