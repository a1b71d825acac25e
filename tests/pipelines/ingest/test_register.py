"""Ingestion against a real SeaweedFS and a real PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from PIL import Image
from polars.testing import assert_frame_equal

from pipelines import ingest
from pipelines.config import Settings
from pipelines.ingest.sample import capture_key, jpeg_bytes, seed_sample_drop
from pipelines.storage.catalog import camera_objects, engine_for, upgrade_catalog
from pipelines.storage.lake import IMAGES
from pipelines.storage.tables import scan_table


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _ingest_all(settings: Settings, as_of: datetime, run_id: str = "run-1") -> ingest.IngestReport:
    return ingest.ingest_drops(settings, run_id, as_of)[0]


def _ledger(settings: Settings) -> pl.DataFrame:
    with engine_for(settings.catalog_url).connect() as conn:
        return pl.read_database(sa.select(camera_objects), conn)


def _listing(s3: Any, bucket: str) -> dict[str, str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"] for p in pages for o in p.get("Contents", [])}


def test_sample_drop_is_ingested_and_bad_objects_quarantined(
    settings: Settings, s3: Any, as_of: datetime, capture_day: date
) -> None:
    drop = seed_sample_drop(settings, capture_day, n_images=6, size=(320, 240))
    before = _listing(s3, settings.s3.drops_bucket)

    report = _ingest_all(settings, as_of)

    assert report.ingested == len(drop.good)
    assert report.quarantined == len(drop.bad)
    ledger = _ledger(settings)
    reasons = dict(
        ledger.filter(pl.col("status") == "quarantined").select("key", "reason").iter_rows()
    )
    assert reasons == {key: reason.value for key, reason in drop.bad.items()}
    assert ledger.filter(pl.col("status") == "quarantined").get_column("detail").is_not_null().all()

    images = scan_table(settings, IMAGES, capture_day).collect()
    assert sorted(images.get_column("key")) == sorted(drop.good)
    assert images.get_column("capture_time_source").unique().to_list() == ["sidecar"]
    assert images.select(pl.col("width").min(), pl.col("height").min()).row(0) == (320, 240)
    assert (images.get_column("capture_date") == capture_day).all()
    # every sidecar value lands in its row as uploaded
    uploaded = pl.DataFrame(
        [{"key": key, **sidecar} for key, sidecar in drop.sidecars.items()]
    ).with_columns(
        pl.col("captured_at").str.to_datetime(time_zone="UTC"),
        pl.col("heading").cast(pl.Float64),
        pl.col("lane").cast(pl.Int64),
    )
    columns = ["key", "camera_id", "captured_at", "latitude", "longitude", "heading", "lane"]
    assert_frame_equal(
        images.select(columns).cast({"captured_at": pl.Datetime("us", "UTC"), "lane": pl.Int64}),
        uploaded.select(columns).cast({"captured_at": pl.Datetime("us", "UTC")}),
        check_row_order=False,
    )

    # Sources untouched; refused objects kept in the lake's quarantine area with their reason.
    assert _listing(s3, settings.s3.drops_bucket) == before
    kept = _listing(s3, settings.s3.lake_bucket)
    for key, reason in drop.bad.items():
        assert f"quarantine/{reason.value}/{settings.s3.drops_bucket}/{key}" in kept

    counts = ingest.ingest_counts(settings)
    assert counts.filter(pl.col("status") == "ingested").get_column("objects").sum() == len(
        drop.good
    )
    assert counts.filter(pl.col("reason") == "empty").get_column("objects").to_list() == [1]


def test_rerun_registers_nothing_and_table_is_unchanged(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    seed_sample_drop(settings, capture_day, n_images=4, size=(160, 120), with_bad=False)
    _ingest_all(settings, as_of, "run-1")
    first = scan_table(settings, IMAGES).collect()

    again = _ingest_all(settings, as_of, "run-2")
    # an explicit rewrite changes nothing either
    ingest.write_images_partition(settings, capture_day)

    assert (again.ingested, again.quarantined, again.already_seen) == (0, 0, 4)
    assert ingest.pending_image_partitions(settings) == {}
    assert_frame_equal(scan_table(settings, IMAGES).collect(), first, check_row_order=False)


def test_new_objects_and_new_versions_are_picked_up_incrementally(
    settings: Settings, s3: Any, as_of: datetime, capture_day: date
) -> None:
    bucket = settings.s3.drops_bucket
    when = _at(capture_day, 8)
    first_key = capture_key("cam-01", when, 1)
    s3.put_object(Bucket=bucket, Key=first_key, Body=jpeg_bytes(Image.new("RGB", (32, 16))))
    _ingest_all(settings, as_of)

    s3.put_object(
        Bucket=bucket,
        Key=capture_key("cam-01", when + timedelta(days=-1), 2),
        Body=jpeg_bytes(Image.new("RGB", (32, 16))),
    )
    s3.put_object(Bucket=bucket, Key=first_key, Body=jpeg_bytes(Image.new("RGB", (48, 16))))
    report = _ingest_all(settings, as_of, "run-2")

    assert report.ingested == 2  # the new object and the new version of the first one
    assert report.capture_dates == {capture_day, capture_day - timedelta(days=1)}
    versions = (
        scan_table(settings, IMAGES, capture_day).collect().filter(pl.col("key") == first_key)
    )
    assert sorted(versions.get_column("width")) == [32, 48]


@pytest.mark.parametrize(
    ("key", "body", "setting", "reason"),
    [
        ("cam-09/{day}", None, {"camera_registry": "registry"}, "unknown_camera"),
        ("cam-01/{old}", None, {"max_age_days": 30}, "implausibly_old"),
        ("loose-file.jpg", None, {}, "unrecognised_key"),
        ("cam-01/{day}", b"x" * 5000, {"max_image_bytes": 4000}, "too_large"),
    ],
)
def test_other_quarantine_reasons(
    settings: Settings,
    s3: Any,
    tmp_path: Path,
    key: str,
    body: bytes | None,
    setting: dict[str, Any],
    reason: str,
    as_of: datetime,
    capture_day: date,
) -> None:
    captured = _at(capture_day, 8)
    key = key.format(
        day=capture_key("", captured, 1).lstrip("/"),
        old=capture_key("", as_of - timedelta(days=31), 1).lstrip("/"),
    )
    if setting.get("camera_registry"):
        registry = tmp_path / "cameras.csv"
        registry.write_text("camera_id\ncam-01\ncam-02\n")
        setting = {"camera_registry": str(registry)}
    settings = settings.replace(ingest=setting)
    s3.put_object(
        Bucket=settings.s3.drops_bucket,
        Key=key,
        Body=body or jpeg_bytes(Image.new("RGB", (32, 16))),
    )
    report = _ingest_all(settings, as_of)
    assert report.by_reason == {reason: 1}


def test_no_capture_time_when_key_has_none_and_no_sidecar_or_exif(
    settings: Settings, s3: Any, as_of: datetime
) -> None:
    settings = settings.replace(ingest={"key_pattern": r"^(?P<camera>[a-z0-9-]+)/[^/]+\.jpg$"})
    s3.put_object(
        Bucket=settings.s3.drops_bucket,
        Key="cam-01/plain.jpg",
        Body=jpeg_bytes(Image.new("RGB", (32, 16))),
    )
    assert _ingest_all(settings, as_of).by_reason == {"no_capture_time": 1}


def test_rerun_after_kill_9_has_no_duplicate_and_no_gap(
    settings: Settings, s3: Any, alpr_env: dict[str, str], as_of: datetime, capture_day: date
) -> None:
    bucket = settings.s3.drops_bucket
    start = _at(capture_day, 6)
    body = jpeg_bytes(Image.new("RGB", (64, 48), (90, 90, 90)))
    keys = [capture_key(f"cam-0{i % 3}", start + timedelta(seconds=7 * i), i) for i in range(240)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    env = {**os.environ, **alpr_env, "ALPR_INGEST_BATCH_SIZE": "1", "ALPR_INGEST_WORKERS": "1"}
    code = (
        "from datetime import datetime, UTC\n"
        "from pipelines.config import load_settings\n"
        "from pipelines.ingest import register_drops\n"
        f"register_drops(load_settings(), 'killed', datetime.fromisoformat({as_of.isoformat()!r}))\n"
    )
    upgrade_catalog(settings.catalog_url)
    engine = engine_for(settings.catalog_url)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with engine.connect() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(camera_objects))
                if count.scalar_one() >= 20:
                    break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with engine.connect() as conn:
        survived = conn.execute(sa.select(sa.func.count()).select_from(camera_objects)).scalar_one()
    assert 0 < survived < len(keys), "the kill must land mid-run for this test to mean anything"

    report = _ingest_all(settings, as_of, "rerun")

    assert report.ingested == len(keys) - survived
    ledger = _ledger(settings)
    assert ledger.height == len(keys) and ledger.get_column("key").n_unique() == len(keys)
    images = scan_table(settings, IMAGES, capture_day).collect()
    assert sorted(images.get_column("key")) == sorted(keys)
    assert set(images.get_column("run_id")) == {"killed", "rerun"}


def test_report_counts_the_rows_the_database_inserted_not_those_tried(
    settings: Settings, as_of: datetime, capture_day: date
) -> None:
    # Two runs racing over the same objects both try to insert them; the ledger's unique key
    # keeps one of each, and only the run whose rows landed may count them.
    from pipelines.ingest import register

    def row(key: str, day: date, reason: str | None = None) -> dict[str, Any]:
        return {
            "image_id": register.image_id_for("b", key, "e"),
            "bucket": "b",
            "key": key,
            "etag": "e",
            "size_bytes": 10,
            "status": "quarantined" if reason else "ingested",
            "reason": reason,
            "capture_date": day,
            "run_id": "r",
            "registered_at": as_of,
        }

    upgrade_catalog(settings.catalog_url)
    engine = engine_for(settings.catalog_url)
    older = capture_day - timedelta(days=3)
    first, second = ingest.IngestReport("first"), ingest.IngestReport("second")
    register._commit(engine, [row("a", older), row("q1", older, "empty")], first, as_of)
    both = [row("a", older), row("q1", older, "empty"), row("b", capture_day)]
    both.append(row("q2", capture_day, "truncated"))
    register._commit(engine, both, second, as_of)

    assert (first.ingested, first.quarantined, first.bytes) == (1, 1, 10)
    assert (second.ingested, second.quarantined, second.bytes) == (1, 1, 10)
    assert second.by_reason == {"truncated": 1} and second.capture_dates == {capture_day}
    assert _ledger(settings).height == 4
