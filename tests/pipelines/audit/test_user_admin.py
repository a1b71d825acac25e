"""User administration in the core (PP-9126 C.7): role changes and disabling by an administrator
as the catalog knows them (or the server operator), each audited; the service account and its
role are the schedules' alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import (
    Role,
    User,
    add_user,
    authenticate,
    disable_user,
    get_user,
    service_user,
    set_role,
)
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied
from tests._users import PASSWORD

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def people(engine: sa.Engine, catalog_settings: Settings) -> dict[str, User]:
    with engine.begin() as conn:
        made = {
            name: add_user(
                conn, name, role, PASSWORD, actor="operator", now=NOW, auth=catalog_settings.auth
            )
            for name, role in (("chief", "administrator"), ("jdoe", "agent"), ("ann", "analyst"))
        }
        service_user(conn, now=NOW)
    return made


def test_an_administrator_changes_a_role_and_the_log_says_from_what_to_what(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        changed = set_role(conn, "ann", "agent", actor=people["chief"], now=NOW)
        same = set_role(conn, "ann", Role.AGENT, actor="operator:root", now=NOW)  # no change
    assert changed == same == User("ann", Role.AGENT, True)
    with engine.connect() as conn:
        assert get_user(conn, "ann").role is Role.AGENT
        entries = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.subject, audit_events.c.details).where(
                audit_events.c.action == "user.role"
            )
        ).all()
    assert [(a, s, json.loads(d)) for a, s, d in entries] == [
        ("chief", "user:ann", {"from": "analyst", "to": "agent"})
    ]


def test_only_administrators_manage_users_and_the_role_is_the_catalogs(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    forged = User("jdoe", Role.ADMINISTRATOR, True)  # jdoe is an agent in the catalog
    with (
        pytest.raises(PermissionDenied, match="role agent\\) may not change roles"),
        engine.begin() as conn,
    ):
        set_role(conn, "jdoe", "administrator", actor=forged, now=NOW)
    with pytest.raises(PermissionDenied, match="may not disable users"), engine.begin() as conn:
        disable_user(conn, "chief", actor=forged, now=NOW)
    with engine.begin() as conn:
        disable_user(conn, "chief", actor="operator:root", now=NOW)
    with (
        pytest.raises(AuthenticationError, match="unknown or disabled user 'chief'"),
        engine.begin() as conn,
    ):  # a disabled administrator manages nothing any more
        set_role(conn, "jdoe", "analyst", actor=people["chief"], now=NOW)
    with engine.connect() as conn:
        assert get_user(conn, "jdoe").role is Role.AGENT


def test_the_service_role_is_the_built_in_accounts_alone(
    engine: sa.Engine, people: dict[str, User]
) -> None:
    with (
        pytest.raises(PermissionDenied, match="role 'service' belongs to the built-in account"),
        engine.begin() as conn,
    ):
        set_role(conn, "jdoe", "service", actor=people["chief"], now=NOW)
    with (
        pytest.raises(PermissionDenied, match="the built-in service account keeps its role"),
        engine.begin() as conn,
    ):
        set_role(conn, "service", "administrator", actor=people["chief"], now=NOW)


def test_a_disabled_user_cannot_log_in(
    engine: sa.Engine, people: dict[str, User], catalog_settings: Settings
) -> None:
    with engine.begin() as conn:
        assert disable_user(conn, "jdoe", actor=people["chief"], now=NOW).active is False
    with pytest.raises(AuthenticationError), engine.begin() as conn:
        authenticate(conn, "jdoe", PASSWORD, now=NOW, auth=catalog_settings.auth)
