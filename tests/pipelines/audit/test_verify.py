"""Verification of the audit log over PostgreSQL and SeaweedFS: every kind of tampering (edit,
delete, insert, reorder, truncate, rewrite with fresh hashes) is found, and the first bad entry
named, by someone with the table owner's rights (the append-only triggers switched off)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from botocore.exceptions import ClientError

from pipelines.audit.heads import list_chain_heads, write_chain_head
from pipelines.audit.log import GENESIS_HASH, _entry_hash, record, utc
from pipelines.audit.tables import audit_events
from pipelines.audit.verify import _PG_HASHES, _PG_LINKS, Verification, verify_log
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.objects import s3_client

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def audit_settings(settings: Settings) -> Settings:
    upgrade_catalog(settings.catalog_url)
    return settings.replace(preservation={"evidence_bucket": f"evid-{uuid.uuid4().hex[:10]}"})


def _append(settings: Settings, n: int, start: int = 0) -> list[int]:
    ids = []
    for i in range(start, start + n):
        with engine_for(settings.catalog_url).begin() as conn:
            ids.append(
                record(
                    conn,
                    actor="jdoe",
                    action="search.reads",
                    subject="reads",
                    details={"reason": f"hit and run {i}", "criteria": {"plate": "ABC123"}},
                    now=NOW + timedelta(minutes=i),
                )
            )
    return ids


def _head(settings: Settings, minutes: int = 0) -> None:
    with engine_for(settings.catalog_url).connect() as conn:
        write_chain_head(settings, conn, now=NOW + timedelta(days=1, minutes=minutes))


def _verify(settings: Settings) -> Verification:
    with engine_for(settings.catalog_url).connect() as conn:
        return verify_log(settings, conn)


def _tamper(settings: Settings, *statements: str) -> None:
    """What an intruder with the table owner's rights can do: switch the triggers off, write."""
    with engine_for(settings.catalog_url).begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        for statement in statements:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")


def test_an_intact_log_verifies_with_its_heads(audit_settings: Settings) -> None:
    ids = _append(audit_settings, 3)
    _head(audit_settings)
    _head(audit_settings, minutes=5)  # the same head again: nothing new
    _append(audit_settings, 2, start=3)
    _head(audit_settings, minutes=10)
    heads = list_chain_heads(audit_settings)
    assert [h.event_id for h in heads] == [ids[-1], ids[-1] + 2]
    assert _verify(audit_settings) == Verification(entries=5, heads=2, problem=None)
    # a head is locked: even the store's administrator credentials cannot remove it
    client = s3_client(audit_settings.s3)
    bucket = audit_settings.preservation.evidence_bucket
    version = client.head_object(Bucket=bucket, Key=heads[0].key)["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=heads[0].key, VersionId=version)


def _swap(a: int, b: int) -> list[str]:
    """Entries a and b exchange everything but their ids: b's content now comes first."""
    return [
        f"UPDATE audit_events SET event_id = -1 WHERE event_id = {a}",
        f"UPDATE audit_events SET event_id = {a} WHERE event_id = {b}",
        f"UPDATE audit_events SET event_id = {b} WHERE event_id = -1",
    ]


@pytest.mark.parametrize(
    ("tamper", "bad", "kind", "says"),
    [
        (
            lambda ids: [
                'UPDATE audit_events SET details = \'{"criteria":{"plate":"XYZ999"},'
                f'"reason":"hit and run 2"}}\' WHERE event_id = {ids[2]}'
            ],
            2,
            "changed",
            "was changed after it was written",
        ),
        (
            lambda ids: [
                "UPDATE audit_events SET occurred_at = occurred_at + interval '1 second' "
                f"WHERE event_id = {ids[3]}"
            ],
            3,
            "changed",
            "no longer hashes",
        ),
        (
            lambda ids: [f"UPDATE audit_events SET actor = 'ann' WHERE event_id = {ids[1]}"],
            1,
            "changed",
            "was changed",
        ),
        (
            lambda ids: [f"DELETE FROM audit_events WHERE event_id = {ids[2]}"],
            3,
            "unlinked",
            "does not link to entry {1} before it: an entry between them was removed",
        ),
        (
            lambda ids: [f"DELETE FROM audit_events WHERE event_id = {ids[0]}"],
            1,
            "unlinked",
            "the first, does not start the chain",
        ),
        (lambda ids: _swap(ids[1], ids[2]), 1, "unlinked", "or this one was inserted or moved"),
    ],
    ids=["edit-details", "edit-time", "edit-actor", "delete", "delete-first", "reorder"],
)
def test_edits_deletions_and_reorders_are_found_at_the_first_bad_entry(
    audit_settings: Settings,
    tamper: Callable[[list[int]], list[str]],
    bad: int,
    kind: str,
    says: str,
) -> None:
    ids = _append(audit_settings, 5)
    _tamper(audit_settings, *tamper(ids))
    verified = _verify(audit_settings)
    assert verified.problem is not None and not verified.ok
    assert (verified.problem.event_id, verified.problem.kind) == (ids[bad], kind)
    expected = says.replace("{1}", str(ids[1]))
    assert expected in verified.problem.message
    assert verified.problem.message.startswith(f"entry {ids[bad]}")


def test_an_inserted_entry_is_found_whether_or_not_it_links(audit_settings: Settings) -> None:
    ids = _append(audit_settings, 2)
    # a transaction that rolled back left a gap in the ids (sequences are not transactional)
    with pytest.raises(RuntimeError), engine_for(audit_settings.catalog_url).begin() as conn:
        record(conn, actor="jdoe", action="search.reads", now=NOW)
        raise RuntimeError
    ids += _append(audit_settings, 2, start=2)
    gap = ids[1] + 1
    assert ids[2] == gap + 1
    with engine_for(audit_settings.catalog_url).connect() as conn:
        before = conn.execute(
            sa.select(audit_events.c.entry_hash).where(audit_events.c.event_id == ids[1])
        ).scalar_one()
    details = '{"reason":"forged"}'
    at = NOW + timedelta(minutes=1, seconds=30)
    linked = _entry_hash(before, at, "ann", "search.reads", "reads", "ok", details)
    forged = (
        "INSERT INTO audit_events (event_id, occurred_at, actor, action, subject, outcome, details,"
        f" prev_hash, entry_hash) VALUES ({gap}, '{at.isoformat()}', 'ann', 'search.reads',"
        f" 'reads', 'ok', '{details}', '{{prev}}', '{linked}')"
    )
    # into the gap, claiming some other predecessor: it does not link itself
    _tamper(audit_settings, forged.replace("{prev}", "f" * 64))
    verified = _verify(audit_settings)
    assert verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (gap, "unlinked")
    # linked properly to its predecessor (its uniqueness dropped): the entry after it does not
    _tamper(
        audit_settings,
        f"DELETE FROM audit_events WHERE event_id = {gap}",
        "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_prev_hash",
        forged.replace("{prev}", before),
    )
    verified = _verify(audit_settings)
    assert verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (ids[2], "unlinked")


def test_truncation_is_found_through_the_chain_heads(audit_settings: Settings) -> None:
    ids = _append(audit_settings, 4)
    _head(audit_settings)  # names ids[3]
    assert _verify(audit_settings).ok
    # the newest two entries cut off: what is left is a valid chain, but the head names ids[3]
    _tamper(audit_settings, f"DELETE FROM audit_events WHERE event_id >= {ids[2]}")
    verified = _verify(audit_settings)
    assert (verified.entries, verified.heads) == (2, 1)
    assert verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (ids[3], "missing")
    assert "the log was truncated" in verified.problem.message
    # and new entries appended after the cut do not hide it
    _append(audit_settings, 3, start=10)
    verified = _verify(audit_settings)
    assert verified.problem is not None and verified.problem.event_id == ids[3]
    # the whole table emptied
    _tamper(audit_settings, "TRUNCATE audit_events")
    verified = _verify(audit_settings)
    assert verified.entries == 0 and verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (ids[3], "missing")


def test_a_log_rewritten_with_fresh_hashes_is_found_through_the_chain_heads(
    audit_settings: Settings,
) -> None:
    ids = _append(audit_settings, 3)
    _head(audit_settings)
    ids += _append(audit_settings, 2, start=3)
    _head(audit_settings, minutes=1)
    # entry ids[1] edited and every hash from it recomputed: the chain itself is sound again
    engine = engine_for(audit_settings.catalog_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_events).order_by(audit_events.c.event_id)).all()
    statements = [f"UPDATE audit_events SET actor = 'ann' WHERE event_id = {ids[1]}"]
    prev = rows[0].entry_hash
    for row in rows[1:]:
        actor = "ann" if row.event_id == ids[1] else row.actor
        new = _entry_hash(
            prev, utc(row.occurred_at), actor, row.action, row.subject, row.outcome, row.details
        )
        statements.append(
            f"UPDATE audit_events SET prev_hash = '{prev}', entry_hash = '{new}' "
            f"WHERE event_id = {row.event_id}"
        )
        prev = new
    _tamper(
        audit_settings,
        "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_prev_hash",
        "ALTER TABLE audit_events DROP CONSTRAINT uq_audit_events_entry_hash",
        *statements,
    )
    verified = _verify(audit_settings)
    assert verified.problem is not None
    # the first entry a head proves wrong: the one the older head names
    assert (verified.problem.event_id, verified.problem.kind) == (ids[2], "rewritten")
    assert "rewritten at or before it" in verified.problem.message


def test_an_entry_stored_in_another_json_spelling_of_the_same_content_is_sound(
    audit_settings: Settings,
) -> None:
    """The database's text of an entry differs from Python's (spaces, key order): the database
    flags it, the Python rule judges it sound, and the whole log is checked in Python."""
    ids = _append(audit_settings, 3)
    _tamper(
        audit_settings,
        "UPDATE audit_events SET details = "
        '\'{"reason": "hit and run 1", "criteria": {"plate": "ABC123"}}\' '
        f"WHERE event_id = {ids[1]}",
    )
    assert _verify(audit_settings) == Verification(entries=3, heads=0, problem=None)


def test_a_sqlite_catalog_is_verified_by_the_python_rule(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local = settings.replace(
        catalog={"url": f"sqlite:///{tmp_path / 'catalog.sqlite3'}"},
        preservation={"evidence_bucket": f"evid-{uuid.uuid4().hex[:10]}"},
    )
    upgrade_catalog(local.catalog_url)
    ids = _append(local, 3)
    assert _verify(local) == Verification(entries=3, heads=0, problem=None)
    with engine_for(local.catalog_url).begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql(
            f"UPDATE audit_events SET outcome = 'failed' WHERE event_id = {ids[1]}"
        )
    verified = _verify(local)
    assert verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (ids[1], "changed")


def test_the_database_recomputes_the_python_hash_of_any_text(audit_settings: Settings) -> None:
    """The one-pass check in PostgreSQL flags nothing on a sound log, whatever the entries hold
    (else every verification would fall back to the slow check in Python)."""
    texts = [
        'quote " and \\ backslash',
        "Zoë Ñandú 東京 🚓",
        "line\nbreak\ttab\r\x01\x1f\x7f",
        "\u2028",
    ]
    with engine_for(audit_settings.catalog_url).begin() as conn:
        for i, text in enumerate(texts):
            record(
                conn,
                actor=f"j.doe@lpd-{i}",
                action="search.reads",
                subject=f'case:"{text}"',
                outcome="refused",
                details={"reason": text, "n": i, "x": 1.5, "none": None, "list": [text, True]},
                now=NOW + timedelta(microseconds=123457 * i),
            )
    with engine_for(audit_settings.catalog_url).connect() as conn:
        hashed = conn.exec_driver_sql(_PG_HASHES).one()
        linked = conn.exec_driver_sql(_PG_LINKS, {"genesis": GENESIS_HASH}).scalar_one()
    assert (tuple(hashed), linked) == ((len(texts), None), None)


def test_past_an_entry_the_database_misjudges_the_python_rule_finds_the_real_edit(
    audit_settings: Settings,
) -> None:
    ids = _append(audit_settings, 4)
    _tamper(
        audit_settings,
        "UPDATE audit_events SET details = "
        '\'{"reason": "hit and run 1", "criteria": {"plate": "ABC123"}}\' '
        f"WHERE event_id = {ids[1]}",
        f"UPDATE audit_events SET subject = 'alerts' WHERE event_id = {ids[3]}",
    )
    verified = _verify(audit_settings)
    assert verified.problem is not None
    assert (verified.problem.event_id, verified.problem.kind) == (ids[3], "changed")
