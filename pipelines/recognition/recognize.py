"""Plate recognition over frames: detect plates, crop them, read them.

:func:`read_frames` is the one place detection and OCR are put together; the ``recognize``
partition step (``partition.py``) and ``alpr recognize`` both call it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from pipelines.config import RecognitionSettings
from pipelines.errors import RecognitionError
from pipelines.recognition.cascade import CascadeOcr
from pipelines.recognition.detector import Detection, PlateDetector
from pipelines.recognition.ocr import (
    WIDE_PLATE_ASPECT,
    PlateRead,
    PlateReader,
    default_model_path,
)
from pipelines.recognition.plate_ocr import MODEL_FILE, PlateOcr

__all__ = ["PlateFinding", "Recognizer", "crop_plate", "decode_image"]

# Margin added around a detected box before OCR, as a fraction of its height: detector boxes sit
# tight on the plate edge, and the OCR's bands need the characters whole.
_CROP_MARGIN = 0.08


@dataclass(frozen=True)
class PlateFinding:
    detection: Detection
    read: PlateRead
    crop: np.ndarray  # RGB, what the OCR saw


def decode_image(data: bytes) -> np.ndarray:
    """RGB ``uint8`` array of an encoded image, EXIF orientation applied; RecognitionError if not."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", img.size)  # full-size decode; draft only picks the JPEG fast path
            return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RecognitionError(f"image does not decode: {exc}") from exc


def crop_plate(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The plate region of ``image`` with a small margin, clipped to the frame."""
    x1, y1, x2, y2 = box
    margin = (y2 - y1) * _CROP_MARGIN
    h, w = image.shape[:2]
    left, top = max(0, int(x1 - margin)), max(0, int(y1 - margin))
    right, bottom = min(w, int(np.ceil(x2 + margin))), min(h, int(np.ceil(y2 + margin)))
    return image[top:bottom, left:right]


def _aspect(box: tuple[float, float, float, float]) -> float:
    x1, y1, x2, y2 = box
    return (x2 - x1) / max(y2 - y1, 1e-6)


Reader = PlateReader | PlateOcr | CascadeOcr


def _load_reader(settings: RecognitionSettings, streams: int, threads: int) -> tuple[Reader, str]:
    """The OCR ``settings.ocr_model`` names and its version for the reads (file@sha256)."""
    path = default_model_path()
    ppocr_version = f"{path.name}@{hashlib.sha256(path.read_bytes()).hexdigest()}"
    ppocr: PlateReader | None = None  # the own model alone, without states: none in memory
    if settings.ocr_model != "plate" or settings.ocr_read_jurisdiction:
        ppocr = PlateReader.load(
            threads=threads,
            streams=streams,
            backend=settings.ocr_backend,
            read_jurisdiction=settings.ocr_read_jurisdiction,
            precision=settings.precision,
        )
    if settings.ocr_model == "ppocr" and ppocr is not None:
        return ppocr, ppocr_version
    own = PlateOcr.load(
        settings.ocr_model_dir or None,
        threads,
        streams=streams,
        backend=settings.ocr_backend,
        precision=settings.precision,
        # the state bands, read by PP-OCRv4
        jurisdiction_reader=ppocr.read_jurisdictions
        if ppocr is not None and settings.ocr_read_jurisdiction
        else None,
    )
    version = f"{MODEL_FILE}@{own.model_sha256}"
    if settings.ocr_model == "plate" or ppocr is None:
        return own, version
    gate = settings.ocr_cascade_gate
    return CascadeOcr(own, ppocr, gate), f"cascade<{gate}:{version}+{ppocr_version}"


class Recognizer:
    """The detector and the OCR, loaded once and used for many frames."""

    def __init__(self, detector: PlateDetector, reader: Reader, ocr_model: str) -> None:
        self.detector = detector
        self.reader = reader
        self.ocr_model = ocr_model

    @classmethod
    def load(cls, settings: RecognitionSettings, threads: int | None = None) -> Recognizer:
        return cls.load_workers(settings, 1, threads)[0]

    @classmethod
    def load_workers(
        cls, settings: RecognitionSettings, workers: int, threads: int | None = None
    ) -> list[Recognizer]:
        """``workers`` recognizers for parallel batches: a detector each (detectors are not
        thread-safe), one OCR reader shared (it is, and it holds most of the memory)."""
        weights = Path(settings.detector_weights) if settings.detector_weights else None
        reader, ocr_version = _load_reader(settings, workers, threads or 1)
        return [
            cls(
                PlateDetector.load(
                    weights,
                    backend=settings.backend,
                    confidence=settings.detector_confidence,
                    imgsz=settings.image_size,
                    threads=threads,
                    precision=settings.precision,
                    tile=settings.tile_size,
                    overlap=settings.tile_overlap,
                ),
                reader,
                ocr_version,
            )
            for _ in range(workers)
        ]

    @property
    def model_versions(self) -> dict[str, str]:
        return {
            "detector_sha256": self.detector.model_sha256,
            "detector_backend": self.detector.backend,
            "ocr_model": self.ocr_model,
            "ocr_backend": self.reader.backend,
        }

    def read_frames(self, frames: Sequence[np.ndarray]) -> list[list[PlateFinding]]:
        """Plates found and read in each frame, best detection first."""
        detections = self.detector.detect(frames)
        crops = [
            (i, det, crop_plate(frames[i], det.box))
            for i, dets in enumerate(detections)
            for det in dets
        ]
        reads = self.reader.read(
            [crop for _, _, crop in crops],
            wide=[_aspect(det.box) >= WIDE_PLATE_ASPECT for _, det, _ in crops],
        )
        findings: list[list[PlateFinding]] = [[] for _ in frames]
        for (i, det, crop), read in zip(crops, reads, strict=True):
            findings[i].append(PlateFinding(det, read, crop))
        return findings

    def read_crops(self, crops: Sequence[np.ndarray]) -> list[PlateFinding]:
        """Read already-cropped plates (no detection); the box is the whole crop."""
        reads = self.reader.read(crops)
        return [
            PlateFinding(Detection((0.0, 0.0, float(c.shape[1]), float(c.shape[0])), 1.0), r, c)
            for c, r in zip(crops, reads, strict=True)
        ]
