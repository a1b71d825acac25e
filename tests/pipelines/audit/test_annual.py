"""The annual operational-status report (PP-9126 C.8) over PostgreSQL and SeaweedFS: a year seeded
with known counts (ledger, reads in the lake, retention runs, hotlist versions, holds, searches,
verifications) gives exactly those figures, counts only; administrators only; itself audited."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.audit.annual import ANNUAL_ACTION, AnnualStatusReport, annual_status
from pipelines.audit.designation import designate_administrator
from pipelines.audit.log import record
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user
from pipelines.config import AuthSettings, Settings
from pipelines.errors import AlprError, PermissionDenied
from pipelines.hotlists.tables import hotlist_lists, hotlist_versions
from pipelines.preservation.tables import holds
from pipelines.retention.tables import retention_runs
from pipelines.storage.catalog import camera_objects, engine_for, upgrade_catalog
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.search._reads import write_reads

YEAR = 2025
NOW = datetime(2026, 1, 10, 9, tzinfo=UTC)  # the report is made early in the next year
PLATES = ("ABC123", "7XYZ88", "Q4RT55")
REASON = "stolen sedan seen leaving the lot"


def _at(day: str, hour: int = 8) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def year_settings(settings: Settings, tmp_path: Path) -> Settings:
    registry = tmp_path / "cameras.csv"
    registry.write_text("camera_id\ncam-01\ncam-02\ncam-03\n")
    upgrade_catalog(settings.catalog_url)
    return settings.replace(
        preservation={"evidence_bucket": f"evid-{uuid.uuid4().hex[:10]}"},
        ingest={"camera_registry": str(registry)},
        auth=FAST_AUTH,
    )


def _ledger(conn: sa.Connection, camera: str | None, day: str, status: str = "ingested") -> None:
    image_id = uuid.uuid4().hex
    conn.execute(
        camera_objects.insert().values(
            image_id=image_id,
            bucket="drops",
            key=f"{camera}/{day}/{image_id}.jpg",
            etag=image_id,
            size_bytes=1000,
            status=status,
            camera_id=camera,
            captured_at=_at(day),
            capture_date=date.fromisoformat(day),
            run_id="ingest-1",
            registered_at=_at(day, 9),
        )
    )


def _retention_run(
    conn: sa.Connection, run_id: str, started: datetime, *, dry_run: bool, by_day: dict[str, Any]
) -> None:
    classes = {
        "images": {"deleted": 4, "held": 1, "objects": 9, "by_day": by_day["images"]},
        "reads": {"deleted": 3, "held": 0, "objects": 2, "by_day": by_day["reads"]},
        "quarantine": {"deleted": 2, "held": 0, "objects": 2, "by_day": {}},
        "alerts": {"deleted": 1, "held": 0, "objects": 0, "by_day": {}},
    }
    conn.execute(
        retention_runs.insert().values(
            run_id=run_id,
            as_of=started,
            dry_run=dry_run,
            actor="service",
            status="succeeded",
            started_at=started,
            finished_at=started,
            summary=json.dumps({"run_id": run_id, "classes": classes}),
        )
    )


def _version(conn: sa.Connection, name: str, version: int, loaded: datetime) -> None:
    conn.execute(
        hotlist_versions.insert().values(
            list_name=name,
            version=version,
            sha256=f"{version:064d}",
            source="ncic.txt",
            loaded_at=loaded,
            entries=10,
            added=1,
            removed=0,
            changed=0,
            skipped_junk=0,
            skipped_unsubscribed=0,
            merged=0,
            forced=False,
            actor="service",
        )
    )


def _hold(conn: sa.Connection, basis: str, placed: datetime, *, released: bool = False) -> None:
    hold_id = f"hold-{uuid.uuid4().hex[:20]}"
    conn.execute(
        holds.insert().values(
            hold_id=hold_id,
            request_key=uuid.uuid4().hex,
            case_number="26-000123",
            requester="ada",
            legal_basis=basis,
            reason=REASON,
            selection="{}",
            placed_at=placed,
            placed_by="ada",
            status="preserved",
            evidence_bucket="evid",
            evidence_prefix=f"cases/26-000123/{hold_id}/",
            retain_until=placed + timedelta(days=3650),
            released_at=placed + timedelta(days=30) if released else None,
            released_by="ada" if released else None,
        )
    )


def _audit(
    conn: sa.Connection, action: str, at: datetime, outcome: str = "ok", **details: Any
) -> None:
    record(
        conn, actor="jdoe", action=action, subject="reads", outcome=outcome, details=details, now=at
    )


def _search(conn: sa.Connection, at: datetime, outcome: str = "ok", case: str = "") -> None:
    details: dict[str, Any] = {
        "criteria": {"plate": PLATES[0]},
        "reason_category": "stolen_vehicle",
        "reason": REASON,
        "case": case,
    }
    if outcome == "ok":
        details["results"] = 2
    _audit(conn, "search.reads", at, outcome, **details)


@pytest.fixture
def seeded(year_settings: Settings) -> Settings:
    """A year of known counts, with data just outside the year on both sides."""
    write_reads(
        year_settings,
        [
            ("r1", PLATES[0], "cam-01", _at("2025-03-01")),
            ("r2", PLATES[1], "cam-01", _at("2025-03-01", 9)),
            ("r0", PLATES[2], "cam-01", _at("2024-12-31")),  # the year before
            ("r9", PLATES[2], "cam-02", _at("2026-01-02")),  # the year after
        ],
    )
    auth = AuthSettings(**FAST_AUTH)
    engine = engine_for(year_settings.catalog_url)
    with engine.begin() as conn:
        add_user(
            conn,
            "ada",
            Role.ADMINISTRATOR,
            PASSWORD,
            actor="operator",
            now=_at("2025-01-01"),
            auth=auth,
        )
        add_user(conn, "jdoe", Role.AGENT, PASSWORD, actor="ada", now=_at("2025-01-01"), auth=auth)
        designate_administrator(conn, "ada", actor="operator:root", now=_at("2025-02-01"))
        for camera, day in [
            ("cam-01", "2025-03-01"),
            ("cam-01", "2025-03-01"),
            ("cam-01", "2025-03-02"),
            ("cam-01", "2025-07-04"),
            ("cam-02", "2025-03-01"),
            ("cam-01", "2024-12-31"),  # outside the year
            ("cam-02", "2026-01-01"),  # outside the year
        ]:
            _ledger(conn, camera, day)
        _ledger(conn, "cam-02", "2025-05-05", status="quarantined")  # not an image ingested
        # retention deleted cam-01's 2025-01-05 (4 images, 3 reads); a dry run deletes nothing
        gone = {"images": {"2025-01-05": {"cam-01": 4}}, "reads": {"2025-01-05": {"cam-01": 3}}}
        _retention_run(conn, "retention-a", _at("2025-02-01", 2), dry_run=False, by_day=gone)
        dry = {"images": {"2025-06-01": {"cam-02": 7}}, "reads": {"2025-06-01": {"cam-02": 7}}}
        _retention_run(conn, "retention-b", _at("2025-06-02", 2), dry_run=True, by_day=dry)
        old = {"images": {"2024-01-03": {"cam-02": 5}}, "reads": {"2024-01-03": {"cam-02": 5}}}
        _retention_run(conn, "retention-0", _at("2024-12-30", 2), dry_run=False, by_day=old)
        conn.execute(
            hotlist_lists.insert(),
            [
                {
                    "list_name": "ncic",
                    "format": "ncic",
                    "priority": 1,
                    "match_strategy": "exact",
                    "created_at": _at("2024-06-01"),
                },
                {
                    "list_name": "local",
                    "format": "csv",
                    "priority": 2,
                    "match_strategy": "exact",
                    "created_at": _at("2025-12-01"),
                },
            ],
        )
        for version, loaded in enumerate(
            [
                _at("2024-12-31"),
                _at("2025-01-01"),
                _at("2025-01-02"),
                _at("2025-01-02", 20),
                _at("2025-01-10"),
            ],
            start=1,
        ):
            _version(conn, "ncic", version, loaded)
        record(
            conn,
            actor="service",
            action="hotlist.reject",
            subject="hotlist:ncic",
            outcome="rejected",
            details={"problems": 3},
            now=_at("2025-01-05"),
        )
        _hold(conn, "felony_criminal_investigation", _at("2025-04-01"))
        _hold(conn, "felony_criminal_investigation", _at("2025-05-01"), released=True)
        _hold(conn, "civil_lawsuit", _at("2025-08-01"))
        _hold(conn, "civil_lawsuit", _at("2024-08-01"))  # the year before
        record(
            conn,
            actor="jdoe",
            action="preservation.request",
            subject="case:x",
            outcome="refused",
            details={"why": "agents may not"},
            now=_at("2025-04-02"),
        )
        _search(conn, _at("2025-01-15"), case="26-000123")
        _search(conn, _at("2025-01-20"))
        _search(conn, _at("2025-03-03"), outcome="refused")
        _search(conn, _at("2025-03-04"), outcome="failed")
        _search(conn, _at("2025-12-31", 23))
        _search(conn, _at("2026-01-02"))  # the year after
        _audit(conn, "audit.verify", _at("2025-06-30"), entries=10)
        _audit(conn, "audit.verify", _at("2025-09-30"), outcome="failed", entries=12)
    return year_settings


def _report(
    settings: Settings, by: User | str = "operator:root", year: int = YEAR
) -> AnnualStatusReport:
    with engine_for(settings.catalog_url).begin() as conn:
        return annual_status(settings, conn, year, by=by, now=NOW)


def test_the_report_counts_the_year(seeded: Settings) -> None:
    report = _report(seeded, by=User("ada", Role.ADMINISTRATOR, True))
    assert report.days == 365 and report.through == datetime(2026, 1, 1, tzinfo=UTC)
    assert report.cameras.rows() == [
        # camera, days with images, images, ingest uptime, days with reads, reads, recognition
        ("cam-01", 4, 8, round(4 / 365, 4), 2, 5, 0.5),
        ("cam-02", 1, 1, round(1 / 365, 4), 0, 0, 0.0),
        ("cam-03", 0, 0, 0.0, 0, 0, None),
    ]
    assert report.hotlists.rows() == [
        # list, versions, days, with refresh, without, longest gap, rejected
        ("local", 0, 31, 0, 31, 31, 0),
        ("ncic", 4, 365, 3, 362, 355, 1),
    ]
    runs = report.retention_runs
    assert runs["run_id"].to_list() == ["retention-a", "retention-b"]
    assert runs.row(0, named=True) | {"started_at": None} == {
        "run_id": "retention-a",
        "started_at": None,
        "dry_run": False,
        "status": "succeeded",
        "images_deleted": 4,
        "reads_deleted": 3,
        "quarantine_deleted": 2,
        "alerts_deleted": 1,
        "held": 1,
        "objects_deleted": 13,
    }
    assert report.preservation.rows() == [
        ("administrative_matter", 0, 0),
        ("civil_lawsuit", 1, 0),
        ("felony_criminal_investigation", 2, 1),
        ("internal_affairs_investigation", 0, 0),
        ("personnel_matter", 0, 0),
    ]
    assert report.preservation_refused == 1
    searches = report.searches
    assert searches.height == 12 and searches["month"][0] == "2025-01"
    assert searches.filter(pl.col("month").is_in(["2025-01", "2025-03", "2025-12"])).rows() == [
        # month, searches, refused, failed, without case, results
        ("2025-01", 2, 0, 0, 1, 4),
        ("2025-03", 0, 1, 1, 0, 0),
        ("2025-12", 1, 0, 0, 1, 2),
    ]
    assert int(searches["searches"].sum()) == 3
    assert report.verification.ok
    assert report.verifications.select("runs", "failed", "last_outcome").row(0) == (2, 1, "failed")
    assert report.administrator == (
        "Designated ALPR administrator (B.7): ada (designated by operator:root since "
        "2025-02-01T08:00:00+00:00)"
    )
    with engine_for(seeded.catalog_url).connect() as conn:
        [(actor, subject, details)] = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.subject, audit_events.c.details).where(
                audit_events.c.action == ANNUAL_ACTION
            )
        ).all()
    assert (actor, subject) == ("ada", "report:annual-status:2025")
    assert json.loads(details)["searches"] == 3


def test_markdown_and_html_show_counts_and_no_plate_text(seeded: Settings) -> None:
    report = _report(seeded)
    text, page = report.markdown(), report.html()
    for shown in (text, page):
        assert "annual operational-status report 2025" in shown
        assert "Designated ALPR administrator (B.7): ada" in shown
        assert (
            "intact, " in shown
            and "retention-a" in shown
            and "felony_criminal_investigation" in shown
        )
        for secret in (*PLATES, REASON, "26-000123"):
            assert secret not in shown
    assert "| cam-01 | 4 | 8 | 0.011 | 2 | 5 | 0.5 |" in text
    assert "| 2025-01 | 2 | 0 | 0 | 1 | 4 |" in text
    assert page.startswith("<!DOCTYPE html>") and "<td>cam-01</td>" in page
    assert "http" not in page and "<link" not in page and "<script" not in page  # self-contained


def test_a_tampered_audit_log_is_reported_not_intact(seeded: Settings) -> None:
    with engine_for(seeded.catalog_url).begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        first = conn.execute(sa.select(sa.func.min(audit_events.c.event_id))).scalar_one()
        conn.exec_driver_sql(f"UPDATE audit_events SET actor = 'x' WHERE event_id = {first}")
        conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
    report = _report(seeded)
    assert not report.verification.ok
    assert "NOT intact" in report.markdown() and f"entry {first} was changed" in report.markdown()


def test_only_administrators_make_the_report(seeded: Settings) -> None:
    for by in (User("jdoe", Role.AGENT, True), User("jdoe", Role.ADMINISTRATOR, True)):
        # the role is the catalog's, not the caller's: jdoe is an agent there
        with pytest.raises(PermissionDenied, match="may not read the annual status report"):
            _report(seeded, by=by)
    with engine_for(seeded.catalog_url).connect() as conn:
        made = conn.execute(
            sa.select(sa.func.count()).where(audit_events.c.action == ANNUAL_ACTION)
        ).scalar_one()
    assert made == 0


def test_a_running_year_is_cut_at_the_report_time_and_a_future_one_refused(
    year_settings: Settings,
) -> None:
    report = _report(year_settings, year=2026)
    assert (report.days, report.through) == (10, NOW)
    assert report.searches["month"].to_list() == ["2026-01"]
    assert report.administrator.endswith(": none recorded in the period")
    with pytest.raises(AlprError, match="year 2027 has not begun"):
        _report(year_settings, year=2027)
