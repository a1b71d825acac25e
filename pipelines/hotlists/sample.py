"""A sample NCIC hot file, generated here, for ``alpr demo``: never a copy of real data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import polars as pl

__all__ = ["listable_reads", "sample_ncic_file"]

_NIC_ORI = "123456789CO0300000"  # a made-up NIC number and originating agency (18 characters)
_VEHICLE = (
    "2020PC2018FORDFOCSDBLK"  # tag year, plate type, vehicle year, make, model, style, colour
)
_PLATE_WIDTH = 10  # NCIC's plate field (../shared/formats/hotlists.md); the state field is 2


def listable_reads(reads: pl.LazyFrame, plate_max_length: int) -> pl.LazyFrame:
    """(plate_text, state) of the reads a sample hotlist may list, each once, sorted: plate-long
    texts only (5 to ``plate_max_length`` characters; a read of burned-in camera text, such as a
    timestamp, is no plate), the state upper-case, CO where none was read."""
    return (
        reads.filter(pl.col("plate_text").str.len_chars().is_between(5, plate_max_length))
        .select("plate_text", state=pl.col("jurisdiction").fill_null("CO").str.to_uppercase())
        .unique()
        .sort("plate_text")
    )


def sample_ncic_file(plates: Iterable[tuple[str, str]], entered: date) -> bytes:
    """An NCIC file (header line first) listing each (plate, state) as a stolen vehicle (V).

    A plate longer than NCIC's field or a state that is not two characters is refused: written
    as given it would shift every field after it (the plate is not named: it may be a real read).
    """
    lines = [f"NCIC VEHICLE HOT FILE {entered:%Y%m%d} SAMPLE"]
    for n, (plate, state) in enumerate(plates, 1):
        if not 0 < len(plate) <= _PLATE_WIDTH or len(state) != 2:
            raise ValueError(
                f"sample entry {n}: a plate of {len(plate)} characters and a state of "
                f"{len(state)}; NCIC's fields hold 1-{_PLATE_WIDTH} and 2"
            )
        lines.append(f"V{_NIC_ORI}{entered:%Y%m%d}{plate:<{_PLATE_WIDTH}}{state}{_VEHICLE}")
    return ("\n".join(lines) + "\n").encode()
