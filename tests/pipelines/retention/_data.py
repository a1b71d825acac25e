"""Data for retention and preservation tests, written by the tests themselves: camera drops in a
versioned bucket (two versions each, with a sidecar), ingested for real, then the recognition
tables, crops and alerts those images would have, each carrying markers the tests grep for."""

from __future__ import annotations

import io
import json
import os
import subprocess
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa
from PIL import Image

from pipelines.alerts.states import ALERT_NOTICE
from pipelines.alerts.tables import alert_hits, alerts
from pipelines.analytics import AnalyticsKey, build_sightings
from pipelines.config import Settings
from pipelines.ingest.images import pending_image_partitions, write_images_partition
from pipelines.ingest.register import register_drops
from pipelines.recognition.partition import (
    crop_key,
)
from pipelines.retention._objects import vacuum_store
from pipelines.storage.catalog import camera_objects, engine_for
from pipelines.storage.lake import DETECTIONS, READS, RECOGNITION_ERRORS
from pipelines.storage.objects import ensure_bucket, s3_client
from pipelines.storage.tables import conform, write_partition_batches


@dataclass
class Day:
    """What was seeded for one capture date."""

    day: date
    image_ids: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    sidecars: list[str] = field(default_factory=list)
    plates: list[str] = field(default_factory=list)  # one read per image, plate i of image i
    read_ids: list[str] = field(default_factory=list)
    crops: list[str] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)
    image_marker: bytes = b""  # in every image of the day (a JPEG comment)
    crop_marker: bytes = b""
    error_image_id: str = ""


def plate_for(day: date, i: int, camera: str) -> str:
    """A plate no other seeded read has (letters and digits that match keys never fold)."""
    token = uuid.uuid4().hex[:4].upper().replace("0", "Q").replace("1", "W").replace("O", "X")
    return f"Z{token}{i}"


def _jpeg(marker: bytes, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90, comment=marker)
    return buf.getvalue()


def upload_drops(settings: Settings, day: date, cameras: tuple[str, ...], per_camera: int) -> Day:
    """Images (two versions each) with sidecars in the versioned drops bucket."""
    client = s3_client(settings.s3)
    bucket = settings.s3.drops_bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    seeded = Day(day=day, image_marker=f"IMG-{uuid.uuid4().hex}".encode())
    for camera in cameras:
        for i in range(per_camera):
            at = datetime.combine(day, time(8, 0), tzinfo=UTC) + timedelta(minutes=7 * i)
            stem = f"{camera}/{day.isoformat()}/{at:%Y%m%dT%H%M%SZ}_{i:03d}"
            sidecar = {
                "camera_id": camera,
                "captured_at": at.isoformat().replace("+00:00", "Z"),
                "latitude": 39.7047,
                "longitude": -105.0814,
                "heading": 270,
                "lane": 1,
            }
            client.put_object(Bucket=bucket, Key=f"{stem}.json", Body=json.dumps(sidecar).encode())
            for version in range(2):
                body = _jpeg(
                    seeded.image_marker + f"-{version}".encode(), seed=hash((stem, version)) % 2**32
                )
                client.put_object(Bucket=bucket, Key=f"{stem}.jpg", Body=body)
            seeded.keys.append(f"{stem}.jpg")
            seeded.sidecars.append(f"{stem}.json")
    return seeded


def ingest(settings: Settings, as_of: datetime) -> None:
    register_drops(settings, f"ingest-{uuid.uuid4().hex[:6]}", as_of)
    for day in pending_image_partitions(settings):
        write_images_partition(settings, day)


def recognize(settings: Settings, seeded: Day, *, with_alerts: bool = True) -> None:
    """Reads, detections, one recognition error, crops and alerts for the seeded images."""
    engine = engine_for(settings.catalog_url)
    with engine.connect() as conn:
        ledger = (
            conn.execute(
                sa.select(camera_objects)
                .where(
                    camera_objects.c.capture_date == seeded.day,
                    camera_objects.c.status == "ingested",
                )
                .order_by(camera_objects.c.key)
            )
            .mappings()
            .all()
        )
    client = s3_client(settings.s3)
    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    seeded.crop_marker = f"CROP-{uuid.uuid4().hex}".encode()
    detections: list[dict[str, Any]] = []
    reads: list[dict[str, Any]] = []
    for i, row in enumerate(ledger[:-1]):  # the last image "failed": a recognition error
        det = f"det-{row['image_id'][:12]}-{i}"
        plate = plate_for(seeded.day, i, row["camera_id"])
        key = crop_key(seeded.day, row["image_id"], det)
        client.put_object(
            Bucket=settings.s3.lake_bucket, Key=key, Body=seeded.crop_marker + os.urandom(2000)
        )
        base = {
            "detection_id": det,
            "image_id": row["image_id"],
            "camera_id": row["camera_id"],
            "captured_at": row["captured_at"],
            "detector_sha256": "d" * 64,
            "run_id": "rec-1",
            "capture_date": seeded.day,
        }
        detections.append(
            base
            | {
                "x1": 11.5,
                "y1": 12.5,
                "x2": 40.5,
                "y2": 30.5,
                "score": 0.9,
                "detector_backend": "onnx",
                "crop_key": key,
            }
        )
        reads.append(
            base
            | {
                "read_id": det,
                "plate_text": plate,
                "confidence": 0.93,
                "char_confidences": [0.9] * len(plate),
                "candidates": [{"text": plate, "score": 0.93}],
                "jurisdiction": "co",
                "ocr_model": "ppocr",
            }
        )
        seeded.image_ids.append(row["image_id"])
        seeded.plates.append(plate)
        seeded.read_ids.append(det)
        seeded.crops.append(key)
    last = ledger[-1]
    seeded.error_image_id = last["image_id"]
    errors = [
        {
            "image_id": last["image_id"],
            "key": last["key"],
            "error": "decode failed",
            "run_id": "rec-1",
            "capture_date": seeded.day,
        }
    ]
    for table, rows in ((DETECTIONS, detections), (READS, reads), (RECOGNITION_ERRORS, errors)):
        frame = conform(pl.DataFrame(rows, infer_schema_length=None), table.schema)
        write_partition_batches(settings, table, seeded.day, [frame])
    build_sightings(settings, seeded.day, AnalyticsKey(1, b"retention-test-key-" * 2))
    if with_alerts:
        with engine.begin() as conn:
            for read in reads[:2]:
                alert_id = f"a-{read['read_id'][:20]}"
                conn.execute(alerts.insert().values(_alert_row(alert_id, read)))
                conn.execute(
                    alert_hits.insert().values(
                        read_id=read["read_id"],
                        entry_id="e1",
                        alert_id=alert_id,
                        hits=1,
                        first_seen_at=read["captured_at"],
                        last_seen_at=read["captured_at"],
                        recorded_at=read["captured_at"],
                    )
                )
                seeded.alert_ids.append(alert_id)


def _alert_row(alert_id: str, read: dict[str, Any]) -> dict[str, Any]:
    at = read["captured_at"]
    return {
        "alert_id": alert_id,
        "state": "pending",
        "created_at": at,
        "updated_at": at,
        "read_id": read["read_id"],
        "detection_id": read["detection_id"],
        "image_id": read["image_id"],
        "camera_id": read["camera_id"],
        "captured_at": at,
        "capture_date": read["capture_date"],
        "crop_key": "crops/x",
        "plate_text": read["plate_text"],
        "confidence": 0.9,
        "matched_text": read["plate_text"],
        "entry_id": "e1",
        "list_name": "ncic",
        "list_version": 1,
        "entry_plate": read["plate_text"],
        "match_kind": "exact",
        "state_not_read": False,
        "seen_before_listed": False,
        "hit_count": 1,
        "first_seen_at": at,
        "last_seen_at": at,
        "notice": ALERT_NOTICE,
    }


def seed(
    settings: Settings,
    as_of: datetime,
    day: date,
    cameras: tuple[str, ...] = ("cam-01", "cam-02"),
    per_camera: int = 2,
) -> Day:
    seeded = upload_drops(settings, day, cameras, per_camera)
    ingest(settings, as_of)
    recognize(settings, seeded)
    return seeded


def lake_objects(settings: Settings, prefix: str) -> dict[str, bytes]:
    """Every version of every object under ``prefix`` in the lake bucket, with its bytes."""
    client = s3_client(settings.s3)
    found: dict[str, bytes] = {}
    pages = client.get_paginator("list_object_versions").paginate(
        Bucket=settings.s3.lake_bucket, Prefix=prefix
    )
    for page in pages:
        for v in page.get("Versions", []):
            body = client.get_object(
                Bucket=settings.s3.lake_bucket, Key=v["Key"], VersionId=v["VersionId"]
            )["Body"].read()
            found[f"{v['Key']}@{v['VersionId']}"] = body
    return found


def versions(settings: Settings, bucket: str, prefix: str = "") -> list[tuple[str, str]]:
    client = s3_client(settings.s3)
    out: list[tuple[str, str]] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        out += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        out += [(v["Key"], v["VersionId"]) for v in page.get("DeleteMarkers", [])]
    return out


def store_files_with(
    settings: Settings, store_dir: Path, marker: bytes, wait_s: float = 60.0
) -> list[str]:
    """The store's data files that hold ``marker`` once SeaweedFS is done deleting. Its filer
    frees a deleted object's chunks from a queue after the S3 call returns, so on a busy machine
    the pass's vacuum can come before the bytes are even marked deleted: vacuum again, a little
    later, while they show, for at most ``wait_s`` (what the next nightly pass would do)."""
    deadline = clock.monotonic() + wait_s
    while True:
        found = subprocess.run(
            ["grep", "-rlaF", marker.decode(), str(store_dir)], capture_output=True, text=True
        ).stdout.split()
        if not found or clock.monotonic() > deadline:
            return found
        clock.sleep(2.0)
        vacuum_store(settings)
