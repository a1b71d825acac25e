"""Issue 9 end to end: a camera's trailer and a decompression bomb, uploaded to SeaweedFS and
registered against PostgreSQL."""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from PIL import Image

from pipelines import ingest
from pipelines.config import Settings
from pipelines.ingest.sample import capture_key, jpeg_bytes
from pipelines.storage.catalog import camera_objects, engine_for
from pipelines.storage.lake import IMAGES
from pipelines.storage.tables import scan_table


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _png_bomb(side: int) -> bytes:
    """A real 1-bit PNG, side x side black pixels, in a few tens of kilobytes."""
    row = b"\x00" * (1 + (side + 7) // 8)
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    ihdr = side.to_bytes(4, "big") * 2 + b"\x01\x00\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def test_a_trailer_jpeg_is_ingested_and_a_bomb_quarantined_too_large(
    settings: Settings, s3: Any, as_of: datetime, capture_day: date
) -> None:
    bucket = settings.s3.drops_bucket
    when = datetime(capture_day.year, capture_day.month, capture_day.day, 8, tzinfo=UTC)
    trailer_key = capture_key("cam-01", when, 1)
    bomb_key = capture_key("cam-01", when, 2, ext="png")
    trailer = jpeg_bytes(Image.new("RGB", (64, 48), (90, 90, 90))) + b"SEFH" + b"\x01" * 500
    bomb = _png_bomb(20_000)
    assert len(bomb) < 60_000  # 400 million pixels in under 60 kB
    s3.put_object(Bucket=bucket, Key=trailer_key, Body=trailer)
    s3.put_object(Bucket=bucket, Key=bomb_key, Body=bomb)

    report = ingest.ingest_drops(settings, "run-1", as_of)[0]

    assert (report.ingested, report.by_reason) == (1, {"too_large": 1})
    with engine_for(settings.catalog_url).connect() as conn:
        ledger = pl.read_database(sa.select(camera_objects), conn)
    refused = ledger.filter(pl.col("status") == "quarantined").select("key", "reason", "detail")
    assert refused.rows() == [
        (
            bomb_key,
            "too_large",
            "20000x20000 is 400000000 pixels, over ingest.max_image_pixels=40000000",
        )
    ]
    lake = s3.list_objects_v2(Bucket=settings.s3.lake_bucket, Prefix="quarantine/")
    assert [o["Key"] for o in lake.get("Contents", [])] == [
        f"quarantine/too_large/{bucket}/{bomb_key}"
    ]
    images = scan_table(settings, IMAGES, capture_day).collect()
    assert images.select("key", "image_format", "width", "height", "size_bytes").rows() == [
        (trailer_key, "JPEG", 64, 48, len(trailer))
    ]
