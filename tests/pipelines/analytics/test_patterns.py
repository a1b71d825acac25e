"""Analyses of sightings: the pure queries over tiny frames, and ``pattern_counts`` over SeaweedFS
and PostgreSQL: analysts reach it (search refuses them: tests/pipelines/search/test_service.py),
the service account does not, every query is audited with its criteria and never a plate."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from pipelines.analytics import (
    QUERY_ACTION,
    AnalyticsKeyError,
    PatternQuery,
    build_sightings,
    camera_day_counts,
    hour_profile,
    multi_camera,
    pattern_counts,
    track,
)
from pipelines.audit.users import Role, User, service_user
from pipelines.config import Settings
from pipelines.errors import PermissionDenied, PolicyRefusal
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import (
    DAY1,
    DAY2,
    OTHER_KEY,
    PLATES,
    entries,
    seeded,
    user,
    with_key,
)


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 9, hour, minute, tzinfo=UTC)


# (pseudonym, camera, captured at, local hour)
_TINY = pl.DataFrame(
    {
        "pseudonym": ["p1", "p1", "p1", "p2", "p3", "p3"],
        "camera_id": ["c1", "c2", "c3", "c1", "c1", "c2"],
        "captured_at": [_at(8), _at(9), _at(10), _at(8, 30), _at(20), _at(21)],
        "hour_of_day": [2, 3, 4, 2, 14, 15],
        "jurisdiction": ["co"] * 6,
        "confidence": [0.9] * 6,
        "capture_date": [date(2026, 3, 9)] * 6,
    },
    schema_overrides={"captured_at": pl.Datetime("us", "UTC"), "hour_of_day": pl.Int8},
).lazy()


@pytest.mark.parametrize(
    ("min_cameras", "expected"),
    [(2, [("p1", 3, 3), ("p3", 2, 2)]), (3, [("p1", 3, 3)]), (4, [])],
)
def test_multi_camera_lists_pseudonyms_seen_at_enough_cameras(
    min_cameras: int, expected: list[tuple[str, int, int]]
) -> None:
    rows = multi_camera(_TINY, min_cameras).collect()
    assert list(zip(rows["pseudonym"], rows["cameras"], rows["sightings"], strict=True)) == expected
    if expected:
        assert rows["camera_ids"][0].to_list() == ["c1", "c2", "c3"][: expected[0][1]]
        assert rows["first_seen_at"][0] == _at(8)


def test_hour_profile_counts_sightings_and_pseudonyms_per_camera_and_hour() -> None:
    rows = hour_profile(_TINY).collect()
    c1 = rows.filter(pl.col("camera_id") == "c1")
    assert c1.select("hour_of_day", "sightings", "pseudonyms").rows() == [(2, 2, 2), (14, 1, 1)]


def test_counts_and_track() -> None:
    counts = camera_day_counts(_TINY).collect()
    assert counts.select("camera_id", "sightings", "pseudonyms").rows() == [
        ("c1", 3, 3),
        ("c2", 2, 2),
        ("c3", 1, 1),
    ]
    followed = track(_TINY, "p3").collect()
    assert followed.select("camera_id", "hour_of_day").rows() == [("c1", 14), ("c2", 15)]


def _query(kind: str, **more: object) -> PatternQuery:
    return PatternQuery(kind=kind, start=DAY1, end=DAY2, **more)  # type: ignore[arg-type]


def test_an_analyst_follows_patterns_and_each_query_is_audited_with_its_criteria(
    settings: Settings, as_of: datetime
) -> None:
    analytics = seeded(settings)
    build_sightings(analytics, DAY1)
    build_sightings(analytics, DAY2)
    analyst = user(analytics, "ann", Role.ANALYST, as_of)

    found = pattern_counts(analytics, analyst, _query("multi_camera"), now=as_of)

    [row] = found.rows.rows(named=True)  # B0S123: cam-07 twice, cam-09 once
    assert (row["cameras"], row["sightings"], row["camera_ids"]) == (2, 3, ["cam-07", "cam-09"])
    followed = pattern_counts(
        analytics, analyst, _query("track", pseudonym=row["pseudonym"]), now=as_of
    )
    assert followed.rows["camera_id"].to_list() == ["cam-07", "cam-09", "cam-07"]
    profile = pattern_counts(
        analytics, analyst, _query("hour_profile", cameras=("cam-09",)), now=as_of
    )
    assert profile.rows.select("hour_of_day", "sightings").rows() == [(8, 1), (9, 1)]
    [first, second, third] = entries(analytics, QUERY_ACTION)
    assert (first["actor"], first["outcome"], first["event_id"]) == ("ann", "ok", found.event_id)
    assert first["details"] == {
        "kind": "multi_camera",
        "start": DAY1.isoformat(),
        "end": DAY2.isoformat(),
        "cameras": [],
        "min_cameras": 2,
        "pseudonym": None,
        "rows": 1,
    }
    assert second["details"]["pseudonym"] == row["pseudonym"]
    assert third["details"]["cameras"] == ["cam-09"]
    logged = json.dumps([first, second, third], default=str)
    assert not any(plate in logged for plate in PLATES)


def test_the_service_account_and_a_forged_role_are_refused_and_audited(
    settings: Settings, as_of: datetime
) -> None:
    analytics = seeded(settings)
    with engine_for(analytics.catalog_url).begin() as conn:
        service = service_user(conn, now=as_of)
    with pytest.raises(PermissionDenied, match="may not query the analytics table"):
        pattern_counts(analytics, service, _query("counts"), now=as_of)
    forged = User("service", Role.ANALYST, True)  # the catalog's role counts, not the caller's
    with pytest.raises(PermissionDenied, match="role service"):
        pattern_counts(analytics, forged, _query("counts"), now=as_of)
    analyst = user(analytics, "ann", Role.ANALYST, as_of)
    with pytest.raises(PolicyRefusal, match="valid values"):
        pattern_counts(analytics, analyst, _query("everything"), now=as_of)
    outcomes = [(e["actor"], e["outcome"]) for e in entries(analytics, QUERY_ACTION)]
    assert outcomes == [("service", "refused"), ("service", "refused"), ("ann", "refused")]


def test_a_window_over_two_keys_is_refused(settings: Settings, as_of: datetime) -> None:
    analytics = seeded(settings)
    build_sightings(analytics, DAY1)
    build_sightings(with_key(analytics, OTHER_KEY, 2), DAY2)
    analyst = user(analytics, "ann", Role.ANALYST, as_of)

    with pytest.raises(AnalyticsKeyError, match=r"key versions \[1, 2\]"):
        pattern_counts(analytics, analyst, _query("multi_camera"), now=as_of)
    one_day = PatternQuery(kind="counts", start=DAY2, end=DAY2)
    assert pattern_counts(analytics, analyst, one_day, now=as_of).rows.height == 2
    assert [e["outcome"] for e in entries(analytics, QUERY_ACTION)] == ["refused", "ok"]
    assert scan_table(analytics, SIGHTINGS).collect().height == 6
