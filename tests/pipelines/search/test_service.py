"""Search over SeaweedFS and PostgreSQL: the reason gate, the roles checked in the core against
the catalog, and every search in the audit log with its criteria, reason, case and count, never
its results."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user, disable_user, service_user
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied
from pipelines.search import SEARCH_ACTION, SearchRefusal, SearchRequest, search_reads
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import READS
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.search._reads import write_reads

T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
REASON = "hit and run at Wadsworth and Alameda, white pickup"
GOOD = {"reason_category": "criminal_investigation", "reason": REASON, "case": "26-001234"}
READS_SEEDED = [
    ("r1", "8OS1Z3", "cam-07", T0),  # a look-alike reading of B0S123
    ("r2", "B0S123", "cam-07", T0 + timedelta(days=1)),
    ("r3", "B0S123", "cam-09", T0 + timedelta(days=1, minutes=5)),
    ("r4", "XKC442", "cam-07", T0 + timedelta(days=1, minutes=10)),
    ("r5", "TTT777", "cam-07", T0 + timedelta(days=1, hours=2)),
]


@pytest.fixture
def search_settings(settings: Settings) -> Settings:
    upgrade_catalog(settings.catalog_url)
    result = settings.replace(auth=FAST_AUTH)
    write_reads(result, READS_SEEDED)
    return result


def _user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


def _searches(settings: Settings) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.action == SEARCH_ACTION)
            .order_by(audit_events.c.event_id)
        ).mappings()
        return [dict(r) | {"details": json.loads(r["details"])} for r in rows]


def test_a_good_search_finds_look_alikes_and_is_recorded_without_its_results(
    search_settings: Settings, as_of: datetime
) -> None:
    agent = _user(search_settings, "jdoe", Role.AGENT, as_of)
    result = search_reads(search_settings, agent, SearchRequest(**GOOD, plate="b0s-123"), now=as_of)
    assert result.rows["read_id"].to_list() == ["r1", "r2", "r3"]  # by capture time
    assert (result.total, result.truncated) == (3, False)
    first = result.rows.row(0, named=True)
    assert (first["plate_text"], first["camera_id"], first["captured_at"]) == (
        "8OS1Z3",
        "cam-07",
        T0,
    )
    assert (first["image_key"], first["latitude"], first["longitude"]) == (
        "cam-07/r1.jpg",
        pytest.approx(39.7),
        pytest.approx(-105.08),
    )
    [entry] = _searches(search_settings)
    assert entry["event_id"] == result.event_id
    assert (entry["actor"], entry["outcome"], entry["occurred_at"]) == ("jdoe", "ok", as_of)
    assert entry["details"] == {
        "criteria": {"plate": "B0S123", "cameras": [], "states": [], "start": None, "end": None},
        "reason_category": "criminal_investigation",
        "reason": REASON,
        "case": "26-001234",
        "results": 3,
        "returned": 3,
    }
    # criteria kept, never results: nothing of what was found
    logged = json.dumps(entry["details"])
    for found in ('"r1"', '"r2"', '"r3"', "8OS1Z3", "cam-07/r1.jpg", "39.7"):
        assert found not in logged


def test_a_camera_and_window_search_counts_all_and_returns_up_to_the_limit(
    search_settings: Settings, as_of: datetime
) -> None:
    admin = _user(search_settings, "ada", Role.ADMINISTRATOR, as_of)
    limited = search_settings.replace(audit={"max_search_results": 2})
    window = {"start": T0 + timedelta(days=1), "end": T0 + timedelta(days=1, hours=2)}
    request = SearchRequest(**GOOD, cameras=("cam-07",), **window)
    assert search_reads(search_settings, admin, request, now=as_of).rows["read_id"].to_list() == [
        "r2",
        "r4",
    ]  # r5 is at the window's end, which is excluded
    wide = SearchRequest(**GOOD, cameras=("cam-07",), start=T0, end=T0 + timedelta(days=3))
    result = search_reads(limited, admin, wide, now=as_of)
    assert (result.rows["read_id"].to_list(), result.total, result.truncated) == (
        ["r1", "r2"],
        4,
        True,
    )
    assert [(e["details"]["results"], e["details"]["returned"]) for e in _searches(limited)] == [
        (2, 2),
        (4, 2),
    ]


@pytest.mark.parametrize(
    ("reason", "field"),
    [
        ({"reason_category": "criminal_investigation", "case": "26-1"}, "reason"),
        ({"reason_category": "stolen_vehicle", "reason": "investigation"}, "reason"),
        ({"reason_category": "stolen_vehicle", "reason": "inv. investigation test"}, "reason"),
        ({"reason_category": "criminal_investigation", "reason": REASON}, "case"),
        ({"reason": REASON, "case": "26-1"}, "reason_category"),
    ],
)
def test_a_search_without_a_documented_reason_is_refused_and_recorded(
    search_settings: Settings, as_of: datetime, reason: dict[str, str], field: str
) -> None:
    agent = _user(search_settings, "jdoe", Role.AGENT, as_of)
    with pytest.raises(SearchRefusal) as refused:
        search_reads(search_settings, agent, SearchRequest(**reason, plate="B0S123"), now=as_of)
    assert refused.value.field == field
    [entry] = _searches(search_settings)
    assert (entry["actor"], entry["outcome"]) == ("jdoe", "refused")
    assert entry["details"]["field"] == field
    assert entry["details"]["why"] == str(refused.value)
    assert entry["details"]["criteria"]["plate"] == "B0S123"
    assert entry["details"]["reason"] == reason.get("reason", "")
    assert "results" not in entry["details"]


def test_vague_criteria_are_refused_and_recorded(
    search_settings: Settings, as_of: datetime
) -> None:
    agent = _user(search_settings, "jdoe", Role.AGENT, as_of)
    with pytest.raises(SearchRefusal, match="criteria: give a plate"):
        search_reads(search_settings, agent, SearchRequest(**GOOD), now=as_of)
    with pytest.raises(SearchRefusal, match="window: a time window needs both"):
        search_reads(search_settings, agent, SearchRequest(**GOOD, start=T0), now=as_of)
    assert [e["details"]["field"] for e in _searches(search_settings)] == ["criteria", "window"]


def test_roles_are_enforced_in_the_core_against_the_catalog(
    search_settings: Settings, as_of: datetime
) -> None:
    analyst = _user(search_settings, "ann", Role.ANALYST, as_of)
    agent = _user(search_settings, "jdoe", Role.AGENT, as_of)
    with engine_for(search_settings.catalog_url).begin() as conn:
        service = service_user(conn, now=as_of)
    request = SearchRequest(**GOOD, plate="B0S123")
    for user in (analyst, service):
        with pytest.raises(
            PermissionDenied, match=r"may not search reads; allowed roles: administrator, agent"
        ):
            search_reads(search_settings, user, request, now=as_of)
    # a caller that builds its own User (bypassing any page or CLI) gets the catalog's role
    forged = User("ann", Role.ADMINISTRATOR, True)
    with pytest.raises(PermissionDenied, match="role analyst"):
        search_reads(search_settings, forged, request, now=as_of)
    admin = _user(search_settings, "ada", Role.ADMINISTRATOR, as_of)
    with engine_for(search_settings.catalog_url).begin() as conn:
        disable_user(conn, "jdoe", actor=admin, now=as_of)
    with pytest.raises(AuthenticationError, match="unknown or disabled user"):
        search_reads(search_settings, agent, request, now=as_of)
    entries = _searches(search_settings)
    assert [(e["actor"], e["outcome"], e["details"]["field"]) for e in entries] == [
        ("ann", "refused", "user"),
        ("service", "refused", "user"),
        ("ann", "refused", "user"),
        ("jdoe", "refused", "user"),
    ]


def test_a_window_opens_only_the_capture_dates_it_covers(
    search_settings: Settings, as_of: datetime
) -> None:
    """The data file of 2026-03-10 removed behind Delta's back: a search of 2026-03-09 never
    opens it (partition pruning); one over both days does, and fails, and says so in the log."""
    agent = _user(search_settings, "jdoe", Role.AGENT, as_of)
    day2 = (
        scan_table(search_settings, READS)
        .filter(pl.col("capture_date") == (T0 + timedelta(days=1)).date())
        .select(pl.col("read_id").len())
        .collect()
        .item()
    )
    assert day2 == 4
    client = s3_client(search_settings.s3)
    bucket = search_settings.s3.lake_bucket
    listed = client.list_objects_v2(Bucket=bucket, Prefix="tables/reads/capture_date=2026-03-10/")
    for obj in listed["Contents"]:
        client.delete_object(Bucket=bucket, Key=obj["Key"])
    day1 = SearchRequest(**GOOD, plate="B0S123", start=T0, end=T0 + timedelta(hours=1))
    assert search_reads(search_settings, agent, day1, now=as_of).rows["read_id"].to_list() == ["r1"]
    both = SearchRequest(**GOOD, plate="B0S123", start=T0, end=T0 + timedelta(days=2))
    with pytest.raises(Exception):  # noqa: B017 - whatever the store's error is
        search_reads(search_settings, agent, both, now=as_of)
    assert [e["outcome"] for e in _searches(search_settings)] == ["ok", "failed"]
