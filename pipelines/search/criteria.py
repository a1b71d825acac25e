"""What a search looks for, and the polars filters that find it in the ``reads`` table.

Criteria: a plate, exact or partial (``*`` any run of characters, ``?`` one character), compared
after the look-alike fold of hotlist matching (``pipelines/matching/_keys.py``), so a search for
``B0S123`` finds a read of ``8OS1Z3``; cameras; jurisdictions (states); a time window
``[start, end)`` in UTC. Every criterion given must hold.

A read's ``plate_text`` is normalized already (upper-case ``A-Z0-9``, guaranteed by ``PlateRead``,
as ``match_key_expr(normalized=True)`` relies on too), so a plate criterion never folds the
millions of stored texts: an exact plate becomes the set of texts that fold to its key (an
``is_in``), a partial one a regular expression whose character classes are the look-alike
classes. Both say the same as comparing folded keys (tests/pipelines/search/test_criteria.py).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from pipelines.matching._keys import LOOKALIKE_CLASSES, lookalike_key
from pipelines.recognition.plates import normalize_plate
from pipelines.search.reason import SearchRefusal
from pipelines.storage.lake import PARTITION_COLUMN

__all__ = ["MIN_PARTIAL_CHARACTERS", "WILDCARDS", "Criteria", "plate_expr"]

WILDCARDS = "*?"  # * any run of characters (also none), ? exactly one
MIN_PARTIAL_CHARACTERS = 2  # plate characters a partial plate names at least
_MAX_VARIANTS = 4096  # an exact plate with more texts folding to its key uses the regex instead
# Each folded character (a class's first member) stands for its whole class.
_CLASS_OF = {members[0]: members for members in LOOKALIKE_CLASSES}


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise SearchRefusal("window", f"{name} {value.isoformat()} has no time zone (give UTC)")
    return value.astimezone(UTC)


def _plate_query(raw: str) -> str:
    """The plate as searched: each run between wildcards normalized, wildcards kept."""
    pieces = re.split(r"([*?])", raw)
    return "".join(p if p in ("*", "?") else normalize_plate(p) for p in pieces)


@dataclass(frozen=True)
class Criteria:
    plate: str = ""  # normalized, with wildcards; empty: any plate
    cameras: tuple[str, ...] = ()
    states: tuple[str, ...] = ()  # two-letter codes, lower case as reads store them
    start: datetime | None = None  # the window [start, end), UTC
    end: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "plate", _plate_query(self.plate))
        object.__setattr__(self, "cameras", tuple(sorted({c.strip() for c in self.cameras} - {""})))
        object.__setattr__(
            self, "states", tuple(sorted({s.strip().lower() for s in self.states} - {""}))
        )
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "end", _utc(self.end, "end"))
        if (self.start is None) != (self.end is None):
            raise SearchRefusal("window", "a time window needs both a start and an end")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise SearchRefusal("window", "the time window must end after it starts")
        literal = len(self.plate.replace("*", "").replace("?", ""))
        if self.plate and literal < (MIN_PARTIAL_CHARACTERS if self.partial else 1):
            raise SearchRefusal(
                "plate",
                f"a partial plate names at least {MIN_PARTIAL_CHARACTERS} plate characters "
                "(A-Z, 0-9) besides its wildcards * and ?",
            )
        if not (self.plate or self.cameras or self.states or self.start):
            raise SearchRefusal(
                "criteria", "give a plate, a camera, a state or a time window: no search of all"
            )

    @property
    def partial(self) -> bool:
        return any(w in self.plate for w in WILDCARDS)

    def as_audit(self) -> dict[str, Any]:
        """The criteria as the audit log keeps them (criteria, never results)."""
        return {
            "plate": self.plate or None,
            "cameras": list(self.cameras),
            "states": list(self.states),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    def filters(self) -> list[pl.Expr]:
        """Predicates on ``reads`` rows; the window also bounds the partition column, so only
        the capture dates it covers are opened."""
        where: list[pl.Expr] = []
        if self.start is not None and self.end is not None:
            last = self.end - timedelta(microseconds=1)
            where.append(pl.col(PARTITION_COLUMN).is_between(self.start.date(), last.date()))
            where.append(pl.col("captured_at").is_between(self.start, self.end, closed="left"))
        if self.cameras:
            where.append(pl.col("camera_id").is_in(self.cameras))
        if self.states:
            where.append(pl.col("jurisdiction").str.to_lowercase().is_in(self.states))
        if self.plate:
            where.append(plate_expr(self.plate))
        return where


def plate_expr(query: str, column: str = "plate_text") -> pl.Expr:
    """True where the normalized text in ``column`` matches ``query`` (normalized, wildcards
    ``*`` and ``?``) after the look-alike fold."""
    text = pl.col(column)
    if not any(w in query for w in WILDCARDS):
        key = lookalike_key(query)
        if math.prod(len(_CLASS_OF.get(c, c)) for c in key) <= _MAX_VARIANTS:
            variants = ["".join(p) for p in itertools.product(*(_CLASS_OF.get(c, c) for c in key))]
            return text.is_in(variants)
    return text.str.contains(_fold_regex(query))


def _fold_regex(query: str) -> str:
    """An anchored regular expression over normalized texts: each character stands for its
    look-alike class, ``*`` for any run, ``?`` for one character."""
    parts = []
    for char in query:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            members = _CLASS_OF.get(lookalike_key(char), char)
            parts.append(f"[{members}]" if len(members) > 1 else re.escape(char))
    return "^" + "".join(parts) + "$"
