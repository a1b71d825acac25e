"""Recognition of a capture date against the real services, with the shipped models."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from pipelines import ingest
from pipelines.config import Settings, load_settings
from pipelines.ingest.sample import SampleDrop, seed_sample_drop
from pipelines.recognition import partition
from pipelines.recognition.partition import crop_key, recognize_partition
from pipelines.recognition.recognize import Recognizer
from pipelines.search.index import COVERAGE_KEY
from pipelines.storage.lake import DETECTIONS, IMAGES, PLATE_INDEX, READS, RECOGNITION_ERRORS
from pipelines.storage.objects import ensure_bucket
from pipelines.storage.tables import scan_table
from tests._truth import MIN_EXACT_SHARE, check_reads


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer.load(load_settings().recognition)


def _ingest(settings: Settings, as_of: datetime, day: date, n_images: int) -> Any:
    drop = seed_sample_drop(settings, day, n_images=n_images, with_bad=False)
    ingest.ingest_drops(settings, "ingest", as_of)
    return drop


def test_partition_is_recognized_and_rerun_replaces_it(
    settings: Settings, s3: Any, recognizer: Recognizer, as_of: datetime, capture_day: date
) -> None:
    drop = _ingest(settings, as_of, capture_day, n_images=4)

    report = recognize_partition(settings, capture_day, "run-1", [recognizer])

    assert report.images == 4 and report.failed == 0
    detections = scan_table(settings, DETECTIONS, capture_day).collect()
    reads = scan_table(settings, READS, capture_day).collect()
    expected = {text for texts in drop.plates.values() for text in texts}
    assert report.plates >= len(expected) * 0.75  # the detector finds most generated plates
    assert reads.height == detections.height == report.plates
    assert set(reads.get_column("detection_id")) == set(detections.get_column("detection_id"))
    assert (
        detections.select((pl.col("x2") > pl.col("x1")) & (pl.col("y2") > pl.col("y1")))
        .to_series()
        .all()
    )
    assert reads.get_column("detector_sha256").n_unique() == 1
    # Reads against the drawn truth: each top candidate is its text, one confidence a character,
    # a US state or none, and most plates read exactly in their own image.
    check_reads(settings, capture_day, drop, MIN_EXACT_SHARE)
    # crops are stored under their derivable key
    for row in detections.iter_rows(named=True):
        assert row["crop_key"] == crop_key(capture_day, row["image_id"], row["detection_id"])
        s3.head_object(Bucket=settings.s3.lake_bucket, Key=row["crop_key"])

    # a crop an older model left for this day, which no row of the new run points to
    stale = crop_key(capture_day, detections.get_column("image_id").item(0), "0" * 40)
    s3.put_object(Bucket=settings.s3.lake_bucket, Key=stale, Body=b"old crop")

    recognize_partition(settings, capture_day, "run-2", [recognizer])

    listed = s3.list_objects_v2(Bucket=settings.s3.lake_bucket, Prefix=f"crops/{capture_day}/")
    assert sorted(o["Key"] for o in listed.get("Contents", [])) == sorted(
        detections.get_column("crop_key")
    )
    again = scan_table(settings, READS, capture_day).collect()
    assert again.height == reads.height
    assert sorted(again.get_column("read_id")) == sorted(reads.get_column("read_id"))
    assert again.get_column("run_id").unique().to_list() == ["run-2"]
    # the search's plate index holds the day's reads with a plate text, once, as re-run
    indexed = (
        scan_table(settings, PLATE_INDEX).filter(pl.col("plate_key") != COVERAGE_KEY).collect()
    )
    assert sorted(indexed.get_column("read_id")) == sorted(
        again.filter(pl.col("plate_text") != "").get_column("read_id")
    )


def test_unreadable_image_is_recorded_and_does_not_stop_the_batch(
    settings: Settings, s3: Any, recognizer: Recognizer, as_of: datetime, capture_day: date
) -> None:
    drop = _ingest(settings, as_of, capture_day, n_images=2)
    broken = drop.good[0]
    s3.put_object(Bucket=settings.s3.drops_bucket, Key=broken, Body=b"\xff\xd8 no longer a jpeg")

    report = recognize_partition(settings, capture_day, "run-1", [recognizer])

    errors = scan_table(settings, RECOGNITION_ERRORS, capture_day).collect()
    assert errors.get_column("key").to_list() == [broken]
    assert "decode" in errors.get_column("error").item(0)
    assert report.images == 2 and report.failed == 1
    reads = scan_table(settings, READS, capture_day).collect()
    assert set(reads.get_column("image_id")) == set(
        scan_table(settings, IMAGES, capture_day)
        .filter(pl.col("key") != broken)
        .collect()
        .get_column("image_id")
    )  # the other image was read all the same
    intact = SampleDrop(plates={k: v for k, v in drop.plates.items() if k != broken})
    check_reads(settings, capture_day, intact, MIN_EXACT_SHARE)


def test_a_day_of_many_batches_gives_what_one_batch_gives(
    settings: Settings,
    s3: Any,
    recognizer: Recognizer,
    monkeypatch: pytest.MonkeyPatch,
    as_of: datetime,
    capture_day: date,
) -> None:
    # Output rows go through local spill files, read back two rows at a time here.
    monkeypatch.setattr(partition, "_READ_BACK_ROWS", 2)
    _ingest(settings, as_of, capture_day, n_images=6)

    one = recognize_partition(settings, capture_day, "one-batch", [recognizer])
    whole = scan_table(settings, READS, capture_day).collect().sort("read_id")
    many = recognize_partition(
        settings.replace(recognition={"batch_size": 2}), capture_day, "three-batches", [recognizer]
    )
    pieces = scan_table(settings, READS, capture_day).collect().sort("read_id")

    assert one.images == many.images == 6
    assert many.plates == one.plates == pieces.height > 2
    assert pieces.get_column("read_id").is_unique().all()
    assert pieces.get_column("read_id").to_list() == whole.get_column("read_id").to_list()
    assert pieces.get_column("plate_text").to_list() == whole.get_column("plate_text").to_list()
    assert many.mean_confidence == pytest.approx(one.mean_confidence, abs=1e-3)
    detections = scan_table(settings, DETECTIONS, capture_day).collect()
    assert sorted(detections.get_column("detection_id")) == pieces.get_column("read_id").to_list()


def test_stale_crops_are_those_no_row_of_the_run_names(
    settings: Settings, s3: Any, capture_day: date
) -> None:
    lake = settings.s3.lake_bucket
    ensure_bucket(settings.s3, lake)
    keys = [crop_key(capture_day, f"image-{i}", "d" * 40) for i in range(3)]
    for key in [*keys, f"crops/{capture_day + timedelta(days=1)}/other-day.jpg"]:
        s3.put_object(Bucket=lake, Key=key, Body=b"crop")

    def crops(day: date) -> list[str]:
        listed = s3.list_objects_v2(Bucket=lake, Prefix=f"crops/{day}/")
        return sorted(o["Key"] for o in listed.get("Contents", []))

    partition._drop_stale_crops(s3, lake, capture_day, pl.LazyFrame({"crop_key": [keys[1]]}))
    assert crops(capture_day) == [keys[1]]
    partition._drop_stale_crops(s3, lake, capture_day, pl.LazyFrame(schema={"crop_key": pl.String}))
    assert crops(capture_day) == []
    assert crops(capture_day + timedelta(days=1)) != []  # other days are not touched
