"""The audit log: THE one function that writes it, ``record``, and a check of its hash chain.

Every state change of the system (a user created, a login, an alert confirmed, a hotlist
activated, ...) is written here, in the caller's own transaction, so the change and its entry
commit or roll back together. The table is append-only (database triggers refuse UPDATE and
DELETE) and hash-chained: ``entry_hash = sha256(prev_hash + "\\n" + canonical JSON of the entry)``,
so removing, editing or reordering an entry breaks every hash after it (``verify_chain``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.errors import AlprError

__all__ = [
    "GENESIS_HASH",
    "ChainStatus",
    "record",
    "record_committed",
    "require_utc",
    "utc",
    "verify_chain",
]

GENESIS_HASH = "0" * 64  # prev_hash of the first entry
_PG_LOCK_KEY = 0x616C_7072_6175_6474  # "alpraudt": the advisory lock that serialises appends
_FORBIDDEN_KEYS = ("password", "secret", "token")


@dataclass(frozen=True)
class ChainStatus:
    events: int  # entries checked
    first_bad_event_id: int | None  # the first entry whose link or hash does not hold

    @property
    def ok(self) -> bool:
        return self.first_bad_event_id is None


def record(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    subject: str = "",
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
    now: datetime,
) -> int:
    """Append one entry to the audit log in ``conn``'s transaction; returns its event id.

    ``actor`` is the user name (or "service", "operator:<os user>", the name tried at a failed
    login); ``details`` is JSON and must never hold a password or secret.
    """
    details_text = _details_text(details)
    occurred_at = require_utc(now)
    _lock_chain(conn)
    prev_hash = conn.execute(
        sa.select(audit_events.c.entry_hash).order_by(audit_events.c.event_id.desc()).limit(1)
    ).scalar_one_or_none()
    prev_hash = prev_hash or GENESIS_HASH
    entry_hash = _entry_hash(prev_hash, occurred_at, actor, action, subject, outcome, details_text)
    event_id: int = conn.execute(
        audit_events.insert()
        .values(
            occurred_at=occurred_at,
            actor=actor,
            action=action,
            subject=subject,
            outcome=outcome,
            details=details_text,
            prev_hash=prev_hash,
            entry_hash=entry_hash,
        )
        .returning(audit_events.c.event_id)
    ).scalar_one()
    return event_id


def record_committed(
    engine: sa.Engine,
    *,
    actor: str,
    action: str,
    subject: str = "",
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
    now: datetime,
) -> int:
    """:func:`record` in a transaction of its own, committed before the caller returns or
    raises: a refused or failed access is audited even though the caller's work is not done."""
    with engine.begin() as conn:
        return record(
            conn,
            actor=actor,
            action=action,
            subject=subject,
            outcome=outcome,
            details=details,
            now=now,
        )


def verify_chain(conn: sa.Connection) -> ChainStatus:
    """Recompute every link and hash in event order; the first entry that does not hold."""
    rows = conn.execution_options(yield_per=2000).execute(
        sa.select(audit_events).order_by(audit_events.c.event_id)
    )
    return _first_break(rows)


def _first_break(rows: Iterable[Any]) -> ChainStatus:
    """The chain check itself, over ``audit_events`` rows (attributes named as its columns) in
    event order."""
    expected_prev = GENESIS_HASH
    count = 0
    for row in rows:
        count += 1
        recomputed = _entry_hash(
            row.prev_hash,
            utc(row.occurred_at),
            row.actor,
            row.action,
            row.subject,
            row.outcome,
            row.details,
        )
        if row.prev_hash != expected_prev or row.entry_hash != recomputed:
            return ChainStatus(count, row.event_id)
        expected_prev = row.entry_hash
    return ChainStatus(count, None)


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC; naive values are what SQLite hands back for UTC times."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def require_utc(now: datetime) -> datetime:
    """A reference time passed in by a caller: it must be timezone-aware (UTC)."""
    if now.tzinfo is None:
        raise AlprError(f"time {now.isoformat()} has no time zone; pass a UTC-aware datetime")
    return now.astimezone(UTC)


def _lock_chain(conn: sa.Connection) -> None:
    """Serialise appends until the transaction ends, so the last hash read stays the last."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
    else:  # SQLite: a write that changes nothing takes the database write lock now
        conn.execute(audit_events.update().where(sa.false()).values(actor=audit_events.c.actor))


def _details_text(details: Mapping[str, Any] | None) -> str:
    """``details`` as the canonical JSON stored and hashed; refused if a key names a secret."""
    leaked = [k for k in (details or {}) if any(w in k.lower() for w in _FORBIDDEN_KEYS)]
    if leaked:
        raise AlprError(f"audit details must not carry secrets (keys {sorted(leaked)})")
    return _canonical(dict(details or {}))


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _entry_hash(
    prev_hash: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    details_text: str,
) -> str:
    entry = {
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "outcome": outcome,
        "details": json.loads(details_text),
    }
    return hashlib.sha256(f"{prev_hash}\n{_canonical(entry)}".encode()).hexdigest()
