"""Matching runs over the real services: reads written to the lake (SeaweedFS), hotlists and
alerts in a PostgreSQL catalog of the test's own."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from pipelines.alerts.tables import alerts
from pipelines.config import Settings
from pipelines.hotlists.refresh import ListSpec, import_file
from pipelines.hotlists.snapshot import ImportResult
from pipelines.matching.run import (
    ListChange,
    MatchVolume,
    match_partition,
    match_volume,
    retro_match_refresh,
    retro_match_version,
)
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import READS
from pipelines.storage.objects import ensure_bucket
from pipelines.storage.tables import write_partition_batches
from tests.pipelines.hotlists.samples import NCIC_HEADER, ncic_record

NCIC = ListSpec("ncic", "ncic")


@pytest.fixture(autouse=True)
def _catalog(settings: Settings) -> None:
    upgrade_catalog(settings.catalog_url)


def ncic_file(*plates: tuple[str, str]) -> bytes:
    """An NCIC hot file listing these (plate, state) pairs as stolen vehicles."""
    lines = [ncic_record("V", plate, state, "20250101") for plate, state in plates]
    return ("\n".join([NCIC_HEADER, *lines]) + "\n").encode()


def load_list(settings: Settings, now: datetime, *plates: tuple[str, str]) -> ImportResult:
    return import_file(settings, ncic_file(*plates), NCIC, source="ncic-test.txt", now=now)


def read(
    read_id: str, plate: str, state: str | None, at: datetime, camera: str = "cam-1"
) -> dict[str, Any]:
    return {
        "read_id": read_id,
        "detection_id": f"det-{read_id}",
        "image_id": f"img-{read_id}",
        "camera_id": camera,
        "captured_at": at,
        "plate_text": plate,
        "confidence": 0.9,
        "char_confidences": [0.9] * len(plate),
        "candidates": [],
        "jurisdiction": state,
        "detector_sha256": "d" * 64,
        "ocr_model": "test",
        "run_id": "recognition-test",
        "capture_date": at.date(),
    }


def write_reads(settings: Settings, day: date, *rows: dict[str, Any]) -> None:
    frame = pl.DataFrame(list(rows), schema=READS.schema)
    write_partition_batches(settings, READS, day, [frame])


def alert_rows(settings: Settings) -> pl.DataFrame:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(
                alerts.c.read_id,
                alerts.c.entry_plate,
                alerts.c.state,
                alerts.c.hit_count,
                alerts.c.hotlist_age_seconds,
                alerts.c.state_not_read,
                alerts.c.seen_before_listed,
                alerts.c.entry_cleared_at,
            ).order_by(alerts.c.read_id)
        ).all()
    return pl.DataFrame([r._asdict() for r in rows] or None, infer_schema_length=None)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def test_a_day_is_matched_into_alerts_with_the_list_age_and_a_rerun_adds_nothing(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    load_list(settings, as_of - timedelta(hours=3), ("ABC123", "CO"), ("KLM456", "WY"))
    write_reads(
        settings,
        capture_day,
        read("r1", "ABC123", "CO", at(capture_day, 14)),
        read("r2", "ABC123", "CO", at(capture_day, 14, 0, 5)),  # the same car, next frame
        read("r3", "XYZ999", "CO", at(capture_day, 14, 1)),  # on no list
        read("r4", "KLM456", None, at(capture_day, 15), camera="cam-2"),  # state not read
    )

    report = match_partition(settings, capture_day, now=as_of, run_id="run-1")

    assert (report.reads, report.entries, report.matches) == (4, 2, 3)
    assert (report.suppressed, report.alerts_raised, report.state_not_read) == (2, 2, 1)
    raised = alert_rows(settings)
    assert raised["read_id"].to_list() == ["r1", "r4"]
    assert raised["hit_count"].to_list() == [2, 1]
    assert raised["state"].to_list() == ["pending", "pending"]
    assert raised["state_not_read"].to_list() == [False, True]
    # Each alert carries the age of the list it came from at the time of matching (B.4).
    assert raised["hotlist_age_seconds"].to_list() == [3 * 3600.0, 3 * 3600.0]

    again = match_partition(settings, capture_day, now=as_of + timedelta(minutes=5), run_id="run-2")

    assert (again.matches, again.alerts_raised) == (3, 0)
    assert_frame_equal(alert_rows(settings), raised)


def test_a_day_without_reads_raises_nothing(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    load_list(settings, as_of, ("ABC123", "CO"))
    # No reads table at all (the lake bucket exists, as in any deployment), then a table
    # without that day's partition.
    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    assert match_partition(settings, capture_day, now=as_of, run_id="r").reads == 0
    write_reads(
        settings,
        capture_day - timedelta(days=1),
        read("r1", "ABC123", "CO", at(capture_day - timedelta(days=1), 9)),
    )
    report = match_partition(settings, capture_day, now=as_of, run_id="r")
    assert (report.reads, report.alerts_raised) == (0, 0)
    assert alert_rows(settings).is_empty()


def test_a_list_change_retro_matches_added_entries_and_clears_removed_ones(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    settings = settings.replace(policy={"retention_days": 30})
    load_list(settings, at(capture_day, 7), ("ABC123", "CO"))  # before r1, after nothing else
    old_day = (as_of - timedelta(days=40)).date()  # beyond retention: never matched again
    write_reads(settings, old_day, read("old", "NEW777", "CO", at(old_day, 10)))
    write_reads(
        settings,
        capture_day,
        read("r1", "ABC123", "CO", at(capture_day, 8)),
        read("r2", "NEW777", "CO", at(capture_day, 9)),
    )
    evening = at(capture_day, 20)
    assert match_partition(settings, capture_day, now=evening, run_id="day").alerts_raised == 1

    change = load_list(settings, as_of, ("NEW777", "CO"))  # NEW777 added, ABC123 removed
    report = retro_match_refresh(settings, change, now=as_of)

    assert (report.added, report.removed, report.matches) == (1, 1, 1)
    assert (report.alerts_raised, report.alerts_cleared, report.seen_before_listed) == (1, 1, 1)
    assert report.reads_since == (as_of - timedelta(days=30)).date()
    raised = alert_rows(settings)
    assert raised["read_id"].to_list() == ["r1", "r2"]
    # The vehicle passed before its entry existed; the removed entry's alert is cleared.
    assert raised["seen_before_listed"].to_list() == [False, True]
    assert raised["entry_cleared_at"].is_null().to_list() == [False, True]
    assert raised["hotlist_age_seconds"].to_list() == [13 * 3600.0, 0.0]

    # The same change again (by list and version, as the orchestrators pass it): nothing new.
    again = retro_match_version(settings, "ncic", change.version, now=as_of + timedelta(hours=1))
    assert (again.added, again.removed, again.alerts_raised, again.alerts_cleared) == (1, 1, 0, 0)
    assert_frame_equal(alert_rows(settings), raised)


def test_a_change_loaded_from_the_catalog_is_the_import_result(
    settings: Settings, as_of: datetime
) -> None:
    load_list(settings, as_of - timedelta(hours=1), ("AAA111", "CO"), ("BBB222", "CO"))
    result = load_list(settings, as_of, ("BBB222", "CO"), ("CCC333", "CO"), ("DDD444", "WY"))
    loaded = ListChange.load(settings, "ncic", result.version)
    assert (loaded.list_name, loaded.version) == ("ncic", result.version)
    assert (
        set(loaded.added_entry_ids) == set(result.added_entry_ids)
        and len(loaded.added_entry_ids) == 2
    )
    assert (
        set(loaded.removed_entry_ids) == set(result.removed_entry_ids)
        and len(loaded.removed_entry_ids) == 1
    )


def test_match_volume_counts_alerts_by_capture_date(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    load_list(settings, as_of, ("ABC123", "CO"))
    before = capture_day - timedelta(days=2)
    write_reads(settings, before, read("b1", "ABC123", "CO", at(before, 9)))
    write_reads(
        settings,
        capture_day,
        *(
            read(f"c{i}", "ABC123", "CO", at(capture_day, 8 + i), camera=f"cam-{i}")
            for i in range(5)
        ),
    )
    for day in (before, capture_day):
        match_partition(settings, day, now=as_of, run_id="r")

    volume = match_volume(settings, capture_day)

    assert (volume.count, volume.days_with_alerts, volume.baseline_days) == (5, 1, 7)
    assert volume.baseline == pytest.approx(1 / 7)
    assert not volume.passed  # 5 against a baseline of 1/7 a day
    assert match_volume(settings, before).passed  # no history before it: nothing to judge


@pytest.mark.parametrize(
    ("count", "baseline", "days", "passed"),
    [
        (10, 10.0, 7, True),
        (30, 10.0, 7, True),  # exactly factor x baseline
        (31, 10.0, 7, False),
        (3, 10.0, 7, False),  # a drop: matching or a list may have stopped
        (4, 12.0, 7, True),
        (50, 0.0, 0, True),  # no history
    ],
)
def test_match_volume_passes_within_the_factor(
    count: int, baseline: float, days: int, passed: bool
) -> None:
    volume = MatchVolume(date(2026, 3, 10), count, baseline, 7, days, 3.0)
    assert volume.passed is passed
