"""``alpr``: the operations people run by hand. Data on stdout, progress and logs on stderr."""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from cli._auth import invocation, settings_of
from cli.alerts import alerts
from cli.analytics import analytics
from cli.audit import audit
from cli.hotlists import hotlists
from cli.preservation import holds, preserve
from cli.quality import quality
from cli.report import report
from cli.retention import retention
from cli.search import search
from cli.serve import serve
from cli.sharing import agreements, share
from cli.users import users
from pipelines import __version__
from pipelines.config import PROJECT_ROOT, Settings
from pipelines.errors import AlprError

HELP = """alpr-pipeline: ALPR camera drops to plate reads, under policy PP-9126.

\b
Examples:
  alpr services up            start the embedded SeaweedFS object store on 127.0.0.1
  alpr demo                   seed a sample drop, ingest it, print a summary
  alpr ingest                 register new camera objects and write their images partitions
  alpr status                 objects ingested and quarantined, by reason; latest runs;
                              camera health of the latest capture date (--day)
  alpr recognize photo.jpg dir/ --format jsonl     plates in image files (no services needed)
  alpr recognize crops/ --plate-crops              read already-cropped plates (OCR only)
  alpr recognize-partition 2026-03-10              detections and reads of one capture date
  alpr train detector --epochs 35                  retrain the plate detector (CPU is fine)
  alpr train ocr --epochs 200 --hours 0.8            train the plate OCR (CPU is fine)
  alpr config                 the settings in force (secrets masked)
  alpr serve                  the alert review page on http://127.0.0.1:8000
  alpr users add jdoe --role agent --password-stdin   create a user (operator, on the server)
  alpr alerts list --state pending --user jdoe        alerts to review; show|confirm|reject
  alpr search --user jdoe --reason-category C --reason TEXT --plate ABC123   audited search
  alpr audit verify           every audit entry and chain head; names the first bad entry
  alpr analytics patterns multi_camera --user ann --from 2026-03-01 --to 2026-03-10
                              pseudonymized crime analysis (audited); reidentify|build|rotate-key
  alpr report annual-status --year 2026 --format html --out status.html   C.8 notice
  alpr share --user jdoe --agreement MOU --reason-category C --reason TEXT --plate P --out DIR
                              export reads to an agency under an agreement (alpr agreements)
  alpr quality validate reads 2026-03-10              a day against expectations/reads.json
"""


@click.group(help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML settings file")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    ctx.obj = invocation(ctx).with_config(config_path)


@contextmanager
def _progress(total: int | None, desc: str) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="obj", file=sys.stderr, disable=None) as bar:
        yield bar.update


@cli.command()
def version() -> None:
    """Versions of alpr-pipeline and the components it runs."""
    import importlib.metadata as md

    names = [
        "polars",
        "deltalake",
        "dagster",
        "apache-airflow",
        "great-expectations",
        "ultralytics",
    ]
    click.echo(f"alpr-pipeline {__version__}")
    for name in names:
        try:
            click.echo(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            click.echo(f"{name} (not installed)")


@cli.command("config")
@click.pass_context
def show_config(ctx: click.Context) -> None:
    """The settings in force, as JSON, secrets masked."""
    click.echo(json.dumps(settings_of(ctx).masked(), indent=2))


@cli.group()
def services() -> None:
    """Local services: the embedded SeaweedFS object store."""


@services.command("up")
@click.pass_context
def services_up(ctx: click.Context) -> None:
    """Start SeaweedFS on the configured endpoint (no-op if it answers already)."""
    from pipelines.storage.seaweed import SeaweedServer

    settings = settings_of(ctx)
    server = SeaweedServer(settings.s3, settings.data_dir / "seaweedfs")
    server.start()
    click.echo(f"SeaweedFS S3 at {settings.s3.endpoint_url} (data in {server.data_dir})", err=True)


@services.command("down")
@click.pass_context
def services_down(ctx: click.Context) -> None:
    """Stop the SeaweedFS started by `alpr services up`."""
    from pipelines.storage.seaweed import SeaweedServer

    settings = settings_of(ctx)
    SeaweedServer(settings.s3, settings.data_dir / "seaweedfs").stop()
    click.echo("SeaweedFS stopped", err=True)


def _run_ingest(settings: Settings, as_of: datetime) -> dict[str, Any]:
    from pipelines.ingest import ingest_drops

    run_id = f"cli-{as_of:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with _progress(None, "register") as tick:
        report, written = ingest_drops(settings, run_id, as_of, progress=tick)
    return {
        "run_id": run_id,
        "listed": report.listed,
        "already_seen": report.already_seen,
        "ingested": report.ingested,
        "quarantined": report.quarantined,
        "quarantined_by_reason": report.by_reason,
        "bytes": report.bytes,
        "partitions_written": {str(w.capture_date): w.rows for w in written},
    }


@cli.command()
@click.option("--as-of", type=click.DateTime(), help="reference time for plausibility (UTC)")
@click.pass_context
def ingest(ctx: click.Context, as_of: datetime | None) -> None:
    """Register new objects of the drops bucket exactly once; rewrite touched images partitions."""
    settings = settings_of(ctx)
    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    click.echo(json.dumps(_run_ingest(settings, moment), indent=2))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="camera health of this capture date")
@click.option("--as-of", type=click.DateTime(), help="reference time for silence (UTC)")
@click.pass_context
def status(ctx: click.Context, fmt: str, day: datetime | None, as_of: datetime | None) -> None:
    """Objects ingested and quarantined (by reason), the latest ingest runs, and each camera's
    health on the latest capture date (or --day) against its trailing baseline."""
    from pipelines.ingest import ingest_counts, recent_runs
    from pipelines.quality.camera_health import (
        camera_health_report,
        health_markdown,
        latest_capture_day,
    )

    settings = settings_of(ctx)
    counts = ingest_counts(settings)
    health_day = day.date() if day else latest_capture_day(settings)
    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    health = camera_health_report(settings, health_day, moment) if health_day else None
    if fmt == "jsonl":
        for row in counts.iter_rows(named=True):
            click.echo(json.dumps(row))
        click.echo(json.dumps({"camera_health": health.summary() if health else None}))
        return
    click.echo(counts if counts.height else "no objects registered yet")
    click.echo(
        recent_runs(settings).select("run_id", "status", "listed", "ingested", "quarantined")
    )
    if health is None:
        click.echo("camera health: no images yet")
        return
    click.echo(
        f"\ncamera health {health.capture_date} (as of {health.reference_at:%Y-%m-%d %H:%M}Z)"
    )
    click.echo(health_markdown(health.cameras))


@cli.command()
@click.option("--images", default=48, show_default=True, help="good images to generate")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="capture date (default: yesterday)")
@click.pass_context
def demo(ctx: click.Context, images: int, day: datetime | None) -> None:
    """Start SeaweedFS, seed a sample drop (with bad files), ingest it, read its plates."""
    from pipelines.ingest.sample import seed_sample_drop
    from pipelines.storage.seaweed import SeaweedServer

    settings = settings_of(ctx)
    SeaweedServer(settings.s3, settings.data_dir / "seaweedfs").start()
    now = datetime.now(UTC)
    capture_day: date = day.date() if day else (now - timedelta(days=1)).date()
    with _progress(images, "seed sample drop") as tick:
        drop = seed_sample_drop(settings, capture_day, n_images=images, progress=tick)
    summary = _run_ingest(settings, now)
    from pipelines.recognition.partition import recognize_partition

    recognized = []
    # The seeded day always (a rerun of the demo rewrites it identically), plus any other written.
    days = sorted({capture_day, *map(date.fromisoformat, summary["partitions_written"])})
    for one_day in days:
        with _progress(None, f"recognize {one_day}") as tick:
            report = recognize_partition(settings, one_day, summary["run_id"], progress=tick)
        recognized.append(_report_dict(report))
    summary["recognition"] = recognized
    summary["alerts"] = _demo_alerts(settings, capture_day, now)
    click.echo(json.dumps(summary, indent=2))
    read = sum(r["read"] for r in recognized)
    click.echo(
        f"\nSeeded {len(drop.good)} images and {len(drop.bad)} deliberately bad objects into "
        f"s3://{settings.s3.drops_bucket} ({settings.s3.endpoint_url}).\n"
        f"Ingested {summary['ingested']} (re-runs ingest nothing new), quarantined "
        f"{summary['quarantined']}: {summary['quarantined_by_reason']}.\n"
        f"Recognized {read} plates (tables detections, reads in s3://{settings.s3.lake_bucket}).\n"
        f"Listed two of them on a sample hotlist: {summary['alerts']['alerts_raised']} new alerts "
        "pending review (an alert is never by itself grounds for a stop).\n"
        "Review them:          .venv/bin/alpr users add NAME --role agent --password-stdin\n"
        "                      .venv/bin/alpr serve   (then http://127.0.0.1:8000)\n"
        "Open the Dagster UI:  make dagster   (then http://127.0.0.1:3000)\n"
        "Open the Airflow UI:  make airflow   (then http://127.0.0.1:8080)\n"
        "Stop SeaweedFS:       .venv/bin/alpr services down",
        err=True,
    )


def _demo_alerts(settings: Settings, day: date, now: datetime) -> dict[str, Any]:
    """A sample NCIC list naming two plates the drop's cameras read, imported as the service
    account, then the day matched against it: alerts pending a person's review."""
    from pipelines.hotlists.refresh import import_file, spec_for
    from pipelines.hotlists.sample import listable_reads, sample_ncic_file
    from pipelines.matching.run import match_partition
    from pipelines.storage.lake import READS
    from pipelines.storage.tables import scan_table

    reads = scan_table(settings, READS, day)
    seen = listable_reads(reads, settings.quality.plate_max_length).head(2).collect()
    data = sample_ncic_file(seen.iter_rows(), entered=day)
    imported = import_file(
        settings, data, spec_for(settings, "demo-ncic", "ncic"), source="demo", now=now
    )
    report = match_partition(settings, day, now=now, run_id=f"demo-{now:%Y%m%dT%H%M%SZ}")
    return {"hotlist": imported.summary(), **report.summary()}


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


def _image_files(paths: tuple[str, ...]) -> Iterator[str]:
    """Each path as given; directories walked (sorted), keeping image files only."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for found in sorted(p for p in path.rglob("*") if p.is_file()):
                if found.suffix.lower() in IMAGE_SUFFIXES:
                    yield os.path.join(given, str(found.relative_to(path)))
        else:
            yield given


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--plate-crops", is_flag=True, help="images are cropped plates: OCR only")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl")
@click.option("--batch", default=8, show_default=True, help="frames per detector batch")
@click.pass_context
def recognize(
    ctx: click.Context, paths: tuple[str, ...], plate_crops: bool, fmt: str, batch: int
) -> None:
    """Find and read plates in image files; one JSON object per image on stdout."""
    from pipelines.errors import RecognitionError
    from pipelines.recognition.recognize import Recognizer, decode_image

    recognizer = Recognizer.load(settings_of(ctx).recognition)
    files = list(_image_files(paths))

    def emit(path: str, plates: list[dict[str, Any]], error: str | None = None) -> None:
        record: dict[str, Any] = {"image": path, "plates": plates}
        if error:
            record["error"] = error
        if fmt == "jsonl":
            click.echo(json.dumps(record))
        else:
            texts = ", ".join(f"{p['text']} ({p['confidence']:.2f})" for p in plates)
            click.echo(f"{path}\t{texts or error or '-'}")

    with _progress(len(files), "recognize") as tick:
        for start in range(0, len(files), batch):
            chunk = files[start : start + batch]
            decoded: list[tuple[str, Any]] = []  # (path, frame or error), in input order
            for path in chunk:
                try:
                    decoded.append((path, decode_image(Path(path).read_bytes())))
                except (OSError, RecognitionError) as exc:
                    decoded.append((path, f"unreadable image: {exc}"))
            frames = [f for _, f in decoded if not isinstance(f, str)]
            if plate_crops:
                results = iter([[f] for f in recognizer.read_crops(frames)])
            else:
                results = iter(recognizer.read_frames(frames))
            for path, frame in decoded:
                if isinstance(frame, str):
                    emit(path, [], frame)
                    continue
                plates = [
                    {
                        "text": f.read.text,
                        "confidence": round(f.read.confidence, 4),
                        "box": [round(v, 1) for v in f.detection.box],
                    }
                    for f in next(results)
                ]
                emit(path, plates)
            tick(len(chunk))


@cli.command("recognize-partition")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
@click.pass_context
def recognize_partition_cmd(ctx: click.Context, day: datetime) -> None:
    """Recognize every image of one capture date into the detections and reads tables."""
    from pipelines.recognition.partition import recognize_partition

    settings = settings_of(ctx)
    run_id = f"cli-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with _progress(None, f"recognize {day:%Y-%m-%d}") as tick:
        report = recognize_partition(settings, day.date(), run_id, progress=tick)
    click.echo(json.dumps(_report_dict(report), indent=2))


def _report_dict(report: Any) -> dict[str, Any]:
    return {
        "capture_date": str(report.capture_date),
        "images": report.images,
        "failed": report.failed,
        "plates": report.plates,
        "read": report.read,
        "mean_confidence": round(report.mean_confidence, 4),
        "images_per_second": round(report.images_per_second, 2),
        "model_versions": report.model_versions,
    }


@cli.group()
def train() -> None:
    """Train the project's own models."""


@train.command("detector")
@click.option("--epochs", default=35, show_default=True)
@click.option("--hours", type=float, help="stop after this much training time (wall clock)")
@click.option("--imgsz", default=320, show_default=True, help="training crop size")
@click.option("--n-synthetic", default=800, show_default=True, help="synthetic scenes to render")
@click.option("--resume", is_flag=True, help="continue an interrupted run in --out")
@click.option(
    "--init",
    type=click.Path(dir_okay=False, exists=True),
    help="fine-tune these weights (e.g. models/plate-detector/plate-detector.pt)",
)
@click.option(
    "--quantize-only",
    is_flag=True,
    help="only quantize the shipped OpenVINO model to INT8 (models/plate-detector)",
)
@click.option(
    "--out", type=click.Path(file_okay=False), default="var/detector-train", show_default=True
)
def train_detector_cmd(
    epochs: int,
    hours: float | None,
    imgsz: int,
    n_synthetic: int,
    resume: bool,
    init: str | None,
    quantize_only: bool,
    out: str,
) -> None:
    """Train the YOLO plate detector from synthetic plates plus ../shared/data (if present),
    then export ONNX/OpenVINO (f32 and INT8) and write models/plate-detector/MODEL_CARD.md.
    CPU is enough."""
    import shlex

    from pipelines.training.train import train_detector

    if quantize_only:
        from pipelines.recognition.detector import DEFAULT_WEIGHTS, backend_files
        from pipelines.training.quantize import calibration_frames, quantize_detector
        from pipelines.training.train import relative_to_root

        f32 = backend_files(DEFAULT_WEIGHTS)["openvino"]
        int8 = str(quantize_detector(f32, calibration_frames()))
        click.echo(json.dumps({"int8": relative_to_root(int8, PROJECT_ROOT)}))
        return
    result = train_detector(
        Path(out),
        epochs=epochs,
        imgsz=imgsz,
        n_synthetic=n_synthetic,
        hours=hours,
        resume=resume,
        init=Path(init) if init else None,
        command=shlex.join(["alpr", "train", "detector", *sys.argv[3:]]),
    )
    click.echo(
        json.dumps(
            {
                "weights": str(result.weights),
                "sha256": result.sha256,
                "train_seconds": round(result.train_seconds),
                "epochs": result.epochs,
                "val_metrics": result.val_metrics,
            },
            indent=2,
        )
    )


@train.command("ocr")
@click.option("--epochs", default=200, show_default=True)
@click.option("--steps", default=50, show_default=True, help="batches per epoch")
@click.option("--batch", default=32, show_default=True, help="crops per batch")
@click.option("--hours", type=float, help="stop after this much training time (wall clock)")
@click.option("--threads", default=1, show_default=True, help="torch threads")
@click.option(
    "--lr", default=3e-3, show_default=True, help="peak learning rate (lower with --init)"
)
@click.option("--bank", default=600, show_default=True, help="synthetic plates kept in memory")
@click.option("--val-synthetic", default=150, show_default=True, help="synthetic validation plates")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--init",
    type=click.Path(exists=True, dir_okay=False),
    help="start from this checkpoint (an earlier run's best.pt or last.pt), not from scratch",
)
@click.option("--export-only", is_flag=True, help="export and calibrate --out's best.pt only")
@click.option(
    "--install", is_flag=True, help="then copy the export to models/plate-ocr with its model card"
)
@click.option("--out", type=click.Path(file_okay=False), default="var/ocr-train", show_default=True)
def train_ocr_cmd(
    epochs: int,
    steps: int,
    batch: int,
    hours: float | None,
    threads: int,
    lr: float,
    bank: int,
    val_synthetic: int,
    seed: int,
    init: str | None,
    export_only: bool,
    install: bool,
    out: str,
) -> None:
    """Train the plate OCR (a small CTC model) from synthetic plates plus ../shared/data's
    training splits (if present), keep the best epoch, calibrate its confidence, export ONNX
    (plate-ocr.onnx, calibration.json in --out; copy both to models/plate-ocr to ship them)."""
    import shlex

    from pipelines.training.ocr_train import (
        COMMAND_FILE,
        export_checkpoint,
        install_model,
        train_ocr,
    )

    command = shlex.join(["alpr", "train", "ocr", *sys.argv[3:]])
    if export_only:
        onnx, _ = export_checkpoint(Path(out), seed=seed, n_synthetic_val=val_synthetic)
        click.echo(json.dumps({"onnx": str(onnx)}))
        if install:
            click.echo(json.dumps({"model_card": str(install_model(Path(out), command))}))
        return
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / COMMAND_FILE).write_text(command + "\n")
    result = train_ocr(
        Path(out),
        epochs=epochs,
        steps_per_epoch=steps,
        batch_size=batch,
        hours=hours,
        threads=threads,
        lr=lr,
        seed=seed,
        bank_size=bank,
        n_synthetic_val=val_synthetic,
        init=Path(init) if init else None,
        log=click.echo,
    )
    click.echo(
        json.dumps(
            {
                "onnx": str(result.onnx),
                "train_seconds": round(result.train_seconds),
                "epochs": result.epochs,
                "best_epoch": result.best_epoch,
                "val": result.val,
            },
            indent=2,
        )
    )
    if install:
        click.echo(json.dumps({"model_card": str(install_model(Path(out), command))}))


cli.add_command(serve)
cli.add_command(hotlists)
cli.add_command(users)
cli.add_command(alerts)
cli.add_command(retention)
cli.add_command(quality)
cli.add_command(preserve)
cli.add_command(holds)
cli.add_command(search)
cli.add_command(audit)
cli.add_command(analytics)
cli.add_command(report)
cli.add_command(agreements)
cli.add_command(share)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except AlprError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
