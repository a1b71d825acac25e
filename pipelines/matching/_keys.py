"""Join keys for lenient matching: the look-alike fold and the one-deletion neighbourhood."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.recognition.plates import match_key, match_key_expr

__all__ = [
    "LOOKALIKE_CLASSES",
    "deletion_neighbourhood",
    "lookalike_key",
    "lookalike_key_expr",
    "within_one_edit",
]

# Characters plate fonts and OCRs confuse, each class folded to its first member. A superset of
# plates.MATCH_FOLDS (O/0, I/1), so folding a match key gives the same result as folding the text.
LOOKALIKE_CLASSES: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "8B", "6G")

_FOLD: Mapping[str, str] = {c: cls[0] for cls in LOOKALIKE_CLASSES for c in cls[1:]}
_TABLE = str.maketrans(dict(_FOLD))


def lookalike_key(text: str) -> str:
    """The match key of ``text`` with every look-alike class folded to one character."""
    return match_key(text).translate(_TABLE)


def lookalike_key_expr(column: str | pl.Expr, *, is_match_key: bool = False) -> pl.Expr:
    """:func:`lookalike_key` as a polars expression; ``is_match_key`` when the column holds match
    keys already (an entry's ``match_key``), which skips the normalisation."""
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
    worse, distance 2, and must be dropped by the caller (see ``within_one_edit``).
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


def within_one_edit(left_pos: str, right_pos: str) -> pl.Expr:
    """Whether a pair of neighbourhood rows with equal keys proves an edit distance of at most 1."""
    left, right = pl.col(left_pos), pl.col(right_pos)
    return (left < 0) | (right < 0) | (left == right)
