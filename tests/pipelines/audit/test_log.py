"""The audit log: one function appends, hashes link each entry to the one before, the database
refuses changes, and concurrent writers never fork the chain."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.audit.log import GENESIS_HASH, record, verify_chain
from pipelines.audit.tables import audit_events
from pipelines.errors import AlprError

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def _append(engine: sa.Engine, n: int, actor: str = "jdoe") -> list[int]:
    ids = []
    for i in range(n):
        with engine.begin() as conn:
            ids.append(
                record(
                    conn,
                    actor=actor,
                    action="alert.confirm",
                    subject=f"alert:a{i}",
                    details={"reason": f"match {i}", "n": i},
                    now=NOW + timedelta(seconds=i),
                )
            )
    return ids


def _rows(engine: sa.Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_events).order_by(audit_events.c.event_id)))


def test_each_entry_hashes_the_previous_hash_and_its_canonical_json(engine: sa.Engine) -> None:
    ids = _append(engine, 3)
    rows = _rows(engine)
    assert [r.event_id for r in rows] == ids
    assert rows[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.entry_hash for r in rows[:-1]]
    first = rows[0]
    canonical = json.dumps(
        {
            "occurred_at": "2026-03-10T14:00:00.000000+00:00",
            "actor": "jdoe",
            "action": "alert.confirm",
            "subject": "alert:a0",
            "outcome": "ok",
            "details": {"n": 0, "reason": "match 0"},
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    assert first.details == '{"n":0,"reason":"match 0"}'
    assert first.entry_hash == hashlib.sha256(f"{GENESIS_HASH}\n{canonical}".encode()).hexdigest()
    with engine.connect() as conn:
        status = verify_chain(conn)
    assert (status.events, status.first_bad_event_id, status.ok) == (3, None, True)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "TRUNCATE audit_events"],
)
def test_the_database_refuses_to_change_an_entry(engine: sa.Engine, statement: str) -> None:
    _append(engine, 2)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert len(_rows(engine)) == 2


@pytest.mark.parametrize(
    ("tamper", "bad"),
    [
        (
            'UPDATE audit_events SET details = \'{"n":1,"reason":"no match"}\' WHERE event_id = {2}',
            2,
        ),
        (
            "UPDATE audit_events SET occurred_at = occurred_at + interval '1 hour' WHERE event_id = {3}",
            3,
        ),
        ("DELETE FROM audit_events WHERE event_id = {2}", 3),  # the next one no longer links
    ],
)
def test_verify_chain_finds_the_first_entry_that_was_tampered_with(
    engine: sa.Engine, tamper: str, bad: int
) -> None:
    ids = _append(engine, 4)
    with engine.begin() as conn:  # what an intruder with the table owner's rights could do
        conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
        conn.exec_driver_sql(tamper.replace("{2}", str(ids[1])).replace("{3}", str(ids[2])))
    with engine.connect() as conn:
        status = verify_chain(conn)
    assert status.first_bad_event_id == ids[bad - 1] and not status.ok


def test_concurrent_writers_never_fork_the_chain(engine: sa.Engine) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            _append(engine, 15, actor=name)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        status = verify_chain(conn)
    assert status.ok and status.events == 90


def test_secrets_and_naive_times_are_refused(engine: sa.Engine) -> None:
    with (
        pytest.raises(AlprError, match=r"must not carry secrets \(keys \['password'\]\)"),
        engine.begin() as conn,
    ):
        record(conn, actor="jdoe", action="user.create", details={"password": "x"}, now=NOW)
    with pytest.raises(AlprError, match="no time zone"), engine.begin() as conn:
        record(conn, actor="jdoe", action="user.create", now=NOW.replace(tzinfo=None))
    assert _rows(engine) == []
