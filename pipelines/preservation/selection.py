"""What a hold selects, and the one expression that says whether a row is held.

A selection names plates, cameras, a time window and/or read ids. A row is selected by a hold when
it was captured before the hold was placed (a hold preserves data that exists, not the future)
and either its read id is listed, or it meets every criterion given among plates (compared by
match key, so look-alike characters never let a held read slip), cameras and the window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from pipelines.errors import PolicyRefusal
from pipelines.recognition.plates import match_key, match_key_expr, normalize_plate

__all__ = [
    "HOLDS_SCHEMA",
    "ITEM_COLUMNS",
    "Selection",
    "held_expr",
    "holds_frame",
    "plate_key_expr",
]

_UTC = pl.Datetime("us", "UTC")
# One row per active hold, as held_expr reads them.
HOLDS_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "hold_id": pl.String,
        "placed_at": _UTC,
        "plate_keys": pl.List(pl.String),
        "cameras": pl.List(pl.String),
        "window_from": _UTC,
        "window_to": _UTC,
        "read_ids": pl.List(pl.String),
    }
)
# The columns held_expr reads from the rows it judges (nulls where a row has none).
ITEM_COLUMNS = ("read_id", "plate_key", "camera_id", "captured_at")


def _utc(value: datetime | str | None, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise PolicyRefusal(f"selection {name} must carry a time zone (UTC): {value.isoformat()}")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Selection:
    plates: tuple[str, ...] = ()
    cameras: tuple[str, ...] = ()
    start: datetime | None = None  # the window [start, end), UTC
    end: datetime | None = None
    read_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # spellings of one plate ("abc 123", "ABC-123") collapse into its normalized form
        plates = sorted({normalize_plate(p) for p in self.plates} - {""})
        object.__setattr__(self, "plates", tuple(plates))
        object.__setattr__(self, "cameras", tuple(sorted({c.strip() for c in self.cameras} - {""})))
        object.__setattr__(
            self, "read_ids", tuple(sorted({r.strip() for r in self.read_ids} - {""}))
        )
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "end", _utc(self.end, "end"))
        if (self.start is None) != (self.end is None):
            raise PolicyRefusal("a time window needs both --from and --to")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise PolicyRefusal("the time window must end after it starts")
        if not (self.plates or self.cameras or self.start or self.read_ids):
            raise PolicyRefusal(
                "a preservation selects specific data (PP-9126 C.4.c): give plates, cameras, a "
                "time window or read ids"
            )

    def to_json(self) -> str:
        """Canonical JSON: equal selections give equal text (the request key hashes it)."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "plates": list(self.plates),
            "cameras": list(self.cameras),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "read_ids": list(self.read_ids),
        }

    @classmethod
    def from_json(cls, text: str) -> Selection:
        raw = json.loads(text)
        return cls(
            plates=tuple(raw["plates"]),
            cameras=tuple(raw["cameras"]),
            start=raw["start"],
            end=raw["end"],
            read_ids=tuple(raw["read_ids"]),
        )

    def summary(self) -> dict[str, Any]:
        """What the selection covers without its plates (for listings and logs)."""
        return {
            "plates": len(self.plates),
            "cameras": list(self.cameras),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "read_ids": len(self.read_ids),
        }


def holds_frame(holds: Sequence[tuple[str, datetime, Selection]]) -> pl.DataFrame:
    """Active holds (id, placed at, selection) as a frame of ``HOLDS_SCHEMA``."""
    return pl.DataFrame(
        {
            "hold_id": [h for h, _, _ in holds],
            "placed_at": [p for _, p, _ in holds],
            "plate_keys": [sorted({match_key(p) for p in s.plates}) for _, _, s in holds],
            "cameras": [list(s.cameras) for _, _, s in holds],
            "window_from": [s.start for _, _, s in holds],
            "window_to": [s.end for _, _, s in holds],
            "read_ids": [list(s.read_ids) for _, _, s in holds],
        },
        schema=HOLDS_SCHEMA,
    )


def plate_key_expr(column: str = "plate_text") -> pl.Expr:
    """The key ``held_expr`` compares plates by (the hotlists' match key)."""
    return match_key_expr(column)


def held_expr(holds: pl.DataFrame) -> pl.Expr:
    """True for rows (with ``ITEM_COLUMNS``) that any of ``holds`` selects; null reads false.

    Holds are few (tens), rows many: one vectorised term per hold, no join of rows to holds.
    """
    terms = [_hold_term(h) for h in holds.iter_rows(named=True)]
    if not terms:
        return pl.lit(False)
    return pl.any_horizontal(terms).fill_null(False)


def _hold_term(hold: dict[str, Any]) -> pl.Expr:
    captured = pl.col("captured_at")
    criteria: list[pl.Expr] = []
    if hold["plate_keys"]:
        criteria.append(pl.col("plate_key").is_in(hold["plate_keys"]).fill_null(False))
    if hold["cameras"]:
        criteria.append(pl.col("camera_id").is_in(hold["cameras"]).fill_null(False))
    if hold["window_from"] is not None:
        criteria.append((captured >= hold["window_from"]) & (captured < hold["window_to"]))
    by_criteria = pl.all_horizontal(criteria) if criteria else pl.lit(False)
    by_id = (
        pl.col("read_id").is_in(hold["read_ids"]).fill_null(False)
        if hold["read_ids"]
        else pl.lit(False)
    )
    existed = (captured <= hold["placed_at"]).fill_null(False)
    return (existed & (by_id | by_criteria.fill_null(False))).fill_null(False)
