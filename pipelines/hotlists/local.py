"""Agency-local hotlist entries: added by a named user with an owner, a reason and an expiry no
later than ``hotlists.local_max_days``; they leave ``active_entries`` by themselves at
``expires_at``. Every addition and removal is audited in the same transaction.

A local list is its own list name: it may not be one that is loaded from files, whose identities
(list, plate, state) the next snapshot would otherwise contradict.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import HotlistSettings
from pipelines.errors import HotlistError, PolicyRefusal
from pipelines.hotlists._hash import SEPARATOR, fnv1a_128_hex
from pipelines.hotlists.tables import hotlist_lists, hotlist_local_entries
from pipelines.recognition.plates import match_key, normalize_plate

__all__ = ["LOCAL_ROLES", "LocalEntry", "add_local_entry", "remove_local_entry"]

LOCAL_ROLES = (Role.ADMINISTRATOR, Role.ANALYST)


@dataclass(frozen=True)
class LocalEntry:
    local_id: str
    entry_id: str
    list_name: str
    expires_at: datetime


def add_local_entry(
    conn: sa.Connection,
    *,
    user: User,
    list_name: str,
    plate: str,
    state: str | None,
    reason: str,
    expires_at: datetime,
    now: datetime,
    settings: HotlistSettings,
    owner: str | None = None,
    list_code: str | None = None,
    description: str | None = None,
) -> LocalEntry:
    """Add one local entry; refused for a junk plate, a past or too distant expiry, a missing
    reason, a list loaded from files, or an identity already listed locally."""
    require_role(get_user(conn, user.name), *LOCAL_ROLES, action="add local hotlist entries")
    if not reason.strip():
        raise PolicyRefusal("a local hotlist entry needs a reason")
    normalized = normalize_plate(plate)
    if len(normalized) < settings.min_plate_length or normalized in settings.junk_plates:
        raise HotlistError("the plate is too short or a junk plate")
    state = (state or "").strip().upper() or None
    if state is not None and not (len(state) == 2 and state.isalpha()):
        raise HotlistError(f"state {state!r} must be two letters")
    if expires_at <= now:
        raise HotlistError("the expiry must be in the future")
    if expires_at - now > timedelta(days=settings.local_max_days):
        raise PolicyRefusal(
            f"a local entry expires at most hotlists.local_max_days={settings.local_max_days} "
            "days after it is added"
        )
    if conn.execute(
        sa.select(hotlist_lists.c.list_name).where(hotlist_lists.c.list_name == list_name)
    ).first():
        raise HotlistError(
            f"list {list_name!r} is loaded from files; local entries need a list of their own"
        )
    entry_id = fnv1a_128_hex(
        pl.Series([normalized + SEPARATOR + (state or "")]), prefix=list_name + SEPARATOR
    )[0]
    loc = hotlist_local_entries
    listed = conn.execute(
        sa.select(loc.c.local_id).where(
            loc.c.entry_id == entry_id, loc.c.removed_at.is_(None), loc.c.expires_at > now
        )
    ).first()
    if listed:
        raise HotlistError(f"this plate and state are already on local list {list_name!r}")
    local_id = uuid.uuid4().hex
    conn.execute(
        loc.insert().values(
            local_id=local_id,
            entry_id=entry_id,
            list_name=list_name,
            plate=normalized,
            state=state,
            match_key=match_key(normalized),
            list_code=list_code or list_name,
            description=description,
            owner=owner or user.name,
            reason=reason,
            created_by=user.name,
            created_at=now,
            expires_at=expires_at,
        )
    )
    record(
        conn,
        actor=user.name,
        action="hotlist.local.add",
        subject=f"hotlist:{list_name}/local:{local_id}",
        details={
            "entry_id": entry_id,
            "owner": owner or user.name,
            "reason": reason,
            "expires_at": expires_at.isoformat(),
        },
        now=now,
    )
    return LocalEntry(local_id, entry_id, list_name, expires_at)


def remove_local_entry(
    conn: sa.Connection, local_id: str, *, user: User, reason: str, now: datetime
) -> str:
    """Take a local entry off its list before it expires; returns its entry id (pending alerts on
    it are then cleared by the caller, as for a refresh's removed entries)."""
    require_role(get_user(conn, user.name), *LOCAL_ROLES, action="remove local hotlist entries")
    if not reason.strip():
        raise PolicyRefusal("removing a local hotlist entry needs a reason")
    loc = hotlist_local_entries
    row = conn.execute(
        sa.select(loc.c.entry_id, loc.c.list_name).where(
            loc.c.local_id == local_id, loc.c.removed_at.is_(None)
        )
    ).one_or_none()
    if row is None:
        raise HotlistError(f"no local entry {local_id!r} on any list")
    conn.execute(
        loc.update().where(loc.c.local_id == local_id).values(removed_at=now, removed_by=user.name)
    )
    record(
        conn,
        actor=user.name,
        action="hotlist.local.remove",
        subject=f"hotlist:{row.list_name}/local:{local_id}",
        details={"entry_id": row.entry_id, "reason": reason},
        now=now,
    )
    return str(row.entry_id)
