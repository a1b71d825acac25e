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
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from pipelines.config import MAX_IMAGE_PIXELS_CEILING, IngestSettings
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

# PIL's own guard, for every PIL user in the process. Drops are judged by ingest.max_image_pixels,
# from their headers, before PIL opens them (inspect_image).
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS_CEILING

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
            QuarantineReason.UNRECOGNIZED_KEY, f"key {key!r} does not match ingest.key_pattern"
        )
    groups = match.groupdict()
    captured_at = None
    if groups.get("captured"):
        try:
            captured_at = _time_parser(time_format)(groups["captured"]).replace(tzinfo=UTC)
        except ValueError:
            raise Quarantined(
                QuarantineReason.UNRECOGNIZED_KEY,
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


@dataclass(frozen=True)
class _JpegFrame:
    width: int
    height: int
    exif: bool  # an EXIF segment comes before the scan: PIL reads its capture time


def _jpeg_frame(data: bytes) -> _JpegFrame | None:
    """Size from a JPEG's frame header, when its header up to the start of scan is well formed
    and of a kind PIL decodes (8-bit samples; 1, 3 or 4 components); ``None`` sends the image
    through PIL, which tells every other case apart.

    Opening with PIL costs several times this marker walk, and camera drops are mostly JPEGs.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    size, exif = None, False
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
        exif = exif or (marker == _APP1 and segment.startswith(b"Exif\x00"))
        if marker in _SOF_MARKERS:
            if size is not None or length < 8 or length != 8 + 3 * segment[5]:
                return None
            if segment[0] != 8 or segment[5] not in (1, 3, 4):
                return None  # PIL decodes neither other precisions nor other component counts
            height, width = int.from_bytes(segment[1:3]), int.from_bytes(segment[3:5])
            size = (width, height)
        if marker == _SOS:
            if size is None or 0 in size:
                return None
            return _JpegFrame(size[0], size[1], exif)
        pos += 2 + length
    return None


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TIFF_WIDTH, _TIFF_LENGTH = 256, 257
_TIFF_SHORT, _TIFF_LONG = 3, 4


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas size of a WebP's first chunk (lossy VP8, lossless VP8L or extended VP8X)."""
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        return width, int.from_bytes(data[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        return width, int.from_bytes(data[27:30], "little") + 1
    return None


def _bmp_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a BMP's info header, as PIL reads them (a top-down image's height
    is stored negative)."""
    header = int.from_bytes(data[14:18], "little")
    if header == 12:
        width = int.from_bytes(data[18:20], "little")
        return width, int.from_bytes(data[20:22], "little")
    if header in (40, 52, 56, 64, 108, 124):
        width, height = (int.from_bytes(data[at : at + 4], "little") for at in (18, 22))
        return width, 2**32 - height if data[25:26] == b"\xff" else height
    return None


def _tiff_size(data: bytes) -> tuple[int, int] | None:
    """ImageWidth and ImageLength of a TIFF's first image directory."""
    order: Literal["little", "big"] = "little" if data.startswith(b"II") else "big"
    ifd = int.from_bytes(data[4:8], order)
    count = int.from_bytes(data[ifd : ifd + 2], order)
    if ifd + 2 + 12 * count > len(data):
        return None
    fields = {}
    for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
        tag, kind = (int.from_bytes(data[at : at + 2], order) for at in (entry, entry + 2))
        if tag in (_TIFF_WIDTH, _TIFF_LENGTH) and kind in (_TIFF_SHORT, _TIFF_LONG):
            width = 2 if kind == _TIFF_SHORT else 4
            fields[tag] = int.from_bytes(data[entry + 8 : entry + 8 + width], order)
    if len(fields) != 2:
        return None
    return fields[_TIFF_WIDTH], fields[_TIFF_LENGTH]


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height as a PNG, WebP, BMP or TIFF header states them, read before PIL opens
    the image: PIL's open checks its own pixel limit, and for WebP it decodes the image.
    ``None``: no header this reads (JPEG has its own walk); PIL's size is checked instead."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data.startswith(b"BM"):
        return _bmp_size(data)
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _tiff_size(data)
    return None


def _check_pixels(width: int, height: int, settings: IngestSettings) -> None:
    if width * height > settings.max_image_pixels:
        raise Quarantined(
            QuarantineReason.TOO_LARGE,
            f"{width}x{height} is {width * height} pixels, over "
            f"ingest.max_image_pixels={settings.max_image_pixels}",
        )


def inspect_image(data: bytes, settings: IngestSettings) -> ImageFacts:
    """Format, size and EXIF time of an image, or the reason it is not a usable one.

    The pixel count is checked against ``ingest.max_image_pixels`` from the header, before PIL
    allocates or decodes anything: a decompression bomb of a few kilobytes is ``too_large``.
    """
    if not data:
        raise Quarantined(QuarantineReason.EMPTY, "object has zero bytes")
    if len(data) > settings.max_image_bytes:
        raise Quarantined(
            QuarantineReason.TOO_LARGE,
            f"{len(data)} bytes exceeds ingest.max_image_bytes={settings.max_image_bytes}",
        )
    frame = _jpeg_frame(data)
    stated = (frame.width, frame.height) if frame else _header_size(data)
    if stated is not None:
        _check_pixels(*stated, settings)
    if (
        frame is not None
        and not frame.exif
        and "JPEG" in settings.image_formats
        and _ends_cleanly(data, "JPEG")
    ):
        return ImageFacts("JPEG", frame.width, frame.height, None)
    try:
        with Image.open(io.BytesIO(data)) as img:
            # PIL calls a JPEG with more pictures after its end of image (a multi-picture file
            # from a phone or camera) MPO; its first picture is the JPEG every viewer shows
            image_format = "JPEG" if img.format == "MPO" else img.format or "UNKNOWN"
            width, height = img.size
            _check_pixels(width, height, settings)  # a header the readers above do not read
            exif_at = _exif_time(img)
            if image_format not in settings.image_formats:
                raise Quarantined(
                    QuarantineReason.UNSUPPORTED_FORMAT,
                    f"format {image_format}; accepted: {', '.join(settings.image_formats)}",
                )
            clean = _ends_cleanly(data, image_format)
            if not clean and image_format == "PNG":
                raise Quarantined(QuarantineReason.TRUNCATED, "PNG data ends before its end marker")
            if not clean:  # only JPEG and PNG have an end marker
                _decode_jpeg_with_trailer(img)
            if image_format not in ("JPEG", "PNG"):
                img.load()  # no cheap end marker: decode to find truncation
    except Quarantined:
        raise
    except UnidentifiedImageError:
        raise Quarantined(QuarantineReason.NOT_AN_IMAGE, "no known image format") from None
    except Image.DecompressionBombError as exc:
        # PIL's own limit (twice Image.MAX_IMAGE_PIXELS), met only by a header that just PIL
        # reads (the setting may not exceed PIL's guard): the setting decides the rest
        raise Quarantined(QuarantineReason.TOO_LARGE, f"PIL refuses to open it: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise Quarantined(QuarantineReason.TRUNCATED, f"image does not decode: {exc}") from None
    if width <= 0 or height <= 0:
        raise Quarantined(QuarantineReason.NOT_AN_IMAGE, f"image size {width}x{height}")
    return ImageFacts(image_format, width, height, exif_at)


def _decode_jpeg_with_trailer(img: Image.Image) -> None:
    """A JPEG whose last bytes are no end of image: cut short, or followed by a trailer (cameras
    and phones append their own data after the end of image). Only a decode tells them apart."""
    try:
        img.load()
    except OSError as exc:
        raise Quarantined(
            QuarantineReason.TRUNCATED,
            f"JPEG data ends before its end marker and does not decode: {exc}",
        ) from None


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
