"""A realistic sample camera drop, generated here: vehicles with plates, sidecars, some bad files.

Used by ``alpr demo`` and the tests; nothing is downloaded. Every deliberately bad object is listed
with the quarantine reason ingestion must give it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from PIL import Image

from pipelines.config import Settings
from pipelines.ingest.quarantine import QuarantineReason
from pipelines.storage.objects import ensure_bucket, s3_client

__all__ = ["SampleDrop", "capture_key", "jpeg_bytes", "seed_sample_drop"]


@dataclass
class SampleDrop:
    good: list[str] = field(default_factory=list)
    bad: dict[str, QuarantineReason] = field(default_factory=dict)
    plates: dict[str, list[str]] = field(default_factory=dict)  # key -> plate texts in the image
    sidecars: dict[str, dict[str, object]] = field(default_factory=dict)  # key -> sidecar uploaded


def capture_key(camera: str, captured_at: datetime, seq: int, ext: str = "jpg") -> str:
    """The default key layout: ``<camera>/<YYYY-MM-DD>/<YYYYmmddTHHMMSSZ>_<seq>.<ext>``."""
    return f"{camera}/{captured_at:%Y-%m-%d}/{captured_at:%Y%m%dT%H%M%SZ}_{seq:05d}.{ext}"


def jpeg_bytes(image: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _scene(rng: np.random.Generator, size: tuple[int, int]) -> tuple[Image.Image, list[str]]:
    from pipelines.training.synth import render_scene

    scene = render_scene(rng, size=size)
    return scene.image, [p.text for p in scene.plates]


def seed_sample_drop(
    settings: Settings,
    day: date,
    n_images: int = 48,
    cameras: tuple[str, ...] = ("cam-01", "cam-02", "cam-07"),
    seed: int = 0,
    with_bad: bool = True,
    size: tuple[int, int] = (1280, 720),
    progress: Callable[[int], None] | None = None,
) -> SampleDrop:
    """Upload a drop for ``day`` into the drops bucket; returns what ingestion must make of it."""
    client = s3_client(settings.s3)
    bucket = settings.s3.drops_bucket
    ensure_bucket(settings.s3, bucket)
    rng = np.random.default_rng(seed)
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    drop = SampleDrop()
    for i in range(n_images):
        camera = cameras[i % len(cameras)]
        captured_at = start + timedelta(seconds=int(i * 900 + rng.integers(0, 600)))
        key = capture_key(camera, captured_at, i)
        image, plates = _scene(rng, size)
        sidecar = {
            "camera_id": camera,
            "captured_at": captured_at.isoformat().replace("+00:00", "Z"),
            "latitude": round(39.70 + float(rng.uniform(0, 0.05)), 6),
            "longitude": round(-105.10 + float(rng.uniform(0, 0.05)), 6),
            "heading": float(rng.integers(0, 360)),
            "lane": int(rng.integers(1, 4)),
        }
        client.put_object(
            Bucket=bucket, Key=key.rsplit(".", 1)[0] + ".json", Body=json.dumps(sidecar)
        )
        client.put_object(Bucket=bucket, Key=key, Body=jpeg_bytes(image), ContentType="image/jpeg")
        drop.good.append(key)
        drop.plates[key] = plates
        drop.sidecars[key] = sidecar
        if progress:
            progress(1)
    if with_bad:
        _seed_bad(settings, start + timedelta(hours=12), drop)
    return drop


def _seed_bad(settings: Settings, when: datetime, drop: SampleDrop) -> None:
    client = s3_client(settings.s3)
    bucket = settings.s3.drops_bucket
    good = jpeg_bytes(Image.new("RGB", (64, 32), (200, 200, 200)))
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    cases: list[tuple[str, bytes, QuarantineReason, dict[str, object] | str | None]] = [
        ("jpg", b"", QuarantineReason.EMPTY, None),
        ("jpg", good[: len(good) // 2], QuarantineReason.TRUNCATED, None),
        ("jpg", b"camera firmware log, not a picture\n" * 4, QuarantineReason.NOT_AN_IMAGE, None),
        ("gif", gif.getvalue(), QuarantineReason.UNSUPPORTED_FORMAT, None),
        ("jpg", good, QuarantineReason.MALFORMED_SIDECAR, "{not json"),
        ("jpg", good, QuarantineReason.CONTRADICTING_SIDECAR, {"camera_id": "cam-99"}),
    ]
    for seq, (ext, body, reason, sidecar) in enumerate(cases, start=90000):
        key = capture_key("cam-01", when + timedelta(seconds=seq - 90000), seq, ext)
        if sidecar is not None:
            text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar)
            client.put_object(Bucket=bucket, Key=key.rsplit(".", 1)[0] + ".json", Body=text)
        client.put_object(Bucket=bucket, Key=key, Body=body)
        drop.bad[key] = reason
    future = when.replace(year=when.year + 50)  # in the future whatever the run's clock says
    key = capture_key("cam-02", future, 99990)
    client.put_object(Bucket=bucket, Key=key, Body=good)
    drop.bad[key] = QuarantineReason.FUTURE_CAPTURE_TIME
