"""`alpr hotlists lookup`: a person's spot check, authenticated, with a reason, audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, add_user
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr
from tests.pipelines.hotlists.samples import NCIC_HEADER, ncic_record

NCIC = "\n".join(
    [
        NCIC_HEADER,
        ncic_record("V", "ABC123", "CO", "20260101"),
        ncic_record("P", "ABC123", "WY", "20260102"),
        ncic_record("F", "A8C12", "CO", "20260103"),
        ncic_record("V", "ZZZ999", "CO", "20260104"),
    ]
)


def _lookups(settings: Settings) -> list[tuple[str, str, str, str]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.action, audit_events.c.details)
            .where(audit_events.c.action == "hotlist.lookup")
            .order_by(audit_events.c.event_id)
        ).all()
    return [(r.actor, r.action, json.loads(r.details)) for r in rows]


def test_lookup_prints_hits_and_audits_the_criteria(
    settings: Settings, alpr_env: dict[str, str], tmp_path: Path
) -> None:
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        add_user(conn, "ana", Role.ANALYST, PASSWORD, actor="operator", now=datetime.now(UTC))
    ncic = tmp_path / "ncic.txt"
    ncic.write_text(NCIC + "\n")
    done = alpr(alpr_env, "hotlists", "import", str(ncic), "--format", "ncic", "--list", "ncic")
    assert done.returncode == 0, done.stderr

    args = ["hotlists", "lookup", "abc-123", "--state", "co", "--user", "ana"]
    done = alpr(alpr_env, *args, "--reason", "case 26-114", "--format", "jsonl", password=PASSWORD)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["list"], r["plate"], r["state"], r["match"]) for r in rows] == [
        ("ncic", "ABC123", "CO", "exact"),
        ("ncic", "A8C12", "CO", "lenient"),  # the list is exact: a person still sees look-alikes
    ]
    assert _lookups(settings) == [
        ("ana", "hotlist.lookup", {"plate": "abc-123", "state": "co", "reason": "case 26-114"})
    ]

    without_state = alpr(
        alpr_env,
        "hotlists",
        "lookup",
        "ABC123",
        "--user",
        "ana",
        "--reason",
        "r",
        password=PASSWORD,
    )
    assert without_state.returncode == 0, without_state.stderr
    states = {json.loads(line)["state"] for line in without_state.stdout.splitlines()}
    assert states == {"CO", "WY"}


def test_lookup_refuses_a_wrong_password_and_an_empty_reason(
    settings: Settings, alpr_env: dict[str, str]
) -> None:
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        add_user(conn, "ana", Role.ANALYST, PASSWORD, actor="operator", now=datetime.now(UTC))
    args = ["hotlists", "lookup", "ABC123", "--user", "ana"]

    wrong = alpr(alpr_env, *args, "--reason", "case 1", password="not the password")
    assert wrong.returncode == 2
    assert "authentication failed" in wrong.stderr
    assert wrong.stdout == ""

    unknown = alpr(
        alpr_env, "hotlists", "lookup", "ABC123", "--user", "nobody", "--reason", "x", password="x"
    )
    assert unknown.returncode == 2
    assert "authentication failed" in unknown.stderr

    blank = alpr(alpr_env, *args, "--reason", "  ", password=PASSWORD)
    assert blank.returncode == 2
    assert "B.6" in blank.stderr
    assert _lookups(settings) == []
