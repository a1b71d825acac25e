"""Camera health over tiny frames: a collapsing read rate or confidence and a silent camera fail,
a steady camera passes, and the configured fractions and hours are the exact boundaries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from pipelines.config import QualitySettings
from pipelines.quality.camera_health import camera_health, health_markdown
from tests.pipelines.quality._cameras import CameraDay, frames, history


def judge(
    camera_days: Iterable[CameraDay],
    day: date,
    as_of: datetime,
    known: Iterable[str] | None = None,
    **quality: Any,
) -> dict[str, dict[str, Any]]:
    images, reads = frames(camera_days)
    result = camera_health(
        images.lazy(), reads.lazy(), day, as_of, QualitySettings(**quality), known
    )
    return {row["camera_id"]: row for row in result.iter_rows(named=True)}


def test_a_steady_camera_passes_with_its_figures_beside_its_baseline(
    capture_day: date, as_of: datetime
) -> None:
    days = [*history("cam-01", capture_day), CameraDay("cam-01", capture_day)]
    (row,) = judge(days, capture_day, as_of).values()
    assert row["passed"]
    figures = {k: row[k] for k in ("images", "plates_per_image", "read_rate", "no_plate_share")}
    assert figures == {
        "images": 10,
        "plates_per_image": 0.8,
        "read_rate": 0.8,
        "no_plate_share": 0.2,
    }
    assert row["mean_confidence"] == 0.75
    assert row["baseline_days"] == 7 and row["baseline_images"] == 10
    assert row["baseline_read_rate"] == 0.8 and row["baseline_mean_confidence"] == 0.75


def test_a_camera_whose_read_rate_collapses_fails_and_the_others_pass(
    capture_day: date, as_of: datetime
) -> None:
    days = [
        *history("cam-dirty", capture_day),
        CameraDay("cam-dirty", capture_day, read=1),  # plates found, text unreadable
        *history("cam-ok", capture_day),
        CameraDay("cam-ok", capture_day),
    ]
    rows = judge(days, capture_day, as_of)
    dirty = rows["cam-dirty"]
    assert not dirty["passed"] and dirty["read_rate_dropped"] and not dirty["silent"]
    assert dirty["read_rate"] == 0.1 and dirty["baseline_read_rate"] == 0.8
    assert rows["cam-ok"]["passed"]


def test_a_misaligned_camera_that_detects_no_plate_fails_on_its_read_rate(
    capture_day: date, as_of: datetime
) -> None:
    days = [*history("cam-07", capture_day), CameraDay("cam-07", capture_day, plates=0, read=0)]
    row = judge(days, capture_day, as_of)["cam-07"]
    assert row["no_plate_share"] == 1.0 and row["read_rate"] == 0.0
    assert row["mean_confidence"] is None and not row["confidence_dropped"]
    assert row["read_rate_dropped"] and not row["passed"]


def test_a_camera_whose_confidence_collapses_fails(capture_day: date, as_of: datetime) -> None:
    days = [*history("cam-01", capture_day), CameraDay("cam-01", capture_day, confidence=0.5)]
    row = judge(days, capture_day, as_of)["cam-01"]
    assert row["confidence_dropped"] and not row["read_rate_dropped"] and not row["passed"]


@pytest.mark.parametrize(
    ("drop", "read_today", "passed"),
    [(0.5, 4, True), (0.5, 3, False), (0.25, 6, True), (0.25, 5, False), (1.0, 0, True)],
)
def test_the_read_rate_drop_is_the_boundary(
    capture_day: date, as_of: datetime, drop: float, read_today: int, passed: bool
) -> None:
    """Baseline: every one of 8 frames read (1.0); today ``read_today`` of 8. A fall of exactly
    the fraction passes."""
    days = [
        *history("cam-01", capture_day, images=8, plates=8, read=8),
        CameraDay("cam-01", capture_day, images=8, plates=8, read=read_today),
    ]
    row = judge(days, capture_day, as_of, camera_read_rate_drop=drop)["cam-01"]
    assert row["passed"] is passed and row["read_rate_dropped"] is not passed


@pytest.mark.parametrize(
    ("drop", "confidence_today", "passed"),
    [(0.25, 0.75, True), (0.25, 0.74, False), (0.5, 0.5, True), (0.5, 0.49, False)],
)
def test_the_confidence_drop_is_the_boundary(
    capture_day: date, as_of: datetime, drop: float, confidence_today: float, passed: bool
) -> None:
    days = [
        *history("cam-01", capture_day, confidence=1.0),
        CameraDay("cam-01", capture_day, confidence=confidence_today),
    ]
    row = judge(days, capture_day, as_of, camera_confidence_drop=drop)["cam-01"]
    assert row["passed"] is passed and row["confidence_dropped"] is not passed


def test_a_registered_camera_that_sends_nothing_is_silent(
    capture_day: date, as_of: datetime
) -> None:
    days = [*history("cam-01", capture_day), CameraDay("cam-01", capture_day)]
    rows = judge(days, capture_day, as_of, known=["cam-01", "cam-02"])
    assert rows["cam-02"]["silent"] and not rows["cam-02"]["passed"]
    assert rows["cam-02"]["images"] == 0 and rows["cam-02"]["last_seen_at"] is None
    assert rows["cam-01"]["passed"]


def test_without_a_registry_a_camera_seen_in_the_baseline_that_stops_is_silent(
    capture_day: date, as_of: datetime
) -> None:
    days = [*history("cam-01", capture_day), *history("cam-gone", capture_day, days=3)]
    rows = judge(days, capture_day, as_of)
    assert rows["cam-gone"]["silent"] and not rows["cam-gone"]["passed"]
    assert rows["cam-gone"]["baseline_days"] == 3
    assert rows["cam-gone"]["last_seen_at"].date() == capture_day - timedelta(days=1)


@pytest.mark.parametrize(("seconds_after", "silent"), [(0, True), (1, False)])
def test_the_silence_hours_are_the_boundary(
    capture_day: date, as_of: datetime, seconds_after: int, silent: bool
) -> None:
    """The day is over by ``as_of``: silence counts back from its end. The camera's only frame
    is 6 hours before that end (``seconds_after`` later)."""
    day_end = datetime.combine(capture_day + timedelta(days=1), time(), UTC)
    assert as_of > day_end
    last = (day_end - timedelta(hours=6, seconds=-seconds_after)).time()
    days = [CameraDay("cam-01", capture_day, images=1, plates=1, read=1, first_at=last)]
    row = judge(days, capture_day, as_of, known=["cam-01"], camera_silence_hours=6)["cam-01"]
    assert row["silent"] is silent and row["passed"] is not silent


def test_a_day_in_progress_is_judged_at_as_of_not_at_its_end(as_of: datetime) -> None:
    today = as_of.date()
    early = CameraDay("cam-01", today, images=1, plates=1, read=1, first_at=time(1))
    later = CameraDay("cam-01", today, images=1, plates=1, read=1, first_at=as_of.time())
    quiet = judge([early], today, as_of, known=["cam-01"], camera_silence_hours=6)["cam-01"]
    assert quiet["silent"]  # 11 hours since its last frame, though the day is not over
    fresh = judge([later], today, as_of, known=["cam-01"], camera_silence_hours=6)["cam-01"]
    assert not fresh["silent"]


def test_only_the_configured_baseline_days_make_the_baseline(
    capture_day: date, as_of: datetime
) -> None:
    """Three good days right before, four bad ones earlier: a 3-day baseline sees only the good."""
    days = [
        *history("cam-01", capture_day, days=3),
        *(
            CameraDay("cam-01", d.day - timedelta(days=3), read=2)
            for d in history("cam-01", capture_day, days=4)
        ),
        CameraDay("cam-01", capture_day, read=3),
    ]
    short = judge(days, capture_day, as_of, camera_baseline_days=3)["cam-01"]
    assert short["baseline_days"] == 3 and short["baseline_read_rate"] == 0.8
    assert short["read_rate_dropped"]  # 0.3 against 0.8
    week = judge(days, capture_day, as_of, camera_baseline_days=7)["cam-01"]
    assert week["baseline_read_rate"] == pytest.approx((3 * 8 + 4 * 2) / 70)
    assert not week["read_rate_dropped"]  # 0.3 against 0.46


def test_a_new_camera_is_judged_on_silence_only(capture_day: date, as_of: datetime) -> None:
    (row,) = judge([CameraDay("cam-new", capture_day, read=0)], capture_day, as_of).values()
    assert row["baseline_days"] == 0 and row["baseline_read_rate"] is None
    assert row["read_rate"] == 0.0 and row["passed"]


def test_the_markdown_table_has_a_row_per_camera_with_its_verdict(
    capture_day: date, as_of: datetime
) -> None:
    images, reads = frames(
        [*history("cam-01", capture_day), CameraDay("cam-01", capture_day, read=1)]
    )
    health = camera_health(
        images.lazy(), reads.lazy(), capture_day, as_of, QualitySettings(), ["cam-01", "cam-02"]
    )
    lines = health_markdown(health).splitlines()
    assert lines[0].startswith("| camera | images |") and len(lines) == 4
    assert (
        lines[2]
        == "| cam-01 | 10 (10.0) | 0.8 (0.8) | 10 % (80 %) | 0.75 (0.75) | 20 % (20 %) | read rate |"
    )
    assert lines[3].startswith("| cam-02 | 0 (–) |") and lines[3].endswith("| silent |")
    assert health_markdown(health.clear()).count("\n") == 1


def test_no_images_and_no_registry_judge_no_camera(capture_day: date, as_of: datetime) -> None:
    images, reads = frames([])
    health = camera_health(images.lazy(), reads.lazy(), capture_day, as_of, QualitySettings())
    assert health.is_empty() and "passed" in health.columns
