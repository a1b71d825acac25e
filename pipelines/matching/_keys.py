"""Join keys for lenient matching: the look-alike fold and the one-deletion neighbourhood."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.recognition.plates import PLATE_ALPHABET, match_key, match_key_expr

__all__ = [
    "FOLDED_ALPHABET",
    "LOOKALIKE_CLASSES",
    "deleted_at",
    "deletion_neighbourhood",
    "edit_ball",
    "lookalike_key",
    "lookalike_key_expr",
]

# Characters plate fonts and OCRs confuse, each class folded to its first member. A superset of
# plates.MATCH_FOLDS (O/0, I/1), so folding a match key gives the same result as folding the text.
LOOKALIKE_CLASSES: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "8B", "6G")

_FOLD: Mapping[str, str] = {c: cls[0] for cls in LOOKALIKE_CLASSES for c in cls[1:]}
_TABLE = str.maketrans(dict(_FOLD))
# What a folded key can hold: the plate alphabet less the class members folded away (27 of 36).
FOLDED_ALPHABET = "".join(sorted(set(PLATE_ALPHABET.translate(_TABLE))))


def lookalike_key(text: str) -> str:
    """The match key of ``text`` with every look-alike class folded to one character."""
    return match_key(text).translate(_TABLE)


def lookalike_key_expr(column: str | pl.Expr, *, is_match_key: bool = False) -> pl.Expr:
    """:func:`lookalike_key` as a polars expression; ``is_match_key`` when the column holds match
    keys already (an entry's ``match_key``), which skips the normalization."""
    expr = pl.col(column) if isinstance(column, str) else column
    if not is_match_key:
        expr = match_key_expr(expr)
    return expr.str.replace_many(list(_FOLD), list(_FOLD.values()))


def deletion_neighbourhood(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """``frame`` with one row per string of ``column``'s deletion neighbourhood (SymSpell, distance
    1): the string itself (``_pos`` -1) and each string with the character at ``_pos`` deleted,
    in ``_nkey``.

    Two strings are within one edit iff some pair of their rows has equal ``_nkey`` and the
    positions say so: either side -1 (an insertion or deletion, or equality) or both the same
    position (a substitution there). Equal keys at different positions are a transposition or
    worse (``AB`` and ``BA`` share ``A``), so the join must also match the positions.
    """
    text = pl.col(column)
    pos = pl.col("_pos")
    return (
        frame.with_columns(_pos=pl.int_ranges(-1, text.str.len_chars(), dtype=pl.Int16))
        .explode("_pos")
        .with_columns(
            _nkey=pl.when(pos < 0)
            .then(text)
            .otherwise(pl.concat_str(text.str.slice(0, pos), text.str.slice(pos + 1)))
        )
    )


def deleted_at(column: str, position: int) -> pl.Expr:
    """``column`` with the character at a fixed ``position`` deleted (null where it is shorter)."""
    text = pl.col(column)
    return (
        pl.when(text.str.len_chars() > position)
        .then(pl.concat_str(text.str.slice(0, position), text.str.slice(position + 1)))
        .otherwise(None)
    )


def edit_ball(frame: pl.LazyFrame, column: str, id_column: str) -> pl.LazyFrame:
    """(``id_column``, ``_bkey``): every string within one edit of ``column`` over
    ``FOLDED_ALPHABET`` (the string, each deletion, substitution and insertion; about 55 a
    character, a few repeated). For a small set of entries, joining the reads' folds on this
    needs no neighbourhood of the reads and no verification."""
    text = pl.col(column)
    pos = pl.col("_pos")
    length = text.str.len_chars()
    base = frame.select(id_column, column)
    at = base.with_columns(_pos=pl.int_ranges(0, length + 1, dtype=pl.Int16)).explode("_pos")
    with_char = at.join(pl.LazyFrame({"_char": list(FOLDED_ALPHABET)}), how="cross")
    head, char = text.str.slice(0, pos), pl.col("_char")
    return pl.concat(
        [
            base.select(id_column, _bkey=text),
            at.filter(pos < length).select(
                id_column, _bkey=pl.concat_str(head, text.str.slice(pos + 1))
            ),
            with_char.filter(pos < length).select(
                id_column, _bkey=pl.concat_str(head, char, text.str.slice(pos + 1))
            ),
            with_char.select(id_column, _bkey=pl.concat_str(head, char, text.str.slice(pos))),
        ]
    )
