"""Box matching for the detector's measurements (benchmarks and tests); production never
matches boxes against a truth."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "match_boxes"]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``(N,4)`` and ``(M,4)`` x1,y1,x2,y2 boxes, shape ``(N, M)``."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return np.asarray(inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9))


def match_boxes(predicted: np.ndarray, truth: np.ndarray, iou: float = 0.4) -> tuple[int, int, int]:
    """Greedy one-to-one matching (predictions best first): ``(true_pos, false_pos, false_neg)``."""
    predicted = np.asarray(predicted, dtype=float).reshape(-1, 4)
    truth = np.asarray(truth, dtype=float).reshape(-1, 4)
    if len(predicted) == 0 or len(truth) == 0:
        return 0, len(predicted), len(truth)
    ious = box_iou(predicted, truth)
    used = np.zeros(len(truth), dtype=bool)
    tp = 0
    for row in ious:
        row = np.where(used, -1.0, row)
        j = int(row.argmax())
        if row[j] >= iou:
            used[j] = True
            tp += 1
    return tp, len(predicted) - tp, len(truth) - tp
