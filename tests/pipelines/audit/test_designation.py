"""The designated ALPR administrator (PP-9126 B.7) over PostgreSQL: an active administrator,
designated by an administrator as the catalog knows them (or the server operator), audited, one
at a time, and shown in the audit report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipelines.audit.designation import (
    Designation,
    current_designation,
    designate_administrator,
    designations,
)
from pipelines.audit.report import audit_report
from pipelines.audit.tables import administrator_designations, audit_events
from pipelines.audit.users import Role, User, add_user, disable_user
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied
from tests._users import PASSWORD

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=40)


@pytest.fixture
def people(engine: sa.Engine, catalog_settings: Settings) -> dict[str, User]:
    with engine.begin() as conn:
        return {
            name: add_user(
                conn, name, role, PASSWORD, actor="operator", now=T0, auth=catalog_settings.auth
            )
            for name, role in (
                ("chief", "administrator"),
                ("ada", "administrator"),
                ("jdoe", "agent"),
            )
        }


def test_a_designation_is_recorded_audited_and_ends_when_another_is_made(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        first = designate_administrator(conn, "chief", actor="operator:root", now=T0)
        again = designate_administrator(conn, "chief", actor=people["ada"], now=T0 + timedelta(1))
    assert first == again == Designation("chief", "operator:root", T0, None, None)
    with engine.begin() as conn:
        designate_administrator(conn, "ada", actor=people["chief"], now=T1)
    with engine.connect() as conn:
        assert current_designation(conn, T0 - timedelta(seconds=1)) is None
        ended = Designation("chief", "operator:root", T0, T1, "chief")
        assert current_designation(conn, T0) == ended
        assert current_designation(conn, T1 - timedelta(seconds=1)) == ended
        assert current_designation(conn, T1) == Designation("ada", "chief", T1, None, None)
        assert designations(conn, T0, T1 + timedelta(days=1)) == [
            ended,
            Designation("ada", "chief", T1, None, None),
        ]
        assert designations(conn, T1, T1 + timedelta(days=1))[0].user == "ada"
        entries = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.subject, audit_events.c.details)
            .where(audit_events.c.action == "user.designate")
            .order_by(audit_events.c.event_id)
        ).all()
    assert [(a, s, json.loads(d)) for a, s, d in entries] == [
        ("operator:root", "user:chief", {"previous": None}),
        ("chief", "user:ada", {"previous": "chief"}),
    ]


def test_only_administrators_designate_and_only_an_active_administrator_is_designated(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    forged = User("jdoe", Role.ADMINISTRATOR, True)  # an agent in the catalog
    with (
        pytest.raises(PermissionDenied, match="role agent\\) may not designate the ALPR admin"),
        engine.begin() as conn,
    ):
        designate_administrator(conn, "chief", actor=forged, now=T0)
    with (
        pytest.raises(PermissionDenied, match="'jdoe' \\(role agent\\) may not be the designated"),
        engine.begin() as conn,
    ):
        designate_administrator(conn, "jdoe", actor=people["chief"], now=T0)
    with engine.begin() as conn:
        disable_user(conn, "ada", actor="operator", now=T0)
    with pytest.raises(AuthenticationError, match="'ada'"), engine.begin() as conn:
        designate_administrator(conn, "ada", actor=people["chief"], now=T0)
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(administrator_designations)
            ).scalar_one()
            == 0
        )
        assert not conn.execute(
            sa.select(audit_events).where(audit_events.c.action == "user.designate")
        ).first()


def test_the_database_refuses_a_second_open_designation(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        designate_administrator(conn, "chief", actor="operator", now=T0)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            administrator_designations.insert().values(
                user_name="ada", designated_by="someone", designated_at=T1
            )
        )


def test_the_audit_report_names_the_designated_administrator(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        designate_administrator(conn, "chief", actor="operator:root", now=T0)
        designate_administrator(conn, "ada", actor="operator:root", now=T1)
    with engine.begin() as conn:
        early = audit_report(conn, T0, T0 + timedelta(days=7), inactive_days=90, by="op", now=T1)
        both = audit_report(conn, T0, T1 + timedelta(days=1), inactive_days=90, by="op", now=T1)
    assert early.as_dict()["designated_administrators"] == [
        {
            "user": "chief",
            "designated_by": "operator:root",
            "since": T0.isoformat(),
            "until": T1.isoformat(),
        }
    ]
    assert both.designated["user"].to_list() == ["chief", "ada"]
    assert "## Designated ALPR administrator (PP-9126 B.7)\n\n| user | designated_by |" in (
        both.markdown()
    )
