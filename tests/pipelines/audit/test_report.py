"""The administrator's audit report over PostgreSQL: who did what, when and why; searches per
user; searches without a case number; inactive users; failed logins; only for administrators,
and itself audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.report import REPORT_ACTION, audit_report
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user, authenticate
from pipelines.config import Settings
from pipelines.errors import AuthenticationError, PermissionDenied
from tests._users import PASSWORD

T0 = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 11, tzinfo=UTC)


def _search(engine: sa.Engine, actor: str, at: datetime, case: str, outcome: str = "ok") -> None:
    details = {
        "criteria": {"plate": "ABC123"},
        "reason_category": "stolen_vehicle",
        "reason": f"stolen sedan seen by {actor}",
        "case": case,
    }
    if outcome == "ok":
        details["results"] = 3
    with engine.begin() as conn:
        record(
            conn,
            actor=actor,
            action="search.reads",
            subject="reads",
            outcome=outcome,
            details=details,
            now=at,
        )


@pytest.fixture
def seeded(engine: sa.Engine, catalog_settings: Settings) -> sa.Engine:
    auth = catalog_settings.auth.__class__(
        **{**catalog_settings.auth.__dict__, "max_failed_logins": 2}
    )
    with engine.begin() as conn:
        add_user(conn, "ada", Role.ADMINISTRATOR, PASSWORD, actor="operator", now=T0, auth=auth)
        add_user(conn, "jdoe", Role.AGENT, PASSWORD, actor="ada", now=T0, auth=auth)
        add_user(
            conn, "old", Role.AGENT, PASSWORD, actor="ada", now=T0 - timedelta(days=200), auth=auth
        )
        add_user(
            conn, "cy", Role.AGENT, PASSWORD, actor="ada", now=T0 - timedelta(days=100), auth=auth
        )
    with engine.begin() as conn:  # cy logged in 95 days before the end: inactive at 90
        authenticate(conn, "cy", PASSWORD, now=END - timedelta(days=95), auth=auth)
    with engine.begin() as conn:
        authenticate(conn, "jdoe", PASSWORD, now=T0 + timedelta(days=1), auth=auth)
    for attempt in range(2):  # two failures lock jdoe's account
        with pytest.raises(AuthenticationError), engine.begin() as conn:
            authenticate(
                conn, "jdoe", "nope", now=T0 + timedelta(days=2, minutes=attempt), auth=auth
            )
    with pytest.raises(AuthenticationError), engine.begin() as conn:
        authenticate(conn, "mallory", "guess", now=T0 + timedelta(days=3), auth=auth)
    _search(engine, "jdoe", T0 + timedelta(days=4), case="26-001234")
    _search(engine, "jdoe", T0 + timedelta(days=5), case="")
    _search(engine, "jdoe", T0 + timedelta(days=6), case="", outcome="refused")
    _search(engine, "ada", T0 + timedelta(days=7), case="")
    _search(engine, "ada", END + timedelta(hours=1), case="")  # after the period
    return engine


def test_the_report_answers_who_did_what_when_and_why(seeded: sa.Engine) -> None:
    with seeded.begin() as conn:
        report = audit_report(conn, T0, END, inactive_days=90, by="operator:root", now=END)
    events = report.events
    assert events["occurred_at"].min() >= T0 and events["occurred_at"].max() < END
    assert events.filter(pl.col("action") == "search.reads").height == 4
    refused = events.filter(pl.col("outcome") == "refused").row(0, named=True)
    assert (refused["actor"], refused["why"]) == ("jdoe", "stolen sedan seen by jdoe")
    assert report.searches_per_user.rows() == [("ada", 1, 0, 0, 1, 3), ("jdoe", 2, 1, 0, 1, 6)]
    assert report.searches_without_case.select("actor", "reason").rows() == [
        ("jdoe", "stolen sedan seen by jdoe"),
        ("ada", "stolen sedan seen by ada"),
    ]
    assert report.inactive_users["name"].to_list() == ["cy", "old"]
    assert report.failed_logins.rows() == [
        ("jdoe", 2, T0 + timedelta(days=2, minutes=1), "wrong_password", 1),
        ("mallory", 1, T0 + timedelta(days=3), "unknown_user", 0),
    ]
    text = report.markdown()
    assert "## Searches without a case number" in text and "| jdoe | 2 | 1 | 0 | 1 | 6 |" in text
    assert report.as_dict()["failed_logins"][1]["name"] == "mallory"
    with seeded.connect() as conn:
        [(actor, details)] = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details).where(
                audit_events.c.action == REPORT_ACTION
            )
        ).all()
    assert actor == "operator:root" and '"start":"2026-03-01T00:00:00+00:00"' in details


def test_only_administrators_read_the_report(seeded: sa.Engine) -> None:
    with (
        pytest.raises(PermissionDenied, match="may not read the audit report"),
        seeded.begin() as conn,
    ):
        audit_report(
            conn, T0, END, inactive_days=90, by=User("jdoe", Role.ADMINISTRATOR, True), now=END
        )
    with seeded.begin() as conn:
        report = audit_report(
            conn, T0, END, inactive_days=30, by=User("ada", Role.ADMINISTRATOR, True), now=END
        )
    assert report.inactive_users["name"].to_list() == ["cy", "old"]
