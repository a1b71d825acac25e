"""Find licence plates in camera frames with the project's nano YOLO model.

The same weights run on four backends, fastest first: OpenVINO with INT8 weights and activations
(the ``*_int8_openvino_model`` folder, quantized by :mod:`pipelines.training.quantize`), OpenVINO
(``*_openvino_model``), ONNX Runtime (``.onnx``) and PyTorch (``.pt``). Whichever runs,
preprocessing and decoding are the code below, so results agree across backends to rounding (the
INT8 model's to its quantization: docs/recognition.md measures it).

Frames are resized so their long side is ``imgsz`` and padded only up to the next multiple of 32
(a 1280x720 frame runs at 640x384, not 640x640). The model was trained on crops at this scale, so
plates 70 px wide in a 1280 px frame are found in the whole frame. Larger frames would shrink such
plates below what the model sees, so a frame whose long side exceeds ``tile`` pixels is also read in
overlapping tiles of that size, each resized as a whole frame of that length would be (1280 px by
default: the training scale); the whole-frame pass still finds plates too big for one tile. Boxes cut by a tile's inner edge are dropped (the overlap holds that
plate whole in the next tile) and the rest are merged by non-maximum suppression.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipelines.errors import RecognitionError
from pipelines.recognition.runtime import MIN_IMAGE_SIZE, compile_openvino, resolve_precision

__all__ = [
    "BACKENDS",
    "DEFAULT_WEIGHTS",
    "INT8_SUFFIX",
    "TRAIN_RESULT_FILE",
    "Detection",
    "PlateDetector",
    "auto_order",
    "backend_files",
    "calibrated_threshold",
    "tile_grid",
]

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = (
    Path(__file__).resolve().parents[2] / "models" / "plate-detector" / "plate-detector.pt"
)
BACKENDS = ("openvino-int8", "openvino", "onnx", "pytorch")  # fastest first, at float32
INT8_SUFFIX = "_int8_openvino_model"  # the quantized IR's folder: <weights stem> + this
# Beside the weights, written by training: its "eval_metrics" rows hold each backend's threshold
# calibrated on the real validation photos (bench/eval_detector.py).
TRAIN_RESULT_FILE = "train_result.json"
_STRIDE = 32
_PAD = 114
_EDGE = 4.0  # model input pixels: a tile box this close to an inner tile edge is a cut plate

_Runner = Callable[[np.ndarray], np.ndarray]  # (B,3,H,W) float32 -> (B,5,N)


def calibrated_threshold(weights: Path, backend: str, imgsz: int) -> float | None:
    """The confidence threshold calibrated for ``weights`` on ``backend`` at ``imgsz`` (the lowest
    over its precisions, so that none loses a plate), from :data:`TRAIN_RESULT_FILE` beside them;
    None where none was measured."""
    path = Path(weights).parent / TRAIN_RESULT_FILE
    if not path.is_file():
        return None
    rows = json.loads(path.read_text()).get("eval_metrics", {}).get("rows", [])
    found = [r["threshold"] for r in rows if r["backend"] == backend and r["imgsz"] == imgsz]
    return float(min(found)) if found else None


@dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the original image's pixels
    score: float


@dataclass(frozen=True)
class _View:
    """A region of one frame that the model reads: the frame itself or one tile of it."""

    image: int  # index of the frame in the batch
    x0: int
    y0: int
    x1: int
    y1: int
    whole: bool


def tile_grid(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``length``, neighbours sharing at least
    ``overlap`` pixels, spread evenly; ``[0]`` when one tile covers it all."""
    if length <= tile:
        return [0]
    count = -(-(length - overlap) // (tile - overlap))
    return [k * (length - tile) // (count - 1) for k in range(count)]  # floor: gaps <= step


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()


def backend_files(weights: Path) -> dict[str, Path]:
    """Where each backend's file is for ``weights`` (any of .pt, .onnx or the OpenVINO folder)."""
    if weights.is_dir() or weights.suffix == ".xml":
        folder = weights if weights.is_dir() else weights.parent
        stem = folder.name.removesuffix(INT8_SUFFIX).removesuffix("_openvino_model")
        base = folder.parent / stem
    else:
        base = weights.with_suffix("")
    return {
        "openvino-int8": base.parent / f"{base.name}{INT8_SUFFIX}" / f"{base.name}.xml",
        "openvino": base.parent / f"{base.name}_openvino_model" / f"{base.name}.xml",
        "onnx": base.with_suffix(".onnx"),
        "pytorch": base.with_suffix(".pt"),
    }


def auto_order(precision: str) -> tuple[str, ...]:
    """The order ``backend="auto"`` tries the backends in, for ``precision`` (``"auto"`` asks the
    CPU). INT8 first, except in bfloat16: one thread, 1280x720, the f32 IR run in bfloat16 took
    25.9 ms a frame against 28.3 for the INT8 IR on a CPU with AMX (docs/recognition.md), with
    nothing lost to quantization; at float32 INT8 is the fastest (21.3 vs 28.0 ms on an AVX2-only
    CPU, a one-off timing of 30 frames)."""
    if resolve_precision(precision) == "bf16":
        return ("openvino", *(b for b in BACKENDS if b != "openvino"))
    return BACKENDS


def _openvino(path: Path, threads: int | None, precision: str) -> _Runner:
    compiled, _ = compile_openvino(path, threads, precision)
    request = compiled.create_infer_request()

    def run(batch: np.ndarray) -> np.ndarray:
        return np.asarray(request.infer({0: batch})[compiled.output(0)])

    return run


def _onnx(path: Path, threads: int | None, precision: str) -> _Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {name: batch})[0])

    return run


def _pytorch(path: Path, threads: int | None, precision: str) -> _Runner:
    from pipelines.recognition._ultralytics import prepare_ultralytics

    prepare_ultralytics()
    import torch
    from ultralytics.nn.tasks import load_checkpoint

    model, _ = load_checkpoint(str(path), device="cpu", fuse=True)
    model = model.float().eval()

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = model(torch.from_numpy(batch))
        out = out[0] if isinstance(out, (tuple, list)) else out
        return np.asarray(out.float().numpy())

    if threads:
        torch.set_num_threads(threads)
    return run


# Only OpenVINO takes ``precision``: the others run float32.
_LOADERS: dict[str, Callable[[Path, int | None, str], _Runner]] = {
    "openvino-int8": _openvino,
    "openvino": _openvino,
    "onnx": _onnx,
    "pytorch": _pytorch,
}


class PlateDetector:
    """A loaded plate detector; build it with :meth:`load`. Not thread-safe: one per worker."""

    def __init__(
        self,
        runner: _Runner,
        backend: str,
        path: Path,
        sha256: str,
        confidence: float,
        imgsz: int,
        iou: float,
        tile: int = 0,
        overlap: int = 0,
    ) -> None:
        self._run = runner
        self.backend = backend
        self.path = path
        self._sha256 = sha256
        self.confidence = confidence
        self.imgsz = imgsz
        self.iou = iou
        self.tile = tile
        self.overlap = overlap

    @classmethod
    def load(
        cls,
        weights: Path | None = None,
        backend: str = "auto",
        confidence: float | None = 0.25,
        imgsz: int = 640,
        iou: float = 0.5,
        threads: int | None = None,
        precision: str = "auto",
        tile: int = 0,
        overlap: int = 256,
    ) -> PlateDetector:
        """Load ``weights`` (default: the shipped model) on ``backend``.

        ``backend="auto"`` tries the backends in :func:`auto_order`, logging why each one that
        failed was skipped. ``weights`` may name any of the four files; the others are found
        next to it. ``imgsz`` is the long side the frame is resized to (multiple of 32);
        ``threads`` caps the backend's CPU threads (default: the backend's own choice);
        ``precision`` is OpenVINO's (:data:`~pipelines.recognition.runtime.PRECISIONS`).
        ``tile`` (0: never) is the long side in pixels above which a frame is also read in tiles
        of that size, neighbours sharing ``overlap`` pixels. ``confidence=None`` takes the
        threshold calibrated for the backend that loads (:func:`calibrated_threshold`).
        """
        if backend != "auto" and backend not in BACKENDS:
            raise RecognitionError(f"backend={backend!r}; valid values: {['auto', *BACKENDS]}")
        if imgsz % _STRIDE or imgsz < MIN_IMAGE_SIZE:
            raise RecognitionError(
                f"imgsz={imgsz} must be a multiple of {_STRIDE} and at least {MIN_IMAGE_SIZE}"
            )
        if confidence is not None and not 0.0 < confidence < 1.0:
            raise RecognitionError(f"confidence={confidence} must be in (0, 1)")
        if tile and not 0 <= overlap < tile:
            raise RecognitionError(f"overlap={overlap} must be at least 0 and below tile={tile}")
        weights = Path(weights) if weights is not None else DEFAULT_WEIGHTS
        paths = backend_files(weights)
        wanted = auto_order(precision) if backend == "auto" else (backend,)
        reasons: list[str] = []
        for name in wanted:
            path = paths[name]
            if not path.exists():
                reasons.append(f"{name}: {path} does not exist")
                continue
            try:
                runner = _LOADERS[name](path, threads, precision)
                # One small pass proves the file is a working model, not just a readable one;
                # shaped as every view is, long side ``imgsz`` (see MIN_IMAGE_SIZE).
                out = runner(np.zeros((1, 3, _STRIDE * 2, imgsz), np.float32))
                if out.ndim != 3 or out.shape[1] != 5:
                    raise ValueError(f"output shape {out.shape}, expected (batch, 5, anchors)")
            except Exception as exc:  # noqa: BLE001 - any failure means: try the next backend
                reasons.append(f"{name}: {path} could not be loaded ({type(exc).__name__}: {exc})")
                continue
            if reasons:
                log.warning("plate detector on %s; skipped %s", name, "; ".join(reasons))
            canonical = paths["pytorch"] if paths["pytorch"].is_file() else path
            artefact = path.parent if path.suffix == ".xml" else path
            sha = _sha256(canonical if canonical.is_file() else artefact)
            if confidence is None:
                threshold = calibrated_threshold(weights, name, imgsz)
                if threshold is None:
                    raise RecognitionError(
                        f"no confidence threshold calibrated for {name} at imgsz {imgsz} in "
                        f"{weights.parent / TRAIN_RESULT_FILE}: set recognition.confidence"
                    )
                confidence = threshold
            return cls(runner, name, path, sha, confidence, imgsz, iou, tile, overlap)
        raise RecognitionError(
            f"no plate detector could be loaded from {weights} (backend={backend}): "
            + "; ".join(reasons)
        )

    @property
    def model_sha256(self) -> str:
        """SHA-256 of the ``.pt`` weights (the trained model), whichever backend runs it."""
        return self._sha256

    def detect(self, images: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Plates in each RGB ``HxWx3`` uint8 image, best first, boxes in original pixels."""
        if not images:
            return []
        for i, img in enumerate(images):
            if img.ndim != 3 or img.shape[2] != 3:
                raise RecognitionError(f"image {i} has shape {img.shape}; expected HxWx3 RGB")
        views = [v for i, img in enumerate(images) for v in self._views(i, *img.shape[1::-1])]
        # One view a model call, each padded only to a multiple of the stride: on the CPU a batch
        # runs no faster than its views one by one and holds all their activations at once (two
        # workers on 1280x720 frames: 47.9 ms a frame and a 641 MiB peak one by one, 54.6 ms and
        # 1,140 MiB in calls of 16; a one-off timing, see docs/recognition.md).
        found: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in images]
        for view in views:
            batch = self._preprocess(images[view.image], view)
            try:
                raw = self._run(batch)
            except Exception as exc:
                raise RecognitionError(f"plate detector ({self.backend}) failed: {exc}") from exc
            height, width = images[view.image].shape[:2]
            found[view.image].append(self._decode(raw[0], view, width, height))
        return [self._merge(parts) for parts in found]

    def model_inputs(self, image: np.ndarray) -> list[np.ndarray]:
        """The model's input batches (of one) for an RGB frame: the whole frame and its tiles, as
        :meth:`detect` feeds them (quantization calibrates on exactly these)."""
        return [self._preprocess(image, view) for view in self._views(0, *image.shape[1::-1])]

    def passes(self, width: int, height: int) -> int:
        """Model passes a frame of this size takes: 1, or the whole frame and its tiles."""
        return len(self._views(0, width, height))

    def _views(self, index: int, width: int, height: int) -> list[_View]:
        whole = _View(index, 0, 0, width, height, whole=True)
        if not self.tile or max(height, width) <= self.tile:
            return [whole]
        return [whole] + [
            _View(index, x, y, min(x + self.tile, width), min(y + self.tile, height), whole=False)
            for y in tile_grid(height, self.tile, self.overlap)
            for x in tile_grid(width, self.tile, self.overlap)
        ]

    def _scale(self, view: _View) -> float:
        # Tiles are read at the scale of a frame whose long side is the tile, whatever their size.
        side = max(view.x1 - view.x0, view.y1 - view.y0) if view.whole else self.tile
        return self.imgsz / side

    def _resized(self, view: _View) -> tuple[int, int]:
        scale = self._scale(view)
        return (
            max(1, round((view.x1 - view.x0) * scale)),
            max(1, round((view.y1 - view.y0) * scale)),
        )

    def _preprocess(self, image: np.ndarray, view: _View) -> np.ndarray:
        """``view`` of ``image`` as a batch of one, padded right and below to the stride."""
        w, h = self._resized(view)
        padded = np.full(
            (-(-h // _STRIDE) * _STRIDE, -(-w // _STRIDE) * _STRIDE, 3), _PAD, np.uint8
        )
        region = image[view.y0 : view.y1, view.x0 : view.x1]
        interp = cv2.INTER_AREA if w < region.shape[1] else cv2.INTER_LINEAR
        padded[:h, :w] = cv2.resize(region, (w, h), interpolation=interp)
        tensor = padded.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        return np.ascontiguousarray(tensor)

    def _decode(
        self, out: np.ndarray, view: _View, width: int, height: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (x1, y1, x2, y2 in frame pixels) and scores the model found in one view."""
        none = np.zeros((0, 4)), np.zeros(0)
        scores = out[4]
        keep = scores >= self.confidence
        if not keep.any():
            return none
        cx, cy, w, h = out[:4, keep]
        s = scores[keep]
        xywh = np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
        nms = cv2.dnn.NMSBoxes(xywh.tolist(), s.tolist(), self.confidence, self.iou)
        idx = np.asarray(nms, dtype=int).reshape(-1)
        boxes = xywh[idx] / self._scale(view)
        boxes[:, 2:] += boxes[:, :2]
        boxes += (view.x0, view.y0, view.x0, view.y0)
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(view.x0, view.x1)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(view.y0, view.y1)
        kept = s[idx]
        inside = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # padding-only boxes
        if not view.whole:  # a plate cut by an inner tile edge is whole in the neighbouring tile
            edge = _EDGE / self._scale(view)
            inside &= (view.x0 == 0) | (boxes[:, 0] > view.x0 + edge)
            inside &= (view.y0 == 0) | (boxes[:, 1] > view.y0 + edge)
            inside &= (view.x1 == width) | (boxes[:, 2] < view.x1 - edge)
            inside &= (view.y1 == height) | (boxes[:, 3] < view.y1 - edge)
        return boxes[inside], kept[inside]

    def _merge(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> list[Detection]:
        """One list of detections, best first, from the views of one frame."""
        boxes = np.concatenate([b for b, _ in parts])
        scores = np.concatenate([s for _, s in parts])
        if len(parts) > 1 and len(boxes):  # the same plate seen by the frame and its tiles
            xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
            nms = cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), self.confidence, self.iou)
            idx = np.asarray(nms, dtype=int).reshape(-1)
            boxes, scores = boxes[idx], scores[idx]
        order = np.argsort(-scores, kind="stable")
        return [
            Detection(box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])), score=float(sc))
            for b, sc in zip(boxes[order], scores[order], strict=True)
        ]
