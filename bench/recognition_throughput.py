"""Recognition throughput on 1280x720 JPEGs: end to end, per stage, per backend.

    .venv/bin/python bench/recognition_throughput.py --frames 96 --out docs/benchmarks.md

End to end is ``recognize_partition`` over an ingested partition in a SeaweedFS started here
(GET + decode + detect + OCR + crop upload + Delta writes). The stages are then timed alone on the
same frames, the detector on each backend, and a plain ultralytics ``YOLO(.pt).predict`` loop
gives the baseline ratio. Peak RSS is this process's maximum.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._report import write_section
from bench.ingest_throughput import _free_port
from pipelines import ingest
from pipelines.config import load_settings
from pipelines.ingest.sample import capture_key, jpeg_bytes
from pipelines.recognition._ultralytics import prepare_ultralytics
from pipelines.recognition.detector import BACKENDS, DEFAULT_WEIGHTS, PlateDetector
from pipelines.recognition.partition import recognize_partition
from pipelines.recognition.recognize import Recognizer, crop_plate, decode_image
from pipelines.recognition.runtime import resolve_precision
from pipelines.storage.objects import ensure_bucket, s3_client
from pipelines.storage.seaweed import SeaweedServer
from pipelines.training.synth import render_scene

DAY = date.today() - timedelta(days=1)


def _per_image(seconds: float, n: int) -> str:
    return f"{1000 * seconds / n:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--plates-per-frame", type=int, default=1, help="as a lane camera sees")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    n = args.frames
    rng = np.random.default_rng(11)
    jpegs = [
        jpeg_bytes(render_scene(rng, size=(1280, 720), n_plates=args.plates_per_frame).image)
        for _ in range(n)
    ]
    settings = load_settings()  # ALPR_RECOGNITION_* apply, e.g. to compare OCR settings
    workers = Recognizer.load_workers(settings.recognition, settings.recognition.workers, threads=1)
    recognizer = workers[0]

    with tempfile.TemporaryDirectory(prefix="alpr-bench-") as tmp:
        work = Path(tmp)
        s3 = settings.s3.__class__(endpoint_url=f"http://127.0.0.1:{_free_port()}")
        settings = settings.replace(
            data_dir=work, s3=s3, catalog={"url": f"sqlite:///{work / 'catalog.sqlite3'}"}
        )
        server = SeaweedServer(s3, work / "seaweed")
        server.start()
        try:
            client = s3_client(s3)
            ensure_bucket(s3, s3.drops_bucket)
            start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
            for i, body in enumerate(jpegs):
                key = capture_key("cam-01", start + timedelta(seconds=30 * i), i)
                client.put_object(Bucket=s3.drops_bucket, Key=key, Body=body)
            ingest.ingest_drops(settings, "bench", datetime.now(UTC))
            recognize_partition(settings, DAY, "warm-up", workers)
            t0 = time.perf_counter()
            report = recognize_partition(settings, DAY, "bench", workers)
            end_to_end = time.perf_counter() - t0
            pipeline_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        finally:
            server.stop()

    # Stages alone, on the same frames.
    t0 = time.perf_counter()
    frames = [decode_image(b) for b in jpegs]
    decode_s = time.perf_counter() - t0
    detector_rows = []
    for backend in BACKENDS:
        try:
            det = PlateDetector.load(
                backend=backend,
                confidence=settings.recognition.confidence,
                precision=settings.recognition.precision,
            )
        except Exception as exc:  # noqa: BLE001 - a backend missing here is reported, not fatal
            detector_rows.append(f"| detect, {backend} (batch 8) | unavailable: {exc} |")
            continue
        det.detect(frames[:8])
        t0 = time.perf_counter()
        found = [d for s in range(0, n, 8) for d in det.detect(frames[s : s + 8])]
        detector_rows.append(
            f"| detect, {backend} (batch 8) | {_per_image(time.perf_counter() - t0, n)} |"
        )
    found = [d for s in range(0, n, 8) for d in recognizer.detector.detect(frames[s : s + 8])]
    large_rows = []
    for width, height in ((1920, 1080), (3840, 2160)):  # read in tiles as well as whole
        large = [cv2.resize(f, (width, height), interpolation=cv2.INTER_LINEAR) for f in frames[:8]]
        recognizer.detector.detect(large)  # OpenVINO compiles its kernels per input shape
        t0 = time.perf_counter()
        recognizer.detector.detect(large)
        views = recognizer.detector.passes(width, height)
        large_rows.append(
            f"| detect, {width}x{height} ({views} passes: tiles and whole, batch 8) | "
            f"{_per_image(time.perf_counter() - t0, len(large))} |"
        )
    crops = [crop_plate(f, d.box) for f, dets in zip(frames, found, strict=True) for d in dets]
    t0 = time.perf_counter()
    recognizer.reader.read(crops)
    ocr_s = time.perf_counter() - t0

    prepare_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(DEFAULT_WEIGHTS), task="detect")
    model.predict(frames[0], imgsz=640, device="cpu", verbose=False)
    t0 = time.perf_counter()
    for frame in frames:
        model.predict(frame, imgsz=640, device="cpu", verbose=False)
    plain_s = time.perf_counter() - t0

    rate = n / end_to_end
    text = "\n".join(
        [
            "## Recognition throughput",
            "",
            f"`python bench/recognition_throughput.py --frames {n} --plates-per-frame "
            f"{args.plates_per_frame}` on {os.cpu_count()} cores, "
            f"{datetime.now(UTC):%Y-%m-%d}; 1280x720 JPEG scenes, {report.plates} plates; detector "
            f"on {recognizer.detector.backend} at imgsz {settings.recognition.image_size}, "
            f"{len(workers)} batch workers, OCR on {recognizer.reader.backend}, jurisdiction "
            f"bands read: {settings.recognition.ocr_read_jurisdiction}; OpenVINO precision "
            f"{resolve_precision(settings.recognition.precision)}.",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| end to end (GET, decode, detect, OCR, crops, Delta) | **{rate:.1f} images/s** |",
            f"| plain ultralytics `YOLO(.pt).predict` loop, detection only | {n / plain_s:.1f} images/s |",
            f"| ratio, end to end / plain predict loop | {rate / (n / plain_s):.2f} |",
            f"| decode (PIL) | {_per_image(decode_s, n)} per image |",
            *detector_rows,
            *large_rows,
            f"| OCR, {len(crops)} crops | {_per_image(ocr_s, max(len(crops), 1))} per crop |",
            f"| peak RSS after the end-to-end run (models, frames, SeaweedFS client) | "
            f"{pipeline_peak:,.0f} MiB |",
            "",
        ]
    )
    print(text)
    if args.out:
        write_section(args.out, "## Recognition throughput", text)


if __name__ == "__main__":
    main()
