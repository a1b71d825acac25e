"""The administrator's audit report of a period (PP-9126 C.7): the designated ALPR
administrator (B.7); who did what, when and why; searches per user; searches without a case
number; users inactive for N days; failed logins.

Built from the audit log and the users table with polars; reading the report is itself audited
(``audit.report``), since it shows reasons and search criteria. Users count as inactive when
their last login (or their creation, if they never logged in) is ``inactive_days`` or more
before the period's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.designation import designations
from pipelines.audit.log import record, require_utc
from pipelines.audit.tables import audit_events, users
from pipelines.audit.users import SERVICE_USER, Role, User, get_user, require_role
from pipelines.errors import AlprError

__all__ = ["REPORT_ACTION", "AuditReport", "audit_report"]

REPORT_ACTION = "audit.report"
_SEARCH = "search.reads"
_UTC = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class AuditReport:
    start: datetime
    end: datetime
    inactive_days: int
    designated: pl.DataFrame  # user, designated_by, since, until: B.7 within the period
    events: pl.DataFrame  # occurred_at, actor, action, subject, outcome, why
    searches_per_user: pl.DataFrame  # actor, searches, refused, failed, without_case, results
    searches_without_case: pl.DataFrame  # occurred_at, actor, reason_category, reason, results
    inactive_users: pl.DataFrame  # name, role, last_login_at, created_at
    failed_logins: pl.DataFrame  # name, failures, last_failed_at, reasons, locked

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "inactive_days": self.inactive_days,
            "designated_administrators": _rows(self.designated),
            "events": _rows(self.events),
            "searches_per_user": _rows(self.searches_per_user),
            "searches_without_case": _rows(self.searches_without_case),
            "inactive_users": _rows(self.inactive_users),
            "failed_logins": _rows(self.failed_logins),
        }

    def markdown(self) -> str:
        sections = [
            ("Designated ALPR administrator (PP-9126 B.7)", self.designated),
            (f"Users inactive for {self.inactive_days} days or more", self.inactive_users),
            ("Failed logins", self.failed_logins),
            ("Searches per user", self.searches_per_user),
            ("Searches without a case number", self.searches_without_case),
            ("Who did what, when and why", self.events),
        ]
        lines = [f"# Audit report {self.start.isoformat()} to {self.end.isoformat()}", ""]
        for title, frame in sections:
            lines += [f"## {title}", "", _table(frame), ""]
        return "\n".join(lines)


def audit_report(
    conn: sa.Connection,
    start: datetime,
    end: datetime,
    *,
    inactive_days: int,
    by: User | str,
    now: datetime,
) -> AuditReport:
    """The report of ``[start, end)``. ``by`` is an administrator (checked against the catalog)
    or, as a string, the server operator running ``alpr audit report`` (``operator:<user>``)."""
    start, end, now = require_utc(start), require_utc(end), require_utc(now)
    if start >= end:
        raise AlprError("the report period must end after it starts (--from before --to)")
    actor = by if isinstance(by, str) else by.name
    if not isinstance(by, str):
        require_role(get_user(conn, by.name), Role.ADMINISTRATOR, action="read the audit report")
    events = _events(conn, start, end)
    report = AuditReport(
        start=start,
        end=end,
        inactive_days=inactive_days,
        designated=_designated(conn, start, end),
        events=events.select("occurred_at", "actor", "action", "subject", "outcome", "why"),
        searches_per_user=_searches_per_user(events),
        searches_without_case=_searches_without_case(events),
        inactive_users=_inactive_users(conn, end - timedelta(days=inactive_days)),
        failed_logins=_failed_logins(events),
    )
    record(
        conn,
        actor=actor,
        action=REPORT_ACTION,
        subject="audit_events",
        details={"start": start.isoformat(), "end": end.isoformat(), "events": events.height},
        now=now,
    )
    return report


def _events(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    rows = conn.execute(
        sa.select(
            audit_events.c.event_id,
            audit_events.c.occurred_at,
            audit_events.c.actor,
            audit_events.c.action,
            audit_events.c.subject,
            audit_events.c.outcome,
            audit_events.c.details,
        )
        .where(audit_events.c.occurred_at >= start, audit_events.c.occurred_at < end)
        .order_by(audit_events.c.event_id)
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "event_id": pl.Int64,
            "occurred_at": _UTC,
            "actor": pl.String,
            "action": pl.String,
            "subject": pl.String,
            "outcome": pl.String,
            "details": pl.String,
        },
        orient="row",
    )
    detail = pl.col("details")
    return frame.with_columns(
        why=pl.coalesce(
            detail.str.json_path_match("$.reason"), detail.str.json_path_match("$.why")
        ),
        case=detail.str.json_path_match("$.case"),
        reason_category=detail.str.json_path_match("$.reason_category"),
        results=detail.str.json_path_match("$.results").cast(pl.Int64),
    )


def _designated(conn: sa.Connection, start: datetime, end: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        [(d.user, d.designated_by, d.since, d.until) for d in designations(conn, start, end)],
        schema={"user": pl.String, "designated_by": pl.String, "since": _UTC, "until": _UTC},
        orient="row",
    )


def _searches_per_user(events: pl.DataFrame) -> pl.DataFrame:
    searches = events.filter(pl.col("action") == _SEARCH)
    ok = pl.col("outcome") == "ok"
    return (
        searches.group_by("actor")
        .agg(
            searches=ok.sum(),
            refused=(pl.col("outcome") == "refused").sum(),
            failed=(pl.col("outcome") == "failed").sum(),
            without_case=(ok & (pl.col("case").fill_null("") == "")).sum(),
            results=pl.col("results").sum(),
        )
        .sort("actor")
    )


def _searches_without_case(events: pl.DataFrame) -> pl.DataFrame:
    return events.filter(
        pl.col("action") == _SEARCH,
        pl.col("outcome") == "ok",
        pl.col("case").fill_null("") == "",
    ).select("occurred_at", "actor", "reason_category", reason="why", results="results")


def _failed_logins(events: pl.DataFrame) -> pl.DataFrame:
    logins = events.filter(pl.col("action").is_in(["auth.login", "auth.lock"]))
    failed = (pl.col("action") == "auth.login") & (pl.col("outcome") == "failed")
    return (
        logins.filter(failed | (pl.col("action") == "auth.lock"))
        .group_by(name="actor")
        .agg(
            failures=failed.sum(),
            last_failed_at=pl.col("occurred_at").filter(failed).max(),
            reasons=pl.col("why").filter(failed).unique().sort().str.join(", "),
            locked=(pl.col("action") == "auth.lock").sum(),
        )
        .sort("name")
    )


def _inactive_users(conn: sa.Connection, since: datetime) -> pl.DataFrame:
    rows = conn.execute(
        sa.select(users.c.name, users.c.role, users.c.last_login_at, users.c.created_at)
        .where(users.c.active, users.c.name != SERVICE_USER)
        .order_by(users.c.name)
    ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"name": pl.String, "role": pl.String, "last_login_at": _UTC, "created_at": _UTC},
        orient="row",
    )
    return frame.filter(pl.coalesce("last_login_at", "created_at") <= since)


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]


def _table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "(none)"
    cells = frame.with_columns(pl.all().cast(pl.String).fill_null(""))
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |"
        for row in cells.iter_rows()
    ]
    return "\n".join([header, rule, *body])
