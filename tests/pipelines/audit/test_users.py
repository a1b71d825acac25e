"""Users and roles: argon2id hashes, one refusal for every bad login, throttling, roles."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events, users
from pipelines.audit.users import (
    Role,
    User,
    add_user,
    authenticate,
    disable_user,
    get_user,
    list_users,
    require_role,
    service_user,
)
from pipelines.config import AuthSettings, Settings
from pipelines.errors import AlprError, AuthenticationError, PermissionDenied
from tests._users import PASSWORD

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def _events(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_events).order_by(audit_events.c.event_id)))


def _add(engine: sa.Engine, settings: Settings, name: str = "jdoe", role: str = "agent") -> User:
    with engine.begin() as conn:
        return add_user(
            conn, name, role, PASSWORD, actor="operator:root", now=NOW, auth=settings.auth
        )


def test_password_is_stored_as_an_argon2id_hash_only(engine: sa.Engine) -> None:
    production = AuthSettings()  # the real cost, not the tests' cheap one
    with engine.begin() as conn:
        user = add_user(
            conn, "jdoe", Role.AGENT, PASSWORD, actor="operator:root", now=NOW, auth=production
        )
    assert user == User("jdoe", Role.AGENT, True)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
        rows = [*conn.execute(sa.select(users)), *conn.execute(sa.select(audit_events))]
    dumped = json.dumps([list(r) for r in rows], default=str)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in dumped
    [event] = _events(engine)
    assert (event.actor, event.action, event.subject, event.outcome) == (
        "operator:root",
        "user.create",
        "user:jdoe",
        "ok",
    )
    with engine.begin() as conn:
        assert authenticate(conn, "jdoe", PASSWORD, now=NOW, auth=production) == user


def test_unknown_user_and_wrong_password_are_refused_alike(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    _add(engine, catalog_settings)
    messages = []
    for name, password in (("jdoe", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationError) as caught, engine.begin() as conn:
            authenticate(conn, name, password, now=NOW, auth=catalog_settings.auth)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "jdoe" not in messages[0] and "nobody" not in messages[0]
    # both failures stand in the audit log although the callers' transactions rolled back
    failed = [e for e in _events(engine) if e.outcome == "failed"]
    assert [(e.actor, e.action, json.loads(e.details)["reason"]) for e in failed] == [
        ("jdoe", "auth.login", "wrong_password"),
        ("nobody", "auth.login", "unknown_user"),
    ]
    assert not any("wrong password" in e.details or PASSWORD in e.details for e in _events(engine))


def test_repeated_failures_lock_the_account_then_it_unlocks(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    auth = AuthSettings(
        **{**catalog_settings.auth.__dict__, "max_failed_logins": 3, "lockout_minutes": 30}
    )
    _add(engine, catalog_settings)
    for minute in range(3):
        with pytest.raises(AuthenticationError), engine.begin() as conn:
            authenticate(conn, "jdoe", "guess", now=NOW + timedelta(minutes=minute), auth=auth)
    # locked: the right password is refused, with the same message
    with pytest.raises(AuthenticationError, match="authentication failed"), engine.begin() as conn:
        authenticate(conn, "jdoe", PASSWORD, now=NOW + timedelta(minutes=29), auth=auth)
    with engine.begin() as conn:
        user = authenticate(conn, "jdoe", PASSWORD, now=NOW + timedelta(minutes=33), auth=auth)
    assert user.name == "jdoe"
    actions = [(e.action, e.outcome, json.loads(e.details).get("reason")) for e in _events(engine)]
    assert actions[1:] == [
        ("auth.login", "failed", "wrong_password"),
        ("auth.login", "failed", "wrong_password"),
        ("auth.login", "failed", "wrong_password"),
        ("auth.lock", "ok", None),
        ("auth.login", "failed", "locked"),
        ("auth.login", "ok", None),
    ]


def test_failures_further_apart_than_the_window_do_not_lock(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    auth = AuthSettings(
        **{**catalog_settings.auth.__dict__, "max_failed_logins": 2, "failure_window_minutes": 15}
    )
    _add(engine, catalog_settings)
    for minute in (0, 16, 32):
        with pytest.raises(AuthenticationError), engine.begin() as conn:
            authenticate(conn, "jdoe", "guess", now=NOW + timedelta(minutes=minute), auth=auth)
    with engine.begin() as conn:
        assert authenticate(conn, "jdoe", PASSWORD, now=NOW + timedelta(minutes=33), auth=auth)
    assert not [e for e in _events(engine) if e.action == "auth.lock"]


def test_a_success_resets_the_failure_count(engine: sa.Engine, catalog_settings: Settings) -> None:
    auth = AuthSettings(**{**catalog_settings.auth.__dict__, "max_failed_logins": 2})
    _add(engine, catalog_settings)
    for minute, password in enumerate(["guess", PASSWORD, "guess", PASSWORD]):
        moment = NOW + timedelta(minutes=minute)
        if password == PASSWORD:
            with engine.begin() as conn:
                authenticate(conn, "jdoe", password, now=moment, auth=auth)
        else:
            with pytest.raises(AuthenticationError), engine.begin() as conn:
                authenticate(conn, "jdoe", password, now=moment, auth=auth)


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        (
            "jdoe",
            "sheriff",
            PASSWORD,
            r"role 'sheriff' is not valid; valid values: \['administrator', 'analyst', 'agent', 'service'\]",
        ),
        ("jdoe", "agent", "short", "at least 8 characters"),
        ("j doe", "agent", PASSWORD, "user name 'j doe' is not valid"),
        ("service", "agent", PASSWORD, "built-in service account"),
    ],
)
def test_add_user_refuses_bad_input(
    engine: sa.Engine, catalog_settings: Settings, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(AlprError, match=message), engine.begin() as conn:
        add_user(
            conn, name, role, password, actor="operator:root", now=NOW, auth=catalog_settings.auth
        )
    assert _events(engine) == []


def test_add_user_refuses_an_existing_name(engine: sa.Engine, catalog_settings: Settings) -> None:
    _add(engine, catalog_settings)
    with pytest.raises(AlprError, match="exists already"):
        _add(engine, catalog_settings, role="administrator")
    with engine.connect() as conn:
        assert get_user(conn, "jdoe").role is Role.AGENT


def test_require_role_names_user_role_and_action() -> None:
    analyst = User("ann", Role.ANALYST, True)
    require_role(analyst, Role.ANALYST, Role.AGENT, action="read alerts")
    with pytest.raises(PermissionDenied) as caught:
        require_role(analyst, Role.AGENT, Role.ADMINISTRATOR, action="confirm alerts")
    assert str(caught.value) == (
        "user 'ann' (role analyst) may not confirm alerts; allowed roles: agent, administrator"
    )
    with pytest.raises(PermissionDenied, match="disabled"):
        require_role(User("old", Role.AGENT, False), Role.AGENT, action="confirm alerts")


def test_service_user_is_created_once_and_cannot_log_in(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    with engine.begin() as conn:
        first = service_user(conn, now=NOW)
    with engine.begin() as conn:
        assert service_user(conn, now=NOW + timedelta(hours=1)) == first
    assert first == User("service", Role.SERVICE, True)
    assert [(e.actor, e.action) for e in _events(engine)] == [("service", "user.create")]
    with pytest.raises(AuthenticationError), engine.begin() as conn:
        authenticate(conn, "service", "", now=NOW, auth=catalog_settings.auth)


def test_disabled_users_are_unknown_to_the_core(
    engine: sa.Engine, catalog_settings: Settings
) -> None:
    admin = _add(engine, catalog_settings, "chief", "administrator")
    agent = _add(engine, catalog_settings)
    with pytest.raises(PermissionDenied), engine.begin() as conn:
        disable_user(conn, "chief", actor=agent, now=NOW)
    with engine.begin() as conn:
        disable_user(conn, "jdoe", actor=admin, now=NOW)
    with (
        pytest.raises(AuthenticationError, match="unknown or disabled user 'jdoe'"),
        engine.connect() as conn,
    ):
        get_user(conn, "jdoe")
    with pytest.raises(AuthenticationError), engine.begin() as conn:
        authenticate(conn, "jdoe", PASSWORD, now=NOW, auth=catalog_settings.auth)
    with engine.connect() as conn:
        assert [u.name for u in list_users(conn) if u.active] == ["chief"]
