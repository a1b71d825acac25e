"""Validation against the real lake and catalog: results kept in the lake bucket, failing rows
flagged in the catalog, and a batch that failed its suite refused by the steps that read it."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.errors import DataQualityError
from pipelines.matching.run import match_partition
from pipelines.quality.run import RESULTS_PREFIX, flagged_rows, validate_day
from pipelines.recognition.partition import recognize_partition
from pipelines.storage.catalog import upgrade_catalog
from pipelines.storage.lake import DETECTIONS, IMAGES, READS
from pipelines.storage.objects import s3_client
from tests.pipelines.quality import _lake


@pytest.fixture
def lake(settings: Settings, capture_day: date) -> Settings:
    upgrade_catalog(settings.catalog_url)
    _lake.write(settings, IMAGES, _lake.images(capture_day))
    _lake.write(settings, DETECTIONS, _lake.detections(capture_day))
    return settings


def _results(settings: Settings, suite: str, day: date) -> list[dict]:
    client = s3_client(settings.s3)
    listed = client.list_objects_v2(Bucket=settings.s3.lake_bucket, Prefix=RESULTS_PREFIX + suite)
    keys = [o["Key"] for o in listed.get("Contents", [])]
    assert all(k.endswith(f".{day}.json") for k in keys), keys  # named for the day it judged
    return [
        json.loads(client.get_object(Bucket=settings.s3.lake_bucket, Key=k)["Body"].read())
        for k in keys
    ]


def test_a_good_day_passes_and_its_result_is_kept_in_the_lake(
    lake: Settings, capture_day: date, as_of: datetime
) -> None:
    _lake.write(lake, READS, _lake.reads(capture_day))
    for suite in ("images", "detections", "reads"):
        outcome = validate_day(lake, suite, capture_day, run_id="run-1", as_of=as_of)
        assert outcome.passed and not outcome.warnings, suite
        assert outcome.rows == _lake.N
    stored = _results(lake, "reads", capture_day)
    assert len(stored) == 1 and stored[0]["success"] is True
    assert stored[0]["meta"]["run_id"]["run_name"] == "run-1"
    names = {r["expectation_config"]["meta"]["name"] for r in stored[0]["results"]}
    assert "detection_linked" in names


def test_a_bad_day_is_flagged_and_refused_until_validated_again(
    lake: Settings, capture_day: date, as_of: datetime
) -> None:
    bad = _lake.reads(capture_day, texts=("ABC123", "AB$1", "")).with_columns(
        pl.col("detection_id").replace({"det2": "lost"})
    )
    _lake.write(lake, READS, bad)
    outcome = validate_day(lake, "reads", capture_day, run_id="run-1", as_of=as_of)
    assert [o.expectation.name for o in outcome.blocking] == ["detection_linked"]
    flags = flagged_rows(lake, "reads", capture_day.isoformat())
    assert flags.rows() == [("read1", "plate_text_alphabet"), ("read2", "detection_linked")]
    with pytest.raises(DataQualityError, match="detection_linked"):
        match_partition(lake, capture_day, now=as_of, run_id="match-1")

    _lake.write(lake, READS, _lake.reads(capture_day))  # the day rewritten, then re-validated
    again = validate_day(lake, "reads", capture_day, run_id="run-2", as_of=as_of)
    assert again.passed
    assert flagged_rows(lake, "reads", capture_day.isoformat()).is_empty()
    assert match_partition(lake, capture_day, now=as_of, run_id="match-2").reads == _lake.N


def test_images_that_failed_their_suite_are_not_recognized(
    lake: Settings, capture_day: date, as_of: datetime
) -> None:
    strict = lake.replace(quality={"min_image_side": 2000})  # every 1280x720 frame fails
    outcome = validate_day(strict, "images", capture_day, run_id="run-1", as_of=as_of)
    assert {o.expectation.name for o in outcome.blocking} == {"width_in_bounds", "height_in_bounds"}
    with pytest.raises(DataQualityError, match=f"images {capture_day}"):
        recognize_partition(lake, capture_day, "rec-1", recognizers=[object()])  # type: ignore[list-item]
