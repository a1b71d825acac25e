"""The `alpr users` and `alpr alerts` contract, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pipelines.alerts import AlertService
from pipelines.audit.tables import audit_events, users
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr, alpr_process
from tests.pipelines.alerts._helpers import RAISED, match, matches


def _add(env: dict[str, str], name: str, role: str) -> subprocess.CompletedProcess[str]:
    return alpr(
        env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
    )


def test_users_add_stores_a_hash_and_audits_the_operator(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    done = _add(alpr_env, "jdoe", "agent")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "jdoe", "role": "agent", "active": True}
    again = _add(alpr_env, "jdoe", "administrator")
    assert again.returncode == 2 and "error: user 'jdoe' exists already" in again.stderr
    bad = _add(alpr_env, "ann", "sheriff")
    assert bad.returncode == 2 and "'sheriff' is not one of" in bad.stderr
    with engine_for(settings.catalog_url).connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
        [event] = conn.execute(sa.select(audit_events)).all()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert event.action == "user.create" and event.actor.startswith("operator")


def test_alerts_list_show_confirm_reject(alpr_env: dict[str, str], settings: Settings) -> None:
    assert _add(alpr_env, "jdoe", "agent").returncode == 0
    assert _add(alpr_env, "ann", "analyst").returncode == 0
    upgrade_catalog(settings.catalog_url)
    first, second = AlertService(settings).raise_alerts(
        matches(match("r1"), match("r2", entry_id="e2")), hotlist_age_seconds={}, now=RAISED
    )

    listed = alpr(
        alpr_env, "alerts", "list", "--state", "pending", "--user", "ann", password=PASSWORD
    )
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["alert_id"] for r in rows} == {first, second}
    assert all(r["state"] == "pending" and "NCIC/CCIC" in r["notice"] for r in rows)

    # an analyst may read but not review; the core says so
    refused = alpr(
        alpr_env, "alerts", "reject", first, "--user", "ann", "--reason", "x", password=PASSWORD
    )
    assert refused.returncode == 2
    assert "error: user 'ann' (role analyst) may not reject alerts" in refused.stderr

    no_compare = alpr(
        alpr_env, "alerts", "confirm", first, "--user", "jdoe", "--reason", "ok", password=PASSWORD
    )
    assert no_compare.returncode == 2 and "pass --compared" in no_compare.stderr

    confirmed = alpr(
        alpr_env,
        "alerts",
        "confirm",
        first,
        "--user",
        "jdoe",
        "--compared",
        "--reason",
        "plate and car match NCIC",
        password=PASSWORD,
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["state"] == "confirmed"
    rejected = alpr(
        alpr_env,
        "alerts",
        "reject",
        second,
        "--user",
        "jdoe",
        "--reason",
        "misread",
        password=PASSWORD,
    )
    assert json.loads(rejected.stdout)["state"] == "rejected"
    twice = alpr(
        alpr_env, "alerts", "reject", first, "--user", "jdoe", "--reason", "oops", password=PASSWORD
    )
    assert (
        twice.returncode == 2
        and f"alert {first} is confirmed and cannot be rejected" in twice.stderr
    )

    shown = alpr(alpr_env, "alerts", "show", first, "--user", "jdoe", password=PASSWORD)
    alert = json.loads(shown.stdout)
    assert (alert["state"], alert["decided_by"], alert["compared_with_record"]) == (
        "confirmed",
        "jdoe",
        True,
    )
    assert [(t["action"], t["actor"], t["reason"]) for t in alert["transitions"]] == [
        ("confirm", "jdoe", "plate and car match NCIC")
    ]
    table = alpr(
        alpr_env, "alerts", "list", "--user", "jdoe", "--format", "table", password=PASSWORD
    )
    assert table.returncode == 0 and first in table.stdout and "rejected" in table.stdout


@pytest.mark.parametrize(("name", "password"), [("jdoe", "not-the-password"), ("ghost", PASSWORD)])
def test_an_unknown_user_or_a_wrong_password_is_refused_alike(
    alpr_env: dict[str, str], name: str, password: str
) -> None:
    assert _add(alpr_env, "jdoe", "agent").returncode == 0
    done = alpr(alpr_env, "alerts", "list", "--user", name, password=password)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "error: authentication failed: unknown user or wrong password (or too many failed attempts)"
    )
    assert password not in done.stderr


def test_the_password_can_come_from_a_hidden_prompt(alpr_env: dict[str, str]) -> None:
    assert _add(alpr_env, "jdoe", "agent").returncode == 0
    # a real process: the prompt reads a piped stdin that is no terminal, as in a script
    done = alpr_process(alpr_env, "alerts", "list", "--user", "jdoe", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "password for jdoe" in done.stderr and PASSWORD not in done.stderr + done.stdout


def test_sweep_escalates_and_expires_as_the_service_account(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    upgrade_catalog(settings.catalog_url)
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    [old] = AlertService(settings).raise_alerts(
        matches(match("r1", captured_at=two_days_ago)), hotlist_age_seconds={}, now=two_days_ago
    )
    done = alpr(alpr_env, "alerts", "sweep")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"escalated": [old], "expired": [old]}
    with engine_for(settings.catalog_url).connect() as conn:
        actors = (
            conn.execute(
                sa.select(audit_events.c.actor).where(
                    audit_events.c.action.in_(["alert.escalate", "alert.expire"])
                )
            )
            .scalars()
            .all()
        )
    assert actors == ["service", "service"]
