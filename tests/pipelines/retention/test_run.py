"""Retention over SeaweedFS and PostgreSQL: expired data is gone from the tables, their logs,
every object version and the store's volume files; recent and held data stays."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.alerts.tables import alerts
from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.ingest.register import register_drops
from pipelines.preservation.selection import Selection
from pipelines.preservation.tables import holds
from pipelines.quality.run import RESULTS_PREFIX, validate_day
from pipelines.quality.tables import quality_verdicts
from pipelines.retention import run_retention
from pipelines.retention.tables import object_deletions
from pipelines.storage.catalog import camera_objects, engine_for
from pipelines.storage.lake import DETECTIONS, IMAGES, LAKE_TABLES, READS
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table
from tests.pipelines.retention._data import Day, lake_objects, seed, store_files_with, versions


def _grep(root: Path, needle: bytes) -> list[str]:
    found = subprocess.run(
        ["grep", "-rlaF", needle.decode(), str(root)], capture_output=True, text=True
    )
    return found.stdout.split()


def _table_bytes_with(settings: Settings, needle: bytes) -> list[str]:
    return [k for k, body in lake_objects(settings, "tables/").items() if needle in body]


def _plates(settings: Settings) -> set[str]:
    return set(scan_table(settings, READS).select("plate_text").collect().to_series())


@pytest.fixture
def seeded(settings: Settings, as_of: datetime) -> tuple[Day, Day]:
    old = seed(settings, as_of, (as_of - timedelta(days=370)).date())
    recent = seed(settings, as_of, (as_of - timedelta(days=10)).date())
    return old, recent


def test_expired_data_is_gone_everywhere_and_recent_data_stays(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day], store_dir: Path
) -> None:
    old, recent = seeded
    drops = settings.s3.drops_bucket
    # the markers are findable before: the checks below would see a survivor
    assert _table_bytes_with(settings, old.plates[0].encode())
    assert _grep(store_dir, old.image_marker)

    report = run_retention(settings, as_of=as_of, dry_run=False, actor="service")

    images = report.classes["images"]
    assert images.deleted == len(old.keys) and images.held == 0
    assert report.classes["reads"].rows == {
        "reads": 3,
        "detections": 3,
        "recognition_errors": 1,
        "sightings": 3,
    }
    assert report.classes["alerts"].deleted == 2
    # every version of the old images and sidecars is gone, recent ones untouched (2 + 1 each)
    left = versions(settings, drops)
    assert not [k for k, _ in left if k in old.keys or k in old.sidecars]
    assert len(left) == 3 * len(recent.keys)
    # crops
    lake = settings.s3.lake_bucket
    assert not versions(settings, lake, f"crops/{old.day.isoformat()}/")
    assert len(versions(settings, lake, f"crops/{recent.day.isoformat()}/")) == len(recent.crops)
    # tables: old partitions empty, recent ones whole; no old plate anywhere under tables/
    for table in LAKE_TABLES:
        counts = scan_table(settings, table).group_by("capture_date").len().collect()
        assert counts.get_column("capture_date").to_list() == [recent.day], table.name
    assert _plates(settings) == set(recent.plates)
    for plate in old.plates:
        assert not _table_bytes_with(settings, plate.encode()), plate
    assert _table_bytes_with(settings, recent.plates[0].encode())  # the check still sees live data
    # the store's own files: no byte of an old image or crop survives the vacuum
    assert report.store_vacuumed
    assert not store_files_with(settings, store_dir, old.image_marker)
    assert not store_files_with(settings, store_dir, old.crop_marker)
    assert _grep(store_dir, recent.image_marker)
    # alerts and their copies of the reads
    engine = engine_for(settings.catalog_url)
    with engine.connect() as conn:
        left_alerts = set(conn.execute(sa.select(alerts.c.alert_id)).scalars())
        ledger = pl.DataFrame(
            [dict(r) for r in conn.execute(sa.select(camera_objects)).mappings()],
            infer_schema_length=None,
        )
        deletions = conn.execute(sa.select(sa.func.count()).select_from(object_deletions)).scalar()
        audit = conn.execute(
            sa.select(audit_events).where(audit_events.c.action == "retention.run")
        ).one()
    assert left_alerts == set(recent.alert_ids)
    # the ledger keeps bucket, key and ETag of deleted objects, and no facts about them
    gone = ledger.filter(pl.col("key").is_in(old.keys))
    assert gone.height == len(old.keys) and deletions == len(old.keys)
    assert set(gone.get_column("status")) == {"deleted"}
    for column in ("sha256", "camera_id", "captured_at", "latitude", "longitude", "sidecar_key"):
        assert gone.get_column(column).is_null().all(), column
    assert gone.get_column("etag").is_not_null().all()
    # the audit entry: counts per day and camera, no plate
    details = json.loads(audit.details)
    assert details["classes"]["images"]["by_day"] == {
        old.day.isoformat(): {"cam-01": 2, "cam-02": 2}
    }
    assert not any(p in audit.details for p in old.plates + recent.plates)


def test_a_rerun_deletes_nothing_more_and_deleted_objects_are_not_registered_again(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    old, _ = seeded
    run_retention(settings, as_of=as_of, dry_run=False)
    again = run_retention(settings, as_of=as_of, dry_run=False)
    assert all(c.deleted == 0 and c.objects == 0 for c in again.classes.values())
    # a camera that uploads the very same object again: the ledger knows its (bucket, key, ETag)
    client = s3_client(settings.s3)
    body = b"same bytes"
    client.put_object(Bucket=settings.s3.drops_bucket, Key=old.keys[0], Body=body)
    etag = client.head_object(Bucket=settings.s3.drops_bucket, Key=old.keys[0])["ETag"].strip('"')
    with engine_for(settings.catalog_url).begin() as conn:
        conn.execute(
            camera_objects.update().where(camera_objects.c.key == old.keys[0]).values(etag=etag)
        )
    report = register_drops(settings, "ingest-again", as_of)
    assert report.ingested == 0 and report.quarantined == 0


def test_dry_run_counts_what_a_run_deletes_and_deletes_nothing(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    before = versions(settings, settings.s3.drops_bucket)
    dry = run_retention(settings, as_of=as_of, dry_run=True)
    assert versions(settings, settings.s3.drops_bucket) == before
    assert len(_plates(settings)) == 6
    real = run_retention(settings, as_of=as_of, dry_run=False)
    for name, entry in dry.classes.items():
        assert (entry.deleted, entry.rows, entry.by_day) == (
            real.classes[name].deleted,
            real.classes[name].rows,
            real.classes[name].by_day,
        ), name


def test_held_data_is_kept_and_the_rest_of_its_day_deleted(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day], store_dir: Path
) -> None:
    old, _ = seeded
    held_plate = old.plates[1]
    with engine_for(settings.catalog_url).begin() as conn:
        conn.execute(
            holds.insert().values(
                hold_id="h-test",
                request_key="k",
                case_number="24-001",
                requester="det. a",
                legal_basis="felony_criminal_investigation",
                reason="r",
                selection=Selection(plates=(held_plate.lower(),)).to_json(),
                placed_at=as_of - timedelta(days=300),
                placed_by="admin",
                status="preserved",
                evidence_bucket="evidence",
                evidence_prefix="x",
                retain_until=as_of,
            )
        )
    report = run_retention(settings, as_of=as_of, dry_run=False)
    assert report.classes["images"].held == 1 and report.classes["reads"].held == 1
    assert report.classes["alerts"].held == 1  # the alert of the held read
    assert _plates(settings) - set(old.plates) and held_plate in _plates(settings)
    assert not (set(old.plates) - {held_plate}) & _plates(settings)
    held_image = old.image_ids[1]
    detections = scan_table(settings, DETECTIONS).filter(pl.col("image_id") == held_image)
    assert detections.collect().height == 1
    crops = versions(settings, settings.s3.lake_bucket, f"crops/{old.day.isoformat()}/")
    assert [k for k, _ in crops] == [old.crops[1]]
    images = scan_table(settings, IMAGES, old.day).collect()
    assert images.get_column("image_id").to_list() == [held_image]
    key = images.get_column("key")[0]
    assert len([k for k, _ in versions(settings, settings.s3.drops_bucket) if k == key]) == 2
    # unheld plates of that day are gone from the table's files too
    for plate in set(old.plates) - {held_plate}:
        assert not _table_bytes_with(settings, plate.encode()), plate
    # released: the next pass deletes it
    with engine_for(settings.catalog_url).begin() as conn:
        conn.execute(holds.update().values(released_at=as_of, released_by="admin"))
    later = run_retention(settings, as_of=as_of + timedelta(hours=1), dry_run=False)
    assert later.classes["reads"].deleted == 1 and held_plate not in _plates(settings)
    assert not versions(settings, settings.s3.lake_bucket, f"crops/{old.day.isoformat()}/")


def test_shorter_periods_apply_per_data_class(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    _, recent = seeded
    thirty = settings.replace(retention={"reads_days": 5, "alerts_days": 5})
    report = run_retention(thirty, as_of=as_of, dry_run=False)
    assert report.classes["reads"].rows["reads"] == 6  # both days' reads
    assert report.classes["images"].deleted == 4  # only the old day's images (365 days)
    assert len(versions(settings, settings.s3.lake_bucket, f"crops/{recent.day.isoformat()}/")) == 3
    assert scan_table(settings, READS).collect().height == 0
    assert scan_table(settings, IMAGES).collect().height == len(recent.keys)


def test_quarantined_objects_age_from_registration_when_they_have_no_capture_time(
    settings: Settings, as_of: datetime
) -> None:
    client = s3_client(settings.s3)
    drops = settings.s3.drops_bucket
    client.put_bucket_versioning(Bucket=drops, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=drops, Key="cam-01/old-empty.jpg", Body=b"")
    register_drops(settings, "ingest-old", as_of - timedelta(days=200))
    client.put_object(Bucket=drops, Key="cam-01/new-empty.jpg", Body=b"")
    register_drops(settings, "ingest-new", as_of - timedelta(days=2))
    assert len(versions(settings, settings.s3.lake_bucket, "quarantine/")) == 2
    short = settings.replace(retention={"quarantine_days": 30})

    report = run_retention(short, as_of=as_of, dry_run=False)

    assert report.classes["quarantine"].deleted == 1
    assert [k for k, _ in versions(settings, drops)] == ["cam-01/new-empty.jpg"]
    left = versions(settings, settings.s3.lake_bucket, "quarantine/")
    assert [k.rsplit("/", 1)[1] for k, _ in left] == ["new-empty.jpg"]
    with engine_for(settings.catalog_url).connect() as conn:
        rows = dict(conn.execute(sa.select(camera_objects.c.key, camera_objects.c.status)).all())
    assert rows == {"cam-01/old-empty.jpg": "deleted", "cam-01/new-empty.jpg": "quarantined"}


def test_what_validation_kept_of_an_expired_day_goes_with_it(
    settings: Settings, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    old, recent = seeded
    for day in (old.day, recent.day):
        validate_day(settings, "reads", day, run_id="check-1", as_of=as_of)
    assert lake_objects(settings, RESULTS_PREFIX + "reads/")  # kept in the lake

    report = run_retention(settings, as_of=as_of, dry_run=False, actor="service")

    left = list(lake_objects(settings, RESULTS_PREFIX))
    assert left and all(f".{recent.day}." in key for key in left), left
    with engine_for(settings.catalog_url).connect() as conn:
        days = conn.execute(sa.select(quality_verdicts.c.capture_date)).scalars().all()
    assert days == [recent.day]
    assert report.classes["reads"].objects >= 1
