"""`alpr users training|reset-password|designate|designation`, as the operator or an
administrator runs them, each audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for
from tests._users import PASSWORD
from tests.cli._run import alpr

NEW = "staple battery horse correct"


def _add(env: dict[str, str], name: str, role: str) -> None:
    done = alpr(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
    assert done.returncode == 0, done.stderr


def _actions(settings: Settings, *actions: str) -> list[tuple[str, str, str]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.action, audit_events.c.subject)
            .where(audit_events.c.action.in_(actions))
            .order_by(audit_events.c.event_id)
        ).all()
    return [(a.split(":")[0], act, s) for a, act, s in rows]


def test_training_is_added_by_administrators_listed_and_audited(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _add(alpr_env, "chief", "administrator")
    _add(alpr_env, "jdoe", "agent")
    today = datetime.now(UTC).date()
    done, lapse = (
        (today - timedelta(days=400)).isoformat(),
        (today - timedelta(days=35)).isoformat(),
    )
    recent, ahead = (
        (today - timedelta(days=3)).isoformat(),
        (today + timedelta(days=362)).isoformat(),
    )
    course = ["--course", "queries_and_search"]
    old = alpr(
        alpr_env,
        "users",
        "training",
        "add",
        "jdoe",
        *course,
        "--completed",
        done,
        "--expires",
        lapse,
    )
    assert old.returncode == 0, old.stderr
    refused = alpr(
        alpr_env,
        "users",
        "training",
        "add",
        "chief",
        *course,
        "--completed",
        recent,
        "--expires",
        ahead,
        "--user",
        "jdoe",
        password=PASSWORD,
    )
    assert refused.returncode == 2
    assert "user 'jdoe' (role agent) may not record training" in refused.stderr
    added = alpr(
        alpr_env,
        "users",
        "training",
        "add",
        "jdoe",
        *course,
        "--completed",
        recent,
        "--expires",
        ahead,
        "--user",
        "chief",
        password=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout) | {"recorded_at": None} == {
        "user": "jdoe",
        "course": "queries_and_search",
        "completed_on": recent,
        "expires_on": ahead,
        "current": True,
        "recorded_by": "chief",
        "recorded_at": None,
    }
    bad = alpr(
        alpr_env,
        "users",
        "training",
        "add",
        "jdoe",
        "--course",
        "ethics",
        "--completed",
        recent,
        "--expires",
        ahead,
    )
    assert bad.returncode == 2 and "system_use" in bad.stderr  # the valid values
    listed = alpr(alpr_env, "users", "training", "list", "jdoe")
    assert [
        (r["expires_on"], r["current"]) for r in map(json.loads, listed.stdout.splitlines())
    ] == [
        (lapse, False),
        (ahead, True),
    ]
    assert alpr(alpr_env, "users", "training", "list", "chief").stdout == ""
    assert _actions(settings, "user.training") == [
        ("operator", "user.training", "user:jdoe"),
        ("chief", "user.training", "user:jdoe"),
    ]


def test_reset_password_lets_the_new_password_in_and_not_the_old(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _add(alpr_env, "chief", "administrator")
    _add(alpr_env, "jdoe", "agent")
    refused = alpr(
        alpr_env,
        "users",
        "reset-password",
        "chief",
        "--password-stdin",
        "--user",
        "jdoe",
        password=PASSWORD,
        stdin=NEW,
    )
    assert refused.returncode == 2 and "may not reset passwords" in refused.stderr
    reset = alpr(
        alpr_env,
        "users",
        "reset-password",
        "jdoe",
        "--password-stdin",
        "--user",
        "chief",
        password=PASSWORD,
        stdin=NEW,
    )
    assert reset.returncode == 0, reset.stderr
    assert json.loads(reset.stdout) == {"name": "jdoe", "role": "agent", "active": True}
    assert NEW not in reset.stdout + reset.stderr
    as_jdoe = ("users", "disable", "chief", "--user", "jdoe")  # refused by role once logged in
    assert "authentication failed" in alpr(alpr_env, *as_jdoe, password=PASSWORD).stderr
    assert "may not disable users" in alpr(alpr_env, *as_jdoe, password=NEW).stderr
    assert _actions(settings, "user.password_reset") == [
        ("chief", "user.password_reset", "user:jdoe")
    ]


def test_designate_names_the_alpr_administrator_and_is_audited(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _add(alpr_env, "chief", "administrator")
    _add(alpr_env, "ada", "administrator")
    _add(alpr_env, "jdoe", "agent")
    assert json.loads(alpr(alpr_env, "users", "designation").stdout) is None
    assert alpr(alpr_env, "users", "designate", "jdoe").returncode == 2  # not an administrator
    refused = alpr(alpr_env, "users", "designate", "chief", "--user", "jdoe", password=PASSWORD)
    assert refused.returncode == 2 and "may not designate" in refused.stderr
    first = alpr(alpr_env, "users", "designate", "chief")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["user"] == "chief"
    second = alpr(alpr_env, "users", "designate", "ada", "--user", "chief", password=PASSWORD)
    assert json.loads(second.stdout) | {"since": None} == {
        "user": "ada",
        "designated_by": "chief",
        "since": None,
        "until": None,
        "ended_by": None,
    }
    assert json.loads(alpr(alpr_env, "users", "designation").stdout)["user"] == "ada"
    assert _actions(settings, "user.designate") == [
        ("operator", "user.designate", "user:chief"),
        ("chief", "user.designate", "user:ada"),
    ]
