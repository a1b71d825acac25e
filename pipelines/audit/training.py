"""Training records of users, and the gate that asks for them (PP-9126 B.3, B.5).

Every agent and approved employee is trained on the use of the system, on record queries and
search, on monitoring the dispatcher function (alerts) and on audit procedures (B.5): one
``Course`` each. A course counts as current from the day it was completed (``completed_on``)
until the day before ``expires_on``, in UTC; a renewal is a new record. Administrators (as the
catalog knows them) or the server operator record training, each record audited as
``user.training``.

With ``audit.require_training`` on, ``require_training`` refuses a function of
``REQUIRED_COURSES`` (search, alert review, preservation) to a user without current training in
each of its courses, naming what is missing; the services that call it audit the refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.tables import user_training
from pipelines.audit.users import SERVICE_USER, User, administrator, get_user
from pipelines.errors import AlprError, PolicyRefusal

__all__ = [
    "REQUIRED_COURSES",
    "TRAINING_ACTION",
    "Course",
    "Function",
    "TrainingRecord",
    "TrainingRequired",
    "current_courses",
    "list_training",
    "record_training",
    "require_training",
]

TRAINING_ACTION = "user.training"  # the audit log's action of a training record


class Course(StrEnum):
    """The courses of B.5 (B.3: the appropriate use and function of the system)."""

    SYSTEM_USE = "system_use"  # use of the system
    QUERIES_AND_SEARCH = "queries_and_search"  # record queries and search capabilities
    DISPATCHER = "dispatcher"  # monitoring the dispatcher function: alerts and their review
    AUDIT_PROCEDURES = "audit_procedures"  # audit procedures


class Function(StrEnum):
    """What the training gate guards."""

    SEARCH = "search"
    ALERT_REVIEW = "alert_review"
    PRESERVATION = "preservation"


# Each function needs current training in every one of its courses.
REQUIRED_COURSES: Mapping[Function, tuple[Course, ...]] = {
    Function.SEARCH: (Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH),
    Function.ALERT_REVIEW: (Course.SYSTEM_USE, Course.DISPATCHER),
    Function.PRESERVATION: (Course.SYSTEM_USE, Course.QUERIES_AND_SEARCH),
}


class TrainingRequired(PolicyRefusal):
    """A function refused for want of current training; ``missing`` names the courses.
    ``field`` is "training", as a search refusal names its field."""

    field = "training"

    def __init__(self, user: str, function: Function, missing: Mapping[Course, str]) -> None:
        lacking = ", ".join(f"{course.value} ({why})" for course, why in missing.items())
        super().__init__(
            f"user {user!r} has no current training for {function.value} (PP-9126 B.3, B.5): "
            f"missing {lacking}; an administrator records training (alpr users training add)"
        )
        self.missing = tuple(missing)


@dataclass(frozen=True)
class TrainingRecord:
    user: str
    course: Course
    completed_on: date
    expires_on: date
    recorded_by: str
    recorded_at: datetime

    def current(self, today: date) -> bool:
        return self.completed_on <= today < self.expires_on

    def as_dict(self, today: date) -> dict[str, Any]:
        return {
            "user": self.user,
            "course": self.course.value,
            "completed_on": self.completed_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "current": self.current(today),
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


def record_training(
    conn: sa.Connection,
    name: str,
    course: Course | str,
    completed_on: date,
    expires_on: date,
    *,
    actor: User | str,
    now: datetime,
) -> TrainingRecord:
    """Record that the active user ``name`` completed ``course`` (an administrator, or the
    server operator as ``operator:<user>``); audited as ``user.training``."""
    now = require_utc(now)
    by = administrator(conn, actor, "record training")
    target = get_user(conn, name)
    if target.name == SERVICE_USER:
        raise AlprError(f"the built-in account {SERVICE_USER!r} takes no training")
    valid = _course(course)
    if completed_on > now.date():
        raise AlprError(f"training completed on {completed_on.isoformat()} is in the future")
    if expires_on <= completed_on:
        raise AlprError(
            f"training expiring on {expires_on.isoformat()} must expire after its completion "
            f"on {completed_on.isoformat()}"
        )
    row = {
        "user_name": target.name,
        "course": valid.value,
        "completed_on": completed_on,
        "expires_on": expires_on,
        "recorded_by": by,
        "recorded_at": now,
    }
    conn.execute(user_training.insert().values(**row))
    record(
        conn,
        actor=by,
        action=TRAINING_ACTION,
        subject=f"user:{target.name}",
        details={
            "course": valid.value,
            "completed_on": completed_on.isoformat(),
            "expires_on": expires_on.isoformat(),
        },
        now=now,
    )
    return TrainingRecord(target.name, valid, completed_on, expires_on, by, now)


def list_training(conn: sa.Connection, name: str | None = None) -> list[TrainingRecord]:
    """Training records, of ``name`` or everyone's, by user, course and completion."""
    query = sa.select(user_training).order_by(
        user_training.c.user_name,
        user_training.c.course,
        user_training.c.completed_on,
        user_training.c.training_id,
    )
    if name is not None:
        query = query.where(user_training.c.user_name == name)
    return [
        TrainingRecord(
            r.user_name,
            Course(r.course),
            r.completed_on,
            r.expires_on,
            r.recorded_by,
            utc(r.recorded_at),
        )
        for r in conn.execute(query)
    ]


def current_courses(conn: sa.Connection, name: str, *, now: datetime) -> frozenset[Course]:
    """The courses in which ``name`` is trained on ``now``'s UTC date."""
    today = require_utc(now).date()
    rows = conn.execute(
        sa.select(user_training.c.course)
        .where(
            user_training.c.user_name == name,
            user_training.c.completed_on <= today,
            user_training.c.expires_on > today,
        )
        .distinct()
    ).scalars()
    return frozenset(Course(c) for c in rows)


def require_training(conn: sa.Connection, name: str, function: Function, *, now: datetime) -> None:
    """Refuse ``function`` to ``name`` (``TrainingRequired``) unless trained in every course of
    ``REQUIRED_COURSES[function]`` on ``now``'s UTC date; the message says, per missing course,
    when its last training expired or that none is recorded."""
    today = require_utc(now).date()
    current = current_courses(conn, name, now=now)
    needed = [c for c in REQUIRED_COURSES[function] if c not in current]
    if not needed:
        return
    last = dict(
        conn.execute(
            sa.select(user_training.c.course, sa.func.max(user_training.c.expires_on))
            .where(
                user_training.c.user_name == name,
                user_training.c.course.in_([c.value for c in needed]),
                user_training.c.expires_on <= today,
            )
            .group_by(user_training.c.course)
        ).all()
    )
    missing = {
        c: f"expired on {last[c.value].isoformat()}" if c.value in last else "none recorded"
        for c in needed
    }
    raise TrainingRequired(name, function, missing)


def _course(course: Course | str) -> Course:
    try:
        return Course(course)
    except ValueError:
        raise AlprError(
            f"course {course!r} is not valid; valid values: {[c.value for c in Course]}"
        ) from None
