"""The own plate OCR first, PP-OCRv4 for the crops it is unsure of (``recognition.ocr_model =
"cascade"``).

The own model's confidence is calibrated (``models/plate-ocr/calibration.json``): at 0.9 and above
its held-out reads were all exact, below it much less often than PP-OCRv4's. So a crop whose own
read is under ``gate`` is read again by PP-OCRv4, which costs some 30 times as much per crop but
is needed for about half of them (figures in docs/recognition.md).

A re-read keeps PP-OCRv4's text and candidates, and the state the first pass read (the state
bands are read once), but its confidence is held under ``gate``: PP-OCRv4's score is not
calibrated, and the crops that reach it are the hard ones. So a cascade confidence at or above
``gate`` always means the calibrated own read.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from pipelines.recognition.ocr import PlateRead, PlateReader
from pipelines.recognition.plate_ocr import PlateOcr

__all__ = ["CascadeOcr"]


class CascadeOcr:
    """Reads with ``first``; crops whose calibrated confidence is under ``gate`` go to
    ``fallback``. Thread-safe when both readers are."""

    def __init__(self, first: PlateOcr, fallback: PlateReader, gate: float) -> None:
        if not 0.0 < gate <= 1.0:
            raise ValueError(f"gate={gate} must be in (0, 1]")
        self.first = first
        self.fallback = fallback
        self.gate = gate
        self._below_gate = math.nextafter(gate, 0.0)

    @property
    def backend(self) -> str:
        return self.first.backend

    def read(
        self,
        crops: Sequence[np.ndarray],
        jurisdictions: Sequence[str | None] | None = None,
        wide: Sequence[bool] | None = None,
    ) -> list[PlateRead]:
        """As :meth:`PlateOcr.read <pipelines.recognition.plate_ocr.PlateOcr.read>`, one read
        per crop, in order."""
        reads = self.first.read(crops, jurisdictions, wide)
        again = [i for i, read in enumerate(reads) if read.confidence < self.gate]
        if not again:
            return reads
        # The first pass has read the state bands already (or been told the states): the
        # fallback gets those states instead of reading the same bands a second time.
        states = jurisdictions if jurisdictions is not None else [r.jurisdiction for r in reads]
        rereads = self.fallback.read(
            [crops[i] for i in again],
            [states[i] for i in again],
            None if wide is None else [wide[i] for i in again],
        )
        for i, read in zip(again, rereads, strict=True):
            reads[i] = dataclasses.replace(read, confidence=min(read.confidence, self._below_gate))
        return reads
