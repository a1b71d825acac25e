"""Validate a batch and keep what the validation found: GX's result in the lake bucket (under
``quality/results/``, from which Data Docs are built) and the flags of failing rows in the catalog.

A re-run of the same batch replaces its flags, so validating twice leaves what validating once
did. The verdict is returned; the caller (a Dagster check, an Airflow task, the CLI) decides
what stops.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import require_utc
from pipelines.config import Settings
from pipelines.quality.batches import Batch, day_batch
from pipelines.quality.suites import load_suite
from pipelines.quality.tables import quality_flags, quality_verdicts
from pipelines.quality.validate import ValidationOutcome, validate_frame
from pipelines.storage.catalog import engine_for
from pipelines.storage.objects import ensure_bucket, s3_client

__all__ = ["RESULTS_PREFIX", "flagged_rows", "validate_batch", "validate_day"]

RESULTS_PREFIX = "quality/results/"  # <suite>/<run name>/<run time>/<batch>.json, as GX stores


def validate_batch(
    settings: Settings, batch: Batch, *, run_id: str, as_of: datetime
) -> ValidationOutcome:
    """Validate ``batch`` against its suite, store the result and the flags, return the verdict."""
    as_of = require_utc(as_of)
    with tempfile.TemporaryDirectory(prefix="alpr-quality-") as folder:
        outcome = validate_frame(
            batch.frame,
            load_suite(batch.suite),
            batch=batch.label,
            parameters=batch.parameters,
            key_column=batch.key_column,
            run_name=run_id,
            run_time=as_of,
            sample_size=settings.quality.result_sample,
            results_dir=Path(folder),
        )
        _upload(settings, Path(folder))
    _record(settings, batch, outcome, run_id, as_of)
    return outcome


def _upload(settings: Settings, folder: Path) -> None:
    files = [p for p in folder.rglob("*.json") if p.is_file()]
    if not files:
        return
    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    client = s3_client(settings.s3)
    for path in files:
        key = RESULTS_PREFIX + path.relative_to(folder).as_posix()
        client.put_object(
            Bucket=settings.s3.lake_bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType="application/json",
        )


def _record(
    settings: Settings, batch: Batch, outcome: ValidationOutcome, run_id: str, as_of: datetime
) -> None:
    """The batch's verdict and flags, replacing those of an earlier validation, in one
    transaction."""
    flags = outcome.flags
    rows = [
        {
            "suite": batch.suite,
            "batch": batch.label,
            "row_id": row_id,
            "check_name": check,
            "capture_date": batch.capture_date,
            "run_id": run_id,
            "flagged_at": as_of,
        }
        for row_id, check in flags.select("row_id", "check").iter_rows()
    ]
    verdict = {
        "suite": batch.suite,
        "batch": batch.label,
        "passed": outcome.passed,
        "blocking": json.dumps([o.expectation.name for o in outcome.blocking]),
        "warnings": json.dumps([o.expectation.name for o in outcome.warnings]),
        "rows": outcome.rows,
        "flagged_rows": flags.get_column("row_id").n_unique(),
        "capture_date": batch.capture_date,
        "run_id": run_id,
        "validated_at": as_of,
    }
    with engine_for(settings.catalog_url).begin() as conn:
        for t in (quality_flags, quality_verdicts):
            conn.execute(t.delete().where(t.c.suite == batch.suite, t.c.batch == batch.label))
        conn.execute(quality_verdicts.insert(), [verdict])
        if rows:
            conn.execute(quality_flags.insert(), rows)


def flagged_rows(settings: Settings, suite: str, batch: str) -> pl.DataFrame:
    """The flags of one validated batch: ``row_id`` and ``check_name``."""
    t = quality_flags
    with engine_for(settings.catalog_url).connect() as conn:
        found = conn.execute(
            sa.select(t.c.row_id, t.c.check_name)
            .where(t.c.suite == suite, t.c.batch == batch)
            .order_by(t.c.row_id, t.c.check_name)
        ).all()
    return pl.DataFrame(found, schema={"row_id": pl.String, "check_name": pl.String}, orient="row")


def validate_day(
    settings: Settings, suite: str, day: date, *, run_id: str, as_of: datetime
) -> ValidationOutcome:
    """``validate_batch`` of capture date ``day`` of a daily suite (a lake table's, alerts)."""
    return validate_batch(
        settings, day_batch(settings, suite, day, as_of), run_id=run_id, as_of=as_of
    )
