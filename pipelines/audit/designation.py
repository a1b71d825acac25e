"""The designated ALPR administrator (PP-9126 B.7, C.7): who, designated by whom, since when.

The Division Chief of Support Services designates a sworn employee with administrative
oversight of the system; here that is a recorded assignment of an active administrator, made by
an administrator (as the catalog knows them) or the server operator, and audited as
``user.designate``. One designation is open at a time: a new one ends the one before at the same
moment (the database refuses a second open row). ``current_designation`` and ``designations``
are what the audit report and the annual report read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.tables import administrator_designations as designations_table
from pipelines.audit.users import Role, User, administrator, get_user, require_role
from pipelines.errors import PermissionDenied

__all__ = [
    "DESIGNATE_ACTION",
    "Designation",
    "current_designation",
    "designate_administrator",
    "designations",
]

DESIGNATE_ACTION = "user.designate"


@dataclass(frozen=True)
class Designation:
    user: str
    designated_by: str
    since: datetime
    until: datetime | None  # None: still designated
    ended_by: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "designated_by": self.designated_by,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "ended_by": self.ended_by,
        }


def designate_administrator(
    conn: sa.Connection, name: str, *, actor: User | str, now: datetime
) -> Designation:
    """Designate the active administrator ``name`` as the ALPR administrator from ``now``,
    ending the designation before; designating the one in office changes nothing."""
    now = require_utc(now)
    by = administrator(conn, actor, "designate the ALPR administrator")
    target = get_user(conn, name)
    try:
        require_role(target, Role.ADMINISTRATOR, action="be the designated ALPR administrator")
    except PermissionDenied as exc:
        raise PermissionDenied(f"{exc} (PP-9126 B.7)") from None
    table = designations_table
    open_row = conn.execute(
        sa.select(table).where(table.c.ended_at.is_(None)).with_for_update()
    ).one_or_none()
    if open_row is not None and open_row.user_name == target.name:
        return _designation(open_row)
    if open_row is not None:
        conn.execute(
            table.update()
            .where(table.c.designation_id == open_row.designation_id)
            .values(ended_at=now, ended_by=by)
        )
    conn.execute(table.insert().values(user_name=target.name, designated_by=by, designated_at=now))
    record(
        conn,
        actor=by,
        action=DESIGNATE_ACTION,
        subject=f"user:{target.name}",
        details={"previous": open_row.user_name if open_row is not None else None},
        now=now,
    )
    return Designation(target.name, by, now, None, None)


def current_designation(conn: sa.Connection, now: datetime) -> Designation | None:
    """The designation in force at ``now`` (a past moment too), or None."""
    return next(iter(designations(conn, now, now)), None)


def designations(conn: sa.Connection, start: datetime, end: datetime) -> list[Designation]:
    """Designations in force at some moment of ``[start, end)`` (at ``start`` when the two are
    equal), oldest first."""
    start, end = require_utc(start), require_utc(end)
    table = designations_table
    begun = table.c.designated_at <= start if start == end else table.c.designated_at < end
    rows = conn.execute(
        sa.select(table)
        .where(begun, sa.or_(table.c.ended_at.is_(None), table.c.ended_at > start))
        .order_by(table.c.designated_at, table.c.designation_id)
    )
    return [_designation(r) for r in rows]


def _designation(row: Any) -> Designation:
    return Designation(
        row.user_name,
        row.designated_by,
        utc(row.designated_at),
        utc(row.ended_at) if row.ended_at is not None else None,
        row.ended_by,
    )
