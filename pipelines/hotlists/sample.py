"""A sample NCIC hot file, generated here, for ``alpr demo``: never a copy of real data."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

__all__ = ["sample_ncic_file"]

_NIC_ORI = "123456789CO0300000"  # a made-up NIC number and originating agency (18 characters)
_VEHICLE = (
    "2020PC2018FORDFOCSDBLK"  # tag year, plate type, vehicle year, make, model, style, colour
)


def sample_ncic_file(plates: Iterable[tuple[str, str]], entered: date) -> bytes:
    """An NCIC file (header line first) listing each (plate, state) as a stolen vehicle (V)."""
    lines = [f"NCIC VEHICLE HOT FILE {entered:%Y%m%d} SAMPLE"]
    lines += [
        f"V{_NIC_ORI}{entered:%Y%m%d}{plate:<10}{state:<2}{_VEHICLE}" for plate, state in plates
    ]
    return ("\n".join(lines) + "\n").encode()
