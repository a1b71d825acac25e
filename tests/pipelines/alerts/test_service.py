"""The alert workflow over a real PostgreSQL catalog: raising, merging, the state machine,
roles, escalation, expiry, cleared entries, and the audit entry of every step."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.alerts import ALERT_NOTICE, AlertService, AlertState, alert_id_for
from pipelines.alerts.service import confirm_alert
from pipelines.alerts.tables import alert_hits, alert_transitions, alerts
from pipelines.audit.log import verify_chain
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, service_user
from pipelines.config import Settings, load_settings
from pipelines.errors import AlertError, AuthenticationError, PermissionDenied
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests.pipelines.alerts._helpers import (
    RAISED,
    T0,
    add_users,
    audit_count,
    ledger_row,
    match,
    matches,
)

AGES = {"ncic": 3600.0}


@pytest.fixture
def service(catalog_settings: Settings) -> AlertService:
    return AlertService(catalog_settings)


@pytest.fixture
def people(engine: sa.Engine, catalog_settings: Settings) -> dict[str, User]:
    return add_users(engine, catalog_settings)


def _raise(service: AlertService, *rows: dict[str, Any], at: datetime = RAISED) -> list[str]:
    return service.raise_alerts(matches(*rows), hotlist_age_seconds=AGES, now=at)


def _one(engine: sa.Engine, alert_id: str) -> sa.Row[Any]:
    with engine.connect() as conn:
        return conn.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).one()


def _events(engine: sa.Engine, action: str) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(audit_events)
                .where(audit_events.c.action == action)
                .order_by(audit_events.c.event_id)
            )
        )


def test_an_alert_records_the_read_the_entry_the_evidence_and_the_notice(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    ledger_row(engine, "img-r1", "cam-07/2026-03-10/20260310T140000Z_1.jpg")
    [alert_id] = _raise(service, match("r1", seen_before_listed=True, match_kind="lenient"))
    assert alert_id == alert_id_for("r1", "e1")
    alert = service.get_alert(people["jdoe"], alert_id)
    assert alert.state == "pending"
    assert (alert.read_id, alert.detection_id, alert.image_id) == ("r1", "det-r1", "img-r1")
    assert alert.crop_key == "crops/2026-03-10/img-r1/det-r1.jpg"
    assert (alert.image_bucket, alert.image_key) == (
        "camera-drops",
        "cam-07/2026-03-10/20260310T140000Z_1.jpg",
    )
    assert (alert.plate_text, alert.matched_text, alert.confidence) == (
        "ABC123",
        "ABC123",
        pytest.approx(0.93),
    )
    assert (alert.entry_id, alert.list_name, alert.list_version, alert.list_code) == (
        "e1",
        "ncic",
        3,
        "V",
    )
    assert (alert.match_kind, alert.seen_before_listed, alert.state_not_read) == (
        "lenient",
        True,
        False,
    )
    assert alert.hotlist_age_seconds == 3600.0
    assert (alert.hit_count, alert.first_seen_at, alert.last_seen_at) == (1, T0, T0)
    assert alert.created_at == RAISED
    assert alert.notice == ALERT_NOTICE
    assert "never by itself grounds for a stop" in ALERT_NOTICE and "NCIC/CCIC" in ALERT_NOTICE
    [raised] = _events(engine, "alert.raise")
    assert (raised.actor, raised.subject) == ("service", f"alert:{alert_id}")
    assert json.loads(raised.details)["read_id"] == "r1"


def test_raising_is_idempotent_per_read_and_entry(engine: sa.Engine, service: AlertService) -> None:
    rows = (match("r1"), match("r1", entry_id="e2", list_name="ccic"))
    first = _raise(service, *rows)
    assert len(first) == 2
    events = audit_count(engine)
    assert _raise(service, *rows, at=RAISED + timedelta(minutes=1)) == []
    assert _raise(service, *rows, rows[0]) == []  # a pair twice in one frame too
    with engine.connect() as conn:
        counts = conn.execute(sa.select(alerts.c.hit_count)).scalars().all()
    assert counts == [1, 1]
    assert audit_count(engine) == events  # nothing happened, nothing audited


@pytest.mark.parametrize(
    ("second", "merged"),
    [
        (match("r2", 5), True),  # same entry and camera, 5 min later: one alert, two hits
        (match("r2", 9.5, plate_text="A8C123"), True),  # another reading of the same plate
        (match("r2", 11), False),  # further than the 10 min window
        (match("r2", 5, camera_id="cam-08"), False),  # another camera
        (match("r2", 5, entry_id="e2"), False),  # another entry
    ],
)
def test_hits_within_the_window_merge_into_the_pending_alert(
    engine: sa.Engine,
    service: AlertService,
    second: dict,
    merged: bool,
) -> None:
    [first] = _raise(service, match("r1"))
    new = _raise(service, second, at=RAISED + timedelta(minutes=15))
    assert (new == []) is merged
    row = _one(engine, first)
    if merged:
        assert (row.hit_count, row.first_seen_at, row.last_seen_at) == (
            2,
            T0,
            second["captured_at"],
        )
        assert [e.details for e in _events(engine, "alert.hit")] == ['{"hits_added":1}']
    else:
        assert row.hit_count == 1
    with engine.connect() as conn:
        hits = conn.execute(sa.select(alert_hits.c.read_id, alert_hits.c.alert_id)).all()
    assert sorted(hits) == sorted([("r1", first), ("r2", first if merged else new[0])])


def test_a_run_in_one_frame_gives_one_alert_and_a_gap_starts_another(
    engine: sa.Engine, service: AlertService
) -> None:
    ids = _raise(service, match("r3", 8), match("r1", 0), match("r2", 4), match("r4", 30))
    assert ids == [alert_id_for("r1", "e1"), alert_id_for("r4", "e1")]
    assert [_one(engine, i).hit_count for i in ids] == [3, 1]
    assert _one(engine, ids[0]).last_seen_at == T0 + timedelta(minutes=8)


def test_suppressed_matches_keep_their_count_and_span(
    engine: sa.Engine, service: AlertService
) -> None:
    frame = matches(match("r1")).with_columns(
        hit_count=pl.lit(4, pl.UInt32),
        first_seen_at=pl.col("captured_at"),
        last_seen_at=pl.col("captured_at") + pl.duration(minutes=3),
    )
    [alert_id] = service.raise_alerts(frame, hotlist_age_seconds=AGES, now=RAISED)
    row = _one(engine, alert_id)
    assert (row.hit_count, row.last_seen_at) == (4, T0 + timedelta(minutes=3))


def test_hits_do_not_merge_into_a_reviewed_alert(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    [first] = _raise(service, match("r1"))
    service.reject(people["jdoe"], first, "misread: a Q, not a 0", now=RAISED)
    assert len(_raise(service, match("r2", 3))) == 1
    assert _one(engine, first).hit_count == 1


def test_matches_without_the_match_columns_are_refused(service: AlertService) -> None:
    with pytest.raises(AlertError, match=r"lack the column\(s\) \['entry_id'\]"):
        service.raise_alerts(
            matches(match("r1")).drop("entry_id"), hotlist_age_seconds=AGES, now=RAISED
        )


def _review(
    service: AlertService,
    action: str,
    user: User,
    alert_id: str,
    at: datetime = RAISED,
) -> object:
    if action == "confirm":
        return service.confirm(
            user, alert_id, "plate and car match the record", compared_with_record=True, now=at
        )
    if action == "reject":
        return service.reject(user, alert_id, "wrong plate", now=at)
    return service.expire_overdue(at + timedelta(hours=25))


@pytest.mark.parametrize("action", ["confirm", "reject", "expire"])
def test_a_pending_alert_moves_once_with_actor_reason_and_time(
    engine: sa.Engine, service: AlertService, people: dict[str, User], action: str
) -> None:
    [alert_id] = _raise(service, match("r1"))
    _review(service, action, people["jdoe"], alert_id)
    alert = service.get_alert(people["ann"], alert_id)
    target = {"confirm": "confirmed", "reject": "rejected", "expire": "expired"}[action]
    assert alert.state == target
    [step] = alert.transitions
    actor = "service" if action == "expire" else "jdoe"
    assert (step.action, step.from_state, step.to_state, step.actor) == (
        action,
        "pending",
        target,
        actor,
    )
    assert step.reason and alert.decision_reason == step.reason
    assert step.compared_with_record is (True if action == "confirm" else None)
    assert alert.decided_by == actor and alert.decided_at == step.at
    with engine.connect() as conn:
        event_id = conn.execute(sa.select(alert_transitions.c.audit_event_id)).scalar_one()
        event = conn.execute(
            sa.select(audit_events).where(audit_events.c.event_id == event_id)
        ).one()
    assert (event.actor, event.action, event.subject) == (
        actor,
        f"alert.{action}",
        f"alert:{alert_id}",
    )
    assert json.loads(event.details)["reason"] == step.reason
    assert json.loads(event.details)["to"] == target


@pytest.mark.parametrize("first", ["confirm", "reject", "expire"])
@pytest.mark.parametrize("then", ["confirm", "reject", "expire"])
def test_a_decided_alert_refuses_every_further_transition(
    engine: sa.Engine, service: AlertService, people: dict[str, User], first: str, then: str
) -> None:
    [alert_id] = _raise(service, match("r1"))
    _review(service, first, people["jdoe"], alert_id)
    events = audit_count(engine)
    state = _one(engine, alert_id).state
    if then == "expire":  # the sweep skips what is no longer pending
        assert _review(service, then, people["chief"], alert_id) == []
    else:
        with pytest.raises(AlertError, match=f"alert {alert_id} is {state} and cannot be"):
            _review(service, then, people["chief"], alert_id)
    assert _one(engine, alert_id).state == state
    assert audit_count(engine) == events
    assert len(service.get_alert(people["chief"], alert_id).transitions) == 1


@pytest.mark.parametrize("action", ["confirm", "reject"])
def test_only_agents_and_administrators_review(
    engine: sa.Engine, service: AlertService, people: dict[str, User], action: str
) -> None:
    [alert_id] = _raise(service, match("r1"))
    with engine.begin() as conn:
        robot = service_user(conn, now=RAISED)
    events = audit_count(engine)
    for who in (people["ann"], robot):
        with pytest.raises(
            PermissionDenied, match=f"role {who.role.value}\\) may not {action} alerts"
        ):
            _review(service, action, who, alert_id)
    # the role is the catalog's, not the one a caller claims
    with pytest.raises(PermissionDenied, match="role analyst"):
        _review(service, action, User("ann", Role.ADMINISTRATOR, True), alert_id)
    with pytest.raises(AuthenticationError, match="unknown or disabled user 'ghost'"):
        _review(service, action, User("ghost", Role.AGENT, True), alert_id)
    assert audit_count(engine) == events and _one(engine, alert_id).state == "pending"
    _review(service, action, people["chief"], alert_id)


def test_analysts_read_alerts_and_the_service_account_does_not(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    ids = _raise(service, match("r1"), match("r2", entry_id="e2"))
    service.reject(people["jdoe"], ids[1], "wrong state", now=RAISED)
    assert [a.alert_id for a in service.list_alerts(people["ann"], "pending")] == [ids[0]]
    assert {a.alert_id for a in service.list_alerts(people["ann"])} == set(ids)
    with pytest.raises(AlertError, match="alert state 'open' is not valid"):
        service.list_alerts(people["ann"], "open")
    with engine.begin() as conn:
        robot = service_user(conn, now=RAISED)
    with pytest.raises(PermissionDenied):
        service.list_alerts(robot)
    with pytest.raises(AlertError, match="there is no alert 'nope'"):
        service.get_alert(people["ann"], "nope")


@pytest.mark.parametrize(
    ("reason", "compared", "message"),
    [
        ("", True, "a reason is required to confirm"),
        ("   ", True, "a reason is required to confirm"),
        ("matches", False, "compared with the NCIC/CCIC record"),
    ],
)
def test_confirming_needs_a_reason_and_the_comparison(
    engine: sa.Engine,
    service: AlertService,
    people: dict[str, User],
    reason: str,
    compared: bool,
    message: str,
) -> None:
    [alert_id] = _raise(service, match("r1"))
    events = audit_count(engine)
    with pytest.raises(AlertError, match=message):
        service.confirm(people["jdoe"], alert_id, reason, compared_with_record=compared, now=RAISED)
    with pytest.raises(AlertError, match="a reason is required to reject"):
        service.reject(people["jdoe"], alert_id, "", now=RAISED)
    assert audit_count(engine) == events and _one(engine, alert_id).state == "pending"


def test_a_transition_and_its_audit_entry_commit_together(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    [alert_id] = _raise(service, match("r1"))
    events = audit_count(engine)
    with engine.connect() as conn:
        transaction = conn.begin()
        confirm_alert(
            conn, people["jdoe"], alert_id, "match", compared_with_record=True, now=RAISED
        )
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
            == events + 1
        )
        transaction.rollback()  # e.g. the caller failed after the core's call
    assert audit_count(engine) == events
    assert _one(engine, alert_id).state == "pending"
    assert service.get_alert(people["jdoe"], alert_id).transitions == ()


def test_overdue_alerts_are_escalated_once(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    [alert_id] = _raise(service, match("r1"))
    assert service.escalate_overdue(RAISED + timedelta(minutes=14)) == []
    assert service.escalate_overdue(RAISED + timedelta(minutes=15)) == [alert_id]
    assert service.escalate_overdue(RAISED + timedelta(minutes=40)) == []
    alert = service.get_alert(people["jdoe"], alert_id)
    assert alert.state == "pending" and alert.escalated_at == RAISED + timedelta(minutes=15)
    assert [(e.actor, e.subject) for e in _events(engine, "alert.escalate")] == [
        ("service", f"alert:{alert_id}")
    ]
    assert [t.action for t in alert.transitions] == ["escalate"]
    service.confirm(people["jdoe"], alert_id, "seen", compared_with_record=True, now=RAISED)


def test_alerts_nobody_reviews_expire(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    [old] = _raise(service, match("r1"))
    [young] = _raise(service, match("r2", entry_id="e2"), at=RAISED + timedelta(hours=2))
    assert service.expire_overdue(RAISED + timedelta(hours=23, minutes=59)) == []
    assert service.expire_overdue(RAISED + timedelta(hours=24)) == [old]
    assert _one(engine, old).state == "expired" and _one(engine, young).state == "pending"
    [event] = _events(engine, "alert.expire")
    assert event.actor == "service" and "24 h" in json.loads(event.details)["reason"]


def test_alerts_on_a_cleared_entry_cannot_be_confirmed(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    pending, decided, other = _raise(
        service, match("r1"), match("r2", 1, camera_id="cam-08"), match("r3", entry_id="e2")
    )
    service.reject(people["jdoe"], decided, "wrong car", now=RAISED)
    cleared_at = RAISED + timedelta(hours=1)
    assert service.mark_entries_cleared(["e1"], now=cleared_at) == [pending]
    assert service.mark_entries_cleared(["e1"], now=cleared_at) == []  # once
    assert _one(engine, pending).entry_cleared_at == cleared_at
    assert _one(engine, decided).entry_cleared_at is None
    assert _one(engine, other).entry_cleared_at is None
    with pytest.raises(AlertError, match="no longer on the list"):
        service.confirm(people["jdoe"], pending, "match", compared_with_record=True, now=cleared_at)
    service.reject(people["jdoe"], pending, "entry cleared", now=cleared_at)
    assert [e.subject for e in _events(engine, "alert.clear")] == [f"alert:{pending}"]


def test_the_audit_chain_holds_after_a_day_of_work(
    engine: sa.Engine, service: AlertService, people: dict[str, User]
) -> None:
    ids = _raise(service, match("r1"), match("r2", entry_id="e2"), match("r3", entry_id="e3"))
    service.confirm(people["jdoe"], ids[0], "match", compared_with_record=True, now=RAISED)
    service.reject(people["chief"], ids[1], "misread", now=RAISED)
    service.escalate_overdue(RAISED + timedelta(hours=1))
    service.expire_overdue(RAISED + timedelta(days=2))
    with engine.connect() as conn:
        status = verify_chain(conn)
    assert status.ok and status.events == audit_count(engine)


def test_the_workflow_runs_on_a_sqlite_catalog(tmp_path: Path) -> None:
    settings = load_settings(env={}).replace(
        data_dir=tmp_path, auth={"argon2_memory_kib": 1024, "argon2_time_cost": 1}
    )
    upgrade_catalog(settings.catalog_url)
    people = add_users(engine_for(settings.catalog_url), settings)
    service = AlertService(settings)
    [alert_id] = _raise(service, match("r1"))
    assert _raise(service, match("r2", 3)) == []
    alert = service.confirm(
        people["jdoe"], alert_id, "match", compared_with_record=True, now=RAISED
    )
    assert (alert.state, alert.hit_count, alert.created_at) == (AlertState.CONFIRMED, 2, RAISED)
    with engine_for(settings.catalog_url).connect() as conn:
        assert verify_chain(conn).ok
