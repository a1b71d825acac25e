"""The project's plate OCR (issue 13): its decoding and output contract on a stand-in network, and
the shipped model on plates these tests draw, in every format family, and on the real US crops."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipelines.config import RecognitionSettings
from pipelines.errors import ConfigError, RecognitionError
from pipelines.recognition.ocr import PlateRead
from pipelines.recognition.plate_ocr import (
    CLASSES,
    DEFAULT_MODEL_DIR,
    INPUT_WIDTH,
    MODEL_FILE,
    Calibration,
    PlateOcr,
    decode_greedy,
)
from pipelines.training.synth import BR_FORMATS, EU_FORMATS, US_FORMATS, render_plate

FRAMES = INPUT_WIDTH // 4
SHIPPED = DEFAULT_MODEL_DIR / MODEL_FILE
# Exact reads of the shipped model on the held-out US crops (bench/eval_ocr.py, without state
# bands), less a margin.
HELD_OUT_EXACT_FLOOR = 0.78  # measured 0.824 (2026-12-02)
US_CROPS = Path(__file__).resolve().parents[4] / "shared" / "data" / "openalpr-us-plates"


def _spell(text: str, peak: float = 0.9, runner_up: str | None = None) -> np.ndarray:
    """A softmax matrix whose greedy CTC reading is ``text``: each character over two frames
    (the first weaker), blanks between."""
    probs = np.zeros((FRAMES, len(CLASSES)), np.float32)
    probs[:, 0] = 1.0
    for i, char in enumerate(text):
        for t, p in ((3 * i + 1, peak - 0.2), (3 * i + 2, peak)):
            # The rest over the other characters, half of it on ``runner_up`` when given.
            if runner_up is None:
                probs[t] = (1.0 - p) / (len(CLASSES) - 2)
            else:
                probs[t] = (1.0 - p) / 2 / (len(CLASSES) - 3)
                probs[t, CLASSES.index(runner_up)] = (1.0 - p) / 2
            probs[t, 0] = 0.0
            probs[t, CLASSES.index(char)] = p
    return probs


def _fake(texts: list[str], **kwargs: object) -> PlateOcr:
    """A PlateOcr whose network reads ``texts`` in turn, one per crop."""
    queue = list(texts)

    def infer(batch: np.ndarray) -> np.ndarray:
        assert batch.dtype == np.float32 and batch.shape[1:] == (1, 48, INPUT_WIDTH)
        return np.stack([_spell(queue.pop(0), **kwargs) for _ in batch])  # type: ignore[arg-type]

    return PlateOcr(infer, Calibration((0.0, 0.5, 1.0), (0.0, 0.2, 0.95)))


def _crop(width: int = 320, height: int = 160) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_greedy_decoding_takes_each_character_at_its_peak() -> None:
    columns = decode_greedy(_spell("AA1"))
    assert "".join(CLASSES[1 + int(c.argmax())] for c in columns) == "AA1"
    assert all(abs(float(c.sum()) - 1.0) < 1e-6 for c in columns)
    assert all(abs(float(c.max()) - 0.9) < 1e-6 for c in columns)  # the peak frame, not 0.7
    assert decode_greedy(np.eye(len(CLASSES), dtype=np.float32)[[0] * FRAMES]) == []


def test_a_read_has_text_confidences_candidates_and_the_callers_jurisdiction() -> None:
    reader = _fake(["7ABC123"], peak=0.9, runner_up="8")
    (read,) = reader.read([_crop()], jurisdictions=["CA"])
    assert read.text == "7ABC123"
    assert read.jurisdiction == "ca"
    assert read.char_confidences == pytest.approx([0.9] * 7, abs=1e-6)
    # The overall confidence is the product of the characters', through the calibration.
    raw = math.prod(read.char_confidences)
    assert read.confidence == pytest.approx(reader.calibration(raw), abs=1e-6)
    assert read.confidence < raw  # this calibration says the model is over-confident
    assert read.candidates[0][0] == "7ABC123"
    assert any("8" in c for c, _ in read.candidates[1:])  # runner-up glyphs become alternatives
    assert sum(s for _, s in read.candidates) <= 1.0 + 1e-6


def test_unreadable_crops_read_empty_and_non_images_are_refused() -> None:
    reader = _fake(["AB1234"])
    flat = np.full((160, 320, 3), 128, np.uint8)
    tiny = _crop(6, 4)
    reads = reader.read([flat, tiny, _crop()])
    assert reads[:2] == [PlateRead.empty(), PlateRead.empty()]
    assert reads[2].text == "AB1234"
    with pytest.raises(RecognitionError, match="not a numpy array"):
        reader.read(["not an image"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="jurisdictions"):
        reader.read([_crop()], jurisdictions=["ca", "tx"])


def test_wide_plates_fit_the_european_formats() -> None:
    # "AB12CDE" read with a 0 where the format wants a letter: O/0 look alike on EU plates.
    (read,) = _fake(["AB12CD0"], peak=0.6).read([_crop(520, 112)])
    assert read.text == "AB12CDO"


def test_a_known_states_formats_tell_o_from_zero_and_i_from_one() -> None:
    # Louisiana prints LLLDDD and Idaho LDDDDD among others: a read that fits none of the state's
    # formats becomes the one look-alike swap that fits; without a state it stays as read.
    reader = _fake(["0QK466", "164081", "0QK466", "0QK4661"], peak=0.6)
    louisiana, idaho, unknown, too_long = reader.read(
        [_crop()] * 4, jurisdictions=["LA", "ID", None, "LA"]
    )
    assert (louisiana.text, idaho.text, unknown.text) == ("OQK466", "I64081", "0QK466")
    assert too_long.text == "0QK4661"  # fits no format by one swap: left as read
    assert louisiana.candidates[0][0] == "OQK466"
    # The format chose the letter the model did not: the read is less sure, not more.
    assert louisiana.char_confidences[0] < 0.1 < unknown.char_confidences[0]
    assert louisiana.confidence < unknown.confidence


def test_a_jurisdiction_reader_tells_the_state_of_us_shaped_crops_only() -> None:
    asked: list[int] = []

    def states(crops: object) -> list[str | None]:
        asked.append(len(crops))  # type: ignore[arg-type]
        return ["CA"] * len(crops)  # type: ignore[arg-type]

    fake = _fake(["7ABC123", "AB12CDE", "7ABC123"])
    reader = PlateOcr(fake._infer, fake.calibration, jurisdiction_reader=states)
    reads = reader.read([_crop(), _crop(520, 112)])
    assert [r.jurisdiction for r in reads] == ["ca", None] and asked == [1]
    (told,) = reader.read([_crop()], jurisdictions=["TX"])  # the caller's word wins
    assert told.jurisdiction == "tx" and asked == [1]


def test_the_ppocr_reader_reads_the_state_band_alone() -> None:
    from PIL import Image, ImageDraw

    from pipelines.recognition.ocr import PlateReader
    from pipelines.training.synth import _font

    image = Image.new("RGB", (320, 160), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.text((95, 8), "TEXAS", font=_font("DejaVuSans-Bold.ttf", 34), fill=(150, 20, 20))
    draw.text((30, 55), "ABC1234", font=_font("DejaVuSans-Bold.ttf", 64), fill=(20, 20, 20))
    blank = np.full((160, 320, 3), 245, np.uint8)
    states = PlateReader.load(backend="onnx").read_jurisdictions([np.asarray(image), blank])
    assert states == ["tx", None]


def test_the_setting_names_the_valid_models() -> None:
    assert RecognitionSettings(ocr_model="plate").ocr_model == "plate"
    with pytest.raises(ConfigError, match=r"recognition.ocr_model='tesseract'.*'plate', 'ppocr'"):
        RecognitionSettings(ocr_model="tesseract")


needs_model = pytest.mark.skipif(not SHIPPED.is_file(), reason=f"{SHIPPED} not trained yet")


@pytest.fixture(scope="module")
def shipped() -> PlateOcr:
    return PlateOcr.load(backend="onnx")


def _family(style: str, fmt: str, seed: int) -> str:
    rng = np.random.default_rng(seed)
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return "".join(
        letters[int(rng.integers(len(letters)))] if c == "L" else str(int(rng.integers(10)))
        for c in fmt
    )


FAMILIES = (
    [("us", f) for f in US_FORMATS]
    + [("eu", f) for f in EU_FORMATS]
    + [("br", f) for f in BR_FORMATS]
)


@needs_model
@pytest.mark.parametrize(("style", "fmt"), FAMILIES)
def test_the_shipped_model_reads_generated_plates_of_each_format(
    shipped: PlateOcr, style: str, fmt: str
) -> None:
    crops, texts = [], []
    for seed in range(3):
        text = _family(style, fmt, seed)
        image, drawn = render_plate(np.random.default_rng([seed, 13]), text=text, style=style)
        crops.append(np.asarray(image))
        texts.append(drawn)
    reads = shipped.read(crops)
    assert [r.text for r in reads] == texts


@needs_model
def test_the_shipped_calibration_is_monotone(shipped: PlateOcr) -> None:
    grid = np.linspace(0, 1, 1001)
    mapped = np.array([shipped.calibration(x) for x in grid])
    assert np.all(np.diff(mapped) >= 0) and 0 <= mapped.min() <= mapped.max() <= 1
    assert mapped[-1] > mapped[0]  # it says something: sure reads score above unsure ones


@needs_model
@pytest.mark.skipif(not (US_CROPS / "labels.csv").is_file(), reason="../shared/data is absent")
def test_the_shipped_model_on_the_held_out_us_crops(shipped: PlateOcr) -> None:
    import csv

    import cv2

    from pipelines.training.ocr_data import us_crop_split

    with (US_CROPS / "labels.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if us_crop_split(r["image"]) == "held-out"]
    crops = [
        np.ascontiguousarray(np.asarray(cv2.imread(str(US_CROPS / r["image"])))[:, :, ::-1])
        for r in rows
    ]
    reads = shipped.read(crops)
    exact = sum(r.text == row["plate"] for r, row in zip(reads, rows, strict=True)) / len(rows)
    assert exact >= HELD_OUT_EXACT_FLOOR


@needs_model
def test_the_setting_makes_recognition_read_with_the_plate_model() -> None:
    from pipelines.recognition.recognize import Recognizer

    recognizer = Recognizer.load(RecognitionSettings(ocr_model="plate"))
    assert isinstance(recognizer.reader, PlateOcr)
    assert (
        recognizer.model_versions["ocr_model"] == f"{MODEL_FILE}@{recognizer.reader.model_sha256}"
    )
    image, text = render_plate(np.random.default_rng(4), text="7ABC123", style="us")
    (finding,) = recognizer.read_crops([np.asarray(image)])
    assert finding.read.text == text
