"""Duplicate suppression: a vehicle in front of one camera is read frame after frame."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from pipelines.errors import ConfigError
from pipelines.matching.schema import MATCHES_SCHEMA, SUPPRESSED_MATCHES_SCHEMA

__all__ = ["suppress_duplicates"]

# The same entry (so the same listed plate, whatever text each frame read) at the same camera.
_SAME = ("entry_id", "camera_id")


def suppress_duplicates(matches: pl.LazyFrame, window: timedelta) -> pl.LazyFrame:
    """One row per run of hits of the same entry at the same camera in which consecutive hits are
    at most ``window`` apart, with ``SUPPRESSED_MATCHES_SCHEMA``.

    The representative is the run's earliest hit (ties: the smaller ``read_id``): its read, image
    and match columns, plus ``hit_count``, ``first_seen_at`` and ``last_seen_at`` of the run.
    Hits further apart than ``window`` start a new run, so a vehicle that comes back is alerted
    again. Rows come sorted by ``first_seen_at``, entry and camera.
    """
    if window < timedelta(0):
        raise ConfigError(f"duplicate window {window} must not be negative")
    at = pl.col("captured_at")
    ordered = (
        matches.select(*MATCHES_SCHEMA)
        .sort(*_SAME, "captured_at", "read_id", nulls_last=True)
        .with_columns(_starts=(at.diff().over(_SAME) > window).fill_null(True))
        .with_columns(_run=pl.col("_starts").cum_sum())
    )
    return (
        ordered.group_by("_run")
        .agg(
            pl.col(*MATCHES_SCHEMA).first(),  # sorted above: the earliest hit
            hit_count=pl.len().cast(pl.UInt32),
            first_seen_at=at.min(),
            last_seen_at=at.max(),
        )
        .select(*SUPPRESSED_MATCHES_SCHEMA)
        .sort("first_seen_at", *_SAME, nulls_last=True)
    )
