"""The preservation job, run by Dagster with launchpad config: a window fans out into one hold per
UTC day as the named administrator, a re-run changes nothing, a misdemeanor basis is not in the
choice list, and a user who is not an administrator is refused by the core."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.preservation.jobs import PreservationRequest, preservation_job
from assets.resources import AlprSettings
from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, add_user
from pipelines.config import Settings
from pipelines.errors import PermissionDenied
from pipelines.preservation import LegalBasis, list_holds
from pipelines.preservation.backfill import split_by_day
from pipelines.preservation.selection import Selection
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests.pipelines.retention._data import Day, seed

FAST_AUTH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}


@pytest.fixture
def evidence_config(settings: Settings, alpr_config: Path, as_of: datetime) -> Path:
    """The test's settings file with an evidence bucket of its own, and two catalog users."""
    with alpr_config.open("a") as out:
        out.write(f'[preservation]\nevidence_bucket = "evid-{uuid.uuid4().hex[:10]}"\n')
    upgrade_catalog(settings.catalog_url)
    auth = settings.replace(auth=FAST_AUTH).auth
    with engine_for(settings.catalog_url).begin() as conn:
        for name, role in (("ada", Role.ADMINISTRATOR), ("bob", Role.AGENT)):
            add_user(conn, name, role, "correct horse", actor="operator", now=as_of, auth=auth)
    return alpr_config


@pytest.fixture
def day(settings: Settings, as_of: datetime) -> Day:
    return seed(settings, as_of, (as_of - timedelta(days=10)).date())


def _request(day: Day, user: str, **changes: object) -> PreservationRequest:
    start = datetime.combine(day.day, time(), tzinfo=UTC)
    fields: dict[str, object] = {
        "as_of": (datetime.combine(day.day, time(), tzinfo=UTC) + timedelta(days=10)).isoformat(),
        "user": user,
        "case": "24-001234",
        "basis": LegalBasis.FELONY_CRIMINAL_INVESTIGATION,
        "reason": "armed robbery, suspect vehicle",
        "cameras": ["cam-01"],
        "window_from": start.isoformat(),
        "window_to": (start + timedelta(days=2)).isoformat(),
    }
    return PreservationRequest(**(fields | changes))  # type: ignore[arg-type]


def _run(config_path: Path, request: PreservationRequest) -> dg.ExecuteInProcessResult:
    return preservation_job.execute_in_process(
        run_config=dg.RunConfig({"plan_days": request}),
        resources={"alpr": AlprSettings(config_path=str(config_path))},
        raise_on_error=False,
    )


def test_a_window_places_one_hold_per_day_as_the_administrator_and_a_rerun_changes_nothing(
    settings: Settings, evidence_config: Path, day: Day
) -> None:
    result = _run(evidence_config, _request(day, "ada"))

    assert result.success
    done = result.output_for_node("holds_placed")
    assert [d["created"] for d in done] == [True, True]
    with engine_for(settings.catalog_url).connect() as conn:
        holds = list_holds(conn)
    assert {(h.case_number, h.placed_by, h.legal_basis) for h in holds} == {
        ("24-001234", "ada", "felony_criminal_investigation")
    }
    windows = sorted((h.selection.start, h.selection.end) for h in holds)
    midnight = datetime.combine(day.day, time(), tzinfo=UTC)
    assert windows == [
        (midnight, midnight + timedelta(days=1)),
        (midnight + timedelta(days=1), midnight + timedelta(days=2)),
    ]
    # the seeded day's cam-01 images and their reads were copied; the empty day holds nothing
    objects = sorted(int(str(d["objects"])) for d in done)
    assert objects[0] == 0 and objects[1] > 0

    again = _run(evidence_config, _request(day, "ada"))

    assert [d["created"] for d in again.output_for_node("holds_placed")] == [False, False]
    with engine_for(settings.catalog_url).connect() as conn:
        assert len(list_holds(conn)) == 2


def _launchpad(basis: str) -> dict[str, object]:
    request = {"user": "ada", "case": "24-9", "basis": basis, "reason": "r", "plates": ["ABC123"]}
    return {"ops": {"plan_days": {"config": request}}}


@pytest.mark.parametrize("basis", [b.name for b in LegalBasis])
def test_the_launchpad_offers_each_basis_of_c4c(basis: str) -> None:
    dg.validate_run_config(preservation_job, _launchpad(basis))


@pytest.mark.parametrize("basis", ["MISDEMEANOR_CRIMINAL_INVESTIGATION", "misdemeanor", "OTHER"])
def test_a_misdemeanor_is_not_a_basis_the_launchpad_accepts(basis: str) -> None:
    with pytest.raises(dg.DagsterInvalidConfigError, match="not in enum type LegalBasis"):
        dg.validate_run_config(preservation_job, _launchpad(basis))


def test_a_user_who_is_not_an_administrator_is_refused_and_audited(
    settings: Settings, evidence_config: Path, day: Day
) -> None:
    result = _run(evidence_config, _request(day, "bob"))

    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert failures and all(
        PermissionDenied.__name__ in str(e.step_failure_data.error) for e in failures
    )
    with engine_for(settings.catalog_url).connect() as conn:
        assert not list_holds(conn)
        refused = conn.execute(
            sa.select(audit_events.c.actor).where(audit_events.c.outcome == "refused")
        ).scalars()
        assert set(refused) == {"bob"}


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2026-03-10T14:00+00:00", "2026-03-10T15:00+00:00", 1),
        ("2026-03-10T14:00+00:00", "2026-03-12T00:00+00:00", 2),
        ("2026-03-10T23:59+00:00", "2026-03-13T00:01+00:00", 4),
    ],
)
def test_the_day_shares_cover_the_window_exactly(start: str, end: str, days: int) -> None:
    whole = Selection(plates=("ABC123",), start=start, end=end, read_ids=("r1",))  # type: ignore[arg-type]
    parts = split_by_day(whole)
    windows = [(p.start, p.end) for p in parts if p.start]
    assert len(windows) == days
    assert windows[0][0] == whole.start and windows[-1][1] == whole.end
    assert all(a[1] == b[0] for a, b in pairwise(windows))
    assert all(p.plates == ("ABC123",) and not p.read_ids for p in parts if p.start)
    assert [p.read_ids for p in parts if not p.start] == [("r1",)]
