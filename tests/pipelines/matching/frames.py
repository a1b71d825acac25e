"""Tiny reads and entries frames for the matching tests, with the real schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from polars.testing import assert_frame_equal

from pipelines.hotlists.schema import ENTRIES_SCHEMA
from pipelines.matching import match
from pipelines.recognition.plates import match_key
from pipelines.storage.lake import READS

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LISTED_AT = T0 - timedelta(days=30)


def entries_frame(*rows: Mapping[str, Any]) -> pl.DataFrame:
    """Entries with ``ENTRIES_SCHEMA``: each row gives at least ``plate``; ``state`` (None),
    ``list_name`` ("ncic"), ``match_strategy`` ("exact") and ``first_listed_at`` have defaults,
    ``match_key`` comes from the plate and ``entry_id`` is "list:plate:state"."""
    out = []
    for row in rows:
        entry: dict[str, Any] = dict.fromkeys(ENTRIES_SCHEMA)
        entry |= {
            "list_name": "ncic",
            "version": 3,
            "state": None,
            "list_code": "V",
            "priority": 1,
            "match_strategy": "exact",
            "first_listed_at": LISTED_AT,
            "loaded_at": T0 - timedelta(hours=2),
        }
        entry |= row
        entry["match_key"] = match_key(entry["plate"])
        entry["entry_id"] = row.get("entry_id") or entry_id(
            entry["list_name"], entry["plate"], entry["state"]
        )
        out.append(entry)
    return pl.DataFrame(out, schema=ENTRIES_SCHEMA)


def entry_id(list_name: str, plate: str, state: str | None) -> str:
    return f"{list_name}:{plate}:{state or '-'}"


def reads_frame(*rows: Mapping[str, Any]) -> pl.DataFrame:
    """Reads with ``READS.schema``: each row gives at least ``plate_text``; ``read_id`` is r0,
    r1, ... in order, ``captured_at`` T0 plus one second per row, camera "cam-01", no state,
    no candidates unless given (``candidates`` as (text, score) pairs)."""
    out = []
    for i, row in enumerate(rows):
        read: dict[str, Any] = dict.fromkeys(READS.schema)
        read |= {
            "read_id": f"r{i}",
            "detection_id": f"d{i}",
            "image_id": f"i{i}",
            "camera_id": "cam-01",
            "captured_at": T0 + timedelta(seconds=i),
            "confidence": 0.9,
            "candidates": [],
            "run_id": "test",
        }
        read |= row
        read["candidates"] = [{"text": t, "score": s} for t, s in read["candidates"]]
        read["capture_date"] = read["captured_at"].date()
        out.append(read)
    return pl.DataFrame(out, schema=READS.schema)


def match_both_ways(reads: pl.DataFrame, entries: pl.DataFrame) -> pl.DataFrame:
    """``match_reads`` with the lenient entries as edit balls and as deletion neighbourhoods
    (the two join plans, chosen by size in production): both must give the same frame."""
    results = []
    for limit in (10**9, -1):
        saved, match.BALL_MAX_ENTRIES = match.BALL_MAX_ENTRIES, limit
        try:
            results.append(match.match_reads(reads.lazy(), entries.lazy()).collect())
        finally:
            match.BALL_MAX_ENTRIES = saved
    assert_frame_equal(results[0], results[1])
    return results[0]


HIT_COLUMNS = ("read_id", "entry_id", "match_kind", "matched_text", "state_not_read")


def assert_hits(
    result: pl.LazyFrame | pl.DataFrame,
    expected: Sequence[tuple[Any, ...]],
    columns: Sequence[str] = HIT_COLUMNS,
) -> None:
    """``result``'s ``columns`` hold exactly the ``expected`` rows (in any order)."""
    frame = result.collect() if isinstance(result, pl.LazyFrame) else result
    got = frame.select(columns)
    want = pl.DataFrame(list(expected), schema=got.schema, orient="row")
    assert_frame_equal(got, want, check_row_order=False)
