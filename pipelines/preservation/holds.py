"""Holds: placed by preservation, honoured by retention, released by an administrator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.errors import AlprError, PolicyRefusal
from pipelines.preservation.selection import Selection, holds_frame
from pipelines.preservation.tables import holds

__all__ = ["Hold", "active_holds", "get_hold", "list_holds", "release_hold"]


@dataclass(frozen=True)
class Hold:
    hold_id: str
    case_number: str
    requester: str
    legal_basis: str
    reason: str
    selection: Selection
    placed_at: datetime
    placed_by: str
    status: str
    evidence_bucket: str
    evidence_prefix: str
    retain_until: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def as_dict(self, *, with_selection: bool = False) -> dict[str, Any]:
        """JSON-ready; the selection's plates only when asked for (listings show counts)."""
        return {
            "hold_id": self.hold_id,
            "case_number": self.case_number,
            "requester": self.requester,
            "legal_basis": self.legal_basis,
            "selection": self.selection.as_dict() if with_selection else self.selection.summary(),
            "placed_at": self.placed_at.isoformat(),
            "placed_by": self.placed_by,
            "status": self.status,
            "evidence": f"s3://{self.evidence_bucket}/{self.evidence_prefix}",
            "retain_until": self.retain_until.isoformat(),
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_by": self.released_by,
        }


def _hold(row: Any) -> Hold:
    return Hold(
        hold_id=row.hold_id,
        case_number=row.case_number,
        requester=row.requester,
        legal_basis=row.legal_basis,
        reason=row.reason,
        selection=Selection.from_json(row.selection),
        placed_at=utc(row.placed_at),
        placed_by=row.placed_by,
        status=row.status,
        evidence_bucket=row.evidence_bucket,
        evidence_prefix=row.evidence_prefix,
        retain_until=utc(row.retain_until),
        released_at=utc(row.released_at) if row.released_at else None,
        released_by=row.released_by,
        release_reason=row.release_reason,
    )


def list_holds(conn: sa.Connection, *, active_only: bool = False) -> list[Hold]:
    query = sa.select(holds).order_by(holds.c.placed_at, holds.c.hold_id)
    if active_only:
        query = query.where(holds.c.released_at.is_(None))
    return [_hold(row) for row in conn.execute(query)]


def get_hold(conn: sa.Connection, hold_id: str) -> Hold:
    row = conn.execute(sa.select(holds).where(holds.c.hold_id == hold_id)).one_or_none()
    if row is None:
        raise AlprError(f"no hold {hold_id!r}")
    return _hold(row)


def active_holds(conn: sa.Connection) -> pl.DataFrame:
    """The holds retention honours, as ``held_expr`` reads them (``HOLDS_SCHEMA``)."""
    found = list_holds(conn, active_only=True)
    return holds_frame([(h.hold_id, h.placed_at, h.selection) for h in found])


def release_hold(
    conn: sa.Connection, user: User, hold_id: str, reason: str, *, now: datetime
) -> Hold:
    """Release a hold (administrators, with a reason): its data then ages out normally. The
    evidence copies stay under their Object Lock."""
    now = require_utc(now)
    require_role(get_user(conn, user.name), Role.ADMINISTRATOR, action="release a hold")
    if not reason.strip():
        raise PolicyRefusal("releasing a hold needs a reason (PP-9126 C.4.c)")
    hold = get_hold(conn, hold_id)
    if not hold.active:
        raise AlprError(f"hold {hold_id!r} was released already, at {hold.released_at}")
    conn.execute(
        holds.update()
        .where(holds.c.hold_id == hold_id, holds.c.released_at.is_(None))
        .values(released_at=now, released_by=user.name, release_reason=reason)
    )
    record(
        conn,
        actor=user.name,
        action="hold.release",
        subject=f"hold:{hold_id}",
        details={"case_number": hold.case_number},
        now=now,
    )
    return get_hold(conn, hold_id)
