"""The shape of a match: one row per (read, entry) hit, before and after duplicate suppression."""

from __future__ import annotations

import polars as pl

__all__ = ["MATCHES_SCHEMA", "MATCH_KINDS", "SUPPRESSED_MATCHES_SCHEMA"]

_UTC = pl.Datetime("us", "UTC")

MATCH_KINDS = ("exact", "lenient")  # lenient: look-alike fold and one edit, lower confidence

MATCHES_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "read_id": pl.String,
        "detection_id": pl.String,
        "image_id": pl.String,
        "camera_id": pl.String,
        "captured_at": _UTC,
        "capture_date": pl.Date,
        "plate_text": pl.String,
        "confidence": pl.Float32,
        "matched_text": pl.String,  # the read's text, or the alternative candidate, that hit
        "entry_id": pl.String,
        "list_name": pl.String,
        "list_version": pl.Int64,
        "entry_plate": pl.String,
        "entry_state": pl.String,
        "list_code": pl.String,
        "match_kind": pl.String,
        "state_not_read": pl.Boolean,  # the read had no state: check it
        "seen_before_listed": pl.Boolean,  # captured_at < the entry's first_listed_at
    }
)

# After `suppress_duplicates`: one row per run of hits, the earliest read as representative.
SUPPRESSED_MATCHES_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]
        **MATCHES_SCHEMA,
        "hit_count": pl.UInt32,
        "first_seen_at": _UTC,
        "last_seen_at": _UTC,
    }
)
