"""``alpr``: the operations people run by hand. Data on stdout, progress and logs on stderr."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from pipelines import __version__
from pipelines.config import Settings, load_settings
from pipelines.errors import AlprError

HELP = """alpr-pipeline: ALPR camera drops to plate reads, under policy PP-9126.

\b
Examples:
  alpr services up            start the embedded SeaweedFS object store on 127.0.0.1
  alpr demo                   seed a sample drop, ingest it, print a summary
  alpr ingest                 register new camera objects and write their images partitions
  alpr status                 objects ingested and quarantined, by reason; latest runs
  alpr config                 the settings in force (secrets masked)
"""


@click.group(help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML settings file")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    ctx.obj = config_path


def _settings(ctx: click.Context) -> Settings:
    return load_settings(ctx.obj)


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
    click.echo(json.dumps(_settings(ctx).masked(), indent=2))


@cli.group()
def services() -> None:
    """Local services: the embedded SeaweedFS object store."""


@services.command("up")
@click.pass_context
def services_up(ctx: click.Context) -> None:
    """Start SeaweedFS on the configured endpoint (no-op if it answers already)."""
    from pipelines.storage.seaweed import SeaweedServer

    settings = _settings(ctx)
    server = SeaweedServer(settings.s3, settings.data_dir / "seaweedfs")
    server.start()
    click.echo(f"SeaweedFS S3 at {settings.s3.endpoint_url} (data in {server.data_dir})", err=True)


@services.command("down")
@click.pass_context
def services_down(ctx: click.Context) -> None:
    """Stop the SeaweedFS started by `alpr services up`."""
    from pipelines.storage.seaweed import SeaweedServer

    settings = _settings(ctx)
    SeaweedServer(settings.s3, settings.data_dir / "seaweedfs").stop()
    click.echo("SeaweedFS stopped", err=True)


def _run_ingest(settings: Settings, as_of: datetime) -> dict[str, Any]:
    from pipelines.ingest import pending_image_partitions, register_drops, write_images_partition

    run_id = f"cli-{as_of:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with _progress(None, "register") as tick:
        report = register_drops(settings, run_id, as_of, progress=tick)
    written = [write_images_partition(settings, day) for day in pending_image_partitions(settings)]
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
    settings = _settings(ctx)
    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    click.echo(json.dumps(_run_ingest(settings, moment), indent=2))


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table")
@click.pass_context
def status(ctx: click.Context, fmt: str) -> None:
    """Objects ingested and quarantined (by reason), and the latest ingest runs."""
    from pipelines.ingest import ingest_counts, recent_runs

    settings = _settings(ctx)
    counts = ingest_counts(settings)
    if fmt == "jsonl":
        for row in counts.iter_rows(named=True):
            click.echo(json.dumps(row))
        return
    click.echo(counts if counts.height else "no objects registered yet")
    click.echo(
        recent_runs(settings).select("run_id", "status", "listed", "ingested", "quarantined")
    )


@cli.command()
@click.option("--images", default=48, show_default=True, help="good images to generate")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="capture date (default: yesterday)")
@click.pass_context
def demo(ctx: click.Context, images: int, day: datetime | None) -> None:
    """Start SeaweedFS, seed a sample drop (with bad files), ingest it and summarise."""
    from pipelines.ingest.sample import seed_sample_drop
    from pipelines.storage.seaweed import SeaweedServer

    settings = _settings(ctx)
    SeaweedServer(settings.s3, settings.data_dir / "seaweedfs").start()
    now = datetime.now(UTC)
    capture_day: date = day.date() if day else (now - timedelta(days=1)).date()
    with _progress(images, "seed sample drop") as tick:
        drop = seed_sample_drop(settings, capture_day, n_images=images, progress=tick)
    summary = _run_ingest(settings, now)
    click.echo(json.dumps(summary, indent=2))
    click.echo(
        f"\nSeeded {len(drop.good)} images and {len(drop.bad)} deliberately bad objects into "
        f"s3://{settings.s3.drops_bucket} ({settings.s3.endpoint_url}).\n"
        f"Ingested {summary['ingested']} (re-runs ingest nothing new), quarantined "
        f"{summary['quarantined']}: {summary['quarantined_by_reason']}.\n"
        "Open the Dagster UI:  make dagster   (then http://127.0.0.1:3000)\n"
        "Open the Airflow UI:  make airflow   (then http://127.0.0.1:8080)\n"
        "Stop SeaweedFS:       .venv/bin/alpr services down",
        err=True,
    )


def main() -> None:
    try:
        cli(standalone_mode=True)
    except AlprError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
