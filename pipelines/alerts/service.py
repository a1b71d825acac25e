"""Alerts in the catalog: raised from matches, reviewed by named users, every step audited.

The functions here work over a connection of the caller's transaction, so a state change, its
``alert_transitions`` row and its audit entry commit together or not at all;
``pipelines.alerts.AlertService`` wraps each in a transaction of its own and sends the webhooks.
Every function that acts for a person takes the acting ``User``, re-reads that user from the
catalog (an unknown or disabled user is refused) and checks the role in the core; confirming
and rejecting also need current training for alert review when ``require_training`` is passed
(``audit.require_training``, PP-9126 B.3, B.5), and that refusal is audited.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.alerts.states import (
    ALERT_NOTICE,
    READERS,
    REVIEWERS,
    AlertState,
    check_transition,
)
from pipelines.alerts.tables import alert_hits, alert_transitions, alerts
from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.training import Function, TrainingRequired
from pipelines.audit.training import require_training as _require_training
from pipelines.audit.users import User, get_user, require_role, service_user
from pipelines.config import AlertSettings
from pipelines.errors import AlertError
from pipelines.storage.catalog import camera_objects, insert_new

__all__ = [
    "Alert",
    "Transition",
    "alert_id_for",
    "confirm_alert",
    "escalate_overdue",
    "expire_overdue",
    "get_alert",
    "list_alerts",
    "load_alert",
    "mark_entries_cleared",
    "raise_alerts",
    "reject_alert",
]

_UTC = pl.Datetime("us", "UTC")
# Hits of the same entry (so the same listed plate) at the same camera merge into one alert.
_SAME = ("entry_id", "camera_id")
_PG_LOCK_KEY = 0x616C_7072_616C_7274  # "alpralrt": one raiser at a time
_CHUNK = 5000  # values per IN (...) list
# The columns of MATCHES_SCHEMA (pipelines.matching) an alert keeps.
_COPIED = (
    "read_id",
    "detection_id",
    "image_id",
    "camera_id",
    "captured_at",
    "capture_date",
    "plate_text",
    "confidence",
    "matched_text",
    "entry_id",
    "list_name",
    "list_version",
    "entry_plate",
    "entry_state",
    "list_code",
    "match_kind",
    "state_not_read",
    "seen_before_listed",
)


@dataclass(frozen=True)
class Transition:
    action: str  # confirm | reject | expire | escalate | clear
    from_state: str
    to_state: str
    actor: str
    reason: str
    compared_with_record: bool | None
    at: datetime


@dataclass(frozen=True)
class Alert:
    alert_id: str
    state: str
    created_at: datetime
    updated_at: datetime
    read_id: str
    detection_id: str
    image_id: str
    camera_id: str
    captured_at: datetime
    capture_date: date
    crop_key: str
    image_bucket: str | None
    image_key: str | None
    plate_text: str
    confidence: float
    matched_text: str
    entry_id: str
    list_name: str
    list_version: int
    entry_plate: str
    entry_state: str | None
    list_code: str | None
    match_kind: str
    state_not_read: bool
    seen_before_listed: bool
    hotlist_age_seconds: float | None
    hit_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    notice: str
    escalated_at: datetime | None
    entry_cleared_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    compared_with_record: bool | None
    transitions: tuple[Transition, ...] = ()  # filled by get_alert

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: times and dates in ISO 8601."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}
        out["transitions"] = [
            {f.name: _jsonable(getattr(t, f.name)) for f in fields(t)} for t in self.transitions
        ]
        return out


def alert_id_for(read_id: str, entry_id: str) -> str:
    """Stable id of the alert first raised by ``read_id`` hitting ``entry_id``."""
    return hashlib.sha256(f"{read_id}:{entry_id}".encode()).hexdigest()[:24]


def raise_alerts(
    conn: sa.Connection,
    matches: pl.DataFrame,
    *,
    hotlist_age_seconds: Mapping[str, float],
    now: datetime,
    settings: AlertSettings,
) -> list[str]:
    """Turn matches (``MATCHES_SCHEMA``, optionally with ``hit_count``, ``first_seen_at`` and
    ``last_seen_at`` of ``suppress_duplicates``) into alerts; returns the ids of new alerts.

    Idempotent per (read_id, entry_id): a pair already recorded is skipped. Hits of the same entry
    at the same camera within ``settings.duplicate_window_minutes`` of a pending alert (or of each
    other) bump that alert's ``hit_count`` and seen times instead of raising another.
    ``hotlist_age_seconds`` maps list name to the age of its active version now.
    """
    now = require_utc(now)
    missing = sorted(set(_COPIED) - set(matches.columns))
    if missing:
        raise AlertError(f"matches lack the column(s) {missing} of MATCHES_SCHEMA")
    if matches.is_empty():
        return []
    _lock(conn, alerts)
    service = service_user(conn, now=now)
    fresh = _fresh_hits(conn, _with_seen(matches))
    if fresh.is_empty():
        return []
    window = timedelta(minutes=settings.duplicate_window_minutes)
    fresh = _number_runs(fresh, window)
    runs = _runs(fresh)
    runs = runs.join(_mergeable(conn, runs, window), on="_group", how="left")
    merged = runs.filter(pl.col("alert_id").is_not_null())
    new = runs.filter(pl.col("alert_id").is_null())
    new = new.with_columns(
        alert_id=pl.Series(
            [alert_id_for(r, e) for r, e in zip(new["read_id"], new["entry_id"], strict=True)],
            dtype=pl.String,
        )
    )
    new_ids = _insert_alerts(conn, new, hotlist_age_seconds, now)
    _bump_alerts(conn, merged, now)
    targets = pl.concat([merged.select("_group", "alert_id"), new.select("_group", "alert_id")])
    hits = fresh.join(targets, on="_group").select(
        "read_id",
        "entry_id",
        "alert_id",
        hits=pl.col("hit_count").cast(pl.Int64),
        first_seen_at="first_seen_at",
        last_seen_at="last_seen_at",
    )
    insert_new(conn, alert_hits, [{**h, "recorded_at": now} for h in hits.to_dicts()])
    for row in new.filter(pl.col("alert_id").is_in(new_ids)).iter_rows(named=True):
        record(
            conn,
            actor=service.name,
            action="alert.raise",
            subject=f"alert:{row['alert_id']}",
            details={
                "read_id": row["read_id"],
                "entry_id": row["entry_id"],
                "list_name": row["list_name"],
                "list_version": row["list_version"],
                "match_kind": row["match_kind"],
                "hit_count": row["hit_count"],
            },
            now=now,
        )
    for row in merged.group_by("alert_id").agg(pl.col("hit_count").sum()).iter_rows(named=True):
        record(
            conn,
            actor=service.name,
            action="alert.hit",
            subject=f"alert:{row['alert_id']}",
            details={"hits_added": row["hit_count"]},
            now=now,
        )
    return new_ids


def list_alerts(
    conn: sa.Connection, user: User, state: AlertState | str | None = None, *, limit: int = 500
) -> list[Alert]:
    """Alerts, newest first (optionally of one state); agents, administrators and analysts."""
    actor = get_user(conn, user.name)
    require_role(actor, *READERS, action="read alerts")
    query = sa.select(alerts).order_by(alerts.c.created_at.desc(), alerts.c.alert_id).limit(limit)
    if state is not None:
        query = query.where(alerts.c.state == _state(state).value)
    return [_alert(row) for row in conn.execute(query)]


def get_alert(conn: sa.Connection, user: User, alert_id: str) -> Alert:
    """One alert with its transitions; AlertError if there is none of that id."""
    actor = get_user(conn, user.name)
    require_role(actor, *READERS, action="read alerts")
    return load_alert(conn, alert_id)


def load_alert(conn: sa.Connection, alert_id: str) -> Alert:
    """One alert with its transitions, for the system itself (no user: notifications)."""
    row = conn.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).one_or_none()
    if row is None:
        raise AlertError(f"there is no alert {alert_id!r}")
    steps = conn.execute(
        sa.select(alert_transitions)
        .where(alert_transitions.c.alert_id == alert_id)
        .order_by(alert_transitions.c.transition_id)
    )
    return _alert(
        row,
        tuple(
            Transition(
                t.action,
                t.from_state,
                t.to_state,
                t.actor,
                t.reason,
                t.compared_with_record,
                utc(t.at),
            )
            for t in steps
        ),
    )


def confirm_alert(
    conn: sa.Connection,
    user: User,
    alert_id: str,
    reason: str,
    *,
    compared_with_record: bool,
    now: datetime,
    require_training: bool = False,
) -> Alert:
    """Confirm a pending alert: the user states they compared the captured image with the
    NCIC/CCIC record (C.3). Agents and administrators only (trained for alert review when
    ``require_training``); refused for a cleared entry."""
    actor = get_user(conn, user.name)
    require_role(actor, *REVIEWERS, action="confirm alerts")
    if require_training:
        _trained(conn, actor, "confirm", alert_id, now)
    reason = _reason(reason, "confirm", alert_id)
    if compared_with_record is not True:
        raise AlertError(
            f"alert {alert_id} cannot be confirmed without stating that the captured image was "
            "compared with the NCIC/CCIC record (PP-9126 C.3)"
        )
    row = _locked(conn, alert_id)
    check_transition(alert_id, row.state, AlertState.CONFIRMED)
    if row.entry_cleared_at is not None:
        raise AlertError(
            f"alert {alert_id}: the entry is no longer on the list (cleared at "
            f"{utc(row.entry_cleared_at).isoformat()}); it cannot be confirmed, reject it"
        )
    _move(conn, row, actor, "confirm", AlertState.CONFIRMED, reason, now, compared=True)
    return get_alert(conn, actor, alert_id)


def reject_alert(
    conn: sa.Connection,
    user: User,
    alert_id: str,
    reason: str,
    *,
    now: datetime,
    require_training: bool = False,
) -> Alert:
    """Reject a pending alert (a misread, a vehicle that does not fit the record, ...)."""
    actor = get_user(conn, user.name)
    require_role(actor, *REVIEWERS, action="reject alerts")
    if require_training:
        _trained(conn, actor, "reject", alert_id, now)
    reason = _reason(reason, "reject", alert_id)
    row = _locked(conn, alert_id)
    check_transition(alert_id, row.state, AlertState.REJECTED)
    _move(conn, row, actor, "reject", AlertState.REJECTED, reason, now, compared=None)
    return get_alert(conn, actor, alert_id)


def _trained(conn: sa.Connection, actor: User, verb: str, alert_id: str, now: datetime) -> None:
    """Refuse a review by ``actor`` without current training for it; the refusal is audited in a
    transaction of its own, as the caller's rolls back on the error."""
    try:
        _require_training(conn, actor.name, Function.ALERT_REVIEW, now=now)
    except TrainingRequired as exc:
        with conn.engine.begin() as own:
            record(
                own,
                actor=actor.name,
                action=f"alert.{verb}",
                subject=f"alert:{alert_id}",
                outcome="refused",
                details={"why": str(exc), "field": exc.field},
                now=now,
            )
        raise


def expire_overdue(conn: sa.Connection, *, now: datetime, settings: AlertSettings) -> list[str]:
    """Pending alerts raised ``settings.expire_hours`` or longer ago become expired (as service)."""
    now = require_utc(now)
    service = service_user(conn, now=now)
    cutoff = now - timedelta(hours=settings.expire_hours)
    rows = conn.execute(
        sa.select(alerts)
        .where(alerts.c.state == AlertState.PENDING.value, alerts.c.created_at <= cutoff)
        .order_by(alerts.c.created_at)
        .with_for_update()
    ).all()
    reason = f"not reviewed within {settings.expire_hours} h (alerts.expire_hours)"
    for row in rows:
        _move(conn, row, service, "expire", AlertState.EXPIRED, reason, now, compared=None)
    return [row.alert_id for row in rows]


def escalate_overdue(conn: sa.Connection, *, now: datetime, settings: AlertSettings) -> list[str]:
    """Pending alerts raised ``settings.review_minutes`` or longer ago and not yet escalated get
    ``escalated_at`` (once each, audited, as service); returns their ids."""
    now = require_utc(now)
    service = service_user(conn, now=now)
    cutoff = now - timedelta(minutes=settings.review_minutes)
    reason = f"not reviewed within {settings.review_minutes} min (alerts.review_minutes)"
    return _flag(
        conn,
        service,
        sa.and_(alerts.c.created_at <= cutoff, alerts.c.escalated_at.is_(None)),
        "escalate",
        {"escalated_at": now},
        reason,
        now,
    )


def mark_entries_cleared(
    conn: sa.Connection, entry_ids: Iterable[str], *, now: datetime
) -> list[str]:
    """Pending alerts on entries that left their list are marked "no longer on the list", so
    nobody acts on a cleared record (confirming them is refused); returns their ids."""
    now = require_utc(now)
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    service = service_user(conn, now=now)
    cleared: list[str] = []
    for start in range(0, len(ids), _CHUNK):
        cleared += _flag(
            conn,
            service,
            sa.and_(
                alerts.c.entry_id.in_(ids[start : start + _CHUNK]),
                alerts.c.entry_cleared_at.is_(None),
            ),
            "clear",
            {"entry_cleared_at": now},
            "the entry is no longer on the list",
            now,
        )
    return cleared


# --- raising -------------------------------------------------------------------------------------


def _with_seen(matches: pl.DataFrame) -> pl.DataFrame:
    """The match columns plus hit_count and seen times (one hit at captured_at when absent)."""
    at = pl.col("captured_at")
    extra = {
        "hit_count": pl.lit(1, pl.Int64),
        "first_seen_at": at,
        "last_seen_at": at,
    }
    return matches.select(
        *_COPIED,
        *(
            pl.col(name).cast(pl.Int64 if name == "hit_count" else _UTC)
            if name in matches.columns
            else default.alias(name)
            for name, default in extra.items()
        ),
    )


def _fresh_hits(conn: sa.Connection, matches: pl.DataFrame) -> pl.DataFrame:
    """The matches whose (read_id, entry_id) no alert holds yet, one row per pair."""
    matches = matches.unique(["read_id", "entry_id"], keep="first", maintain_order=True)
    read_ids = matches["read_id"].unique().to_list()
    known: list[tuple[str, str]] = []
    for start in range(0, len(read_ids), _CHUNK):
        known += conn.execute(
            sa.select(alert_hits.c.read_id, alert_hits.c.entry_id).where(
                alert_hits.c.read_id.in_(read_ids[start : start + _CHUNK])
            )
        ).all()
    seen = pl.DataFrame(
        [tuple(k) for k in known],
        schema={"read_id": pl.String, "entry_id": pl.String},
        orient="row",
    )
    return matches.join(seen, on=["read_id", "entry_id"], how="anti")


def _number_runs(fresh: pl.DataFrame, window: timedelta) -> pl.DataFrame:
    """``fresh`` with ``_group``: runs of hits of the same entry and camera, consecutive hits at
    most ``window`` apart (as ``suppress_duplicates`` draws them, over hit spans)."""
    prev_last = pl.col("last_seen_at").cum_max().shift(1).over(_SAME)
    starts = ((pl.col("first_seen_at") - prev_last) > window).fill_null(True)
    return fresh.sort(*_SAME, "first_seen_at", "read_id").with_columns(_group=starts.cum_sum())


def _runs(numbered: pl.DataFrame) -> pl.DataFrame:
    """One row per run: its earliest hit's columns, the summed count and the seen span."""
    return numbered.group_by("_group", maintain_order=True).agg(
        pl.exclude("hit_count", "first_seen_at", "last_seen_at").first(),
        pl.col("hit_count").sum(),
        pl.col("first_seen_at").min(),
        pl.col("last_seen_at").max(),
    )


def _mergeable(conn: sa.Connection, runs: pl.DataFrame, window: timedelta) -> pl.DataFrame:
    """For each run that overlaps (within ``window``) a pending alert of the same entry and
    camera, that alert's id (the latest seen, if several)."""
    entry_ids = runs["entry_id"].unique().to_list()
    pending: list[Any] = []
    for start in range(0, len(entry_ids), _CHUNK):
        pending += conn.execute(
            sa.select(
                alerts.c.alert_id,
                alerts.c.entry_id,
                alerts.c.camera_id,
                alerts.c.first_seen_at,
                alerts.c.last_seen_at,
            ).where(
                alerts.c.state == AlertState.PENDING.value,
                alerts.c.entry_id.in_(entry_ids[start : start + _CHUNK]),
            )
        ).all()
    existing = pl.DataFrame(
        [(a, e, c, utc(f), utc(last)) for a, e, c, f, last in pending],
        schema={
            "alert_id": pl.String,
            "entry_id": pl.String,
            "camera_id": pl.String,
            "alert_first": _UTC,
            "alert_last": _UTC,
        },
        orient="row",
    )
    return (
        runs.select("_group", *_SAME, "first_seen_at", "last_seen_at")
        .join(existing, on=list(_SAME))
        .filter(
            (pl.col("alert_last") >= pl.col("first_seen_at") - window)
            & (pl.col("alert_first") <= pl.col("last_seen_at") + window)
        )
        .sort("alert_last")
        .group_by("_group")
        .agg(pl.col("alert_id").last())
    )


def _insert_alerts(
    conn: sa.Connection, new: pl.DataFrame, ages: Mapping[str, float], now: datetime
) -> list[str]:
    """Insert one alert per new run, with the source image's key from the ledger."""
    if new.is_empty():
        return []
    from pipelines.recognition.partition import crop_key  # numpy, PIL, Delta: only when needed

    sources = _image_sources(conn, new["image_id"].unique().to_list())
    rows = []
    for run in new.iter_rows(named=True):
        bucket, key = sources.get(run["image_id"], (None, None))
        rows.append(
            {
                "alert_id": run["alert_id"],
                "state": AlertState.PENDING.value,
                "created_at": now,
                "updated_at": now,
                **{name: run[name] for name in _COPIED},
                "crop_key": crop_key(run["capture_date"], run["image_id"], run["detection_id"]),
                "image_bucket": bucket,
                "image_key": key,
                "hotlist_age_seconds": ages.get(run["list_name"]),
                "hit_count": run["hit_count"],
                "first_seen_at": run["first_seen_at"],
                "last_seen_at": run["last_seen_at"],
                "notice": ALERT_NOTICE,
            }
        )
    inserted = set(insert_new(conn, alerts, rows))
    return [row["alert_id"] for row in rows if row["alert_id"] in inserted]


def _bump_alerts(conn: sa.Connection, merged: pl.DataFrame, now: datetime) -> None:
    """Add merged runs to their pending alerts: count, and a seen span that covers them."""
    per_alert = merged.group_by("alert_id").agg(
        pl.col("hit_count").sum(), pl.col("first_seen_at").min(), pl.col("last_seen_at").max()
    )
    for run in per_alert.iter_rows(named=True):
        current = conn.execute(
            sa.select(alerts.c.first_seen_at, alerts.c.last_seen_at).where(
                alerts.c.alert_id == run["alert_id"]
            )
        ).one()
        conn.execute(
            alerts.update()
            .where(alerts.c.alert_id == run["alert_id"])
            .values(
                hit_count=alerts.c.hit_count + run["hit_count"],
                first_seen_at=min(utc(current.first_seen_at), run["first_seen_at"]),
                last_seen_at=max(utc(current.last_seen_at), run["last_seen_at"]),
                updated_at=now,
            )
        )


def _image_sources(conn: sa.Connection, image_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(image_ids), _CHUNK):
        rows = conn.execute(
            sa.select(
                camera_objects.c.image_id, camera_objects.c.bucket, camera_objects.c.key
            ).where(camera_objects.c.image_id.in_(image_ids[start : start + _CHUNK]))
        )
        found.update({r.image_id: (r.bucket, r.key) for r in rows})
    return found


# --- review --------------------------------------------------------------------------------------


def _reason(reason: str, verb: str, alert_id: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise AlertError(f"a reason is required to {verb} alert {alert_id}")
    return text


def _state(state: AlertState | str) -> AlertState:
    try:
        return AlertState(state)
    except ValueError:
        raise AlertError(
            f"alert state {state!r} is not valid; valid values: {[s.value for s in AlertState]}"
        ) from None


def _locked(conn: sa.Connection, alert_id: str) -> Any:
    """The alert's row, locked until the transaction ends (one reviewer wins a race)."""
    row = conn.execute(
        sa.select(alerts).where(alerts.c.alert_id == alert_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise AlertError(f"there is no alert {alert_id!r}")
    return row


def _move(
    conn: sa.Connection,
    row: Any,
    actor: User,
    action: str,
    target: AlertState,
    reason: str,
    now: datetime,
    *,
    compared: bool | None,
) -> None:
    """Change the state, then write the transition and its audit entry, all in ``conn``."""
    now = require_utc(now)
    conn.execute(
        alerts.update()
        .where(alerts.c.alert_id == row.alert_id)
        .values(
            state=target.value,
            updated_at=now,
            decided_at=now,
            decided_by=actor.name,
            decision_reason=reason,
            compared_with_record=compared,
        )
    )
    _log_step(conn, row.alert_id, actor, action, row.state, target.value, reason, now, compared)


def _flag(
    conn: sa.Connection,
    actor: User,
    where: sa.ColumnElement[bool],
    action: str,
    values: Mapping[str, Any],
    reason: str,
    now: datetime,
) -> list[str]:
    """Set ``values`` on the pending alerts ``where`` selects, logging a step for each."""
    ids = list(
        conn.execute(
            sa.select(alerts.c.alert_id)
            .where(alerts.c.state == AlertState.PENDING.value, where)
            .order_by(alerts.c.created_at, alerts.c.alert_id)
            .with_for_update()
        ).scalars()
    )
    if not ids:
        return []
    conn.execute(alerts.update().where(alerts.c.alert_id.in_(ids)).values(**values, updated_at=now))
    pending = AlertState.PENDING.value
    for alert_id in ids:
        _log_step(conn, alert_id, actor, action, pending, pending, reason, now, None)
    return ids


def _log_step(
    conn: sa.Connection,
    alert_id: str,
    actor: User,
    action: str,
    from_state: str,
    to_state: str,
    reason: str,
    now: datetime,
    compared: bool | None,
) -> None:
    details: dict[str, Any] = {"from": from_state, "to": to_state, "reason": reason}
    if compared is not None:
        details["compared_with_record"] = compared
    event_id = record(
        conn,
        actor=actor.name,
        action=f"alert.{action}",
        subject=f"alert:{alert_id}",
        details=details,
        now=now,
    )
    conn.execute(
        alert_transitions.insert().values(
            alert_id=alert_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=actor.name,
            reason=reason,
            compared_with_record=compared,
            at=now,
            audit_event_id=event_id,
        )
    )


def _lock(conn: sa.Connection, table: sa.Table) -> None:
    """Serialise raisers until the transaction ends (PostgreSQL advisory lock; SQLite's write
    lock, taken by a write that changes nothing)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
    else:
        first = next(iter(table.primary_key.columns))
        conn.execute(table.update().where(sa.false()).values({first.name: first}))


_TIMES = frozenset(
    {
        "created_at",
        "updated_at",
        "captured_at",
        "first_seen_at",
        "last_seen_at",
        "escalated_at",
        "entry_cleared_at",
        "decided_at",
    }
)


def _alert(row: Any, transitions: tuple[Transition, ...] = ()) -> Alert:
    values: dict[str, Any] = {
        f.name: (
            utc(row._mapping[f.name])
            if f.name in _TIMES and row._mapping[f.name] is not None
            else row._mapping[f.name]
        )
        for f in fields(Alert)
        if f.name != "transitions"
    }
    return Alert(**values, transitions=transitions)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
