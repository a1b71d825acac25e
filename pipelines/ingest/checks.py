"""Checks of one camera object: its key, its bytes and its sidecar. Pure functions, no I/O.

Each check returns facts or raises :class:`Quarantined` with a reason and a detail that tells an
engineer what exactly was wrong.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from PIL import Image, UnidentifiedImageError

from pipelines.config import IngestSettings
from pipelines.ingest.quarantine import Quarantined, QuarantineReason

__all__ = [
    "ImageFacts",
    "KeyFacts",
    "Sidecar",
    "inspect_image",
    "parse_key",
    "parse_sidecar",
    "resolve_capture",
]

Image.MAX_IMAGE_PIXELS = 100_000_000  # refuse decompression bombs rather than hang a worker

_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_IFD = 0x8769


@dataclass(frozen=True)
class KeyFacts:
    camera_id: str
    captured_at: datetime | None


@dataclass(frozen=True)
class ImageFacts:
    image_format: str
    width: int
    height: int
    exif_captured_at: datetime | None


@dataclass(frozen=True)
class Sidecar:
    camera_id: str | None = None
    captured_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    heading: float | None = None
    lane: int | None = None


# strftime fields of a fixed width: formats made of these and literals parse by one regex.
_FIXED_FIELDS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


@cache
def _time_parser(time_format: str) -> Callable[[str], datetime]:
    """``strptime`` for ``time_format``, with a regex fast path for fixed-width formats.

    strptime is most of a key's parsing time. Text the fast path does not take (other widths,
    case, out-of-range fields) goes to strptime, so results and errors are strptime's.
    """

    def slow(text: str) -> datetime:
        return datetime.strptime(text, time_format)

    parts = re.split(r"(%.)", time_format)
    fields = parts[1::2]
    names = set(fields)
    if len(names) != len(fields) or not {"%Y", "%m", "%d"} <= names <= _FIXED_FIELDS.keys():
        return slow
    pattern = re.compile(
        "".join(
            f"(?P<f{part[1]}>[0-9]{{{_FIXED_FIELDS[part]}}})" if i % 2 else re.escape(part)
            for i, part in enumerate(parts)
        )
    )

    def fast(text: str) -> datetime:
        match = pattern.fullmatch(text)
        if match is not None:
            v = {name: int(value) for name, value in match.groupdict().items()}
            try:
                return datetime(
                    v["fY"], v["fm"], v["fd"], v.get("fH", 0), v.get("fM", 0), v.get("fS", 0)
                )
            except ValueError:
                pass
        return slow(text)

    return fast


def parse_key(key: str, pattern: re.Pattern[str], time_format: str) -> KeyFacts:
    """Camera and (optionally) capture time from the object key, by the configured pattern."""
    match = pattern.search(key)
    if match is None:
        raise Quarantined(
            QuarantineReason.UNRECOGNISED_KEY, f"key {key!r} does not match ingest.key_pattern"
        )
    groups = match.groupdict()
    captured_at = None
    if groups.get("captured"):
        try:
            captured_at = _time_parser(time_format)(groups["captured"]).replace(tzinfo=UTC)
        except ValueError:
            raise Quarantined(
                QuarantineReason.UNRECOGNISED_KEY,
                f"capture time {groups['captured']!r} in key does not parse as {time_format!r}",
            ) from None
    return KeyFacts(camera_id=groups["camera"], captured_at=captured_at)


def _ends_cleanly(data: bytes, image_format: str) -> bool:
    """Whether the stream ends where the format says it must (cheaper than a full decode)."""
    if image_format == "JPEG":
        return data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if image_format == "PNG":
        return data[-12:-8] == b"\x00\x00\x00\x00" and data[-8:-4] == b"IEND"
    return True


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
_SOS, _APP1 = 0xDA, 0xE1


def _plain_jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's frame header, when its header is well formed and carries
    no EXIF; ``None`` sends the image through PIL, which tells every other case apart.

    Opening with PIL costs several times this marker walk, and camera drops are mostly JPEGs.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    size = None
    pos, end = 2, len(data)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4])
        segment = data[pos + 4 : pos + 2 + length]
        if length < 2 or len(segment) != length - 2:
            return None
        if marker == _APP1 and segment.startswith(b"Exif\x00"):
            return None
        if marker in _SOF_MARKERS:
            if size is not None or length < 8 or length != 8 + 3 * segment[5]:
                return None
            height, width = int.from_bytes(segment[1:3]), int.from_bytes(segment[3:5])
            size = (width, height)
        if marker == _SOS:
            limit = Image.MAX_IMAGE_PIXELS
            if size is None or not 0 < size[0] * size[1] <= (limit or size[0] * size[1]):
                return None
            return size
        pos += 2 + length
    return None


def inspect_image(data: bytes, settings: IngestSettings) -> ImageFacts:
    """Format, size and EXIF time of an image, or the reason it is not a usable one."""
    if not data:
        raise Quarantined(QuarantineReason.EMPTY, "object has zero bytes")
    if len(data) > settings.max_image_bytes:
        raise Quarantined(
            QuarantineReason.TOO_LARGE,
            f"{len(data)} bytes exceeds ingest.max_image_bytes={settings.max_image_bytes}",
        )
    size = _plain_jpeg_size(data)
    if size is not None and "JPEG" in settings.image_formats and _ends_cleanly(data, "JPEG"):
        return ImageFacts("JPEG", size[0], size[1], None)
    try:
        with Image.open(io.BytesIO(data)) as img:
            image_format = img.format or "UNKNOWN"
            width, height = img.size
            exif_at = _exif_time(img)
            if image_format not in settings.image_formats:
                raise Quarantined(
                    QuarantineReason.UNSUPPORTED_FORMAT,
                    f"format {image_format}; accepted: {', '.join(settings.image_formats)}",
                )
            if not _ends_cleanly(data, image_format):
                raise Quarantined(
                    QuarantineReason.TRUNCATED, f"{image_format} data ends before its end marker"
                )
            if image_format not in ("JPEG", "PNG"):
                img.load()  # no cheap end marker: decode to find truncation
    except Quarantined:
        raise
    except UnidentifiedImageError:
        raise Quarantined(QuarantineReason.NOT_AN_IMAGE, "no known image format") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Quarantined(QuarantineReason.TRUNCATED, f"image does not decode: {exc}") from None
    if width <= 0 or height <= 0:
        raise Quarantined(QuarantineReason.NOT_AN_IMAGE, f"image size {width}x{height}")
    return ImageFacts(image_format, width, height, exif_at)


def _exif_time(img: Image.Image) -> datetime | None:
    try:
        exif = img.getexif()
        raw = exif.get_ifd(_EXIF_IFD).get(_EXIF_DATETIME_ORIGINAL) or exif.get(0x0132)
        if not raw:
            return None
        return datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except (ValueError, TypeError, KeyError, OSError):
        return None  # EXIF is the last resort; unreadable EXIF is no reason to refuse an image


def _number(doc: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Quarantined(QuarantineReason.MALFORMED_SIDECAR, f"{name}={value!r} is not a number")
    if not low <= value <= high:
        raise Quarantined(
            QuarantineReason.MALFORMED_SIDECAR, f"{name}={value} is outside [{low}, {high}]"
        )
    return float(value)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError  # a naive time is ambiguous: cameras must say UTC or an offset
    return parsed.astimezone(UTC)


def parse_sidecar(data: bytes) -> Sidecar:
    """The JSON sidecar: camera_id, captured_at (ISO 8601 with zone), latitude, longitude, heading, lane."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Quarantined(QuarantineReason.MALFORMED_SIDECAR, f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Quarantined(QuarantineReason.MALFORMED_SIDECAR, "top level is not a JSON object")
    camera = doc.get("camera_id")
    if camera is not None and (not isinstance(camera, str) or not camera):
        raise Quarantined(QuarantineReason.MALFORMED_SIDECAR, f"camera_id={camera!r}")
    captured_at = None
    if doc.get("captured_at") is not None:
        try:
            captured_at = _timestamp(doc["captured_at"])
        except ValueError:
            raise Quarantined(
                QuarantineReason.MALFORMED_SIDECAR,
                f"captured_at={doc['captured_at']!r} is not an ISO 8601 time with a zone",
            ) from None
    lane = doc.get("lane")
    if lane is not None and (isinstance(lane, bool) or not isinstance(lane, int) or lane < 0):
        raise Quarantined(QuarantineReason.MALFORMED_SIDECAR, f"lane={lane!r}")
    return Sidecar(
        camera_id=camera,
        captured_at=captured_at,
        latitude=_number(doc, "latitude", -90, 90),
        longitude=_number(doc, "longitude", -180, 180),
        heading=_number(doc, "heading", 0, 360),
        lane=lane,
    )


def resolve_capture(
    key: KeyFacts,
    sidecar: Sidecar | None,
    exif_at: datetime | None,
    settings: IngestSettings,
    as_of: datetime,
) -> tuple[datetime, str]:
    """The capture time and where it came from (sidecar, then key, then EXIF), checked."""
    if sidecar is not None:
        if sidecar.camera_id is not None and sidecar.camera_id != key.camera_id:
            raise Quarantined(
                QuarantineReason.CONTRADICTING_SIDECAR,
                f"sidecar camera_id={sidecar.camera_id!r} but key says {key.camera_id!r}",
            )
        if sidecar.captured_at is not None and key.captured_at is not None:
            gap = abs((sidecar.captured_at - key.captured_at).total_seconds())
            if gap > settings.sidecar_key_tolerance_seconds:
                raise Quarantined(
                    QuarantineReason.CONTRADICTING_SIDECAR,
                    f"sidecar captured_at {sidecar.captured_at.isoformat()} is {gap:.0f}s from the "
                    f"key's {key.captured_at.isoformat()} (tolerance "
                    f"{settings.sidecar_key_tolerance_seconds}s)",
                )
    candidates = (
        (sidecar.captured_at if sidecar else None, "sidecar"),
        (key.captured_at, "key"),
        (exif_at, "exif"),
    )
    captured_at, source = next(((t, s) for t, s in candidates if t is not None), (None, ""))
    if captured_at is None:
        raise Quarantined(
            QuarantineReason.NO_CAPTURE_TIME, "no capture time in sidecar, key or EXIF"
        )
    if captured_at > as_of + timedelta(seconds=settings.future_tolerance_seconds):
        raise Quarantined(
            QuarantineReason.FUTURE_CAPTURE_TIME,
            f"captured_at {captured_at.isoformat()} ({source}) is after {as_of.isoformat()}",
        )
    if captured_at < as_of - timedelta(days=settings.max_age_days):
        raise Quarantined(
            QuarantineReason.IMPLAUSIBLY_OLD,
            f"captured_at {captured_at.isoformat()} ({source}) is over "
            f"{settings.max_age_days} days before {as_of.isoformat()}",
        )
    return captured_at, source
