"""The project's own plate OCR: a small CTC recognizer trained on plates (``models/plate-ocr``).

One grey ``INPUT_HEIGHT x INPUT_WIDTH`` image per crop goes through a compact CNN (and 1-D
convolutions along the plate) that emits ``INPUT_WIDTH / 4`` CTC frames over the blank and :data:`PLATE_ALPHABET`; greedy decoding
gives the text, each character's probability at the frame where it peaks, and its runner-up glyphs
(the alternatives that :func:`~pipelines.recognition.plates.plate_candidates` turns into
candidate readings). The model is trained by ``alpr train ocr``
(:mod:`pipelines.training.ocr_train`); it runs on onnxruntime or OpenVINO, never on torch.

The overall confidence is *calibrated*: the product of the character probabilities is mapped
through a monotone (isotonic) table fitted on a validation split (``calibration.json`` beside the
model), so that a read of confidence 0.9 is exact about 90 % of the time on plates like those.

It produces the same :class:`~pipelines.recognition.ocr.PlateRead` as the PP-OCRv4 reader, which
reads again what it is unsure of (:mod:`~pipelines.recognition.cascade`, the default) and stays
as the baseline (``recognition.ocr_model = "ppocr"``). It reads the number only: ``jurisdiction`` is
what the caller tells it, or what a ``jurisdiction_reader`` (the PP-OCRv4 reader's state bands,
``recognition.ocr_read_jurisdiction``) reads off the plate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipelines.errors import RecognitionError
from pipelines.recognition.ocr import WIDE_PLATE_ASPECT, PlateRead
from pipelines.recognition.plates import (
    PLATE_ALPHABET,
    WIDE_PLATE_FORMATS,
    fit_lookalikes,
    formats_for,
    plate_candidates,
)
from pipelines.recognition.runtime import PRECISIONS, compile_openvino

__all__ = [
    "BACKENDS",
    "CLASSES",
    "DEFAULT_MODEL_DIR",
    "FRAME_WIDTH",
    "INPUT_HEIGHT",
    "INPUT_WIDTH",
    "Calibration",
    "PlateOcr",
    "decode_greedy",
    "preprocess",
]

INPUT_HEIGHT = 48
INPUT_WIDTH = 144
FRAME_WIDTH = 4  # input columns per CTC frame
CLASSES = ("", *PLATE_ALPHABET)  # class 0 is the CTC blank
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "plate-ocr"
MODEL_FILE = "plate-ocr.onnx"
CALIBRATION_FILE = "calibration.json"
BACKENDS = ("auto", "openvino", "onnx")
_MIN_CROP_SIDE = 8
JurisdictionReader = Callable[[Sequence[np.ndarray]], list[str | None]]
_ALTERNATIVES = 3
_CANDIDATES = 8


def preprocess(crop: np.ndarray) -> np.ndarray:
    """An RGB (or grey) ``uint8`` crop as the model's input: 1 x H x W float32, standardised.

    Grey, resized to the fixed input, then zero mean and unit spread per image, so that night, IR
    and washed-out crops look alike to the model.
    """
    grey = crop if crop.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    w = grey.shape[1]
    interpolation = cv2.INTER_AREA if w > INPUT_WIDTH else cv2.INTER_LINEAR
    small = cv2.resize(grey, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=interpolation)
    values = small.astype(np.float32)
    values -= float(values.mean())
    values /= max(float(values.std()), 8.0)
    return values[None]


@dataclass(frozen=True)
class Calibration:
    """A monotone map from the raw confidence (product of character probabilities) to the
    probability that the read is exact: linear between the ``knots`` (raw, calibrated), which are
    non-decreasing in both."""

    raw: tuple[float, ...]
    calibrated: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.raw) != len(self.calibrated) or not self.raw:
            raise ValueError("calibration needs as many calibrated values as raw knots, at least 1")
        if any(b < a for a, b in itertools.pairwise(self.raw)) or any(
            b < a for a, b in itertools.pairwise(self.calibrated)
        ):
            raise ValueError("calibration knots must be non-decreasing")
        if not all(0.0 <= v <= 1.0 for v in (*self.raw, *self.calibrated)):
            raise ValueError("calibration values must lie in [0, 1]")

    @classmethod
    def identity(cls) -> Calibration:
        return cls((0.0, 1.0), (0.0, 1.0))

    def __call__(self, raw: float) -> float:
        return float(np.interp(raw, self.raw, self.calibrated))

    def to_json(self) -> dict[str, Any]:
        return {"raw": list(self.raw), "calibrated": list(self.calibrated)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            tuple(float(v) for v in data["raw"]), tuple(float(v) for v in data["calibrated"])
        )


def decode_greedy(log_or_probs: np.ndarray) -> list[np.ndarray]:
    """Greedy CTC: one probability column over :data:`PLATE_ALPHABET` (summing to 1) per character
    read, taken at the frame where that character peaks; ``log_or_probs`` is frames x classes
    softmax probabilities (class 0 the blank)."""
    best = log_or_probs.argmax(axis=1)
    columns: list[np.ndarray] = []
    peaks: list[float] = []
    previous = 0
    for t, k in enumerate(best):
        k = int(k)
        if k != 0:
            p = float(log_or_probs[t, k])
            if k != previous:
                columns.append(log_or_probs[t, 1:])
                peaks.append(p)
            elif p > peaks[-1]:
                columns[-1] = log_or_probs[t, 1:]
                peaks[-1] = p
        previous = k
    return [c / max(float(c.sum()), 1e-9) for c in columns]


def _default_backend() -> str:
    return "openvino" if importlib.util.find_spec("openvino") else "onnx"


class PlateOcr:
    """Reads plate text from plate crops with the project's model. Build it with :meth:`load`;
    ``read`` may be called from several threads."""

    def __init__(
        self,
        infer: Callable[[np.ndarray], np.ndarray],
        calibration: Calibration,
        *,
        backend: str = "custom",
        model_sha256: str = "",
        batch_size: int = 32,
        jurisdiction_reader: JurisdictionReader | None = None,
    ) -> None:
        """``infer`` maps a float32 batch (N x 1 x H x W) to softmax scores (N x frames x 37).
        ``jurisdiction_reader`` tells the state of US-shaped crops from their printing (e.g.
        :meth:`PlateReader.read_jurisdictions <pipelines.recognition.ocr.PlateReader.read_jurisdictions>`),
        whose formats then weigh the candidates; without it only the caller tells the state."""
        if batch_size <= 0:
            raise ValueError(f"batch_size={batch_size} must be positive")
        self._infer = infer
        self._calibration = calibration
        self._backend = backend
        self._batch_size = batch_size
        self.model_sha256 = model_sha256
        self._jurisdiction_reader = jurisdiction_reader

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    @classmethod
    def load(
        cls,
        model_dir: str | Path | None = None,
        threads: int = 1,
        *,
        streams: int = 1,
        backend: str = "auto",
        precision: str = "auto",
        batch_size: int = 32,
        jurisdiction_reader: JurisdictionReader | None = None,
    ) -> PlateOcr:
        """Open ``model_dir`` (default :data:`DEFAULT_MODEL_DIR`: ``plate-ocr.onnx`` and
        ``calibration.json``) on the CPU with ``threads`` runtime threads per call."""
        if threads <= 0:
            raise ValueError(f"threads={threads} must be positive")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r}; valid values: {list(BACKENDS)}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision={precision!r}; valid values: {list(PRECISIONS)}")
        folder = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        path = folder / MODEL_FILE
        if not path.is_file():
            raise RecognitionError(f"plate OCR model {path} not found (train it: alpr train ocr)")
        calibration_path = folder / CALIBRATION_FILE
        try:
            calibration = (
                Calibration.from_json(json.loads(calibration_path.read_text()))
                if calibration_path.is_file()
                else Calibration.identity()
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RecognitionError(f"bad calibration {calibration_path}: {exc}") from exc
        if backend == "auto":
            backend = _default_backend()
        try:
            if backend == "openvino":
                infer = _openvino_engine(path, threads, precision, streams)
            else:
                infer = _onnx_engine(path, threads)
        except Exception as exc:  # the runtimes raise several unrelated types
            raise RecognitionError(f"cannot load plate OCR model {path}: {exc}") from exc
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(
            infer,
            calibration,
            backend=backend,
            model_sha256=sha,
            batch_size=batch_size,
            jurisdiction_reader=jurisdiction_reader,
        )

    def probabilities(self, crops: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each crop's softmax matrix (frames x classes); crops must be RGB/grey uint8 arrays."""
        out: list[np.ndarray] = []
        for start in range(0, len(crops), self._batch_size):
            batch = np.stack([preprocess(c) for c in crops[start : start + self._batch_size]])
            try:
                probs = np.asarray(self._infer(batch))
            except Exception as exc:  # the runtimes raise unrelated types
                raise RecognitionError(
                    f"plate OCR failed on a batch of {len(batch)}: {exc}"
                ) from exc
            out += list(probs)
        return out

    def read(
        self,
        crops: Sequence[np.ndarray],
        jurisdictions: Sequence[str | None] | None = None,
        wide: Sequence[bool] | None = None,
    ) -> list[PlateRead]:
        """Read each RGB ``uint8`` crop, as :meth:`PlateReader.read
        <pipelines.recognition.ocr.PlateReader.read>` does: ``jurisdictions`` (the caller's, one
        per crop or ``None``) bring that state's formats as a prior; ``wide`` marks single-line
        European/Mercosur plates (default: width/height at least :data:`WIDE_PLATE_ASPECT`)."""
        if jurisdictions is not None and len(jurisdictions) != len(crops):
            raise ValueError(f"{len(jurisdictions)} jurisdictions for {len(crops)} crops")
        if wide is None:
            wide = [_aspect(crop) >= WIDE_PLATE_ASPECT for crop in crops]
        elif len(wide) != len(crops):
            raise ValueError(f"{len(wide)} wide flags for {len(crops)} crops")
        images = [_as_image(crop, i) for i, crop in enumerate(crops)]
        readable = [i for i, image in enumerate(images) if image is not None]
        probs = self.probabilities([images[i] for i in readable])  # type: ignore[misc]
        by_crop = dict(zip(readable, probs, strict=True))
        told: dict[int, str | None] = {}
        if jurisdictions is None and self._jurisdiction_reader is not None:
            us_shaped = [i for i in readable if not wide[i]]
            found = self._jurisdiction_reader([crops[i] for i in us_shaped])
            told = dict(zip(us_shaped, found, strict=True))
        reads = []
        for i in range(len(crops)):
            given = jurisdictions[i] if jurisdictions is not None else told.get(i)
            jurisdiction = given.lower() if given else None
            if i not in by_crop:
                reads.append(PlateRead.empty(jurisdiction))
            else:
                reads.append(self._decide(by_crop[i], jurisdiction, wide[i]))
        return reads

    def _decide(self, probs: np.ndarray, jurisdiction: str | None, wide: bool) -> PlateRead:
        columns = decode_greedy(probs)
        if not columns:
            return PlateRead.empty(jurisdiction)
        text = "".join(PLATE_ALPHABET[int(c.argmax())] for c in columns)
        confs = [float(c.max()) for c in columns]
        alternatives = [
            {PLATE_ALPHABET[int(k)]: float(c[k]) for k in np.argsort(-c)[1 : 1 + _ALTERNATIVES]}
            for c in columns
        ]
        formats = WIDE_PLATE_FORMATS if wide else None
        ranked = plate_candidates(
            text,
            confs,
            alternatives=alternatives,
            jurisdiction=jurisdiction,
            formats=formats,
            limit=_CANDIDATES,
        )
        best = ranked[0][0] if ranked and ranked[0][0] else text
        # O/0 and I/1 look alike in most European fonts and on the plates of most states: where
        # the plate's formats are known, they tell which it is.
        best = fit_lookalikes(best, formats or formats_for(jurisdiction), confs)
        char_conf = tuple(
            round(min(1.0, float(c[PLATE_ALPHABET.index(ch)])), 6)
            for c, ch in zip(columns, best, strict=True)
        )
        confidence = round(self._calibration(math.prod(char_conf)), 6)
        # Candidates best first, the text itself first; scores as plate_candidates gave them
        # (the text's own path probability when the format fit made it up), summing to <= 1.
        scores = {r: s for r, s in ranked if r}
        scores.setdefault(best, math.prod(char_conf))
        order = [best, *(r for r in scores if r != best)][:_CANDIDATES]
        total = max(1.0, sum(scores[r] for r in order))
        scored = tuple((r, round(scores[r] / total, 6)) for r in order)
        return PlateRead(best, confidence, char_conf, scored, jurisdiction)


def _onnx_engine(path: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
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

    return infer


def _openvino_engine(
    path: Path, threads: int, precision: str, streams: int
) -> Callable[[np.ndarray], np.ndarray]:
    compiled, _ = compile_openvino(path, threads, precision, streams)

    def infer(batch: np.ndarray) -> np.ndarray:
        request = compiled.create_infer_request()  # one per call: requests are not thread-safe
        request.infer([batch])
        return np.array(request.get_output_tensor(0).data)

    return infer


def _aspect(crop: Any) -> float:
    shape: tuple[int, ...] = tuple(getattr(crop, "shape", ()))
    return float(shape[1]) / shape[0] if len(shape) >= 2 and shape[0] else 0.0


def _as_image(crop: Any, position: int) -> np.ndarray | None:
    """The crop as a contiguous RGB or grey uint8 array, or None when it cannot hold text."""
    if not isinstance(crop, np.ndarray):
        raise RecognitionError(f"crop {position} is a {type(crop).__name__}, not a numpy array")
    if crop.ndim == 3 and crop.shape[2] == 1:
        crop = crop[:, :, 0]
    if crop.ndim == 3 and crop.shape[2] == 4:
        crop = crop[:, :, :3]
    if crop.ndim not in (2, 3) or (crop.ndim == 3 and crop.shape[2] != 3):
        raise RecognitionError(
            f"crop {position} has shape {crop.shape}; expected H x W x 3 (RGB), H x W or RGBA"
        )
    if min(crop.shape[:2]) < _MIN_CROP_SIDE:
        return None
    if crop.dtype != np.uint8:
        if not np.issubdtype(crop.dtype, np.number):
            return None
        values = np.nan_to_num(crop.astype(np.float64))
        if values.max(initial=0.0) <= 1.0:
            values = values * 255.0
        crop = np.clip(values, 0, 255).astype(np.uint8)
    if int(crop.max()) - int(crop.min()) < 8:
        return None
    return np.ascontiguousarray(crop)
