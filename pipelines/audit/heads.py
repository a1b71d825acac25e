"""Chain heads of the audit log in the WORM evidence bucket: what makes truncation detectable.

The hash chain shows any entry changed, removed, inserted or moved *between* entries, but not the
loss of the newest ones: a log cut after entry N is a valid chain of N entries, and so is a log
rewritten from some entry on with fresh hashes. So every ``audit.head_cron`` the head of the chain
(the newest entry's id and hash) is written to ``preservation.evidence_bucket`` under S3 Object
Lock (COMPLIANCE, for ``audit.log_retention_days``), where nobody, the store's own administrator
included, can remove or change it. Each head names its entry in its key,
``<audit.head_prefix><event id, 20 digits>-<entry hash>.json``, so a listing is all that
verification needs; every head written must still be found in the log, with the same hash.
What is lost after the newest head is bounded by the head interval.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from pipelines.audit.log import require_utc, utc
from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.preservation.evidence import ensure_evidence_bucket, existing_sha256, put_locked
from pipelines.storage.objects import s3_client

__all__ = ["ChainHead", "head_key", "list_chain_heads", "write_chain_head"]

_KEY = re.compile(r"(?P<event_id>\d{20})-(?P<entry_hash>[0-9a-f]{64})\.json")


@dataclass(frozen=True)
class ChainHead:
    event_id: int  # the newest entry when the head was written
    entry_hash: str
    key: str  # where it lies in the evidence bucket


def head_key(settings: Settings, event_id: int, entry_hash: str) -> str:
    return f"{settings.audit.head_prefix}{event_id:020d}-{entry_hash}.json"


def write_chain_head(settings: Settings, conn: sa.Connection, *, now: datetime) -> ChainHead | None:
    """Lock the current head of the chain in the evidence bucket (None while the log is empty).
    Writing the same head again changes nothing."""
    now = require_utc(now)
    newest = conn.execute(
        sa.select(audit_events.c.event_id, audit_events.c.entry_hash, audit_events.c.occurred_at)
        .order_by(audit_events.c.event_id.desc())
        .limit(1)
    ).one_or_none()
    if newest is None:
        return None
    head = ChainHead(
        newest.event_id, newest.entry_hash, head_key(settings, newest.event_id, newest.entry_hash)
    )
    ensure_evidence_bucket(settings)
    if existing_sha256(settings, head.key) is not None:
        return head
    body = json.dumps(
        {
            "event_id": head.event_id,
            "entry_hash": head.entry_hash,
            "entry_occurred_at": utc(newest.occurred_at).isoformat(),
            "written_at": now.isoformat(),
        },
        sort_keys=True,
    ).encode()
    put_locked(
        settings,
        head.key,
        body,
        hashlib.sha256(body).hexdigest(),
        retain_until=now + timedelta(days=settings.audit.log_retention_days),
        metadata={"event-id": str(head.event_id)},
    )
    return head


def list_chain_heads(settings: Settings) -> list[ChainHead]:
    """Every chain head written, oldest first (an evidence bucket not created yet holds none)."""
    client = s3_client(settings.s3)
    bucket = settings.preservation.evidence_bucket
    prefix = settings.audit.head_prefix
    heads: list[ChainHead] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found = _KEY.fullmatch(item["Key"].removeprefix(prefix))
                if found:
                    heads.append(
                        ChainHead(int(found["event_id"]), found["entry_hash"], item["Key"])
                    )
    except client.exceptions.NoSuchBucket:
        return []
    return sorted(heads, key=lambda h: h.event_id)
