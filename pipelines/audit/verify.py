"""Verification of the audit log (PP-9126 C.7): every entry against the hash chain, and the chain
against the heads locked in the evidence bucket; the first entry that does not hold, and why.

- ``changed``: the entry no longer hashes to its stored hash (an edit);
- ``unlinked``: it does not link to the entry before it (one removed before it, or this one
  inserted or moved: a reorder breaks the link where it starts);
- ``missing``: a chain head names it and it is not in the log (the log was cut: truncation);
- ``rewritten``: a chain head names it with another hash (the log was rewritten, hashes and all,
  at or before it).

The chain's rule is ``pipelines/audit/log.py``'s (``_entry_hash``). On PostgreSQL the database
recomputes every hash (``sha256``, in parallel workers where it may) and checks every link (a
window over ``event_id``): 10 M entries in 26 s on 2 shared cores, 25x faster than reading
every entry into Python (docs/benchmarks.md, Audit verification); the first entry it flags is then judged by the Python
rule, and should the database's text of an entry ever
differ from Python's for a sound entry, the whole log is checked in Python instead. Other
databases are checked in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from pipelines.audit.heads import ChainHead, list_chain_heads
from pipelines.audit.log import GENESIS_HASH, _entry_hash, utc, verify_chain
from pipelines.audit.tables import audit_events
from pipelines.config import Settings

__all__ = ["PROBLEM_KINDS", "Problem", "Verification", "verify_log"]

PROBLEM_KINDS = ("changed", "unlinked", "missing", "rewritten")
_HEADS_PER_QUERY = 1000

# PostgreSQL recomputes every entry's hash: how many entries, and the first whose stored hash is
# not the hash of its text. The text is log.py's canonical JSON: keys sorted, no spaces, strings
# JSON-escaped (to_json), details as stored, the time as Python's isoformat in UTC. No window:
# the database may share the scan among parallel workers.
_PG_HASHES = r"""
SELECT
    count(*) AS entries,
    min(event_id) FILTER (
        WHERE entry_hash <> encode(sha256(convert_to(
            prev_hash || E'\n'
            || '{"action":' || to_json(action)::text
            || ',"actor":' || to_json(actor)::text
            || ',"details":' || details
            || ',"occurred_at":"'
            || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
            || '+00:00","outcome":' || to_json(outcome)::text
            || ',"subject":' || to_json(subject)::text
            || '}',
            'UTF8')), 'hex')
    ) AS suspect
FROM audit_events
"""
# ... and the first entry whose prev_hash is not the hash of the entry before it.
_PG_LINKS = """
SELECT min(event_id) FROM (
    SELECT event_id, prev_hash, lag(entry_hash) OVER (ORDER BY event_id) AS before
    FROM audit_events
) AS chain
WHERE prev_hash <> coalesce(before, %(genesis)s)
"""


@dataclass(frozen=True)
class Problem:
    event_id: int  # the first entry that does not hold
    kind: str  # one of PROBLEM_KINDS
    message: str


@dataclass(frozen=True)
class Verification:
    entries: int  # in the log; all checked
    heads: int  # chain heads in the evidence bucket, all checked
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_log(settings: Settings, conn: sa.Connection) -> Verification:
    """Check every entry and every chain head; the problem of the lowest event id, if any."""
    heads = list_chain_heads(settings)
    entries, chain_problem = _check_chain(conn)
    found = [p for p in (chain_problem, _check_heads(conn, heads)) if p is not None]
    return Verification(entries, len(heads), min(found, key=lambda p: p.event_id, default=None))


def _check_chain(conn: sa.Connection) -> tuple[int, Problem | None]:
    if conn.dialect.name == "postgresql":
        entries, bad_hash = conn.exec_driver_sql(_PG_HASHES).one()
        bad_link = conn.exec_driver_sql(_PG_LINKS, {"genesis": GENESIS_HASH}).scalar_one()
        suspects = [s for s in (bad_hash, bad_link) if s is not None]
        if not suspects:
            return entries, None
        problem = _judge(conn, min(suspects))
        if problem is not None:
            return entries, problem
    status = verify_chain(conn)  # the rule itself, entry by entry
    entries = conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
    if status.first_bad_event_id is None:
        return entries, None
    return entries, _judge(conn, status.first_bad_event_id)


def _judge(conn: sa.Connection, event_id: int) -> Problem | None:
    """What is wrong with entry ``event_id`` by log.py's rule (None: nothing)."""
    row = conn.execute(sa.select(audit_events).where(audit_events.c.event_id == event_id)).one()
    before = conn.execute(
        sa.select(audit_events.c.event_id, audit_events.c.entry_hash)
        .where(audit_events.c.event_id < event_id)
        .order_by(audit_events.c.event_id.desc())
        .limit(1)
    ).one_or_none()
    if row.prev_hash != (before.entry_hash if before else GENESIS_HASH):
        if before is None:
            why = f"entry {event_id}, the first, does not start the chain: entries before it were removed"
        else:
            why = (
                f"entry {event_id} does not link to entry {before.event_id} before it: an entry "
                "between them was removed, or this one was inserted or moved"
            )
        return Problem(event_id, "unlinked", why)
    recomputed = _entry_hash(
        row.prev_hash,
        utc(row.occurred_at),
        row.actor,
        row.action,
        row.subject,
        row.outcome,
        row.details,
    )
    if row.entry_hash != recomputed:
        why = f"entry {event_id} was changed after it was written: it no longer hashes to its hash"
        return Problem(event_id, "changed", why)
    return None


def _check_heads(conn: sa.Connection, heads: Sequence[ChainHead]) -> Problem | None:
    """The first chain head whose entry is missing from the log or has another hash."""
    for start in range(0, len(heads), _HEADS_PER_QUERY):
        chunk = heads[start : start + _HEADS_PER_QUERY]
        stored = dict(
            conn.execute(
                sa.select(audit_events.c.event_id, audit_events.c.entry_hash).where(
                    audit_events.c.event_id.in_([h.event_id for h in chunk])
                )
            ).all()
        )
        for head in chunk:
            if head.event_id not in stored:
                return Problem(
                    head.event_id,
                    "missing",
                    f"entry {head.event_id} is missing, though the chain head {head.key} of the "
                    "evidence bucket names it: the log was truncated or entries were removed",
                )
            if stored[head.event_id] != head.entry_hash:
                return Problem(
                    head.event_id,
                    "rewritten",
                    f"entry {head.event_id} differs from the chain head {head.key} of the "
                    "evidence bucket: the log was rewritten at or before it",
                )
    return None
