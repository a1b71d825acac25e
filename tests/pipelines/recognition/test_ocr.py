"""The plate OCR on plates these tests draw themselves, on broken input, and on the real US crops."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import math
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipelines.errors import RecognitionError
from pipelines.recognition.ocr import PlateRead, PlateReader, default_model_path

US_CROPS = Path(__file__).resolve().parents[4] / "shared" / "data" / "openalpr-us-plates"
# Exact reads measured with bench/eval_ocr.py on the held-out split; the floor leaves a margin.
HELD_OUT_EXACT_FLOOR = 0.88


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    spec = importlib.util.find_spec("matplotlib")
    assert spec is not None and spec.origin is not None, "matplotlib ships the DejaVu fonts"
    path = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


def render_plate(
    text: str,
    state: str = "",
    size: tuple[int, int] = (320, 160),
    ink: tuple[int, int, int] = (20, 20, 20),
    paper: tuple[int, int, int] = (245, 245, 245),
) -> np.ndarray:
    """A clean US-style plate: a border, the state name small on top, the number big in the middle."""
    width, height = size
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((3, 3, width - 4, height - 4), radius=12, outline=ink, width=3)
    if state:
        draw.text(
            (width / 2, height * 0.14), state, font=_font(int(height * 0.16)), fill=ink, anchor="mm"
        )
    font = _font(int(height * 0.42))
    while draw.textlength(text, font=font) > width * 0.88:
        font = _font(int(font.size * 0.92))
    draw.text((width / 2, height * 0.56), text, font=font, fill=ink, anchor="mm")
    return np.asarray(image)


@pytest.fixture(scope="module")
def reader() -> PlateReader:
    return PlateReader.load(threads=1)


PLATES = ["7ABC123", "ABC1234", "XYZ789", "8BL8976", "KTW5542", "HJ3R8", "123456"]


@pytest.mark.parametrize("plate", PLATES)
def test_reads_rendered_plates(reader: PlateReader, plate: str) -> None:
    (read,) = reader.read([render_plate(plate)])
    assert read.text == plate
    assert read.confidence > 0.5
    scores = [s for _, s in read.candidates]
    assert read.candidates[0][0] == plate
    assert scores == sorted(scores, reverse=True)  # best first
    assert sum(scores) <= 1.0 + 1e-6
    # The whole string is no likelier than its least certain character (a mean of products).
    assert read.confidence <= min(read.char_confidences) + 1e-6
    assert min(read.char_confidences) > 0.5  # every character of a clean plate is sure


@pytest.mark.parametrize("plate", PLATES)
def test_one_band_confidence_is_the_product_of_the_characters(plate: str) -> None:
    # With a single band nothing is averaged: the string's probability is the product of its
    # characters' probabilities, as PlateRead documents.
    one_band = PlateReader.load(threads=1, bands=[(0.10, 0.90)], quick_bands=1)
    (read,) = one_band.read([render_plate(plate)])
    assert read.text == plate
    assert read.confidence == pytest.approx(math.prod(read.char_confidences), abs=1e-5)


def test_batch_keeps_order_and_matches_single_reads(reader: PlateReader) -> None:
    plates = ["7ABC123", "XYZ789", "ABC1234"]
    images = [render_plate(p) for p in plates]
    batch = reader.read(images)
    assert [r.text for r in batch] == plates
    singles = [reader.read([image])[0] for image in images]
    # Batching must not change what is read (bands are never padded to a common width).
    assert [r.text for r in singles] == plates
    for one, many in zip(singles, batch, strict=True):
        assert one.confidence == pytest.approx(many.confidence, abs=1e-3)


def test_light_text_on_dark_and_other_sizes(reader: PlateReader) -> None:
    inverted = render_plate("KTW5542", ink=(240, 240, 240), paper=(30, 90, 40))
    small = render_plate("7ABC123", size=(160, 80))
    large = render_plate("XYZ789", size=(640, 300))
    assert [r.text for r in reader.read([inverted, small, large])] == [
        "KTW5542",
        "7ABC123",
        "XYZ789",
    ]


def test_letter_o_reads_as_zero_by_default(reader: PlateReader) -> None:
    (read,) = reader.read([render_plate("OKC123")])
    assert read.text == "0KC123"


def test_a_known_states_formats_tell_the_letter_o_from_zero(reader: PlateReader) -> None:
    # Louisiana's formats (LLLDDD, DDDLLL) put a letter first: the O/0 glyph is O there.
    louisiana, unknown = reader.read([render_plate("OKC123")] * 2, jurisdictions=["LA", None])
    assert (louisiana.text, unknown.text) == ("OKC123", "0KC123")
    assert louisiana.candidates[0][0] == "OKC123"
    assert "0KC123" not in dict(louisiana.candidates)  # one reading of the glyph, not two
    assert sum(s for _, s in louisiana.candidates) <= 1.0 + 1e-6


def test_state_name_gives_the_jurisdiction(reader: PlateReader) -> None:
    nevada, plain = reader.read([render_plate("304SZT", "NEVADA"), render_plate("304SZT")])
    assert (nevada.text, nevada.jurisdiction) == ("304SZT", "nv")
    assert plain.jurisdiction is None


def test_caller_jurisdiction_wins(reader: PlateReader) -> None:
    reads = reader.read([render_plate("304SZT", "NEVADA")] * 2, jurisdictions=["CA", None])
    assert [r.jurisdiction for r in reads] == ["ca", "nv"]
    with pytest.raises(ValueError, match="jurisdictions"):
        reader.read([render_plate("304SZT")], jurisdictions=[])


def test_grey_rgba_and_float_crops_are_accepted(reader: PlateReader) -> None:
    rgb = render_plate("7ABC123")
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    unit = rgb.astype(np.float32) / 255.0
    assert [r.text for r in reader.read([grey, rgba, unit])] == ["7ABC123"] * 3


@pytest.mark.parametrize(
    "crop",
    [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((4, 40, 3), np.uint8),
        np.full((160, 320, 3), 128, np.uint8),
        np.full((160, 320, 3), np.nan, np.float32),
    ],
    ids=["empty", "too-thin", "flat", "nan"],
)
def test_unreadable_crops_read_empty(reader: PlateReader, crop: np.ndarray) -> None:
    good = render_plate("XYZ789")
    reads = reader.read([good, crop, good])
    assert reads[1] == PlateRead.empty()
    assert [reads[0].text, reads[2].text] == ["XYZ789", "XYZ789"]


def test_noise_reads_little(reader: PlateReader) -> None:
    noise = np.random.default_rng(7).integers(0, 256, (160, 320, 3), dtype=np.uint8)
    (read,) = reader.read([noise])
    assert read.text == "" or read.confidence < 0.1  # measured: nothing is read off this noise
    assert read.confidence < 0.5


def test_no_crops_no_reads(reader: PlateReader) -> None:
    assert reader.read([]) == []


@pytest.mark.parametrize(
    "crop", [None, "plate.png", np.zeros((160, 320, 5), np.uint8)], ids=["none", "str", "5ch"]
)
def test_non_images_raise(reader: PlateReader, crop: object) -> None:
    with pytest.raises(RecognitionError, match="crop 0"):
        reader.read([crop])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("precision", "tolerance"), [("f32", 1e-3), ("bf16", 0.02)], ids=["f32", "bf16"]
)
def test_backends_read_alike(precision: str, tolerance: float) -> None:
    onnx = PlateReader.load(threads=1, backend="onnx")
    openvino = PlateReader.load(threads=1, backend="openvino", precision=precision)
    assert (onnx.backend, openvino.backend) == ("onnx", "openvino")
    images = [render_plate("7ABC123"), render_plate("304SZT", "NEVADA")]
    for mine, theirs in zip(openvino.read(images), onnx.read(images), strict=True):
        assert (mine.text, mine.jurisdiction) == (theirs.text, theirs.jurisdiction)
        assert mine.confidence == pytest.approx(theirs.confidence, abs=tolerance)


def test_second_round_bands_change_no_easy_read(reader: PlateReader) -> None:
    every_band = PlateReader.load(threads=1, quick_bands=len(reader.bands))
    images = [render_plate(p) for p in ("7ABC123", "KTW5542")] + [render_plate("304SZT", "NEVADA")]
    for quick, full in zip(reader.read(images), every_band.read(images), strict=True):
        assert (quick.text, quick.jurisdiction) == (full.text, full.jurisdiction)


def test_wide_plates_get_no_us_state(reader: PlateReader) -> None:
    nevada = render_plate("304SZT", "NEVADA")
    (as_us,) = reader.read([nevada])
    (as_wide,) = reader.read([nevada], wide=[True])
    assert as_us.jurisdiction == "nv"
    assert as_wide.jurisdiction is None


def test_concurrent_reads_agree_with_serial_ones() -> None:
    shared = PlateReader.load(threads=1, streams=2)
    images = [render_plate(p) for p in ("7ABC123", "ABC1234", "XYZ789", "8BL8976")]
    serial = shared.read(images)
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda image: shared.read([image])[0], images))
    assert [r.text for r in parallel] == [r.text for r in serial]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"backend": "tensorrt"}, "backend"),
        ({"precision": "int4"}, "precision"),
        ({"threads": 0}, "threads"),
        ({"streams": 0}, "streams"),
        ({"quick_bands": 0}, "quick_bands"),
    ],
)
def test_load_rejects_bad_options(option: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PlateReader.load(**option)  # type: ignore[arg-type]


def test_missing_model_is_a_recognition_error(tmp_path: Path) -> None:
    with pytest.raises(RecognitionError, match="not found"):
        PlateReader.load(model_path=tmp_path / "absent.onnx")


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_corrupt_model_is_a_recognition_error(tmp_path: Path, backend: str) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    with pytest.raises(RecognitionError, match="cannot load"):
        PlateReader.load(model_path=broken, backend=backend)


def test_default_model_is_the_plate_reading_one_in_the_wheel() -> None:
    # The path names the wheel's recognition model, which reads plates and state names, not
    # another model file of the wheel (its text detector, say).
    path = default_model_path()
    assert path.parent.parent.name == "rapidocr_onnxruntime"
    named = PlateReader.load(threads=1, model_path=path, backend="onnx")
    images = [render_plate("7ABC123"), render_plate("304SZT", "NEVADA")]
    assert [(r.text, r.jurisdiction) for r in named.read(images)] == [
        ("7ABC123", None),
        ("304SZT", "nv"),
    ]


def test_plate_read_validates() -> None:
    with pytest.raises(ValueError, match="normalized"):
        PlateRead("abc", 0.5, (0.5, 0.5, 0.5), ())
    with pytest.raises(ValueError, match="char_confidences"):
        PlateRead("ABC", 0.5, (0.5,), ())
    with pytest.raises(ValueError, match="outside"):
        PlateRead("ABC", 1.5, (0.5, 0.5, 0.5), ())


def _held_out(name: str) -> bool:
    # The split rule of bench/eval_ocr.py.
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 100 < 40


@pytest.mark.shared_data
def test_real_us_crops_held_out_exact_rate(reader: PlateReader) -> None:
    with (US_CROPS / "labels.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if _held_out(r["image"])]
    images = [np.asarray(Image.open(US_CROPS / r["image"]).convert("RGB")) for r in rows]
    reads = [read for i in range(0, len(images), 16) for read in reader.read(images[i : i + 16])]
    exact = sum(read.text == r["plate"] for read, r in zip(reads, rows, strict=True)) / len(rows)
    assert exact >= HELD_OUT_EXACT_FLOOR, f"held-out exact read rate {exact:.3f}"


def test_wide_crops_keep_the_letter_o(reader: PlateReader) -> None:
    """A single-line wide plate (Mercosur proportions) keeps O where its format puts a letter."""
    crop = render_plate("OKM0944", size=(520, 130))
    (read,) = reader.read([crop])
    (tall,) = reader.read([crop], wide=[False])
    assert read.text == "OKM0944"
    assert tall.text == "0KM0944"  # the US convention: one glyph for O and zero, reported as 0
