"""Measure the plate OCRs on the OpenALPR US plate crops, next to the baselines they replaced.

    .venv/bin/python bench/eval_ocr.py                      # all lines, printed as markdown
    .venv/bin/python bench/eval_ocr.py --out bench/ocr.md   # also written to a file
    .venv/bin/python bench/eval_ocr.py --no-baselines       # only the two readers (fast)

Readers: *PlateOcr* is the project's own CTC model (``models/plate-ocr``, trained by
``alpr train ocr`` on the tuning split only), *PlateReader* the PP-OCRv4 band reader (the
fallback), the *cascade* PlateOcr first and PP-OCRv4 for its reads under the gate
(``recognition.ocr_cascade_gate``). The reliability tables bin PlateOcr's calibrated confidence
and the cascade's on the held-out split.

Data: ``../shared/data/openalpr-us-plates`` (``labels.csv``: image,state,plate); never copied here.
The crops are split once, by a hash of the file name (``SPLIT_RULE``): the held-out split is for
reporting only; formats, bands and thresholds were chosen on the tuning split.

Metrics: *exact* = normalized read equals the label; *exact, folded* compares ``match_key`` (O/0 and
I/1 folded, as hotlist matching does); *per-char* = 1 - total edit distance / total label length;
*ms/crop* = wall time per crop with ``--threads`` onnxruntime threads, batches of ``--batch``
(other processes on the machine inflate it: the load average is printed).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._report import write_section  # noqa: E402
from pipelines.config import RecognitionSettings  # noqa: E402
from pipelines.recognition.cascade import CascadeOcr  # noqa: E402
from pipelines.recognition.ocr import PlateRead, PlateReader  # noqa: E402
from pipelines.recognition.plate_ocr import DEFAULT_MODEL_DIR, MODEL_FILE, PlateOcr  # noqa: E402
from pipelines.recognition.plates import match_key, normalize_plate  # noqa: E402
from pipelines.recognition.runtime import resolve_precision  # noqa: E402
from pipelines.training.ocr_data import US_HELD_OUT_PERCENT, us_crop_split  # noqa: E402

__all__ = ["SPLIT_RULE", "Sample", "Score", "load_samples", "main", "split_of"]

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "openalpr-us-plates"
SPLIT_RULE = "held-out if int(sha1(file name).hexdigest()[:8], 16) % 100 < 40, else tuning"
HELD_OUT_PERCENT = US_HELD_OUT_PERCENT
SPLITS = ("held-out", "tuning", "all")
BASELINE_BAND = (0.2, 0.8)  # the "central character band" of the recognition-only baseline
CONFIDENCE_GATES = (0.5, 0.8, 0.9)
PLATE_OCR = "PlateOcr (models/plate-ocr)"
PLATE_OCR_STATES = "PlateOcr + PP-OCRv4 state bands"
CASCADE_GATE = RecognitionSettings().ocr_cascade_gate
CASCADE = f"cascade: PlateOcr, PP-OCRv4 under {CASCADE_GATE}"
RELIABILITY_BANDS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 1.0)


def split_of(name: str) -> str:
    """``"held-out"`` or ``"tuning"`` for a crop's file name (see ``SPLIT_RULE``; the training
    data of the plate OCR applies the same rule, :func:`~pipelines.training.ocr_data.us_crop_split`)."""
    return us_crop_split(name)


@dataclass(frozen=True)
class Sample:
    image: str
    state: str
    plate: str
    split: str


@dataclass(frozen=True)
class Score:
    n: int
    exact: float
    exact_folded: float
    per_char: float


def load_samples(data_dir: Path) -> list[Sample]:
    with (data_dir / "labels.csv").open(newline="") as handle:
        return [
            Sample(row["image"], row["state"], row["plate"], split_of(row["image"]))
            for row in csv.DictReader(handle)
        ]


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def score(texts: Sequence[str], samples: Sequence[Sample]) -> Score:
    if not samples:
        return Score(0, float("nan"), float("nan"), float("nan"))
    exact = sum(t == s.plate for t, s in zip(texts, samples, strict=True))
    folded = sum(match_key(t) == match_key(s.plate) for t, s in zip(texts, samples, strict=True))
    edits = sum(_edits(t, s.plate) for t, s in zip(texts, samples, strict=True))
    chars = sum(len(s.plate) for s in samples)
    n = len(samples)
    return Score(n, exact / n, folded / n, max(0.0, 1.0 - edits / chars))


def _read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _timed(fn: Callable[[], list[str]], n: int) -> tuple[list[str], float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000.0 / max(n, 1)


def _run_reader(
    reader: PlateReader | PlateOcr | CascadeOcr, images: Sequence[np.ndarray], batch: int
) -> list[PlateRead]:
    reads: list[PlateRead] = []
    for start in range(0, len(images), batch):
        reads += reader.read(images[start : start + batch])
    return reads


def _rapidocr_full(images: Sequence[np.ndarray], threads: int) -> list[str]:
    """rapidocr out of the box (detection + classification + recognition); the tallest detected
    line is taken as the number (state names and slogans are smaller)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    texts = []
    for image in images:
        result, _ = engine(np.ascontiguousarray(image[:, :, ::-1]))
        if not result:
            texts.append("")
            continue
        tallest = max(result, key=lambda r: max(p[1] for p in r[0]) - min(p[1] for p in r[0]))
        texts.append(normalize_plate(tallest[1]))
    return texts


def _rapidocr_band(images: Sequence[np.ndarray], threads: int) -> list[str]:
    """rapidocr recognition only, on the crop's central band (rows 20%-80%)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    texts = []
    top, bottom = BASELINE_BAND
    for image in images:
        h = image.shape[0]
        band = np.ascontiguousarray(image[int(h * top) : int(h * bottom), :, ::-1])
        result, _ = engine(band, use_det=False, use_cls=False, use_rec=True)
        texts.append(normalize_plate(result[0][0]) if result else "")
    return texts


def _table(lines: list[tuple[str, str, Score, float]]) -> str:
    out = [
        "| method | split | n | exact | exact, O/0 I/1 folded | per-char | ms/crop |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for method, split, s, ms in lines:
        out.append(
            f"| {method} | {split} | {s.n} | {s.exact:.3f} | {s.exact_folded:.3f} "
            f"| {s.per_char:.3f} | {ms:.0f} |"
        )
    return "\n".join(out)


def reliability(reads: Sequence[PlateRead], samples: Sequence[Sample]) -> list[str]:
    """Markdown rows: per confidence band, crops, mean confidence and measured exact-read rate."""
    rows = [
        "| confidence | crops | mean confidence | exact |",
        "|---|---:|---:|---:|",
    ]
    for lo, hi in itertools.pairwise(RELIABILITY_BANDS):
        last = hi == RELIABILITY_BANDS[-1]
        band = [
            (r, s)
            for r, s in zip(reads, samples, strict=True)
            if lo <= r.confidence < hi or (last and r.confidence == hi)
        ]
        if not band:
            rows.append(f"| {lo:.2f}-{hi:.2f} | 0 | | |")
            continue
        mean = sum(r.confidence for r, _ in band) / len(band)
        exact = sum(r.text == s.plate for r, s in band) / len(band)
        rows.append(f"| {lo:.2f}-{hi:.2f} | {len(band)} | {mean:.3f} | {exact:.3f} |")
    return rows


def _plate_ocr_extras(
    name: str,
    reads: Sequence[PlateRead],
    samples: Sequence[Sample],
    held: Sequence[int],
    model_dir: Path,
    confidence: str = "the calibrated confidence",
) -> list[str]:
    out = ["", f"{name} extras (held-out; model `{model_dir.name}`):", ""]
    for gate in CONFIDENCE_GATES:
        kept = [i for i in held if reads[i].confidence >= gate]
        good = sum(reads[i].text == samples[i].plate for i in kept)
        out.append(
            f"- confidence >= {gate}: {len(kept) / len(held):.3f} of crops kept, "
            f"{good / max(len(kept), 1):.3f} of them exact"
        )
    in_candidates = sum(samples[i].plate in {c for c, _ in reads[i].candidates} for i in held)
    out.append(f"- label among candidates: {in_candidates / len(held):.3f}")
    out += [
        "",
        f"Reliability of {confidence} (held-out crops, never trained or calibrated on):",
        "",
        *reliability([reads[i] for i in held], [samples[i] for i in held]),
    ]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with labels.csv")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--batch", type=int, default=8, help="crops per PlateReader.read call")
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--no-baselines", action="store_true", help="skip the rapidocr lines")
    parser.add_argument("--no-jurisdiction", action="store_true", help="reader without state bands")
    parser.add_argument("--limit", type=int, default=0, help="first N crops only (smoke runs)")
    parser.add_argument(
        "--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="the plate OCR's folder"
    )
    parser.add_argument("--failures", action="store_true", help="list each reader's misreads")
    args = parser.parse_args(argv)

    if not (args.data / "labels.csv").is_file():
        print(f"no labels.csv under {args.data}; nothing to measure", file=sys.stderr)
        return 2
    samples = load_samples(args.data)
    if args.limit:
        samples = samples[: args.limit]
    images = [_read_rgb(args.data / s.image) for s in samples]
    parts = {
        "held-out": [i for i, s in enumerate(samples) if s.split == "held-out"],
        "tuning": [i for i, s in enumerate(samples) if s.split == "tuning"],
        "all": list(range(len(samples))),
    }

    reader = PlateReader.load(threads=args.threads, read_jurisdiction=not args.no_jurisdiction)
    _run_reader(reader, images[:2], args.batch)  # warm-up: first-call allocations
    start = time.perf_counter()
    reads = _run_reader(reader, images, args.batch)
    ours_ms = (time.perf_counter() - start) * 1000.0 / len(images)
    methods: dict[str, tuple[list[str], float]] = {}
    plate_reads: list[PlateRead] = []
    cascade_reads: list[PlateRead] = []
    extras_name = PLATE_OCR
    if (args.model_dir / MODEL_FILE).is_file():
        plate_ocr = PlateOcr.load(args.model_dir, threads=args.threads)
        first = plate_ocr
        _run_reader(plate_ocr, images[:2], args.batch)
        start = time.perf_counter()
        plate_reads = _run_reader(plate_ocr, images, args.batch)
        plate_ms = (time.perf_counter() - start) * 1000.0 / len(images)
        methods[PLATE_OCR] = ([r.text for r in plate_reads], plate_ms)
        if not args.no_jurisdiction:  # as alpr recognize runs it: states from PP-OCRv4's bands
            with_states = PlateOcr.load(
                args.model_dir, threads=args.threads, jurisdiction_reader=reader.read_jurisdictions
            )
            _run_reader(with_states, images[:2], args.batch)
            start = time.perf_counter()
            state_reads = _run_reader(with_states, images, args.batch)
            state_ms = (time.perf_counter() - start) * 1000.0 / len(images)
            methods[PLATE_OCR_STATES] = ([r.text for r in state_reads], state_ms)
            extras_name, plate_reads, first = PLATE_OCR_STATES, state_reads, with_states
        # as recognition.ocr_model = "cascade" reads: the own model first, states as above
        cascade = CascadeOcr(first, reader, CASCADE_GATE)
        _run_reader(cascade, images[:2], args.batch)
        start = time.perf_counter()
        cascade_reads = _run_reader(cascade, images, args.batch)
        cascade_ms = (time.perf_counter() - start) * 1000.0 / len(images)
        methods[CASCADE] = ([r.text for r in cascade_reads], cascade_ms)
    methods["PlateReader"] = ([r.text for r in reads], ours_ms)
    if not args.no_baselines:
        methods["rapidocr full pipeline (tallest line)"] = _timed(
            lambda: _rapidocr_full(images, args.threads), len(images)
        )
        methods["rapidocr rec only, rows 20-80%"] = _timed(
            lambda: _rapidocr_band(images, args.threads), len(images)
        )

    lines = []
    for method, (texts, ms) in methods.items():
        for split in SPLITS:
            idx = parts[split]
            lines.append(
                (method, split, score([texts[i] for i in idx], [samples[i] for i in idx]), ms)
            )

    report = [
        "## Plate OCR on the OpenALPR US crops",
        "",
        f"- data: `{os.path.relpath(args.data, ROOT)}` ({len(samples)} crops); split rule: {SPLIT_RULE} "
        f"({len(parts['held-out'])} held-out, {len(parts['tuning'])} tuning)",
        f"- threads: {args.threads}, batch: {args.batch}, load average at the end: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        f"- PlateReader: bands {list(reader.bands)} (the first two, the others only where those "
        f"disagree or doubt), jurisdiction bands read: {not args.no_jurisdiction}, "
        f"{reader.backend} at {resolve_precision('auto') if reader.backend == 'openvino' else 'f32'}",
        "",
        _table(lines),
        "",
        "PlateReader (PP-OCRv4) extras (held-out):",
        "",
    ]
    held = parts["held-out"]
    if held:
        told = [i for i in held if reads[i].jurisdiction is not None]
        right = sum(reads[i].jurisdiction == samples[i].state for i in told)
        report.append(
            f"- jurisdiction: told for {len(told)}/{len(held)}, right for {right} "
            f"({right / max(len(told), 1):.3f} of those told)"
        )
        in_candidates = sum(
            match_key(samples[i].plate) in {match_key(c) for c, _ in reads[i].candidates}
            for i in held
        )
        report.append(f"- label among candidates (folded): {in_candidates / len(held):.3f}")
        for gate in CONFIDENCE_GATES:
            kept = [i for i in held if reads[i].confidence >= gate]
            good = sum(reads[i].text == samples[i].plate for i in kept)
            report.append(
                f"- confidence >= {gate}: {len(kept) / len(held):.3f} of crops kept, "
                f"{good / max(len(kept), 1):.3f} of them exact"
            )
        if plate_reads:
            report += _plate_ocr_extras(extras_name, plate_reads, samples, held, args.model_dir)
            report += _plate_ocr_extras(
                CASCADE,
                cascade_reads,
                samples,
                held,
                args.model_dir,
                f"the cascade's confidence (PlateOcr's, calibrated, at and above {CASCADE_GATE}; "
                f"PP-OCRv4's re-reads held under it)",
            )
        if args.failures:
            for name, method_reads in (
                ("PlateReader", reads),
                (extras_name, plate_reads),
                (CASCADE, cascade_reads),
            ):
                if not method_reads:
                    continue
                report += ["", f"{name}: misreads (split, image, label, read, confidence):", ""]
                report += [
                    f"- {samples[i].split} {samples[i].image} {samples[i].plate} "
                    f"{method_reads[i].text} {method_reads[i].confidence:.2f}"
                    for i in parts["all"]
                    if method_reads[i].text != samples[i].plate
                ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        write_section(args.out, "## Plate OCR on the OpenALPR US crops", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
