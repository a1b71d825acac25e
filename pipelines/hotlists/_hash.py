"""A stable, vectorised hash of string columns (entry ids, content fingerprints).

Polars' own ``hash`` may change between polars versions, and entry ids are stored in the catalog
and referenced by alerts, so they must not. This is FNV-1a over the UTF-8 bytes, in two 64-bit
lanes with different offset bases (128 bits, 32 hex digits), computed over the Arrow buffers with
numpy: one pass per byte position, never per row.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

__all__ = ["fnv1a_128_hex", "stable_id"]

_PRIME = np.uint64(0x100000001B3)
_OFFSETS = (np.uint64(0xCBF29CE484222325), np.uint64(0x84222325CBF29CE4))
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
SEPARATOR = "\x1f"  # unit separator: cannot occur in a normalized plate, state or list name


def _lanes(values: pl.Series, prefix: str, lanes_wanted: int = 2) -> list[np.ndarray]:
    arr = values.fill_null("").cast(pl.String).rechunk().to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None else np.empty(0)
    starts, lengths = offsets[:-1], np.diff(offsets)
    # Rows sorted by length, longest first, bytes laid out as a (position, row) matrix: position
    # j is then one contiguous slice over the first `live` rows.
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    total = int(sorted_lengths.sum())
    row = np.repeat(np.arange(n), sorted_lengths)
    first = np.cumsum(sorted_lengths) - sorted_lengths
    position = np.arange(total) - np.repeat(first, sorted_lengths)
    matrix = np.zeros((int(lengths.max()) if n else 0, n), dtype=np.uint8)
    matrix[position, row] = data[np.repeat(starts[order], sorted_lengths) + position]
    lanes = [
        np.full(n, _prefix_state(offset, prefix), dtype=np.uint64)
        for offset in _OFFSETS[:lanes_wanted]
    ]
    byte = np.empty(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(matrix.shape[0]):
            live = int(np.searchsorted(-sorted_lengths, -j, side="left"))
            byte[:live] = matrix[j, :live]
            for lane in lanes:
                view = lane[:live]
                np.bitwise_xor(view, byte[:live], out=view)
                np.multiply(view, _PRIME, out=view)
    unsorted = [np.empty_like(lane) for lane in lanes]
    for lane, out in zip(lanes, unsorted, strict=True):
        out[order] = lane
    return unsorted


def _prefix_state(offset: np.uint64, prefix: str) -> np.uint64:
    """The lane's state after ``prefix``: a constant prefix (the list name) is hashed once."""
    state = int(offset)
    for byte in prefix.encode():
        state = ((state ^ byte) * int(_PRIME)) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(state)


def fnv1a_128_hex(values: pl.Series, prefix: str = "", *, bits: int = 128) -> pl.Series:
    """Each string's (after ``prefix``) two FNV-1a 64 lanes as 32 lowercase hex digits; null
    hashes as the empty string. ``bits=64``: the first lane only (16 digits), half the work,
    enough to tell a changed entry from an unchanged one."""
    lanes = _lanes(values, prefix, bits // 64)
    raw = np.concatenate([lane.astype(">u8").view(np.uint8).reshape(-1, 8) for lane in lanes], 1)
    width = 16 * len(lanes)
    digits = np.empty((raw.shape[0], width), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    return pl.Series(values.name, digits.view(f"S{width}").ravel()).cast(pl.String)


def stable_id(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """The hash of ``columns`` joined by a separator (nulls as empty strings)."""
    joined = frame.select(
        pl.concat_str([pl.col(c).fill_null("") for c in columns], separator=SEPARATOR)
    ).to_series()
    return fnv1a_128_hex(joined)
