"""The sightings table: plates pseudonymized by a keyed hash, no plate text, images or positions;
one pseudonym per plate whatever the camera; another key, other pseudonyms; re-runs change
nothing. Storage tests against SeaweedFS."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

from pipelines.analytics import AnalyticsKey, AnalyticsKeyError, build_sightings, pseudonymize
from pipelines.analytics._key import PSEUDONYM, analytics_key
from pipelines.config import AnalyticsSettings, Settings, load_settings
from pipelines.errors import ConfigError
from pipelines.storage.lake import READS, SIGHTINGS
from pipelines.storage.objects import delta_storage_options, s3_client
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import (
    DAY1,
    DAY2,
    KEY,
    OTHER_KEY,
    PLATES,
    seeded,
    with_key,
)

_KEY = AnalyticsKey(1, KEY.encode())
_AT = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def _reads(*rows: tuple[str, str | None, str]) -> pl.DataFrame:
    """(read id, plate, camera) reads at 14:00 UTC on 2026-03-09."""
    return pl.DataFrame(
        {
            "read_id": [r[0] for r in rows],
            "plate_text": [r[1] for r in rows],
            "camera_id": [r[2] for r in rows],
            "captured_at": [_AT] * len(rows),
            "jurisdiction": ["co"] * len(rows),
            "confidence": [0.9] * len(rows),
            "capture_date": [_AT.date()] * len(rows),
        },
        schema_overrides={"confidence": pl.Float32, "captured_at": pl.Datetime("us", "UTC")},
    )


def test_one_plate_on_two_cameras_is_one_pseudonym_and_no_plate_text_is_kept() -> None:
    reads = _reads(
        ("r1", "B0S123", "cam-07"), ("r2", "B0S123", "cam-09"), ("r3", "XKC442", "cam-07")
    )

    rows = pseudonymize(reads, _KEY, "America/Denver")

    assert rows.schema == SIGHTINGS.schema
    assert "plate_text" not in rows.columns and "read_id" not in rows.columns
    by_camera = dict(zip(rows["camera_id"], rows["pseudonym"], strict=False))
    first, second, other = rows["pseudonym"].to_list()
    assert first == second != other
    assert by_camera["cam-09"] == first
    assert all(PSEUDONYM.fullmatch(p) for p in rows["pseudonym"])
    assert rows["sighting_id"].n_unique() == 3
    assert not {"r1", "r2", "r3"} & set(rows["sighting_id"])
    assert rows["hour_of_day"].to_list() == [8, 8, 8]  # 14:00 UTC is 08:00 in Denver
    assert rows["key_version"].to_list() == [1, 1, 1]
    assert rows["key_id"].unique().to_list() == [_KEY.key_id]
    text = rows.write_csv()
    assert "B0S123" not in text and "XKC442" not in text and KEY not in text


def test_a_different_key_gives_different_pseudonyms_and_ids() -> None:
    reads = _reads(("r1", "B0S123", "cam-07"), ("r2", "XKC442", "cam-07"))
    other = AnalyticsKey(2, OTHER_KEY.encode())

    mine, theirs = (pseudonymize(reads, k, "UTC") for k in (_KEY, other))

    assert not set(mine["pseudonym"]) & set(theirs["pseudonym"])
    assert not set(mine["sighting_id"]) & set(theirs["sighting_id"])
    assert _KEY.key_id != other.key_id
    assert_frame_equal(pseudonymize(reads, _KEY, "UTC"), mine)  # the same key: the same rows


def test_reads_without_plate_text_are_left_out() -> None:
    rows = pseudonymize(
        _reads(("r1", None, "cam-07"), ("r2", "", "cam-07"), ("r3", "AB1", "cam-07")),
        _KEY,
        "UTC",
    )
    assert rows.height == 1 and rows["pseudonym"].null_count() == 0


def test_the_key_comes_from_the_environment_or_a_file_and_is_never_shown(tmp_path: Path) -> None:
    settings = load_settings(env={"ALPR_ANALYTICS_KEY": KEY, "ALPR_ANALYTICS_KEY_VERSION": "3"})
    assert analytics_key(settings.analytics) == AnalyticsKey(3, KEY.encode())
    assert settings.masked()["analytics"]["key"] == "****"
    assert KEY not in repr(settings) and KEY not in repr(analytics_key(settings.analytics))
    secret = tmp_path / "analytics.key"
    secret.write_text(OTHER_KEY + "\n")
    from_file = load_settings(env={"ALPR_ANALYTICS_KEY_FILE": str(secret)})
    assert analytics_key(from_file.analytics).secret == OTHER_KEY.encode()
    with pytest.raises(ConfigError, match=r"analytics\.key is not set") as missing:
        analytics_key(AnalyticsSettings())
    assert "ALPR_ANALYTICS_KEY" in str(missing.value)
    with pytest.raises(ConfigError, match="both set"):
        AnalyticsSettings(key=KEY, key_file=str(secret))
    with pytest.raises(ConfigError, match="too short") as short:
        AnalyticsSettings(key="short-key")
    assert "short-key" not in str(short.value)
    with pytest.raises(ConfigError, match="not reason categories"):
        load_settings(env={"ALPR_ANALYTICS_REIDENTIFY_CATEGORIES": "fishing_trip"})


def _table_bytes(settings: Settings) -> bytes:
    client = s3_client(settings.s3)
    found = b""
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3.lake_bucket, Prefix=f"tables/{SIGHTINGS.name}/"
    )
    for page in pages:
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=settings.s3.lake_bucket, Key=item["Key"])["Body"]
            found += body.read()
    return found


def test_a_built_day_holds_no_plate_text_and_a_rebuild_changes_nothing(
    settings: Settings,
) -> None:
    analytics = seeded(settings)

    report = build_sightings(analytics, DAY1)
    first = scan_table(analytics, SIGHTINGS).sort("sighting_id").collect()
    again = build_sightings(analytics, DAY1)

    assert (report.rows, again.rows, report.key_version) == (4, 4, 1)
    assert_frame_equal(scan_table(analytics, SIGHTINGS).sort("sighting_id").collect(), first)
    assert first["capture_date"].unique().to_list() == [DAY1]
    assert first.filter(pl.col("camera_id") == "cam-07")["pseudonym"].n_unique() == 3
    [shared] = set(first.filter(pl.col("camera_id") == "cam-09")["pseudonym"])
    assert first.filter(pl.col("pseudonym") == shared)["camera_id"].sort().to_list() == [
        "cam-07",
        "cam-09",
    ]
    stored = _table_bytes(analytics)  # data files and the Delta log, statistics included
    assert stored
    for plate in PLATES:
        assert plate.encode() not in stored, plate
    assert b"cam-07/r1.jpg" not in stored and b"39.7" not in stored


def test_a_day_whose_reads_are_gone_is_emptied(settings: Settings) -> None:
    analytics = seeded(settings)
    build_sightings(analytics, DAY1)
    build_sightings(analytics, DAY2)
    scan = scan_table(analytics, READS, DAY2).collect()
    assert scan.height == 2
    DeltaTable(READS.uri(analytics.s3), storage_options=delta_storage_options(analytics.s3)).delete(
        f"capture_date = '{DAY2.isoformat()}'"
    )

    assert build_sightings(analytics, DAY2).rows == 0
    days = scan_table(analytics, SIGHTINGS).select("capture_date").unique().collect()
    assert days.to_series().to_list() == [DAY1]


def test_a_new_key_under_the_same_version_is_refused(settings: Settings) -> None:
    analytics = seeded(settings)
    build_sightings(analytics, DAY1)

    with pytest.raises(AnalyticsKeyError, match=r"needs a new analytics\.key_version"):
        build_sightings(with_key(analytics, OTHER_KEY, 1), DAY2)
    assert build_sightings(with_key(analytics, OTHER_KEY, 2), DAY2).rows == 2
