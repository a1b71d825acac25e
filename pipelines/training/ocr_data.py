"""Training data for the plate OCR: synthetic plates made on the fly plus real crops, augmented.

Synthetic plates come from :func:`pipelines.training.synth.render_plate` (every US format, stacked
characters, state names and slogans; EU and Mercosur styles), with stickers and frame text added as
distractors. Every sample, synthetic or real, then goes through :func:`augment`: a perspective
view with a loose or tight crop, low resolution, blur, noise, night/IR contrast, glare, dirt and
JPEG.

Real crops, all from ``../shared/data`` and only from training splits:

- the OpenALPR US crops of the bench's *tuning* split (:func:`us_crop_split`; the held-out split
  of ``bench/eval_ocr.py`` is never read here), of which a hash-chosen fifth validates;
- plates cut from the *train* split of the ``openalpr-endtoend`` photos
  (:func:`~pipelines.training.dataset.read_real_labels`; its ``val`` split is never read), of
  which again a fifth validates.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from pipelines.recognition.plate_ocr import CLASSES, preprocess
from pipelines.training.dataset import DEFAULT_DATA_ROOT, read_real_labels
from pipelines.training.synth import _BAND_FONTS, _fit_text, render_plate

__all__ = [
    "US_CROPS",
    "US_HELD_OUT_PERCENT",
    "VAL_PERCENT",
    "LabeledCrop",
    "RealCrops",
    "SyntheticBank",
    "augment",
    "encode_text",
    "load_real_crops",
    "synthetic_plate",
    "us_crop_split",
]

US_CROPS = "openalpr-us-plates"
US_HELD_OUT_PERCENT = 40  # bench/eval_ocr.py reports on this split; never trained on
VAL_PERCENT = 20  # of the training splits, held back to pick the epoch and calibrate
_STYLE_WEIGHTS = {"us": 0.7, "eu": 0.15, "br": 0.15}
_STICKERS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_VANITY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "ABCDEFGHKLMNPRSTUVWXYZ"  # more letters
_FRAME_WORDS = ("DEALER", "AUTO MALL", "TOYOTA", "HONDA", "MOTORS", "COUNTY", "GO BLUE",
                "WWW.CARS.COM", "SUBARU", "FORD", "CHEVROLET")  # fmt: skip


def us_crop_split(name: str) -> str:
    """``"held-out"`` or ``"tuning"`` for an OpenALPR US crop's file name: held-out if
    ``int(sha1(name).hexdigest()[:8], 16) % 100 < 40`` (``bench/eval_ocr.py`` reports on it)."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 100
    return "held-out" if bucket < US_HELD_OUT_PERCENT else "tuning"


def _is_val(name: str) -> bool:
    return int(hashlib.sha256(("ocr/" + name).encode()).hexdigest()[:8], 16) % 100 < VAL_PERCENT


def encode_text(text: str) -> list[int]:
    """Class indices of ``text`` (blank is 0)."""
    return [CLASSES.index(c) for c in text]


@dataclass(frozen=True)
class LabeledCrop:
    image: np.ndarray  # RGB uint8
    text: str
    source: str  # "us", "eu", "br" or "synthetic"
    wide: bool = False
    name: str = ""  # the real crop's file (US) or photo (EU/BR) name


@dataclass(frozen=True)
class RealCrops:
    train: list[LabeledCrop]
    val: list[LabeledCrop]


def load_real_crops(data_root: Path | None = None, seed: int = 0) -> RealCrops:
    """The real crops of the training splits (empty lists when ``data_root`` lacks them)."""
    root = data_root or DEFAULT_DATA_ROOT
    train: list[LabeledCrop] = []
    val: list[LabeledCrop] = []
    labels = root / US_CROPS / "labels.csv"
    if labels.is_file():
        with labels.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if us_crop_split(row["image"]) != "tuning":
                    continue  # the held-out split is the benchmark's alone
                bgr = cv2.imread(str(root / US_CROPS / row["image"]), cv2.IMREAD_COLOR)
                if bgr is None:
                    continue
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                crop = LabeledCrop(rgb, row["plate"], "us", name=row["image"])
                (val if _is_val(row["image"]) else train).append(crop)
    rng = np.random.default_rng(seed)
    photos = read_real_labels(root)
    for row in photos.filter(photos["split"] == "train").iter_rows(named=True):
        bgr = cv2.imread(row["path"], cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        x1, y1, x2, y2 = row["x1"], row["y1"], row["x2"], row["y2"]
        text = "".join(c for c in str(row["text"]).upper() if c.isalnum())
        region = row["rel"].split("/")[0]
        if _is_val(row["rel"]):
            cut = _cut(image, (x1, y1, x2, y2), 0.08)
            val.append(LabeledCrop(cut, text, region, True, row["rel"]))
        else:
            # Several loose cuts of each training plate: the photo around it is real context.
            for _ in range(3):
                margin = float(rng.uniform(0.0, 0.25))
                cut = _cut(image, (x1, y1, x2, y2), margin)
                train.append(LabeledCrop(cut, text, region, True, row["rel"]))
    return RealCrops(train, val)


def _cut(image: np.ndarray, box: tuple[int, int, int, int], margin: float) -> np.ndarray:
    x1, y1, x2, y2 = box
    m = (y2 - y1) * margin
    h, w = image.shape[:2]
    top, bottom = max(0, int(y1 - m)), min(h, int(y2 + m + 1))
    left, right = max(0, int(x1 - m)), min(w, int(x2 + m + 1))
    return np.ascontiguousarray(image[top:bottom, left:right])


# --- synthetic --------------------------------------------------------------------------------


def _stickers(rng: np.random.Generator, img: Image.Image) -> None:
    """Registration stickers in the top corners and a dealer frame's text, as on real plates."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    for corner in (0, 1):
        if rng.random() < 0.45:
            sw, sh = int(w * rng.uniform(0.09, 0.16)), int(h * rng.uniform(0.12, 0.2))
            x = int(w * rng.uniform(0.02, 0.06)) if corner == 0 else w - sw - int(w * 0.04)
            y = int(h * rng.uniform(0.03, 0.1))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.rectangle((x, y, x + sw, y + sh), fill=colour)
            label = (
                _STICKERS[int(rng.integers(12))] if rng.random() < 0.5 else str(rng.integers(1, 13))
            )
            if rng.random() < 0.5:
                label = str(int(rng.integers(1995, 2030)))
            ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
            tile = _fit_text((max(1, sw - 4), max(1, sh - 4)), label, "DejaVuSans-Bold.ttf", ink)
            img.paste(tile, (x + 2, y + 2), tile)
    if rng.random() < 0.25:  # a dealer frame along the bottom edge
        fh = int(h * rng.uniform(0.1, 0.16))
        frame = tuple(int(v) for v in rng.integers(0, 80, 3))
        draw.rectangle((0, h - fh, w, h), fill=frame)
        word = _FRAME_WORDS[int(rng.integers(len(_FRAME_WORDS)))]
        tile = _fit_text((int(w * 0.5), max(1, fh - 4)), word, _BAND_FONTS[0], (230, 230, 230))
        img.paste(tile, (int(w * 0.25), h - fh + 2), tile)


def synthetic_plate(rng: np.random.Generator, style: str | None = None) -> LabeledCrop:
    """One clean synthetic plate (frontal, no camera effects) and its text."""
    if style is None:
        styles = list(_STYLE_WEIGHTS)
        style = styles[int(rng.choice(len(styles), p=list(_STYLE_WEIGHTS.values())))]
    text = None
    if style == "us" and rng.random() < 0.3:  # vanity plates: any letters, 2-8 of them
        n = int(rng.integers(2, 9))
        text = "".join(_VANITY[int(k)] for k in rng.integers(0, len(_VANITY), n))
    plate, text = render_plate(rng, text=text, style=style)
    if style == "us":
        _stickers(rng, plate)
    w, h = plate.size
    small = plate.resize((w // 2, h // 2), Image.Resampling.BILINEAR)  # a bank this size is cheap
    return LabeledCrop(
        np.asarray(small), text, style if style != "us" else "synthetic", style != "us"
    )


class SyntheticBank:
    """Clean synthetic plates kept in memory and renewed a few at a time (rendering is the slow
    part; augmenting a stored plate is cheap)."""

    def __init__(self, rng: np.random.Generator, size: int) -> None:
        self._rng = rng
        self.plates = [synthetic_plate(rng) for _ in range(size)]

    def refresh(self, count: int) -> None:
        for _ in range(count):
            self.plates[int(self._rng.integers(len(self.plates)))] = synthetic_plate(self._rng)

    def sample(self) -> LabeledCrop:
        return self.plates[int(self._rng.integers(len(self.plates)))]


# --- augmentation -----------------------------------------------------------------------------


def augment(rng: np.random.Generator, image: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """A camera's view of a plate crop (RGB uint8 in, grey uint8 out, at most 192 px wide):
    perspective and a loose or tight crop, low resolution, blur, night/IR contrast, glare, dirt,
    noise and JPEG. ``strength`` 0 only converts to grey; 1 is what training uses."""
    img = image
    h, w = img.shape[:2]
    if w > 192:  # the model reads 144 columns: nothing is lost, and the rest is 4x cheaper
        h, w = max(8, round(h * 192 / w)), 192
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    if img.ndim == 3:
        # Grey from random channel weights: inks of other colours give other contrasts.
        weights = np.array([0.299, 0.587, 0.114])
        if rng.random() < 0.5 * strength:
            weights = rng.dirichlet((1.0, 1.0, 1.0))
        img = (img.astype(np.float32) @ weights.astype(np.float32)).astype(np.uint8)
    if strength <= 0:
        return np.ascontiguousarray(img)
    # Perspective: the plate's corners jittered, with a margin from -4 % (cut) to +15 % (loose).
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    jitter = rng.uniform(-0.05, 0.05, (4, 2)) * np.array([w, h]) * strength
    margin = rng.uniform(-0.04, 0.15) * strength
    dst = src * (1 - 2 * margin) + np.array([w, h]) * margin + jitter
    if rng.random() < 0.5:  # yaw: one side shorter
        k = rng.uniform(-0.12, 0.12) * strength * h
        dst[1, 1] += k
        dst[2, 1] -= k
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    mode = cv2.BORDER_REPLICATE if rng.random() < 0.5 else cv2.BORDER_CONSTANT
    img = cv2.warpPerspective(
        img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=mode,
        borderValue=int(rng.integers(0, 256)),
    )  # fmt: skip
    if rng.random() < 0.7 * strength:  # low resolution: plates 36-190 px wide
        width = int(np.exp(rng.uniform(np.log(36), np.log(190))))
        img = cv2.resize(img, (width, max(8, round(width * h / w))), interpolation=cv2.INTER_AREA)
    f: np.ndarray = img.astype(np.float32)
    if rng.random() < 0.35 * strength:
        f = cv2.GaussianBlur(f, (0, 0), float(rng.uniform(0.4, 1.6)))
    if rng.random() < 0.12 * strength:  # motion blur along the travel direction
        length = int(rng.integers(2, 6))
        f = cv2.blur(f, (length, 1))
    u = rng.random()
    if u < 0.12 * strength:  # IR: the retro-reflective plate bright, strokes dark
        f = f * rng.uniform(1.2, 2.0) + rng.uniform(0, 50)
    elif u < 0.25 * strength:  # night: dark and low contrast
        f = f * rng.uniform(0.15, 0.5)
    else:
        f = f * rng.uniform(0.6, 1.3) + rng.uniform(-40, 40)
    if rng.random() < 0.2 * strength:  # contrast squeezed toward grey (haze, dirty plate)
        f = f * rng.uniform(0.4, 0.8) + 128 * rng.uniform(0.2, 0.6)
    hh, ww = f.shape[:2]
    if rng.random() < 0.15 * strength:  # glare
        cx, cy, r = rng.uniform(0, ww), rng.uniform(0, hh), rng.uniform(0.1, 0.5) * ww
        yy, xx = np.ogrid[:hh, :ww]
        glare = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)).astype(np.float32)
        f = f + glare * rng.uniform(60, 180)
    if rng.random() < 0.2 * strength:  # dirt: a few dark smudges
        smudge = np.zeros((hh, ww), np.float32)
        for _ in range(int(rng.integers(1, 5))):
            centre = (int(rng.uniform(0, ww)), int(rng.uniform(0, hh)))
            axes = (
                max(1, int(ww * rng.uniform(0.02, 0.1))),
                max(1, int(hh * rng.uniform(0.02, 0.1))),
            )
            cv2.ellipse(smudge, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        f = f * (1 - smudge * rng.uniform(0.2, 0.6))
    sigma = rng.uniform(0, 10) * strength
    if sigma > 1:
        f = f + rng.normal(0, sigma, f.shape).astype(np.float32)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if rng.random() < 0.5 * strength:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(20, 90))])
        if ok:
            img = np.asarray(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED))
    return np.ascontiguousarray(img)


def batch_tensors(
    crops: Sequence[np.ndarray], texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model inputs (N x 1 x H x W), concatenated targets and target lengths for CTC."""
    inputs = np.stack([preprocess(c) for c in crops])
    targets = np.array([k for t in texts for k in encode_text(t)], np.int64)
    lengths = np.array([len(t) for t in texts], np.int64)
    return inputs, targets, lengths
