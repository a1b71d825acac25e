"""Plate OCR: PP-OCRv4 text recognition run directly, over several horizontal bands of each crop.

The recognition model (and its character list) ships inside the ``rapidocr-onnxruntime`` wheel, so
nothing is downloaded and no service runs. Text *detection* is skipped on purpose: on tight plate
crops it splits the number and reads state names and slogans. Instead each crop is cut into a few
row bands around the character row, the bands of all crops are recognized in batches (OpenVINO or
onnxruntime), and each crop's bands vote.

Running the model ourselves gives the CTC probability matrix: decoding is restricted to ``A-Z0-9``
(other symbols count as gaps), each character gets a confidence and its runner-up glyphs, and
:func:`~pipelines.recognition.plates.plate_candidates` turns those into alternative readings, with
the state's plate formats as a prior when the state name printed on the plate can be read.
"""

from __future__ import annotations

import importlib.util
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipelines.errors import RecognitionError
from pipelines.recognition.plates import (
    PLATE_ALPHABET,
    WIDE_PLATE_FORMATS,
    fit_lookalikes,
    formats_for,
    guess_jurisdiction,
    normalize_plate,
    plate_candidates,
)
from pipelines.recognition.runtime import PRECISIONS, compile_openvino

__all__ = [
    "BACKENDS",
    "DEFAULT_BANDS",
    "JURISDICTION_BANDS",
    "WIDE_PLATE_ASPECT",
    "PlateRead",
    "PlateReader",
    "default_model_path",
]

# Row bands (top, bottom as fractions of crop height) that the bands vote over: tall ones keep
# characters whole on loose crops, short ones cut state names and slogans off tight ones.
DEFAULT_BANDS: tuple[tuple[float, float], ...] = (
    (0.10, 0.90),
    (0.25, 0.85),
    (0.15, 0.85),
    (0.30, 0.80),
)
# Where state names and slogans are printed: read with the full character set for the jurisdiction.
JURISDICTION_BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.32), (0.70, 1.0))

# Plates whose width/height is at least this are single-line European or Mercosur plates (about
# 4.7 and 3.1); US plates are about 2 (tight US crops measure 1.6-2.6).
WIDE_PLATE_ASPECT = 2.65

_MODEL_FILE = "ch_PP-OCRv4_rec_infer.onnx"
_INPUT_HEIGHT = 48  # the PP-OCRv4 recognizer's fixed input height
_FRAME_WIDTH = 8  # input pixels per CTC frame
_MAX_INPUT_WIDTH = 960  # wider bands are squeezed: nothing on a plate needs more
_WIDTH_BUCKET = 64  # bands are zero-padded to a multiple of this width for batching
_MIN_CROP_SIDE = 8  # smaller crops carry no readable text
_ALTERNATIVES = 3  # runner-up glyphs kept per character
_ZERO_OR_O = (PLATE_ALPHABET.index("0"), PLATE_ALPHABET.index("O"))  # one glyph on most US plates
_CANDIDATES_PER_BAND = 8
BACKENDS = ("auto", "openvino", "onnx")


@dataclass(frozen=True)
class PlateRead:
    """One crop's reading.

    ``text`` is normalized (``A-Z0-9``, empty when nothing was readable). ``confidence`` is the
    probability the model gives this exact string, averaged over the bands; ``char_confidences``
    the same per character. ``candidates`` are readings best first, *including* ``text`` as the
    first entry (when not empty), with scores that sum to at most 1; hotlist matching may try them
    all. ``jurisdiction`` is a two-letter lower-case state code when the plate's own printing (or
    the caller) told it, else ``None``.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[tuple[str, float], ...]
    jurisdiction: str | None = None

    def __post_init__(self) -> None:
        if normalize_plate(self.text) != self.text:
            raise ValueError(f"PlateRead.text={self.text!r} is not normalized (A-Z0-9 only)")
        if len(self.char_confidences) != len(self.text):
            raise ValueError(
                f"{len(self.char_confidences)} char_confidences for {len(self.text)} characters"
            )
        for value in (self.confidence, *self.char_confidences, *(s for _, s in self.candidates)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"confidence {value} is outside [0, 1]")

    @classmethod
    def empty(cls, jurisdiction: str | None = None) -> PlateRead:
        """The reading of a crop with nothing readable on it."""
        return cls("", 0.0, (), (), jurisdiction)


def default_model_path() -> Path:
    """The PP-OCRv4 recognition model inside the installed ``rapidocr-onnxruntime`` wheel."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise RecognitionError(
            "the OCR model ships with rapidocr-onnxruntime, which is not installed "
            "(pip install 'rapidocr-onnxruntime>=1.4'), or pass model_path="
        )
    return Path(spec.origin).parent / "models" / _MODEL_FILE


@dataclass(frozen=True)
class _Band:
    crop: int
    kind: str  # "plate" or "jurisdiction"
    image: np.ndarray  # 3 x 48 x width, normalized
    frames: int


class PlateReader:
    """Reads plate text from plate crops. Build it with :meth:`load`; ``read`` may be called from
    several threads (each call gets its own inference request)."""

    def __init__(
        self,
        infer: Callable[[np.ndarray], np.ndarray],
        characters: Sequence[str],
        *,
        backend: str = "custom",
        bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
        read_jurisdiction: bool = True,
        o_as_zero: bool = True,
        batch_size: int = 32,
        quick_bands: int = 2,
        settle_confidence: float = 0.9,
    ) -> None:
        """``infer`` maps a float32 batch (N x 3 x 48 x W) to softmax scores (N x W/8 x classes),
        ``characters`` names the classes (index 0 the CTC blank). :meth:`load` builds both."""
        for top, bottom in bands:
            if not 0.0 <= top < bottom <= 1.0:
                raise ValueError(f"band ({top}, {bottom}) must satisfy 0 <= top < bottom <= 1")
        if not bands:
            raise ValueError("at least one band is needed")
        if batch_size <= 0:
            raise ValueError(f"batch_size={batch_size} must be positive")
        if not 1 <= quick_bands <= len(bands):
            raise ValueError(f"quick_bands={quick_bands} must be between 1 and {len(bands)}")
        self._infer = infer
        self._characters = list(characters)
        self._backend = backend
        self._bands = tuple(bands)
        self._read_jurisdiction = read_jurisdiction
        self._o_as_zero = o_as_zero
        self._batch_size = batch_size
        self._quick_bands = quick_bands
        self._settle_confidence = settle_confidence
        # Model class index of each plate character; everything else (other scripts, lower case,
        # punctuation, the blank) is a gap between characters.
        index = {c: i for i, c in enumerate(self._characters)}
        missing = [c for c in PLATE_ALPHABET if c not in index]
        if missing:
            raise RecognitionError(f"the OCR model's character list lacks {missing}")
        self._plate_columns = np.array([index[c] for c in PLATE_ALPHABET])

    @property
    def bands(self) -> tuple[tuple[float, float], ...]:
        """The row bands read per crop (top, bottom as fractions of its height)."""
        return self._bands

    @property
    def backend(self) -> str:
        """The runtime that runs the model: ``"openvino"`` or ``"onnx"``."""
        return self._backend

    @classmethod
    def load(
        cls,
        threads: int = 1,
        model_path: str | Path | None = None,
        *,
        streams: int = 1,
        backend: str = "auto",
        precision: str = "auto",
        bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
        read_jurisdiction: bool = True,
        o_as_zero: bool = True,
        batch_size: int = 32,
        quick_bands: int = 2,
        settle_confidence: float = 0.9,
    ) -> PlateReader:
        """Open the recognition model on the CPU.

        ``threads`` bounds the runtime's threads per call (the pipeline parallelises across crops);
        ``streams`` is how many threads may call :meth:`read` at once without waiting on each
        other (the workers that share this reader).
        ``backend`` is ``"openvino"`` (about 1.4x faster here), ``"onnx"`` (onnxruntime) or
        ``"auto"`` (OpenVINO when installed). ``precision`` is OpenVINO's inference precision
        (:data:`~pipelines.recognition.runtime.PRECISIONS`; ``"auto"``: bfloat16 where the CPU
        computes it natively). ``read_jurisdiction`` also reads the state name/slogan bands to
        fill ``jurisdiction`` and use that state's formats. ``quick_bands`` of ``bands`` are read
        first; the rest only when those disagree or a character's confidence is under
        ``settle_confidence``. ``o_as_zero`` reports the O/0
        glyph as ``0``: most US plates print one glyph for both, and the OpenALPR US labels write
        ``0``, except where the state's formats (when the state is known) put a letter.
        """
        if threads <= 0:
            raise ValueError(f"threads={threads} must be positive")
        if streams <= 0:
            raise ValueError(f"streams={streams} must be positive")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; valid values: {list(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision={precision!r}; valid values: {list(PRECISIONS)}")
        path = Path(model_path) if model_path is not None else default_model_path()
        if not path.is_file():
            raise RecognitionError(
                f"OCR model {path} not found; reinstall rapidocr-onnxruntime>=1.4 or pass model_path="
            )
        if backend == "auto":
            backend = "openvino" if importlib.util.find_spec("openvino") else "onnx"
        try:
            if backend == "openvino":
                infer, listing = _openvino_engine(path, threads, precision, streams)
            else:
                infer, listing = _onnx_engine(path, threads)
        except Exception as exc:  # the runtimes raise several unrelated types
            raise RecognitionError(f"cannot load OCR model {path}: {exc}") from exc
        if not listing:
            raise RecognitionError(f"OCR model {path} carries no character list ('character')")
        # CTC class 0 is the blank; the model's list ends with a space class.
        characters = ["", *listing.splitlines(), " "]
        return cls(
            infer,
            characters,
            backend=backend,
            bands=bands,
            read_jurisdiction=read_jurisdiction,
            o_as_zero=o_as_zero,
            batch_size=batch_size,
            quick_bands=quick_bands,
            settle_confidence=settle_confidence,
        )

    def read(
        self,
        crops: Sequence[np.ndarray],
        jurisdictions: Sequence[str | None] | None = None,
        wide: Sequence[bool] | None = None,
    ) -> list[PlateRead]:
        """Read each RGB ``uint8`` crop (H x W x 3; grey H x W and RGBA are accepted).

        A crop too small, empty or flat to hold text reads as :meth:`PlateRead.empty`; something
        that is not an image array raises :class:`RecognitionError`. ``jurisdictions`` (one per
        crop, or ``None``) overrides the state read off the plate, e.g. a camera's home state.
        ``wide`` marks single-line European/Mercosur plates, which print O and I as letters and
        follow :data:`WIDE_PLATE_FORMATS`; by default a crop is wide when its width/height is at
        least :data:`WIDE_PLATE_ASPECT` (pass it when crops carry a margin around the plate).
        Wide plates carry no US state name, so their ``jurisdiction`` is only what the caller
        passes.
        """
        if jurisdictions is not None and len(jurisdictions) != len(crops):
            raise ValueError(f"{len(jurisdictions)} jurisdictions for {len(crops)} crops")
        if wide is None:
            wide = [_aspect(crop) >= WIDE_PLATE_ASPECT for crop in crops]
        elif len(wide) != len(crops):
            raise ValueError(f"{len(wide)} wide flags for {len(crops)} crops")
        images = [_as_rgb(crop, i) for i, crop in enumerate(crops)]
        plate_probs: dict[int, list[np.ndarray]] = defaultdict(list)
        side_text: dict[int, list[str]] = defaultdict(list)

        def wants_state(i: int) -> bool:
            # Wide plates are European or Mercosur: no US state name to read on them.
            told = jurisdictions is not None and jurisdictions[i] is not None
            return self._read_jurisdiction and not wide[i] and not told

        # Two rounds: the first bands of each crop (and the band where most states print their
        # name); the other bands only for crops whose first bands disagree or doubt, and the lower
        # jurisdiction band only where the upper one named no state. Most crops settle in round one.
        first: list[_Band] = []
        for i, image in enumerate(images):
            if image is None:
                continue
            first += [_band(i, "plate", image, t, b) for t, b in self._bands[: self._quick_bands]]
            if wants_state(i):
                first.append(_band(i, "jurisdiction", image, *JURISDICTION_BANDS[0]))
        self._collect(first, plate_probs, side_text)
        second: list[_Band] = []
        for i, image in enumerate(images):
            if image is None:
                continue
            if not self._settled(plate_probs[i], wide[i]):
                second += [
                    _band(i, "plate", image, t, b) for t, b in self._bands[self._quick_bands :]
                ]
            if wants_state(i) and guess_jurisdiction(side_text[i]) is None:
                second += [_band(i, "jurisdiction", image, t, b) for t, b in JURISDICTION_BANDS[1:]]
        self._collect(second, plate_probs, side_text)

        reads: list[PlateRead] = []
        for i, image in enumerate(images):
            given = jurisdictions[i] if jurisdictions is not None else None
            jurisdiction = given.lower() if given else guess_jurisdiction(side_text.get(i, ()))
            if image is None:
                reads.append(PlateRead.empty(jurisdiction))
            else:
                reads.append(self._decide(plate_probs[i], jurisdiction, wide[i]))
        return reads

    def read_jurisdictions(self, crops: Sequence[np.ndarray]) -> list[str | None]:
        """The state each US-shaped crop's printing names (its state-name and slogan bands, the
        lower one only where the upper one named none), ``None`` where none can be told; for a
        plate OCR that reads the number only."""
        images = [_as_rgb(crop, i) for i, crop in enumerate(crops)]
        side_text: dict[int, list[str]] = defaultdict(list)
        for round_bands in (JURISDICTION_BANDS[:1], JURISDICTION_BANDS[1:]):
            bands = [
                _band(i, "jurisdiction", image, t, b)
                for i, image in enumerate(images)
                if image is not None and guess_jurisdiction(side_text[i]) is None
                for t, b in round_bands
            ]
            self._collect(bands, defaultdict(list), side_text)
        return [guess_jurisdiction(side_text[i]) for i in range(len(crops))]

    def _collect(
        self,
        bands: Sequence[_Band],
        plate_probs: dict[int, list[np.ndarray]],
        side_text: dict[int, list[str]],
    ) -> None:
        for band, p in zip(bands, self._recognize(bands), strict=True):
            if band.kind == "plate":
                plate_probs[band.crop].append(p[:, self._plate_columns])
            else:
                side_text[band.crop].append(self._greedy_text(p))

    def _settled(self, band_probs: Sequence[np.ndarray], wide: bool) -> bool:
        """Whether the bands read so far agree on one reading, every character of it sure enough
        that more bands could not change the vote."""
        if len(band_probs) >= len(self._bands):
            return True
        texts = set()
        for probs in band_probs:
            columns = _decode(probs)
            if not columns or min(float(c.max()) for c in columns) < self._settle_confidence:
                return False
            text = "".join(PLATE_ALPHABET[int(c.argmax())] for c in columns)
            texts.add(text if wide or not self._o_as_zero else text.replace("O", "0"))
        return len(texts) == 1

    def _recognize(self, bands: Sequence[_Band]) -> list[np.ndarray]:
        """Run the model over all bands and return each band's softmax matrix (frames x classes).

        Bands are batched by width rounded up to :data:`_WIDTH_BUCKET`, zero-padded on the right
        as PaddleOCR pads its own batches. Few distinct input shapes keep batches full and the
        runtime's per-shape kernel cache small (it otherwise grows with every new band width).
        """
        out: list[np.ndarray] = [np.empty(0)] * len(bands)
        by_width: dict[int, list[int]] = defaultdict(list)
        for k, band in enumerate(bands):
            by_width[-(-band.image.shape[2] // _WIDTH_BUCKET) * _WIDTH_BUCKET].append(k)
        for width, group in by_width.items():
            for start in range(0, len(group), self._batch_size):
                chunk = group[start : start + self._batch_size]
                batch = np.zeros((len(chunk), 3, _INPUT_HEIGHT, width), np.float32)
                for row, k in enumerate(chunk):
                    batch[row, :, :, : bands[k].image.shape[2]] = bands[k].image
                try:
                    probs = self._infer(batch)
                except Exception as exc:  # the runtimes raise unrelated types
                    raise RecognitionError(
                        f"OCR model failed on a batch of {len(chunk)}: {exc}"
                    ) from exc
                for row, k in enumerate(chunk):
                    out[k] = probs[row, : bands[k].frames]
        return out

    def _greedy_text(self, probs: np.ndarray) -> str:
        best = probs.argmax(axis=1)
        keep = np.ones(len(best), bool)
        keep[1:] = best[1:] != best[:-1]
        return "".join(self._characters[k] for k in best[keep & (best != 0)])

    def _decide(
        self, band_probs: Sequence[np.ndarray], jurisdiction: str | None, wide: bool
    ) -> PlateRead:
        """Vote over the bands' candidate readings and score the winner."""
        decoded = [_decode(p) for p in band_probs]
        o_as_zero = self._o_as_zero and not wide  # wide plates print the letter O distinctly
        votes: dict[str, float] = defaultdict(float)
        for columns in decoded:
            if not columns:
                votes[""] += 1.0
                continue
            text = "".join(PLATE_ALPHABET[int(c.argmax())] for c in columns)
            confs = [float(c.max()) for c in columns]
            alternatives = [_alternatives(c) for c in columns]
            for reading, score in plate_candidates(
                text,
                confs,
                alternatives=alternatives,
                jurisdiction=jurisdiction,
                formats=WIDE_PLATE_FORMATS if wide else None,
                limit=_CANDIDATES_PER_BAND,
            ):
                votes[reading] += score
        if o_as_zero:
            merged: dict[str, float] = defaultdict(float)
            for reading, score in votes.items():
                merged[reading.replace("O", "0")] += score
            votes = merged
        ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
        best = ranked[0][0]
        if not best:
            return PlateRead.empty(jurisdiction)
        char_confidences, confidence = self._score(best, decoded, o_as_zero)
        # O/0 and I/1 look alike in most European fonts and on the plates of most states (hence
        # the O/0 merge above): where the plate's formats are known, they tell which it is.
        formats = WIDE_PLATE_FORMATS if wide else formats_for(jurisdiction)
        fitted = fit_lookalikes(best, formats, char_confidences)
        if fitted != best:
            votes[fitted] += votes.pop(best)  # the same glyphs: one reading, not two
            ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
            best = fitted
            char_confidences, confidence = self._score(best, decoded, o_as_zero)
        total = sum(votes.values())
        candidates = tuple(
            (reading, round(score / total, 6))
            for reading, score in ranked[:_CANDIDATES_PER_BAND]
            if reading
        )
        return PlateRead(best, confidence, char_confidences, candidates, jurisdiction)

    def _score(
        self, text: str, decoded: Sequence[list[np.ndarray]], o_as_zero: bool
    ) -> tuple[tuple[float, ...], float]:
        """Per-character and whole-string probability of ``text``, averaged over all bands (a band
        that read another length contributes 0)."""
        targets = [PLATE_ALPHABET.index(c) for c in text]
        per_char = np.zeros(len(text))
        whole = 0.0
        for columns in decoded:
            if len(columns) != len(text):
                continue
            probs = []
            for column, target in zip(columns, targets, strict=True):
                p = float(column[target])
                if o_as_zero and target in _ZERO_OR_O:  # one glyph: its probability
                    p = float(column[list(_ZERO_OR_O)].sum())
                probs.append(min(p, 1.0))
            per_char += probs
            whole += math.prod(probs)
        n = len(decoded)
        return tuple(round(float(p) / n, 6) for p in per_char), round(whole / n, 6)


def _onnx_engine(path: Path, threads: int) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    session = ort.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name

    def infer(batch: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {name: batch})[0])

    return infer, session.get_modelmeta().custom_metadata_map.get("character", "")


def _openvino_engine(
    path: Path, threads: int, precision: str, streams: int
) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    compiled, model = compile_openvino(path, threads, precision, streams)
    key = ["framework", "character"]  # where OpenVINO keeps the ONNX metadata entry
    listing = model.get_rt_info(key).astype(str) if model.has_rt_info(key) else ""

    def infer(batch: np.ndarray) -> np.ndarray:
        request = compiled.create_infer_request()  # one per call: requests are not thread-safe
        request.infer([batch])
        return np.array(request.get_output_tensor(0).data)

    return infer, listing


def _aspect(crop: Any) -> float:
    shape: tuple[int, ...] = tuple(getattr(crop, "shape", ()))
    return float(shape[1]) / shape[0] if len(shape) >= 2 and shape[0] else 0.0


def _as_rgb(crop: Any, position: int) -> np.ndarray | None:
    """The crop as a contiguous RGB uint8 array, or None when it cannot hold text."""
    if not isinstance(crop, np.ndarray):
        raise RecognitionError(f"crop {position} is a {type(crop).__name__}, not a numpy array")
    if crop.ndim == 3 and crop.shape[2] == 1:
        crop = crop[:, :, 0]
    if crop.ndim == 2:
        crop = np.repeat(crop[:, :, None], 3, axis=2)
    if crop.ndim != 3 or crop.shape[2] not in (3, 4):
        raise RecognitionError(
            f"crop {position} has shape {crop.shape}; expected H x W x 3 (RGB), H x W or RGBA"
        )
    crop = crop[:, :, :3]
    if min(crop.shape[:2]) < _MIN_CROP_SIDE:
        return None
    if crop.dtype != np.uint8:
        if not np.issubdtype(crop.dtype, np.number):
            return None
        values = np.nan_to_num(crop.astype(np.float64))
        if values.max(initial=0.0) <= 1.0:  # float images in [0, 1]
            values = values * 255.0
        crop = np.clip(values, 0, 255).astype(np.uint8)
    if int(crop.max()) - int(crop.min()) < 8:  # flat: no strokes to read
        return None
    return np.ascontiguousarray(crop)


def _band(crop: int, kind: str, image: np.ndarray, top: float, bottom: float) -> _Band:
    """Cut rows ``top..bottom`` and normalize them to the recognizer's input (3 x 48 x width)."""
    height = image.shape[0]
    y0 = int(height * top)
    y1 = max(y0 + 1, round(height * bottom))
    rows = image[y0:y1, :, ::-1]  # PaddleOCR models are trained on BGR (OpenCV) images
    # Width snapped to whole CTC frames, so that the frames read map to the band exactly.
    frames = round(_INPUT_HEIGHT * rows.shape[1] / len(rows) / _FRAME_WIDTH)
    width = min(_MAX_INPUT_WIDTH, max(1, frames) * _FRAME_WIDTH)
    resized = cv2.resize(rows, (width, _INPUT_HEIGHT), interpolation=cv2.INTER_LINEAR)
    tensor = (resized.astype(np.float32).transpose(2, 0, 1) / 127.5) - 1.0
    return _Band(crop, kind, tensor, width // _FRAME_WIDTH)


def _decode(plate_probs: np.ndarray) -> list[np.ndarray]:
    """Greedy CTC over the plate alphabet: one probability column (36 values, summing to 1) per
    character read, taken at the frame where that character peaks.

    A frame's gap mass is everything outside the alphabet, so separators, logos and lower-case
    slogan letters fall between characters instead of turning into look-alike letters."""
    if len(plate_probs) == 0:
        return []
    gap = 1.0 - plate_probs.sum(axis=1)
    best = plate_probs.argmax(axis=1)
    is_char = plate_probs[np.arange(len(best)), best] > gap
    columns: list[np.ndarray] = []
    previous = -1
    peak = -1.0
    for t in range(len(best)):
        if not is_char[t]:
            previous = -1
            continue
        p = plate_probs[t]
        if best[t] != previous:
            columns.append(p / max(float(p.sum()), 1e-9))
            peak = float(p[best[t]])
        elif p[best[t]] > peak:
            columns[-1] = p / max(float(p.sum()), 1e-9)
            peak = float(p[best[t]])
        previous = int(best[t])
    return columns


def _alternatives(column: np.ndarray) -> dict[str, float]:
    top = np.argsort(-column)[1 : 1 + _ALTERNATIVES]
    return {PLATE_ALPHABET[int(k)]: float(column[k]) for k in top if column[k] > 0}
