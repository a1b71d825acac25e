"""The `alpr audit` contract, run as an administrator (and an external check) runs it.
`verify` exits 0 printing the entries verified, or non-zero naming the first bad
entry; `head` locks the chain's head; `report` answers who did what, when and why."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from pipelines.audit.log import record
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def audit_env(settings: Settings, alpr_env: dict[str, str]) -> dict[str, str]:
    upgrade_catalog(settings.catalog_url)
    return {**alpr_env, "ALPR_PRESERVATION_EVIDENCE_BUCKET": f"evid-{uuid.uuid4().hex[:10]}"}


def _append(settings: Settings, n: int) -> list[int]:
    with engine_for(settings.catalog_url).begin() as conn:
        return [
            record(conn, actor="jdoe", action="search.reads", details={"n": i}, now=NOW)
            for i in range(n)
        ]


def test_verify_prints_the_entries_verified_and_names_the_first_bad_one(
    audit_env: dict[str, str], settings: Settings
) -> None:
    ids = _append(settings, 4)
    head = alpr(audit_env, "audit", "head")
    assert head.returncode == 0, head.stderr
    assert json.loads(head.stdout)["event_id"] == ids[-1]
    assert f"chain head at entry {ids[-1]}: s3://evid-" in head.stderr
    intact = alpr(audit_env, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout == "4 entries verified (1 chain heads match)\n"
    # the verification is on the record too: 5 entries now
    assert alpr(audit_env, "audit", "verify").stdout.startswith("5 entries verified")
    with engine_for(settings.catalog_url).begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(f"UPDATE audit_events SET actor = 'ann' WHERE event_id = {ids[1]}")
    broken = alpr(audit_env, "audit", "verify", "--format", "json")
    assert broken.returncode == 1
    answer = json.loads(broken.stdout)
    assert (answer["ok"], answer["entries"], answer["first_bad_event_id"], answer["problem"]) == (
        False,
        6,
        ids[1],
        "changed",
    )
    assert f"audit log NOT intact: entry {ids[1]} was changed after it was written" in (
        broken.stderr
    )


def test_verify_names_a_truncated_tail(audit_env: dict[str, str], settings: Settings) -> None:
    ids = _append(settings, 3)
    assert alpr(audit_env, "audit", "head").returncode == 0
    with engine_for(settings.catalog_url).begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        conn.exec_driver_sql(f"DELETE FROM audit_events WHERE event_id = {ids[2]}")
    broken = alpr(audit_env, "audit", "verify")
    assert broken.returncode == 1 and broken.stdout == ""
    assert f"audit log NOT intact: entry {ids[2]} is missing" in broken.stderr
    assert "the log was truncated" in broken.stderr


def test_head_of_an_empty_log_writes_nothing(audit_env: dict[str, str]) -> None:
    done = alpr(audit_env, "audit", "head")
    assert done.returncode == 0 and done.stdout == ""
    assert "the audit log is empty" in done.stderr
    verified = alpr(audit_env, "audit", "verify")
    assert (verified.returncode, verified.stdout) == (
        0,
        "0 entries verified (0 chain heads match)\n",
    )


def test_report_gives_the_period_as_markdown_or_json(
    audit_env: dict[str, str], settings: Settings
) -> None:
    with engine_for(settings.catalog_url).begin() as conn:
        record(
            conn,
            actor="jdoe",
            action="search.reads",
            details={"reason": "stolen sedan, white", "case": "", "results": 2},
            now=NOW,
        )
    period = ("--from", "2026-03-10", "--to", "2026-03-11T00:00Z")
    text = alpr(audit_env, "audit", "report", *period)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(
        "# Audit report 2026-03-10T00:00:00+00:00 to 2026-03-11T00:00:00+00:00"
    )
    assert "| jdoe | 1 | 0 | 0 | 1 | 2 |" in text.stdout  # searches per user
    as_json = json.loads(alpr(audit_env, "audit", "report", *period, "--format", "json").stdout)
    assert [s["reason"] for s in as_json["searches_without_case"]] == ["stolen sedan, white"]
    added = alpr(
        audit_env, "users", "add", "jdoe", "--role", "agent", "--password-stdin", stdin=PASSWORD
    )
    assert added.returncode == 0
    refused = alpr(audit_env, "audit", "report", *period, "--user", "jdoe", password=PASSWORD)
    assert refused.returncode == 2
    assert "user 'jdoe' (role agent) may not read the audit report" in refused.stderr
