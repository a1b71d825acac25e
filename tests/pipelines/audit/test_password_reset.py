"""Password resets by an administrator (PP-9126 C.7) over PostgreSQL: the new password logs in,
the old one does not, a lockout ends, and the reset is audited without the password."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events, users
from pipelines.audit.users import Role, User, add_user, authenticate, reset_password, service_user
from pipelines.config import Settings
from pipelines.errors import AlprError, AuthenticationError, PermissionDenied
from tests._users import PASSWORD

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
NEW = "staple battery horse correct"


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


def _login(engine: sa.Engine, settings: Settings, name: str, password: str, at: datetime) -> User:
    with engine.begin() as conn:
        return authenticate(conn, name, password, now=at, auth=settings.auth)


def test_a_reset_password_logs_in_the_old_one_does_not_and_a_lockout_ends(
    engine: sa.Engine, catalog_settings: Settings, people: dict[str, User]
) -> None:
    for _ in range(catalog_settings.auth.max_failed_logins):  # locks jdoe out
        with pytest.raises(AuthenticationError):
            _login(engine, catalog_settings, "jdoe", "wrong guess", NOW)
    with pytest.raises(AuthenticationError):
        _login(engine, catalog_settings, "jdoe", PASSWORD, NOW)  # locked: even the right one
    with engine.begin() as conn:
        done = reset_password(
            conn, "jdoe", NEW, actor=people["chief"], now=NOW, auth=catalog_settings.auth
        )
    assert done == User("jdoe", Role.AGENT, True)
    later = NOW + timedelta(minutes=1)
    with pytest.raises(AuthenticationError):
        _login(engine, catalog_settings, "jdoe", PASSWORD, later)
    assert _login(engine, catalog_settings, "jdoe", NEW, later).name == "jdoe"
    with engine.connect() as conn:
        hashed = conn.execute(sa.select(users.c.password_hash).where(users.c.name == "jdoe"))
        assert hashed.scalar_one().startswith("$argon2id$")
        [entry] = conn.execute(
            sa.select(audit_events).where(audit_events.c.action == "user.password_reset")
        ).all()
    assert (entry.actor, entry.subject, json.loads(entry.details)) == (
        "chief",
        "user:jdoe",
        {"unlocked": True},
    )
    assert NEW not in entry.details and PASSWORD not in entry.details


def test_only_administrators_reset_passwords(
    engine: sa.Engine, catalog_settings: Settings, people: dict[str, User]
) -> None:
    auth = catalog_settings.auth
    forged = User("jdoe", Role.ADMINISTRATOR, True)  # an agent in the catalog
    with (
        pytest.raises(PermissionDenied, match="role agent\\) may not reset passwords"),
        engine.begin() as conn,
    ):
        reset_password(conn, "chief", NEW, actor=forged, now=NOW, auth=auth)
    with pytest.raises(PermissionDenied, match="has no password"), engine.begin() as conn:
        reset_password(conn, "service", NEW, actor="operator", now=NOW, auth=auth)
    with pytest.raises(AlprError, match="at least"), engine.begin() as conn:
        reset_password(conn, "chief", "short", actor="operator", now=NOW, auth=auth)
    assert _login(engine, catalog_settings, "chief", PASSWORD, NOW).name == "chief"
    with engine.begin() as conn:
        reset_password(conn, "chief", NEW, actor="operator:root", now=NOW, auth=auth)
        assert conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details).where(
                audit_events.c.action == "user.password_reset"
            )
        ).all() == [("operator:root", '{"unlocked":false}')]
