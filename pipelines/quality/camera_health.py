"""Camera health: what an operator checks each morning, per camera and capture date, against that
camera's trailing baseline.

Figures of one camera on one day (``images`` and ``reads`` of that capture date):

- ``images``: frames the camera sent.
- ``plates_per_image``: plates detected (one read per detection) per frame.
- ``read_rate``: the share of frames that gave at least one plate read, a read being a plate
  whose OCR text is not empty. It is counted per frame, not per detection, because a frame is a
  vehicle passing: a dirty lens (plates found, text unreadable) and a misaligned one (no plate
  in the frame at all) both lower it.
- ``mean_confidence``: the mean OCR confidence of the plates read (empty texts left out).
- ``no_plate_share``: the share of frames in which no plate was detected.

The baseline of each figure pools the ``quality.camera_baseline_days`` days before the day
(counts summed, then divided: a busy day weighs more than a quiet one); ``baseline_images`` is
the mean of the baseline days on which the camera sent anything, ``baseline_days`` how many
those were. A camera fails when

- its read rate is below ``(1 - quality.camera_read_rate_drop)`` times its baseline read rate,
- or its mean confidence below ``(1 - quality.camera_confidence_drop)`` times the baseline's,
- or it is ``silent``: no frame captured in the ``quality.camera_silence_hours`` before the
  reference time (``as_of``, or the end of the day when the day is over by then).

A drop exactly at the configured fraction passes; a camera without baseline (new, or back after
more than the baseline days away) is judged on silence only. The cameras judged are those of
``ingest.camera_registry`` when one is configured, else those seen in the baseline days, plus
any camera seen on the day itself.

:func:`camera_health` is the pure computation over frames; :func:`camera_health_report` loads
its input from the lake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from pipelines.audit.log import require_utc
from pipelines.config import QualitySettings, Settings
from pipelines.ingest.register import load_camera_registry
from pipelines.storage.lake import IMAGES, READS, LakeTable
from pipelines.storage.tables import scan_table, table_exists

__all__ = [
    "FIGURES",
    "CameraHealthReport",
    "camera_health",
    "camera_health_report",
    "health_markdown",
    "latest_capture_day",
]

# Per-day counts, summed over the baseline days before the figures are formed.
_COUNTS = ("images", "plates", "read_images", "reads", "confidence_sum", "no_plate_images")
# (figure, numerator, denominator) of each ratio figure.
_RATIOS = (
    ("plates_per_image", "plates", "images"),
    ("read_rate", "read_images", "images"),
    ("mean_confidence", "confidence_sum", "reads"),
    ("no_plate_share", "no_plate_images", "images"),
)
FIGURES = ("images", *(figure for figure, _, _ in _RATIOS))
_IMAGE_COLUMNS = ("image_id", "camera_id", "captured_at", "capture_date")
_READ_COLUMNS = ("image_id", "plate_text", "confidence", "capture_date")
_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class CameraHealthReport:
    """The judged figures of every camera on ``capture_date`` (one row per camera)."""

    capture_date: date
    reference_at: datetime  # silence is measured back from here
    cameras: pl.DataFrame

    @property
    def failing(self) -> list[str]:
        return self.cameras.filter(~pl.col("passed")).get_column("camera_id").to_list()

    def summary(self) -> dict[str, Any]:
        """JSON-ready: the day, the reference time, the failing cameras and every camera's row."""
        rows = self.cameras.with_columns(
            pl.col("capture_date").cast(pl.String),
            pl.col("last_seen_at").dt.to_string("%Y-%m-%dT%H:%M:%SZ"),
        )
        return {
            "capture_date": self.capture_date.isoformat(),
            "reference_at": self.reference_at.isoformat(),
            "failing": self.failing,
            "cameras": rows.to_dicts(),
        }


def camera_health(
    images: pl.LazyFrame,
    reads: pl.LazyFrame,
    day: date,
    as_of: datetime,
    quality: QualitySettings,
    known: Iterable[str] | None = None,
) -> pl.DataFrame:
    """Each camera's figures on ``day`` beside its baseline, and whether it passes.

    ``images`` needs ``image_id, camera_id, captured_at, capture_date``; ``reads`` needs
    ``image_id, plate_text, confidence`` (a read counts for its image's camera and day). Frames
    may hold other days: the baseline uses the ``quality.camera_baseline_days`` before ``day``,
    silence every image given. ``known``: the registered cameras, or None for those seen.
    """
    reference = _reference_time(day, as_of)
    first = day - timedelta(days=quality.camera_baseline_days)
    per_image = _per_image(images, reads)
    daily = _daily_counts(per_image.filter(pl.col("capture_date").is_between(first, day)))
    cameras = pl.concat(
        [
            _known_cameras(daily, first, day, known),
            daily.filter(pl.col("capture_date") == day).select("camera_id"),
        ]
    ).unique()
    last_seen = (
        per_image.filter(pl.col("captured_at") <= reference)
        .group_by("camera_id")
        .agg(last_seen_at=pl.col("captured_at").max())
    )
    dense = (
        cameras.join(
            pl.LazyFrame({"capture_date": pl.date_range(first, day, eager=True)}), how="cross"
        )
        .join(daily, on=["camera_id", "capture_date"], how="left")
        .with_columns(pl.col(_COUNTS).fill_null(0))
        .sort("camera_id", "capture_date")
    )
    baseline = dense.rolling(
        index_column="capture_date",
        period=f"{quality.camera_baseline_days}d",
        closed="left",  # the N days before, not the day itself
        group_by="camera_id",
    ).agg(
        *(pl.col(c).sum().alias(f"baseline_{c}") for c in _COUNTS),
        baseline_days=(pl.col("images") > 0).sum().cast(pl.Int64),
    )
    return (
        dense.filter(pl.col("capture_date") == day)
        .join(baseline, on=["camera_id", "capture_date"], how="left")
        .join(last_seen, on="camera_id", how="left")
        .with_columns(
            *(_ratio(f, n, d) for f, n, d in _RATIOS),
            *(_ratio(f"baseline_{f}", f"baseline_{n}", f"baseline_{d}") for f, n, d in _RATIOS),
            _ratio("baseline_images", "baseline_images", "baseline_days"),
        )
        .with_columns(
            silent=pl.col("last_seen_at").is_null()
            | (pl.col("last_seen_at") <= reference - timedelta(hours=quality.camera_silence_hours)),
            read_rate_dropped=_dropped("read_rate", quality.camera_read_rate_drop),
            confidence_dropped=_dropped("mean_confidence", quality.camera_confidence_drop),
        )
        .with_columns(
            passed=~(pl.col("silent") | pl.col("read_rate_dropped") | pl.col("confidence_dropped"))
        )
        .select(
            "camera_id",
            "capture_date",
            *FIGURES,
            "baseline_days",
            *(f"baseline_{f}" for f in FIGURES),
            "last_seen_at",
            "silent",
            "read_rate_dropped",
            "confidence_dropped",
            "passed",
        )
        .sort("camera_id")
        .collect()
    )


def camera_health_report(settings: Settings, day: date, as_of: datetime) -> CameraHealthReport:
    """:func:`camera_health` of ``day`` over the lake's ``images`` and ``reads`` tables."""
    quality = settings.quality
    lookback = max(quality.camera_baseline_days, math.ceil(quality.camera_silence_hours / 24))
    first = day - timedelta(days=lookback)
    cameras = camera_health(
        _scan(settings, IMAGES, _IMAGE_COLUMNS, first, day),
        _scan(settings, READS, _READ_COLUMNS, first, day),
        day,
        as_of,
        quality,
        load_camera_registry(settings.ingest.camera_registry),
    )
    return CameraHealthReport(day, _reference_time(day, as_of), cameras)


def latest_capture_day(settings: Settings) -> date | None:
    """The newest capture date of the ``images`` table; None before anything was ingested."""
    if not table_exists(settings, IMAGES):
        return None
    latest = scan_table(settings, IMAGES).select(pl.col("capture_date").max()).collect().item()
    return latest if isinstance(latest, date) else None


def health_markdown(cameras: pl.DataFrame) -> str:
    """A Markdown table of :func:`camera_health`'s rows: each figure with its baseline."""
    header = (
        "| camera | images | plates/image | read rate | mean confidence | no plate | status |\n"
        "|---|---:|---:|---:|---:|---:|---|"
    )
    if cameras.is_empty():
        return header
    status = (
        pl.when(pl.col("passed"))
        .then(pl.lit("ok"))
        .otherwise(
            pl.concat_str(
                pl.when(pl.col("silent")).then(pl.lit("silent ")),
                pl.when(pl.col("read_rate_dropped")).then(pl.lit("read rate ")),
                pl.when(pl.col("confidence_dropped")).then(pl.lit("confidence ")),
                ignore_nulls=True,
            ).str.strip_chars_end()
        )
    )
    lines = cameras.select(
        pl.concat_str(
            pl.lit("| "),
            pl.col("camera_id"),
            pl.lit(" | "),
            _with_baseline("images", 1, percent=False),
            pl.lit(" | "),
            _with_baseline("plates_per_image", 2, percent=False),
            pl.lit(" | "),
            _with_baseline("read_rate", 0, percent=True),
            pl.lit(" | "),
            _with_baseline("mean_confidence", 3, percent=False),
            pl.lit(" | "),
            _with_baseline("no_plate_share", 0, percent=True),
            pl.lit(" | "),
            status,
            pl.lit(" |"),
        ).str.join("\n")
    ).item()
    return f"{header}\n{lines}"


def _reference_time(day: date, as_of: datetime) -> datetime:
    """``as_of``, or the end of ``day`` when that came first (a past day is judged as it closed)."""
    return min(require_utc(as_of), datetime.combine(day + timedelta(days=1), time(), UTC))


def _per_image(images: pl.LazyFrame, reads: pl.LazyFrame) -> pl.LazyFrame:
    """One row per image: its camera, times, plates detected, plates read, their confidence."""
    read = pl.col("plate_text").fill_null("").str.len_chars() > 0
    per_image = reads.group_by("image_id").agg(
        plates=pl.len().cast(pl.Int64),
        reads=read.sum().cast(pl.Int64),
        confidence_sum=pl.col("confidence").cast(pl.Float64).filter(read).sum(),
    )
    return (
        images.select(_IMAGE_COLUMNS)
        .with_columns(pl.col("captured_at").cast(_UTC))
        .join(per_image, on="image_id", how="left")
        .with_columns(
            pl.col("plates", "reads").fill_null(0), pl.col("confidence_sum").fill_null(0.0)
        )
    )


def _daily_counts(per_image: pl.LazyFrame) -> pl.LazyFrame:
    return per_image.group_by("camera_id", "capture_date").agg(
        images=pl.len().cast(pl.Int64),
        plates=pl.col("plates").sum(),
        read_images=(pl.col("reads") > 0).sum().cast(pl.Int64),
        reads=pl.col("reads").sum(),
        confidence_sum=pl.col("confidence_sum").sum(),
        no_plate_images=(pl.col("plates") == 0).sum().cast(pl.Int64),
    )


def _known_cameras(
    daily: pl.LazyFrame, first: date, day: date, known: Iterable[str] | None
) -> pl.LazyFrame:
    if known is not None:
        return pl.LazyFrame({"camera_id": sorted(known)}, schema={"camera_id": pl.String})
    in_baseline = pl.col("capture_date").is_between(first, day, closed="left")
    return daily.filter(in_baseline).select("camera_id")


def _ratio(name: str, numerator: str, denominator: str) -> pl.Expr:
    """``numerator / denominator``; null where the denominator is 0 (nothing to divide)."""
    return (
        pl.when(pl.col(denominator) > 0)
        .then(pl.col(numerator) / pl.col(denominator))
        .otherwise(None)
        .alias(name)
    )


def _dropped(figure: str, fraction: float) -> pl.Expr:
    """The day's figure fell below ``1 - fraction`` of its baseline; False without either."""
    return (pl.col(figure) < pl.col(f"baseline_{figure}") * (1.0 - fraction)).fill_null(False)


def _formatted(column: str, digits: int, *, percent: bool) -> pl.Expr:
    value = pl.col(column).cast(pl.Float64)
    if percent:
        return (value * 100).round(digits).cast(pl.Int64).cast(pl.String) + pl.lit(" %")
    return value.round(digits).cast(pl.String)


def _with_baseline(figure: str, digits: int, *, percent: bool) -> pl.Expr:
    """``value (baseline)``, a dash for a missing one."""
    today = (
        pl.col(figure).cast(pl.String)
        if figure == "images"
        else _formatted(figure, digits, percent=percent)
    )
    return pl.concat_str(
        today.fill_null("–"),
        pl.lit(" ("),
        _formatted(f"baseline_{figure}", digits, percent=percent).fill_null("–"),
        pl.lit(")"),
    )


def _scan(
    settings: Settings, table: LakeTable, columns: tuple[str, ...], first: date, day: date
) -> pl.LazyFrame:
    if not table_exists(settings, table):
        return pl.LazyFrame(schema={c: table.schema[c] for c in columns})
    return (
        scan_table(settings, table)
        .filter(pl.col(table.partition_column).is_between(first, day))
        .select(columns)
    )
