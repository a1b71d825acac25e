"""The `alpr search` contract, run as a user (and an external check) runs it. One JSON
object per read on stdout; a refusal exits non-zero and names the field on stderr."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr, alpr_process
from tests.pipelines.search._reads import write_reads

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
REASON = "hit and run at Wadsworth and Alameda, white pickup"


def _setup(env: dict[str, str], settings: Settings) -> None:
    upgrade_catalog(settings.catalog_url)
    write_reads(
        settings,
        [
            ("r1", "8OS1Z3", "cam-07", T0),
            ("r2", "B0S123", "cam-09", T0 + timedelta(hours=1)),
            ("r3", "XKC442", "cam-07", T0 + timedelta(hours=2)),
        ],
    )
    for name, role in (("jdoe", "agent"), ("ann", "analyst")):
        added = alpr(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0, added.stderr


def _search(env: dict[str, str], user: str, *args: str):  # type: ignore[no-untyped-def]
    return alpr(env, "search", "--user", user, *args, password=PASSWORD)


def test_search_prints_one_json_object_per_read_and_is_audited(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _setup(alpr_env, settings)
    by_plate = _search(
        alpr_env,
        "jdoe",
        "--reason-category",
        "criminal_investigation",
        "--reason",
        REASON,
        "--case",
        "26-001234",
        "--plate",
        "B0S123",
        "--format",
        "jsonl",
    )
    assert by_plate.returncode == 0, by_plate.stderr
    rows = [json.loads(line) for line in by_plate.stdout.splitlines()]
    assert [(r["read_id"], r["plate_text"], r["camera_id"]) for r in rows] == [
        ("r1", "8OS1Z3", "cam-07"),
        ("r2", "B0S123", "cam-09"),
    ]
    assert rows[0]["captured_at"] == "2026-03-09T14:00:00+00:00"
    assert rows[0]["image_key"] == "cam-07/r1.jpg" and rows[0]["capture_date"] == "2026-03-09"
    assert "2 reads found; audit entry" in by_plate.stderr
    by_camera = _search(
        alpr_env,
        "jdoe",
        "--reason-category",
        "stolen_vehicle",
        "--reason",
        "stolen grey sedan seen near the depot",
        "--camera",
        "cam-07",
        "--from",
        "2026-03-09T13:00Z",
        "--to",
        "2026-03-09T15:00",
    )
    assert by_camera.returncode == 0, by_camera.stderr
    assert [json.loads(line)["read_id"] for line in by_camera.stdout.splitlines()] == ["r1"]
    with engine_for(settings.catalog_url).connect() as conn:
        logged = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.outcome, audit_events.c.details).where(
                audit_events.c.action == "search.reads"
            )
        ).all()
    assert [(a, o) for a, o, _ in logged] == [("jdoe", "ok"), ("jdoe", "ok")]
    assert json.loads(logged[1][2])["criteria"]["start"] == "2026-03-09T13:00:00+00:00"


def test_a_refused_search_exits_non_zero_and_names_the_field(
    alpr_env: dict[str, str], settings: Settings
) -> None:
    _setup(alpr_env, settings)
    cases = [
        (("--reason-category", "stolen_vehicle", "--plate", "B0S123"), "reason: missing"),
        (
            (
                "--reason-category",
                "stolen_vehicle",
                "--reason",
                "investigation",
                "--plate",
                "B0S123",
            ),
            "reason: too short",
        ),
        (
            ("--reason-category", "stolen_vehicle", "--reason", "test test investigation inv"),
            "reason: too vague",
        ),
        (
            ("--reason-category", "criminal_investigation", "--reason", REASON, "--plate", "B0S1"),
            "case: missing",
        ),
        (("--reason", REASON, "--plate", "B0S123"), "reason_category: missing"),
        (("--reason-category", "stolen_vehicle", "--reason", REASON), "criteria: give a plate"),
    ]
    for args, says in cases:
        refused = _search(alpr_env, "jdoe", *args)
        assert refused.returncode == 2, (args, refused.stdout)
        assert refused.stdout == ""
        assert f"error: search refused (PP-9126 B.6): {says}" in refused.stderr, refused.stderr
        assert "B0S1" not in refused.stderr  # no plate text in what a user is shown
    analyst = _search(
        alpr_env,
        "ann",
        "--reason-category",
        "stolen_vehicle",
        "--reason",
        REASON,
        "--plate",
        "B0S1",
    )
    assert analyst.returncode == 2
    assert "error: user 'ann' (role analyst) may not search reads" in analyst.stderr
    # the entry point itself: a core error is exit status 2 and one line on stderr
    wrong = alpr_process(alpr_env, "search", "--user", "jdoe", "--plate", "B0S123", password="nope")
    assert wrong.returncode == 2 and "authentication failed" in wrong.stderr
    with engine_for(settings.catalog_url).connect() as conn:
        outcomes = conn.execute(
            sa.select(audit_events.c.outcome).where(audit_events.c.action == "search.reads")
        ).scalars()
        assert list(outcomes) == ["refused"] * 7
