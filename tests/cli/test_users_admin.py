"""`alpr users list|role|disable`, run as the operator or an administrator runs them."""

from __future__ import annotations

import json

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for
from tests._users import PASSWORD
from tests.cli._run import alpr


def _add(env: dict[str, str], name: str, role: str) -> None:
    done = alpr(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
    assert done.returncode == 0, done.stderr


def test_list_role_and_disable_are_audited(alpr_env: dict[str, str], settings: Settings) -> None:
    _add(alpr_env, "chief", "administrator")
    _add(alpr_env, "jdoe", "agent")
    _add(alpr_env, "ann", "analyst")
    listed = alpr(alpr_env, "users", "list")
    assert [json.loads(line) for line in listed.stdout.splitlines()] == [
        {"name": "ann", "role": "analyst", "active": True},
        {"name": "chief", "role": "administrator", "active": True},
        {"name": "jdoe", "role": "agent", "active": True},
    ]
    promoted = alpr(alpr_env, "users", "role", "ann", "agent", "--user", "chief", password=PASSWORD)
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout) == {"name": "ann", "role": "agent", "active": True}
    refused = alpr(alpr_env, "users", "disable", "chief", "--user", "jdoe", password=PASSWORD)
    assert refused.returncode == 2
    assert "error: user 'jdoe' (role agent) may not disable users" in refused.stderr
    assert alpr(alpr_env, "users", "role", "jdoe", "service").returncode == 2  # not a choice
    disabled = alpr(alpr_env, "users", "disable", "jdoe")
    assert json.loads(disabled.stdout)["active"] is False
    with engine_for(settings.catalog_url).connect() as conn:
        done = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.action, audit_events.c.subject).where(
                audit_events.c.action.in_(["user.role", "user.disable"])
            )
        ).all()
    assert [(a.split(":")[0], act, s) for a, act, s in done] == [
        ("chief", "user.role", "user:ann"),
        ("operator", "user.disable", "user:jdoe"),
    ]
