"""suppress_duplicates: one row per run of hits of an entry at a camera."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.errors import ConfigError
from pipelines.matching import (
    MATCHES_SCHEMA,
    SUPPRESSED_MATCHES_SCHEMA,
    match_reads,
    suppress_duplicates,
)
from tests.pipelines.matching.frames import T0, entries_frame, reads_frame

WINDOW = timedelta(minutes=5)
ENTRIES = entries_frame(
    {"plate": "ABC123", "state": "CO"},
    {"plate": "XYZ789", "state": "CO"},
)


def _reads(*hits: tuple[float, str, str]) -> pl.DataFrame:
    """One read per (minutes after T0, camera, plate), state CO."""
    return reads_frame(
        *(
            {
                "plate_text": plate,
                "jurisdiction": "co",
                "camera_id": camera,
                "captured_at": T0 + timedelta(minutes=minutes),
            }
            for minutes, camera, plate in hits
        )
    )


def _suppressed(*hits: tuple[float, str, str], window: timedelta = WINDOW) -> pl.DataFrame:
    matches = match_reads(_reads(*hits).lazy(), ENTRIES.lazy())
    return suppress_duplicates(matches, window).collect()


def _at(minutes: float) -> Any:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        pytest.param(
            [(0, "cam-01", "ABC123"), (1, "cam-01", "ABC123"), (3, "cam-01", "ABC123")],
            [("r0", "cam-01", 3, 0, 3)],
            id="inside the window: one row with the count",
        ),
        pytest.param(
            [(0, "cam-01", "ABC123"), (5, "cam-01", "ABC123")],
            [("r0", "cam-01", 2, 0, 5)],
            id="a gap of exactly the window still merges",
        ),
        pytest.param(
            [(0, "cam-01", "ABC123"), (6, "cam-01", "ABC123")],
            [("r0", "cam-01", 1, 0, 0), ("r1", "cam-01", 1, 6, 6)],
            id="outside the window: two rows",
        ),
        pytest.param(
            [(0, "cam-01", "ABC123"), (4, "cam-01", "ABC123"), (8, "cam-01", "ABC123")],
            [("r0", "cam-01", 3, 0, 8)],
            id="consecutive gaps within the window chain into one run",
        ),
        pytest.param(
            [(0, "cam-01", "ABC123"), (1, "cam-02", "ABC123"), (2, "cam-01", "ABC123")],
            [("r0", "cam-01", 2, 0, 2), ("r1", "cam-02", 1, 1, 1)],
            id="another camera: its own row",
        ),
        pytest.param(
            [(0, "cam-01", "ABC123"), (1, "cam-01", "XYZ789")],
            [("r0", "cam-01", 1, 0, 0), ("r1", "cam-01", 1, 1, 1)],
            id="another entry: its own row",
        ),
        pytest.param(
            [(9, "cam-01", "ABC123"), (7, "cam-01", "ABC123"), (8, "cam-01", "ABC123")],
            [("r1", "cam-01", 3, 7, 9)],
            id="unordered input: the earliest read represents the run",
        ),
    ],
)
def test_runs(hits: list[tuple[float, str, str]], expected: list[tuple[Any, ...]]) -> None:
    result = _suppressed(*hits)
    got = result.select("read_id", "camera_id", "hit_count", "first_seen_at", "last_seen_at")
    want = pl.DataFrame(
        [(r, c, n, _at(first), _at(last)) for r, c, n, first, last in expected],
        schema=got.schema,
        orient="row",
    )
    assert_frame_equal(got, want, check_row_order=False)


def test_representative_is_the_earliest_hit_whole() -> None:
    """The row is the earliest read's match (ids, image, text), plus the run's figures."""
    hits = [(2, "cam-01", "ABC123"), (0, "cam-01", "ABC123"), (1, "cam-01", "ABC123")]
    matches = match_reads(_reads(*hits).lazy(), ENTRIES.lazy()).collect()
    result = suppress_duplicates(matches.lazy(), WINDOW).collect()
    assert result.schema == SUPPRESSED_MATCHES_SCHEMA
    earliest = matches.filter(pl.col("read_id") == "r1")
    assert_frame_equal(result.drop("hit_count", "first_seen_at", "last_seen_at"), earliest)
    assert result.select("hit_count", "first_seen_at", "last_seen_at").row(0) == (3, _at(0), _at(2))


def test_zero_window_merges_only_simultaneous_hits() -> None:
    result = _suppressed((0, "cam-01", "ABC123"), (0, "cam-01", "ABC123"), window=timedelta(0))
    assert result["hit_count"].to_list() == [2]


def test_negative_window_is_refused() -> None:
    with pytest.raises(ConfigError, match="window"):
        suppress_duplicates(pl.LazyFrame(schema=dict(SUPPRESSED_MATCHES_SCHEMA)), -WINDOW)


def test_rows_come_by_first_seen_then_entry_then_camera() -> None:
    hits = [
        (1, "cam-01", "XYZ789"),
        (1, "cam-02", "ABC123"),
        (0, "cam-02", "XYZ789"),
        (1, "cam-01", "ABC123"),
    ]
    got = _suppressed(*hits).select("first_seen_at", "entry_plate", "camera_id").rows()
    assert got == [
        (_at(0), "XYZ789", "cam-02"),
        (_at(1), "ABC123", "cam-01"),
        (_at(1), "ABC123", "cam-02"),
        (_at(1), "XYZ789", "cam-01"),
    ]


def test_simultaneous_hits_are_represented_by_the_smallest_read_id() -> None:
    hits = [(0, "cam-01", "ABC123")] * 5  # r0 ... r4, all at T0, given last to first
    matches = match_reads(_reads(*hits).lazy(), ENTRIES.lazy()).collect().reverse()
    assert matches["read_id"].to_list() == ["r4", "r3", "r2", "r1", "r0"]
    result = suppress_duplicates(matches.lazy(), WINDOW).collect()
    assert result.select("read_id", "detection_id", "hit_count").rows() == [("r0", "d0", 5)]


def test_simultaneous_first_hits_are_ordered_by_entry_even_when_many() -> None:
    """A thousand entries first seen at the same instant: by entry id (polars' group_by does not
    keep order at this size, so the sort must)."""
    n = 1000
    matches = pl.DataFrame(
        {
            "read_id": [f"r{i:04d}" for i in range(n)],
            "camera_id": ["cam-01"] * n,
            "captured_at": [T0] * n,
            "entry_id": [f"e{(i * 7919) % n:04d}" for i in range(n)],  # a shuffle of e0000...
        }
    ).with_columns(
        pl.lit(None).cast(dtype).alias(name)
        for name, dtype in MATCHES_SCHEMA.items()
        if name not in {"read_id", "camera_id", "captured_at", "entry_id"}
    )
    result = suppress_duplicates(matches.select(*MATCHES_SCHEMA).lazy(), WINDOW).collect()
    assert result["entry_id"].to_list() == [f"e{i:04d}" for i in range(n)]
