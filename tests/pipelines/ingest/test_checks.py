from __future__ import annotations

import dataclasses
import io
import re
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pipelines.config import IngestSettings
from pipelines.ingest import checks
from pipelines.ingest.checks import (
    ImageFacts,
    KeyFacts,
    Sidecar,
    _jpeg_frame,
    _JpegFrame,
    inspect_image,
    parse_key,
    parse_sidecar,
    resolve_capture,
)
from pipelines.ingest.quarantine import Quarantined, QuarantineReason

SETTINGS = IngestSettings()
PATTERN = re.compile(SETTINGS.key_pattern)
AS_OF = datetime(2026, 3, 11, tzinfo=UTC)


def _encoded(fmt: str, size: tuple[int, int] = (40, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, format=fmt)
    return buf.getvalue()


def test_key_gives_camera_and_time() -> None:
    facts = parse_key(
        "cam-07/2026-03-10/20260310T142233Z_00001.jpg", PATTERN, SETTINGS.key_time_format
    )
    assert facts == KeyFacts("cam-07", datetime(2026, 3, 10, 14, 22, 33, tzinfo=UTC))


_WIDTHS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


@settings(max_examples=300, deadline=None)
@given(
    fmt=st.sampled_from(["%Y%m%dT%H%M%SZ", "%Y-%m-%d_%H-%M-%S", "%d.%m.%Y", "%Y%m%d%H%M"]),
    data=st.data(),
    case=st.booleans(),
)
def test_key_times_parse_as_strptime_does(fmt: str, data: st.DataObject, case: bool) -> None:
    # The fast path must give strptime's answer, including its errors, for any text: mostly
    # fields of the right width (plausible or not), sometimes of another one.
    def field(directive: str) -> str:
        width = _WIDTHS[directive]
        sizes = st.sampled_from([width, width, width, 1, width + 1])
        return data.draw(
            st.text("0123456789", min_size=1, max_size=5)
            .filter(bool)
            .map(lambda digits: digits.rjust(width, "0")[-width:])
            if data.draw(sizes) == width
            else st.text("0123456789", min_size=1, max_size=5)
        )

    text = re.sub(r"%.", lambda m: field(m.group()), fmt)
    text = text.lower() if case else text
    key = f"cam-01/2026-03-10/{text}_00001.jpg"
    pattern = re.compile(r"^(?P<camera>[^/]+)/[^/]+/(?P<captured>.+)_\d+\.jpg$")
    try:
        expected = datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        with pytest.raises(Quarantined):
            parse_key(key, pattern, fmt)
    else:
        assert parse_key(key, pattern, fmt).captured_at == expected


@pytest.mark.parametrize("key", ["no-camera.jpg", "cam/2026-03-10/20261310T000000Z.jpg"])
def test_unrecognized_keys_are_refused(key: str) -> None:
    with pytest.raises(Quarantined) as exc:
        parse_key(key, PATTERN, SETTINGS.key_time_format)
    assert exc.value.reason is QuarantineReason.UNRECOGNIZED_KEY


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_good_images_give_size_and_format(fmt: str) -> None:
    facts = inspect_image(_encoded(fmt, (64, 48)), SETTINGS)
    assert (facts.image_format, facts.width, facts.height) == (fmt, 64, 48)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", QuarantineReason.EMPTY),
        (_encoded("JPEG")[:-40], QuarantineReason.TRUNCATED),
        (_encoded("PNG")[:-20], QuarantineReason.TRUNCATED),
        (b"%PDF-1.7 not a picture" * 10, QuarantineReason.NOT_AN_IMAGE),
        (_encoded("GIF"), QuarantineReason.UNSUPPORTED_FORMAT),
        (_encoded("BMP"), QuarantineReason.UNSUPPORTED_FORMAT),
    ],
)
def test_bad_images_are_refused_with_their_reason(data: bytes, reason: QuarantineReason) -> None:
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, SETTINGS)
    assert exc.value.reason is reason


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["RGB", "L", "CMYK"]),
    size=st.tuples(st.integers(1, 300), st.integers(1, 300)),
    progressive=st.booleans(),
    with_exif=st.booleans(),
)
def test_jpeg_facts_match_pil_whichever_path_reads_them(
    mode: str, size: tuple[int, int], progressive: bool, with_exif: bool
) -> None:
    img = Image.new(mode, size)
    exif = img.getexif()
    if with_exif:
        exif[0x0132] = "2026:03:10 08:00:01"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", progressive=progressive, exif=exif)
    facts = inspect_image(buf.getvalue(), SETTINGS)
    assert (facts.image_format, facts.width, facts.height) == ("JPEG", *size)
    expected_time = datetime(2026, 3, 10, 8, 0, 1, tzinfo=UTC) if with_exif else None
    assert facts.exif_captured_at == expected_time


@pytest.mark.parametrize(
    "header",
    [
        b"\xff\xd8\xff\xe0\x00\x10JFIF",  # a segment longer than the data
        b"\xff\xd8\xff\xc0\x00\x05\x08\x00",  # a frame header too short for its fields
        b"\xff\xd8\x00\x00\x00\x00\x00\x00",  # no marker after the start of image
    ],
)
def test_jpegs_with_broken_headers_are_refused(header: bytes) -> None:
    with pytest.raises(Quarantined) as exc:
        inspect_image(header + b"\x00" * 64 + b"\xff\xd9", SETTINGS)
    assert exc.value.reason in (QuarantineReason.TRUNCATED, QuarantineReason.NOT_AN_IMAGE)


def test_too_large_images_are_refused() -> None:
    small = IngestSettings(max_image_bytes=100)
    with pytest.raises(Quarantined) as exc:
        inspect_image(_encoded("PNG", (200, 200)), small)
    assert exc.value.reason is QuarantineReason.TOO_LARGE


def test_exif_time_is_read() -> None:
    img = Image.new("RGB", (16, 16))
    exif = img.getexif()
    exif.get_ifd(0x8769)[0x9003] = "2026:03:10 08:00:01"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    facts = inspect_image(buf.getvalue(), SETTINGS)
    assert facts.exif_captured_at == datetime(2026, 3, 10, 8, 0, 1, tzinfo=UTC)


def test_sidecar_fields_parse() -> None:
    sidecar = parse_sidecar(
        b'{"camera_id": "cam-1", "captured_at": "2026-03-10T14:22:33.5-07:00",'
        b' "latitude": 39.7, "longitude": -105.1, "heading": 270, "lane": 2}'
    )
    assert sidecar.captured_at == datetime(2026, 3, 10, 21, 22, 33, 500000, tzinfo=UTC)
    assert (sidecar.latitude, sidecar.longitude, sidecar.heading, sidecar.lane) == (
        39.7,
        -105.1,
        270.0,
        2,
    )


@pytest.mark.parametrize(
    "body",
    [
        b"{oops",
        b"[1, 2]",
        b'{"captured_at": "2026-03-10T14:22:33"}',  # no zone
        b'{"latitude": 91}',
        b'{"longitude": "west"}',
        b'{"lane": -1}',
        b'{"camera_id": 7}',
        b"\xff\xfe",
    ],
)
def test_malformed_sidecars_are_refused(body: bytes) -> None:
    with pytest.raises(Quarantined) as exc:
        parse_sidecar(body)
    assert exc.value.reason is QuarantineReason.MALFORMED_SIDECAR


KEY_TIME = datetime(2026, 3, 10, 12, tzinfo=UTC)
EXIF_TIME = datetime(2026, 3, 9, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key_time", "sidecar", "exif", "expected"),
    [
        (
            KEY_TIME,
            Sidecar(captured_at=KEY_TIME + timedelta(seconds=30)),
            EXIF_TIME,
            (KEY_TIME + timedelta(seconds=30), "sidecar"),
        ),
        (KEY_TIME, Sidecar(latitude=1.0), EXIF_TIME, (KEY_TIME, "key")),
        (None, None, EXIF_TIME, (EXIF_TIME, "exif")),
    ],
)
def test_capture_time_prefers_sidecar_then_key_then_exif(
    key_time: datetime | None,
    sidecar: Sidecar | None,
    exif: datetime | None,
    expected: tuple[datetime, str],
) -> None:
    got = resolve_capture(KeyFacts("cam-1", key_time), sidecar, exif, SETTINGS, AS_OF)
    assert got == expected


@pytest.mark.parametrize(
    ("key", "sidecar", "exif", "reason"),
    [
        (
            KeyFacts("cam-1", KEY_TIME),
            Sidecar(camera_id="cam-2"),
            None,
            QuarantineReason.CONTRADICTING_SIDECAR,
        ),
        (
            KeyFacts("cam-1", KEY_TIME),
            Sidecar(captured_at=KEY_TIME + timedelta(hours=1)),
            None,
            QuarantineReason.CONTRADICTING_SIDECAR,
        ),
        (KeyFacts("cam-1", None), None, None, QuarantineReason.NO_CAPTURE_TIME),
        (
            KeyFacts("cam-1", AS_OF + timedelta(hours=1)),
            None,
            None,
            QuarantineReason.FUTURE_CAPTURE_TIME,
        ),
        (
            KeyFacts("cam-1", AS_OF - timedelta(days=SETTINGS.max_age_days + 1)),
            None,
            None,
            QuarantineReason.IMPLAUSIBLY_OLD,
        ),
    ],
)
def test_implausible_or_contradicting_times_are_refused(
    key: KeyFacts, sidecar: Sidecar | None, exif: datetime | None, reason: QuarantineReason
) -> None:
    with pytest.raises(Quarantined) as exc:
        resolve_capture(key, sidecar, exif, SETTINGS, AS_OF)
    assert exc.value.reason is reason


def test_clock_skew_within_tolerance_is_accepted() -> None:
    skewed = AS_OF + timedelta(seconds=SETTINGS.future_tolerance_seconds - 1)
    assert resolve_capture(KeyFacts("cam-1", skewed), None, None, SETTINGS, AS_OF)[0] == skewed


def test_not_an_image_is_still_refused_after_ultralytics_patched_pil() -> None:
    # ultralytics replaces PIL.Image.open with one that installs a HEIF plugin on the first
    # unidentified image; ingestion and recognition share processes with it (Dagster, the demo).
    from pipelines.recognition._ultralytics import prepare_ultralytics

    prepare_ultralytics()
    import ultralytics  # noqa: F401

    with pytest.raises(Quarantined) as exc:
        inspect_image(b"plain text, not a picture" * 8, SETTINGS)
    assert exc.value.reason is QuarantineReason.NOT_AN_IMAGE


# --- edges of the time window (issue 12): exactly at a limit is inside, one second past is out ---


@pytest.mark.parametrize("tolerance", [0, 300, 3600])
def test_clock_skew_edge_is_accepted_and_a_second_past_it_refused(tolerance: int) -> None:
    settings = IngestSettings(future_tolerance_seconds=tolerance)
    edge = AS_OF + timedelta(seconds=tolerance)
    assert resolve_capture(KeyFacts("cam-1", edge), None, None, settings, AS_OF) == (edge, "key")
    past = edge + timedelta(seconds=1)
    with pytest.raises(Quarantined) as exc:
        resolve_capture(KeyFacts("cam-1", past), None, None, settings, AS_OF)
    assert exc.value.reason is QuarantineReason.FUTURE_CAPTURE_TIME


@pytest.mark.parametrize("max_age_days", [1, 400])
def test_max_age_edge_is_accepted_and_a_second_older_refused(max_age_days: int) -> None:
    settings = IngestSettings(max_age_days=max_age_days)
    edge = AS_OF - timedelta(days=max_age_days)
    assert resolve_capture(KeyFacts("cam-1", edge), None, None, settings, AS_OF) == (edge, "key")
    older = edge - timedelta(seconds=1)
    with pytest.raises(Quarantined) as exc:
        resolve_capture(KeyFacts("cam-1", older), None, None, settings, AS_OF)
    assert exc.value.reason is QuarantineReason.IMPLAUSIBLY_OLD


# --- the JPEG fast path, the end markers and every refusal's detail (mutation testing, issue 12;
# make mutate, docs/mutation.md) ---


def _segment(marker: int, payload: bytes) -> bytes:
    return b"\xff" + bytes([marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _sof(width: int, height: int, components: int = 1) -> bytes:
    payload = b"\x08" + height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return _segment(0xC0, payload + bytes([components]) + b"\x11\x00\x00" * components)


def _header(*segments: bytes) -> bytes:
    """A JPEG header up to an empty start of scan: all the marker walk reads."""
    return b"\xff\xd8" + b"".join(segments) + _segment(0xDA, b"")


def _jpeg(size: tuple[int, int], **save: object) -> bytes:
    buf = io.BytesIO()
    Image.new(str(save.pop("mode", "RGB")), size, 90).save(buf, format="JPEG", **save)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("mode", "size", "progressive"),
    [("RGB", (300, 260), False), ("L", (1, 1), False), ("CMYK", (257, 3), True)],
)
def test_plain_jpegs_are_sized_by_the_marker_walk_without_pil(
    mode: str, size: tuple[int, int], progressive: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _jpeg(size, mode=mode, progressive=progressive)
    assert _jpeg_frame(data) == _JpegFrame(*size, exif=False)
    monkeypatch.setattr(checks.Image, "open", lambda *a, **k: pytest.fail("PIL opened it"))
    assert inspect_image(data, SETTINGS) == ImageFacts("JPEG", *size, None)


_EXIF = _segment(0xE1, b"Exif\x00\x00MM")
_XMP = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x/>")


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (_header(_sof(300, 260)), (300, 260)),
        (_header(_segment(0xE0, b""), _sof(640, 480, 3)), (640, 480)),  # an empty segment
        (b"\xff\xd8\xff" + _header(_sof(256, 512))[2:], (256, 512)),  # a fill byte
        (_header(_segment(0xE2, b"\x00" * 300), _sof(8, 9)), (8, 9)),  # a segment over 255 bytes
        (_header(_XMP, _sof(8, 9)), (8, 9)),
        (_header(_sof(300, 260), _segment(0xC4, b"\x00" * 17)), (300, 260)),  # DHT is no frame
        (_header(_sof(7, 5, 4)), (7, 5)),  # CMYK
        (_header(_segment(0xE0, b"Exif\x00\x00MM"), _sof(8, 9)), (8, 9)),  # not APP1: no EXIF
        (_header(_sof(0, 260)), None),  # no width
        (_header(_sof(300, 0)), None),  # no height (one set by a DNL marker PIL does not read)
        (_header(_sof(300, 260), _sof(300, 260)), None),  # two frames
        (_header(_segment(0xC0, b"\x08\x01\x00\x01\x00\x03\x11")), None),  # short frame header
        (_header(_sof(8, 9, 0)), None),  # no component: PIL refuses it
        (_header(_sof(8, 9, 2)), None),  # two components: PIL refuses them
        (_header(_segment(0xC0, _sof(8, 9)[4:].replace(b"\x08", b"\x0c", 1))), None),  # 12-bit
        (b"\xff\xd8" + _sof(300, 260), None),  # no start of scan
        (b"\xff\xd8" + _sof(300, 260)[:8], None),  # a frame header cut short
        (b"\xff\xd8\xff\xe0\x00\x01" + _header(_sof(8, 9))[2:], None),  # length below 2
        (b"\xff\xd8\x00\xe0" + _header(_sof(8, 9))[2:], None),  # no marker
        (_encoded("PNG"), None),
    ],
)
def test_the_marker_walk_sizes_only_well_formed_headers(
    data: bytes, size: tuple[int, int] | None
) -> None:
    assert _jpeg_frame(data) == (None if size is None else _JpegFrame(*size, exif=False))


@pytest.mark.parametrize(
    "segments",
    [(_EXIF, _sof(8, 9)), (_EXIF, _XMP, _sof(8, 9)), (_sof(8, 9), _EXIF)],
)
def test_the_marker_walk_notes_exif_before_the_scan(segments: tuple[bytes, ...]) -> None:
    # EXIF (wherever before the scan, and whatever follows it) sends the image to PIL for its
    # capture time; the size is still the frame's, for the pixel limit
    assert _jpeg_frame(_header(*segments)) == _JpegFrame(8, 9, exif=True)


@pytest.mark.parametrize(
    ("data", "image_format", "clean"),
    [
        (b"\xff\xd8...\xff\xd9", "JPEG", True),
        (b"\xff\xd8...\xff\xd9\x00\x00", "JPEG", True),  # zero padding after the end marker
        (b"\xff\xd8...\xff\xd9X", "JPEG", False),
        (b"\xff\xd8...\xff", "JPEG", False),
        (_encoded("PNG"), "PNG", True),
        (_encoded("PNG")[:-12] + b"\x00\x00\x00\x00IDAT\x00\x00\x00\x00", "PNG", False),
        (_encoded("PNG")[:-12] + b"\x00\x00\x00\x01IEND\x00\x00\x00\x00", "PNG", False),
        (b"RIFF....WEBP", "WEBP", True),  # no cheap end marker: decoded instead
    ],
)
def test_end_markers(data: bytes, image_format: str, clean: bool) -> None:
    assert checks._ends_cleanly(data, image_format) is clean


def test_a_jpeg_is_refused_when_only_png_is_accepted() -> None:
    with pytest.raises(Quarantined) as exc:
        inspect_image(_jpeg((64, 48)), IngestSettings(image_formats=("PNG",)))
    assert (exc.value.reason, exc.value.detail) == (
        QuarantineReason.UNSUPPORTED_FORMAT,
        "format JPEG; accepted: PNG",
    )


def test_a_truncated_bmp_is_decoded_and_refused() -> None:
    settings = IngestSettings(image_formats=("BMP",))
    assert inspect_image(_encoded("BMP"), settings).image_format == "BMP"
    with pytest.raises(Quarantined) as exc:
        inspect_image(_encoded("BMP")[:-100], settings)
    assert exc.value.reason is QuarantineReason.TRUNCATED
    assert exc.value.detail.startswith("image does not decode: ")


def test_an_image_of_exactly_the_size_limit_is_accepted() -> None:
    data = _encoded("PNG")
    assert inspect_image(data, IngestSettings(max_image_bytes=len(data))).image_format == "PNG"
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, IngestSettings(max_image_bytes=len(data) - 1))
    assert exc.value.detail == f"{len(data)} bytes exceeds ingest.max_image_bytes={len(data) - 1}"


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"", "object has zero bytes"),
        (b"%PDF-1.7 not a picture" * 10, "no known image format"),
        (_encoded("GIF"), "format GIF; accepted: JPEG, PNG"),
        (_encoded("PNG")[:-20], "PNG data ends before its end marker"),
    ],
)
def test_image_refusals_say_what_was_wrong(data: bytes, detail: str) -> None:
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, SETTINGS)
    assert exc.value.detail == detail


def test_exif_time_with_padding_is_read() -> None:
    img = Image.new("RGB", (16, 16))
    exif = img.getexif()
    exif[0x0132] = "2026:03:10 08:00:01\x00 "
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    facts = inspect_image(buf.getvalue(), SETTINGS)
    assert facts.exif_captured_at == datetime(2026, 3, 10, 8, 0, 1, tzinfo=UTC)


def test_sidecar_values_are_kept_and_times_are_utc() -> None:
    sidecar = parse_sidecar(b'{"camera_id": "cam-1", "captured_at": "2026-03-10T14:22:33Z"}')
    assert sidecar == Sidecar(
        camera_id="cam-1", captured_at=datetime(2026, 3, 10, 14, 22, 33, tzinfo=UTC)
    )
    assert sidecar.captured_at is not None and sidecar.captured_at.tzinfo is UTC
    assert parse_sidecar(b"{}") == Sidecar()


@pytest.mark.parametrize(
    "body",
    [
        b'{"latitude": -90, "longitude": -180, "heading": 0, "lane": 0}',
        b'{"latitude": 90, "longitude": 180, "heading": 360}',
    ],
)
def test_sidecar_values_at_their_limits_are_accepted(body: bytes) -> None:
    sidecar = parse_sidecar(body)
    assert sidecar.latitude is not None and abs(sidecar.latitude) == 90


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[1, 2]", "top level is not a JSON object"),
        (b'{"camera_id": ""}', "camera_id=''"),
        (b'{"captured_at": 7}', "captured_at=7 is not an ISO 8601 time with a zone"),
        (b'{"lane": true}', "lane=True"),
        (b'{"lane": 1.5}', "lane=1.5"),
        (b'{"latitude": -90.5}', "latitude=-90.5 is outside [-90, 90]"),
        (b'{"longitude": -180.5}', "longitude=-180.5 is outside [-180, 180]"),
        (b'{"longitude": 180.5}', "longitude=180.5 is outside [-180, 180]"),
        (b'{"heading": -0.5}', "heading=-0.5 is outside [0, 360]"),
        (b'{"heading": 360.5}', "heading=360.5 is outside [0, 360]"),
        (b'{"heading": true}', "heading=True is not a number"),
        (b'{"heading": "north"}', "heading='north' is not a number"),
    ],
)
def test_sidecar_refusals_name_the_field_and_value(body: bytes, detail: str) -> None:
    with pytest.raises(Quarantined) as exc:
        parse_sidecar(body)
    assert (exc.value.reason, exc.value.detail) == (QuarantineReason.MALFORMED_SIDECAR, detail)


def test_sidecar_not_json_says_so() -> None:
    with pytest.raises(Quarantined) as exc:
        parse_sidecar(b"{oops")
    assert exc.value.detail.startswith("not JSON: ")


def test_sidecar_and_key_times_exactly_the_tolerance_apart_agree() -> None:
    gap = timedelta(seconds=SETTINGS.sidecar_key_tolerance_seconds)
    sidecar = Sidecar(captured_at=KEY_TIME + gap)
    key = KeyFacts("cam-1", KEY_TIME)
    assert resolve_capture(key, sidecar, None, SETTINGS, AS_OF) == (KEY_TIME + gap, "sidecar")
    with pytest.raises(Quarantined) as exc:
        resolve_capture(key, Sidecar(captured_at=KEY_TIME + gap * 2), None, SETTINGS, AS_OF)
    assert exc.value.detail == (
        "sidecar captured_at 2026-03-10T12:04:00+00:00 is 240s from the key's "
        "2026-03-10T12:00:00+00:00 (tolerance 120s)"
    )


@pytest.mark.parametrize(
    ("key", "sidecar", "detail"),
    [
        (KeyFacts("cam-1", KEY_TIME), Sidecar(camera_id="cam-2"),
         "sidecar camera_id='cam-2' but key says 'cam-1'"),
        (KeyFacts("cam-1", None), None, "no capture time in sidecar, key or EXIF"),
        (KeyFacts("cam-1", AS_OF + timedelta(hours=1)), None,
         "captured_at 2026-03-11T01:00:00+00:00 (key) is after 2026-03-11T00:00:00+00:00"),
        (KeyFacts("cam-1", AS_OF - timedelta(days=401)), None,
         "captured_at 2025-02-03T00:00:00+00:00 (key) is over 400 days before "
         "2026-03-11T00:00:00+00:00"),
    ],
)  # fmt: skip
def test_time_refusals_say_what_was_wrong(
    key: KeyFacts, sidecar: Sidecar | None, detail: str
) -> None:
    with pytest.raises(Quarantined) as exc:
        resolve_capture(key, sidecar, None, SETTINGS, AS_OF)
    assert exc.value.detail == detail


def test_a_jpeg_cut_in_its_scan_data_is_refused_as_truncated() -> None:
    noise = Image.frombytes("L", (160, 120), bytes(range(256)) * 75)
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", quality=95)
    data = buf.getvalue()[:-200]
    assert _jpeg_frame(data) == _JpegFrame(160, 120, exif=False)  # only the end is missing
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, SETTINGS)
    assert (exc.value.reason, exc.value.detail) == (
        QuarantineReason.TRUNCATED,
        "JPEG data ends before its end marker and does not decode: "
        "image file is truncated (18 bytes not processed)",
    )


def test_key_refusals_say_what_was_wrong_and_a_key_without_time_has_none() -> None:
    with pytest.raises(Quarantined) as exc:
        parse_key("no-camera.jpg", PATTERN, SETTINGS.key_time_format)
    assert exc.value.detail == "key 'no-camera.jpg' does not match ingest.key_pattern"
    with pytest.raises(Quarantined) as exc:
        parse_key("cam/2026-03-10/20261310T000000Z.jpg", PATTERN, SETTINGS.key_time_format)
    assert exc.value.detail == (
        "capture time '20261310T000000Z' in key does not parse as '%Y%m%dT%H%M%SZ'"
    )
    no_time = re.compile(r"^(?P<camera>[^/]+)/")
    assert parse_key("cam-07/x.jpg", no_time, "%Y") == KeyFacts("cam-07", None)


# --- issue 9: trailers after a JPEG's end of image, and decompression bombs ---


def _exif_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    img = Image.new("RGB", size, 90)
    exif = img.getexif()
    exif[0x0132] = "2026:03:10 08:00:01"
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


_EXIF_AT = datetime(2026, 3, 10, 8, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "trailer",
    [
        b"SEFH" + bytes(range(256)) * 3 + b"SEFT",  # a phone's own data, as Samsung's
        b"\x00\x00\x00\x01extra",  # padding, then bytes
        _encoded("JPEG", (8, 8)) + b"\x01",  # a second picture (depth map, preview), then a byte
        b"\xff\xd9\xff",  # marker-like bytes
    ],
)
@pytest.mark.parametrize("with_exif", [False, True])
def test_a_jpeg_with_bytes_after_its_end_is_accepted_when_it_decodes(
    trailer: bytes, with_exif: bool
) -> None:
    image = _exif_jpeg() if with_exif else _jpeg((64, 48))
    expected = ImageFacts("JPEG", 64, 48, _EXIF_AT if with_exif else None)
    assert inspect_image(image + trailer, SETTINGS) == expected


@pytest.mark.parametrize("cut", [30, 200, 2000])
@pytest.mark.parametrize("tail", [b"", b"XYZ", b"SEFH\x00\x00\x00\x01"])
@pytest.mark.parametrize("with_exif", [False, True])
def test_a_jpeg_cut_short_is_truncated_whatever_follows(
    cut: int, tail: bytes, with_exif: bool
) -> None:
    noise = Image.frombytes("L", (160, 120), bytes(range(256)) * 75)
    exif = noise.getexif()
    if with_exif:
        exif[0x0132] = "2026:03:10 08:00:01"
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", quality=95, exif=exif)
    with pytest.raises(Quarantined) as exc:
        inspect_image(buf.getvalue()[:-cut] + tail, SETTINGS)
    assert exc.value.reason is QuarantineReason.TRUNCATED
    assert exc.value.detail.startswith(
        "JPEG data ends before its end marker and does not decode: image file is truncated"
    )


@pytest.mark.parametrize("with_exif", [False, True])
def test_a_multi_picture_jpeg_is_a_jpeg(with_exif: bool) -> None:
    # Phones and cameras store more pictures after the first's end of image (MPO): the fast path
    # reads one as a JPEG, and so must the PIL path EXIF sends it down, where PIL says MPO
    img = Image.new("RGB", (64, 48), 90)
    exif = img.getexif()
    if with_exif:
        exif[0x0132] = "2026:03:10 08:00:01"
    buf = io.BytesIO()
    img.save(buf, format="MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))], exif=exif)
    expected = ImageFacts("JPEG", 64, 48, _EXIF_AT if with_exif else None)
    assert inspect_image(buf.getvalue(), SETTINGS) == expected


def test_a_jpeg_frame_with_no_component_is_not_an_image() -> None:
    # the fast path once took a frame header with zero components for a 64x48 image
    data = _header(_sof(64, 48, 0)) + b"\x00" * 64 + b"\xff\xd9"
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, SETTINGS)
    assert exc.value.reason is QuarantineReason.NOT_AN_IMAGE


ALL_FORMATS = IngestSettings(image_formats=("JPEG", "PNG", "WEBP", "BMP", "TIFF"))


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body).to_bytes(4, "big")
    return len(body).to_bytes(4, "big") + kind + body + crc


def _png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A real 1-bit PNG of width x height black pixels: a few tens of kilobytes."""
    row = b"\x00" * (1 + (width + 7) // 8)
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x01\x00\x00\x00\x00"
    return (
        checks._PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _restated(data: bytes, fields: dict[int, bytes]) -> bytes:
    """``data`` with the bytes at each offset replaced (a header's size fields)."""
    out = bytearray(data)
    for at, value in fields.items():
        out[at : at + len(value)] = value
    return bytes(out)


def _le(value: int, size: int) -> bytes:
    return value.to_bytes(size, "little")


def _tiff(width: int, height: int, order: str = "II", kind: int = 3) -> bytes:
    """A minimal uncompressed 8-bit grey TIFF, of either byte order, its size as SHORT or LONG."""
    big = order == "MM"

    def n(value: int, size: int) -> bytes:
        return value.to_bytes(size, "big" if big else "little")

    def entry(tag: int, typ: int, value: int) -> bytes:
        inline = n(value, 2) + b"\x00\x00" if typ == 3 else n(value, 4)
        return n(tag, 2) + n(typ, 2) + n(1, 4) + inline

    entries = [
        entry(256, kind, width),
        entry(257, kind, height),
        entry(258, 3, 8),
        entry(259, 3, 1),
        entry(262, 3, 1),
        entry(273, 4, 8 + 2 + 12 * 8 + 4),
        entry(277, 3, 1),
        entry(279, 4, width * height),
    ]
    head = (b"MM\x00*" if big else b"II*\x00") + n(8, 4)
    ifd = n(len(entries), 2) + b"".join(entries) + n(0, 4)
    return head + ifd + b"\x80" * (width * height)


def _tiff_unaligned() -> bytes:
    """A directory of private tags whose values hold what would be ImageWidth and ImageLength
    entries if a directory could start anywhere: only 12-byte-aligned entries are entries."""
    entries = [
        _le(65000, 2) + _le(4, 2) + _le(1, 4) + _le(tag, 2) + _le(3, 2) for tag in (256, 257)
    ] * 2
    return b"II*\x00" + _le(8, 4) + _le(len(entries), 2) + b"".join(entries) + _le(0, 4)


def _bmp_core(width: int, height: int) -> bytes:
    """A BMP with the 12-byte OS/2 core header (16-bit sides), 24-bit pixels."""
    row = (width * 3 + 3) // 4 * 4
    header = _le(12, 4) + _le(width, 2) + _le(height, 2) + _le(1, 2) + _le(24, 2)
    offset = 14 + len(header)
    return (
        b"BM"
        + _le(offset + row * height, 4)
        + _le(0, 4)
        + _le(offset, 4)
        + header
        + (b"\x00" * row * height)
    )


def _saved(fmt: str, size: tuple[int, int], mode: str = "RGB", **save: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format=fmt, **save)
    return buf.getvalue()


@settings(max_examples=120, deadline=None)
@given(
    kind=st.sampled_from(
        [
            ("PNG", "RGB", {}),
            ("PNG", "1", {}),
            ("WEBP", "RGB", {}),  # VP8
            ("WEBP", "RGB", {"lossless": True}),  # VP8L
            ("WEBP", "RGBA", {}),  # VP8X
            ("BMP", "RGB", {}),
            ("BMP", "L", {}),
            ("TIFF", "RGB", {}),
            ("TIFF", "L", {"compression": "tiff_lzw"}),
        ]
    ),
    size=st.tuples(st.integers(1, 700), st.integers(1, 700)),
)
def test_header_sizes_are_the_ones_pil_reads(
    kind: tuple[str, str, dict[str, object]], size: tuple[int, int]
) -> None:
    fmt, mode, save = kind
    data = _saved(fmt, size, mode, **save)
    assert checks._header_size(data) == size
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == size


@pytest.mark.parametrize(
    "data",
    [
        _tiff(3, 2, "II", 3),
        _tiff(3, 2, "MM", 3),
        _tiff(300, 2, "MM", 4),
        _tiff(2, 300, "II", 4),
        _bmp_core(5, 3),
        _bmp_core(300, 2),
        # a VP8 WebP's top two bits of each side are an upscaling hint, no part of the size
        _restated(_saved("WEBP", (40, 20)), {26: _le(40 | 0xC000, 2), 28: _le(20 | 0x4000, 2)}),
        # a top-down BMP stores its height negative
        _restated(_saved("BMP", (7, 3)), {22: (2**32 - 3).to_bytes(4, "little")}),
    ],
)
def test_header_sizes_of_headers_pil_does_not_write(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as img:
        assert checks._header_size(data) == img.size
        assert inspect_image(data, ALL_FORMATS) == ImageFacts(img.format or "", *img.size, None)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 30,  # no IHDR
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20,  # no VP8 start code
        b"RIFF\x00\x00\x00\x00WEBPVP8L" + b"\x00" * 20,  # no VP8L signature
        b"RIFF\x00\x00\x00\x00WEBPALPH" + b"\x00" * 20,  # no image chunk first
        b"RIFF\x00\x00\x00\x00AVI VP8X" + b"\x00" * 20,  # RIFF, but no WebP
        b"BM" + b"\x00" * 12 + _le(16, 4) + b"\x00" * 12,  # a BMP header of an unknown size
        b"II*\x00" + _le(40, 4) + b"\x00" * 20,  # an image directory past the end
        b"II*\x00" + _le(8, 4) + _le(2, 2) + b"\x00" * 12,  # directory longer than the file
        _tiff(3, 2)[:10] + b"\x00\x00" + _tiff(3, 2)[12:],  # no ImageWidth tag
        _restated(_tiff(3, 2), {12: _le(2, 2)}),  # ImageWidth as a BYTE: PIL's business
        _tiff(3, 2)[: 8 + 2 + 12 * 8 - 1],  # a directory one byte short of its stated entries
        _restated(_tiff(3, 2), {8: _le(1, 2)}),  # ImageLength just past the one stated entry
        _tiff_unaligned(),  # size tags only at offsets no entry starts at
        b"II+\x00" + b"\x00" * 20,  # BigTIFF
        b"GIF89a" + b"\x00" * 20,
        b"BA" + _saved("BMP", (4, 4))[2:],  # an OS/2 bitmap array, not a BMP
    ],
)
def test_headers_it_does_not_read_give_no_size(data: bytes) -> None:
    assert checks._header_size(data) is None


def _bombs() -> list[tuple[str, bytes, str]]:
    """20000x20000 in every format ingest.image_formats may accept (VP8 and VP8L sides have 14
    bits: their largest), and the detail each gets; each but the real PNG is a small image
    restated."""
    side = (20_000).to_bytes(4, "big")
    png = _saved("PNG", (4, 4))
    png_ihdr = png[12:16] + side + side + png[24:29]
    vp8x = (19_999).to_bytes(3, "little")
    bombs = [
        ("JPEG", _header(_sof(20_000, 20_000, 3)) + b"\x00" * 64 + b"\xff\xd9"),
        ("JPEG with EXIF", _header(_EXIF, _sof(20_000, 20_000, 3)) + b"\xff\xd9"),
        ("PNG", _png_bomb()),
        ("PNG restated", png[:12] + png_ihdr + zlib.crc32(png_ihdr).to_bytes(4, "big") + png[33:]),
        ("WEBP VP8", _restated(_saved("WEBP", (4, 4)), {26: b"\xff\x3f\xff\x3f"})),
        ("WEBP VP8L", _restated(_saved("WEBP", (4, 4), lossless=True), {21: _le(2**28 - 1, 4)})),
        ("WEBP VP8X", _restated(_saved("WEBP", (4, 4), "RGBA"), {24: vp8x + vp8x})),
        ("BMP", _restated(_saved("BMP", (4, 4)), {18: _le(20_000, 4) + _le(20_000, 4)})),
        (
            "BMP top-down",
            _restated(_saved("BMP", (4, 4)), {18: _le(20_000, 4), 22: _le(-20_000 % 2**32, 4)}),
        ),
        ("BMP core", _bmp_core(20_000, 20_000)[:64]),
        ("TIFF", _tiff(20_000, 20_000, "II", 4)[:200]),
        ("TIFF big-endian", _tiff(20_000, 20_000, "MM", 3)[: 8 + 2 + 12 * 8]),  # entries only
    ]
    sides = {"WEBP VP8": 16_383, "WEBP VP8L": 16_384}
    return [
        (name, data, f"{n}x{n} is {n * n} pixels, over ingest.max_image_pixels=40000000")
        for name, data in bombs
        for n in [sides.get(name, 20_000)]
    ]


_BOMBS = _bombs()


@pytest.mark.parametrize(("data", "detail"), [b[1:] for b in _BOMBS], ids=[b[0] for b in _BOMBS])
def test_a_decompression_bomb_is_too_large_before_pil_opens_it(
    data: bytes, detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the header decides: PIL never opens (let alone allocates or decodes) the image, and its
    # own limit plays no part
    monkeypatch.setattr(checks.Image, "open", lambda *a, **k: pytest.fail("PIL opened it"))
    monkeypatch.setattr(checks.Image, "MAX_IMAGE_PIXELS", None)
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, ALL_FORMATS)
    assert (exc.value.reason, exc.value.detail) == (QuarantineReason.TOO_LARGE, detail)


def _png_stating(width: int, height: int) -> bytes:
    png = _saved("PNG", (4, 4))
    ihdr = png[12:16] + width.to_bytes(4, "big") + height.to_bytes(4, "big") + png[24:29]
    return png[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + png[33:]


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (_png_stating(2**24, 3), (2**24, 3)),  # a side's top byte set: all four bytes count
        (_png_stating(3, 2**24), (3, 2**24)),
        # every info header size a BMP has (40 is what PIL writes; 64 is OS/2's second)
        *(
            (
                _restated(_saved("BMP", (4, 4)), {14: _le(n, 4), 18: _le(20_000, 4) * 2}),
                (20_000,) * 2,
            )
            for n in (52, 56, 64, 108, 124)
        ),
    ],
)
def test_every_header_layout_it_reads_is_held_to_the_limit_before_pil(
    data: bytes, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks.Image, "open", lambda *a, **k: pytest.fail("PIL opened it"))
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, ALL_FORMATS)
    pixels = size[0] * size[1]
    assert (exc.value.reason, exc.value.detail) == (
        QuarantineReason.TOO_LARGE,
        f"{size[0]}x{size[1]} is {pixels} pixels, over ingest.max_image_pixels=40000000",
    )


def test_a_png_bomb_is_a_few_kilobytes() -> None:
    assert len(_png_bomb()) < 60_000


@pytest.mark.parametrize(
    ("data", "facts"),
    [
        (_jpeg((40, 20)), ImageFacts("JPEG", 40, 20, None)),  # the fast path
        (_exif_jpeg((40, 20)), ImageFacts("JPEG", 40, 20, _EXIF_AT)),  # through PIL
        (_encoded("PNG"), ImageFacts("PNG", 40, 20, None)),
        (_saved("WEBP", (40, 20)), ImageFacts("WEBP", 40, 20, None)),
        (_saved("BMP", (40, 20)), ImageFacts("BMP", 40, 20, None)),
        (_saved("TIFF", (40, 20)), ImageFacts("TIFF", 40, 20, None)),
    ],
)
def test_the_pixel_limit_is_the_setting_exactly(
    data: bytes, facts: ImageFacts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks.Image, "MAX_IMAGE_PIXELS", None)  # PIL's own: not what decides
    at_limit = dataclasses.replace(ALL_FORMATS, max_image_pixels=800)
    assert inspect_image(data, at_limit) == facts
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, dataclasses.replace(at_limit, max_image_pixels=799))
    assert (exc.value.reason, exc.value.detail) == (
        QuarantineReason.TOO_LARGE,
        "40x20 is 800 pixels, over ingest.max_image_pixels=799",
    )


def test_a_header_only_pil_reads_is_held_to_the_setting_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # BigTIFF: PIL reads its header; the setting is checked on that size before any decode
    data = _saved("TIFF", (40, 20), "L", big_tiff=True)
    assert checks._header_size(data) is None
    settings_ = IngestSettings(image_formats=("TIFF",), max_image_pixels=800)
    assert inspect_image(data, settings_) == ImageFacts("TIFF", 40, 20, None)
    monkeypatch.setattr(checks.Image.Image, "load", lambda self: pytest.fail("decoded"))
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, IngestSettings(image_formats=("TIFF",), max_image_pixels=799))
    assert exc.value.detail == "40x20 is 800 pixels, over ingest.max_image_pixels=799"


def test_pils_own_limit_still_refuses_as_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    # a header only PIL reads, over twice PIL's limit: PIL refuses it on open, as too_large
    monkeypatch.setattr(checks.Image, "MAX_IMAGE_PIXELS", 100)
    data = _saved("TIFF", (40, 20), "L", big_tiff=True)
    with pytest.raises(Quarantined) as exc:
        inspect_image(data, IngestSettings(image_formats=("TIFF",)))
    assert exc.value.reason is QuarantineReason.TOO_LARGE
    assert exc.value.detail.startswith("PIL refuses to open it: Image size (800 pixels) exceeds")
