"""The demo's sample NCIC file: what it lists parses back through the real NCIC parser, and what
NCIC's fixed-width fields cannot hold is refused instead of shifting the fields after it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.config import HotlistSettings
from pipelines.hotlists.parse import parse_hotlist
from pipelines.hotlists.sample import listable_reads, sample_ncic_file

DAY = date(2026, 12, 3)


def test_each_listed_plate_parses_back_with_its_state() -> None:
    data = sample_ncic_file([("ABC1234", "CO"), ("AB12345678", "WY")], DAY)
    result = parse_hotlist(data, "ncic", list_name="sample", settings=HotlistSettings())
    assert result.problems == []
    rows = result.entries.select("plate", "state", "list_code", "entry_date").rows()
    assert sorted(rows) == [
        ("AB12345678", "WY", "V", "20261203"),  # a full 10-character field
        ("ABC1234", "CO", "V", "20261203"),
    ]


@pytest.mark.parametrize(
    ("plate", "state", "named"),
    [
        ("20261203143055CA", "CO", "a plate of 16 characters"),  # a camera's timestamp, read
        ("AB123456789", "CO", "a plate of 11 characters"),
        ("", "CO", "a plate of 0 characters"),
        ("ABC123", "C", "a plate of 6 characters and a state of 1;"),
    ],
)
def test_what_the_fields_cannot_hold_is_refused(plate: str, state: str, named: str) -> None:
    with pytest.raises(ValueError, match=rf"sample entry 2: {named}") as refused:
        sample_ncic_file([("OK1234", "CO"), (plate, state)], DAY)
    assert plate not in str(refused.value) or not plate


def test_the_listed_reads_are_plate_long_once_each_with_a_state() -> None:
    reads = pl.LazyFrame(
        {
            "plate_text": ["XKC4420", "20261203143055CA", "AB1", "XKC4420", "7ABC123"],
            "jurisdiction": ["wy", "co", "co", "wy", None],
        }
    )
    # the camera's timestamp (16 characters) and a 3-character fragment are no plates to list
    assert listable_reads(reads, plate_max_length=8).collect().rows() == [
        ("7ABC123", "CO"),
        ("XKC4420", "WY"),
    ]
