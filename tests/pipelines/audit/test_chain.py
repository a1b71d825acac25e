"""The audit chain's rules without PostgreSQL: the canonical form and entry hash by hand, the
chain check over rows, and ``record`` / ``verify_chain`` on a SQLite catalog (the default one,
``catalog.url`` unset), so that mutation testing (``make mutate``) can run them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import sqlalchemy as sa

from pipelines.audit.log import (
    GENESIS_HASH,
    ChainStatus,
    _canonical,
    _details_text,
    _entry_hash,
    _first_break,
    record,
    record_committed,
    require_utc,
    utc,
    verify_chain,
)
from pipelines.audit.tables import audit_events
from pipelines.errors import AlprError
from pipelines.storage.catalog import engine_for, upgrade_catalog

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# The canonical JSON of the entry (actor jdoe, action alert.confirm, subject alert:a1, outcome ok,
# details {"n": 1}) at NOW, written out by hand: keys sorted, no spaces.
ENTRY = (
    '{"action":"alert.confirm","actor":"jdoe","details":{"n":1},'
    '"occurred_at":"2026-03-10T14:00:00.000000+00:00","outcome":"ok","subject":"alert:a1"}'
)


def test_canonical_json_sorts_keys_has_no_spaces_keeps_unicode_and_writes_other_types_as_text() -> (
    None
):
    value = {"b": [1, 2.5, None, True], "a": "Zoë", "c": {"y": 1, "x": Decimal("1.10")}}
    assert _canonical(value) == '{"a":"Zoë","b":[1,2.5,null,true],"c":{"x":"1.10","y":1}}'
    assert _canonical({"at": NOW, "path": Path("a/b")}) == (
        '{"at":"2026-03-10 14:00:00+00:00","path":"a/b"}'
    )


@pytest.mark.parametrize(
    ("details", "text"),
    [
        (None, "{}"),
        ({}, "{}"),
        (MappingProxyType({"z": 1, "a": "x"}), '{"a":"x","z":1}'),
        ({"passphrase_hint": "none", "tok": 1}, '{"passphrase_hint":"none","tok":1}'),
    ],
)
def test_details_are_stored_as_canonical_json(details: Any, text: str) -> None:
    assert _details_text(details) == text


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        (["password"], "['password']"),
        (["Password", "api_TOKEN", "n"], "['Password', 'api_TOKEN']"),
        (["client_secret", "b", "a_password_hash"], "['a_password_hash', 'client_secret']"),
        (["secretary", "tokens"], "['secretary', 'tokens']"),  # any key holding one of the words
    ],
)
def test_details_naming_a_secret_are_refused_with_every_such_key_sorted(
    keys: list[str], named: str
) -> None:
    with pytest.raises(AlprError) as refused:
        _details_text(dict.fromkeys(keys, "x"))
    assert str(refused.value) == f"audit details must not carry secrets (keys {named})"


def test_the_entry_hash_is_sha256_of_the_previous_hash_a_newline_and_the_canonical_entry() -> None:
    got = _entry_hash(GENESIS_HASH, NOW, "jdoe", "alert.confirm", "alert:a1", "ok", '{"n":1}')
    assert got == _sha(f"{GENESIS_HASH}\n{ENTRY}")
    # the details are hashed as JSON, not as the stored text: spacing and key order do not count
    spaced = _entry_hash(GENESIS_HASH, NOW, "jdoe", "alert.confirm", "alert:a1", "ok", '{ "n": 1 }')
    assert spaced == got


@pytest.mark.parametrize(
    "changed",
    [
        {"prev_hash": "1" * 64},
        {"occurred_at": NOW + timedelta(microseconds=1)},
        {"actor": "jdoe2"},
        {"action": "alert.dismiss"},
        {"subject": "alert:a2"},
        {"outcome": "refused"},
        {"details_text": '{"n":2}'},
    ],
)
def test_every_field_of_an_entry_changes_its_hash(changed: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "prev_hash": GENESIS_HASH,
        "occurred_at": NOW,
        "actor": "jdoe",
        "action": "alert.confirm",
        "subject": "alert:a1",
        "outcome": "ok",
        "details_text": '{"n":1}',
    }
    assert _entry_hash(**(fields | changed)) != _entry_hash(**fields)


def test_times_are_taken_in_utc() -> None:
    assert utc(datetime(2026, 3, 10, 14, 0)) == NOW and utc(datetime(2026, 3, 10, 14)).tzinfo is UTC
    assert utc(datetime(2026, 3, 10, 16, 0, tzinfo=PLUS_TWO)).tzinfo is UTC
    assert utc(datetime(2026, 3, 10, 16, 0, tzinfo=PLUS_TWO)).hour == 14
    moved = require_utc(datetime(2026, 3, 10, 16, 0, tzinfo=PLUS_TWO))
    assert (moved, moved.tzinfo, moved.hour) == (NOW, UTC, 14)
    with pytest.raises(AlprError) as refused:
        require_utc(datetime(2026, 3, 10, 14, 0, 5))
    assert str(refused.value) == (
        "time 2026-03-10T14:00:05 has no time zone; pass a UTC-aware datetime"
    )


@pytest.mark.usefixtures("machine_in_denver")
def test_times_are_taken_in_utc_whatever_the_machines_zone() -> None:
    assert datetime(2026, 3, 10, 14, 0).astimezone().utcoffset() == timedelta(hours=-6)
    for moved in (require_utc(NOW), utc(NOW), utc(datetime(2026, 3, 10, 16, 0, tzinfo=PLUS_TWO))):
        assert (moved.hour, moved.utcoffset()) == (14, timedelta(0))


@dataclass(frozen=True)
class _Row:
    """An ``audit_events`` row as ``verify_chain`` reads it."""

    event_id: int
    occurred_at: datetime
    actor: str
    action: str
    subject: str
    outcome: str
    details: str
    prev_hash: str
    entry_hash: str


def _chain(n: int, *, naive: bool = False) -> list[_Row]:
    rows: list[_Row] = []
    prev = GENESIS_HASH
    for i in range(n):
        at = NOW + timedelta(seconds=i)
        details = f'{{"n":{i}}}'
        entry_hash = _entry_hash(prev, at, "jdoe", "alert.confirm", f"alert:a{i}", "ok", details)
        stored_at = at.replace(tzinfo=None) if naive else at  # SQLite hands back naive UTC
        rows.append(
            _Row(
                10 + i,
                stored_at,
                "jdoe",
                "alert.confirm",
                f"alert:a{i}",
                "ok",
                details,
                prev,
                entry_hash,
            )
        )
        prev = entry_hash
    return rows


def test_an_intact_chain_holds() -> None:
    assert _first_break([]) == ChainStatus(0, None) and ChainStatus(0, None).ok
    assert _first_break(_chain(4)) == ChainStatus(4, None)
    assert _first_break(_chain(3, naive=True)) == ChainStatus(3, None)


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        # an entry edited after the fact (its own hash kept): that entry
        (
            lambda rows: [rows[0], replace(rows[1], details='{"n":7}'), *rows[2:]],
            ChainStatus(2, 11),
        ),
        (lambda rows: [*rows[:2], replace(rows[2], actor="mallory"), rows[3]], ChainStatus(3, 12)),
        # an entry removed: the next one no longer links
        (lambda rows: [rows[0], *rows[2:]], ChainStatus(2, 12)),
        # the first entry removed: the new first does not start from the genesis hash
        (lambda rows: rows[1:], ChainStatus(1, 11)),
        # two entries swapped
        (lambda rows: [rows[0], rows[2], rows[1], rows[3]], ChainStatus(2, 12)),
        # an entry edited and re-hashed: the next one no longer links
        (
            lambda rows: [
                rows[0],
                replace(
                    rows[1],
                    subject="alert:zz",
                    entry_hash=_entry_hash(
                        rows[0].entry_hash,
                        NOW + timedelta(seconds=1),
                        "jdoe",
                        "alert.confirm",
                        "alert:zz",
                        "ok",
                        rows[1].details,
                    ),
                ),
                *rows[2:],
            ],
            ChainStatus(3, 12),
        ),
        # the last entry's hash replaced
        (lambda rows: [*rows[:3], replace(rows[3], entry_hash="f" * 64)], ChainStatus(4, 13)),
    ],
)
def test_the_first_entry_that_does_not_hold_is_named(tamper: Any, status: ChainStatus) -> None:
    got = _first_break(tamper(_chain(4)))
    assert got == status and not got.ok


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    upgrade_catalog(url)
    engine = engine_for(url)
    yield engine
    engine.dispose()


def _record(engine: sa.Engine, i: int, **overrides: Any) -> int:
    fields: dict[str, Any] = {
        "actor": "jdoe",
        "action": "alert.confirm",
        "subject": f"alert:a{i}",
        "details": {"n": i},
        "now": NOW + timedelta(seconds=i),
    }
    with engine.begin() as conn:
        return record(conn, **(fields | overrides))


def _rows(engine: sa.Engine) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(audit_events).order_by(audit_events.c.event_id)))


def test_record_appends_linked_entries_to_a_sqlite_catalog(sqlite_engine: sa.Engine) -> None:
    first = _record(sqlite_engine, 1, now=datetime(2026, 3, 10, 16, 0, 1, tzinfo=PLUS_TWO))
    ids = [first, _record(sqlite_engine, 2), _record(sqlite_engine, 3, outcome="refused")]
    rows = _rows(sqlite_engine)
    assert [r.event_id for r in rows] == ids and ids == sorted(set(ids))
    one = rows[0]
    stored = (one.occurred_at, one.actor, one.action, one.subject, one.outcome, one.details)
    assert stored == (
        datetime(2026, 3, 10, 14, 0, 1),  # in UTC (SQLite keeps no zone)
        "jdoe",
        "alert.confirm",
        "alert:a1",
        "ok",
        '{"n":1}',
    )
    assert one.prev_hash == GENESIS_HASH
    assert one.entry_hash == _sha(f"{GENESIS_HASH}\n{ENTRY.replace('14:00:00', '14:00:01')}")
    assert [r.prev_hash for r in rows[1:]] == [r.entry_hash for r in rows[:-1]]
    assert rows[2].outcome == "refused"
    with sqlite_engine.connect() as conn:
        assert verify_chain(conn) == ChainStatus(3, None)


def test_record_without_subject_or_details(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as conn:
        record(conn, actor="admin", action="user.create", now=NOW)
    [row] = _rows(sqlite_engine)
    assert (row.subject, row.outcome, row.details) == ("", "ok", "{}")
    assert row.entry_hash == _sha(
        f'{GENESIS_HASH}\n{{"action":"user.create","actor":"admin","details":{{}},'
        '"occurred_at":"2026-03-10T14:00:00.000000+00:00","outcome":"ok","subject":""}'
    )


def test_a_refused_entry_writes_nothing(sqlite_engine: sa.Engine) -> None:
    _record(sqlite_engine, 1)
    with pytest.raises(AlprError, match="must not carry secrets"):
        _record(sqlite_engine, 2, details={"token": "x"})
    with pytest.raises(AlprError, match="no time zone"):
        _record(sqlite_engine, 3, now=NOW.replace(tzinfo=None))
    assert [r.subject for r in _rows(sqlite_engine)] == ["alert:a1"]


def test_verify_chain_on_sqlite_names_the_entry_tampered_with(sqlite_engine: sa.Engine) -> None:
    ids = [_record(sqlite_engine, i) for i in range(4)]
    with sqlite_engine.connect() as conn:
        assert verify_chain(conn) == ChainStatus(4, None)
    with sqlite_engine.begin() as conn:  # what someone with the database file could do
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.execute(
            audit_events.update().where(audit_events.c.event_id == ids[2]).values(details='{"n":9}')
        )
    with sqlite_engine.connect() as conn:
        assert verify_chain(conn) == ChainStatus(3, ids[2])


def test_record_committed_writes_one_chained_entry_in_a_transaction_of_its_own(
    sqlite_engine: sa.Engine,
) -> None:
    first = _record(sqlite_engine, 1)
    # the caller fails after auditing, its own connection open: the entry stays
    with pytest.raises(RuntimeError), sqlite_engine.connect() as caller:
        caller.execute(sa.text("SELECT 1"))
        got = record_committed(
            sqlite_engine,
            actor="jdoe",
            action="alert.confirm",
            subject="alert:a2",
            outcome="refused",
            details={"n": 2},
            now=datetime(2026, 3, 10, 16, 0, 2, tzinfo=PLUS_TWO),
        )
        raise RuntimeError("the caller's own work fails")
    rows = _rows(sqlite_engine)
    assert [r.event_id for r in rows] == [first, got] and got > first
    two = rows[1]
    stored = (two.occurred_at, two.actor, two.action, two.subject, two.outcome, two.details)
    assert stored == (
        datetime(2026, 3, 10, 14, 0, 2),
        "jdoe",
        "alert.confirm",
        "alert:a2",
        "refused",
        '{"n":2}',
    )
    assert two.prev_hash == rows[0].entry_hash
    entry = (
        ENTRY.replace("14:00:00", "14:00:02")
        .replace("alert:a1", "alert:a2")
        .replace('"n":1', '"n":2')
        .replace('"ok"', '"refused"')
    )
    assert two.entry_hash == _sha(f"{rows[0].entry_hash}\n{entry}")
    with sqlite_engine.connect() as conn:
        assert verify_chain(conn) == ChainStatus(2, None)


def test_record_committed_without_subject_outcome_or_details(sqlite_engine: sa.Engine) -> None:
    event_id = record_committed(sqlite_engine, actor="admin", action="user.create", now=NOW)
    [row] = _rows(sqlite_engine)
    assert row.event_id == event_id
    assert (row.actor, row.action, row.subject, row.outcome, row.details) == (
        "admin",
        "user.create",
        "",
        "ok",
        "{}",
    )
    assert row.entry_hash == _sha(
        f'{GENESIS_HASH}\n{{"action":"user.create","actor":"admin","details":{{}},'
        '"occurred_at":"2026-03-10T14:00:00.000000+00:00","outcome":"ok","subject":""}'
    )
