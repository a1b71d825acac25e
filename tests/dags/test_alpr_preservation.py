"""The preservation DAG, triggered with a run conf as the trigger form sends it: one hold per UTC
day of the window, as the administrator named; its Params are the form's contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from airflow.sdk.definitions.timetables.simple import NullTimetable

from pipelines.audit.users import Role, add_user
from pipelines.config import Settings
from pipelines.preservation import LegalBasis, list_holds
from pipelines.preservation.tables import preserved_objects
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests.pipelines.retention._data import seed

FAST_AUTH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}
REQUIRED = ("user", "case", "basis", "reason")


def test_required_params_have_no_default_and_the_basis_is_a_choice_list(dag_bag: Any) -> None:
    dag = dag_bag.dags["alpr_preservation"]
    params = {name: dag.params.get_param(name) for name in dag.params}
    assert isinstance(dag.timetable, NullTimetable)  # schedule=None: manual only
    # no default at all (NOTSET), not a default of None: the form will not submit without them
    assert {name for name, p in params.items() if repr(p.value) == "NOTSET"} == set(REQUIRED)
    assert params["basis"].schema["enum"] == [b.value for b in LegalBasis]
    assert not any("misdemeanor" in b for b in params["basis"].schema["enum"])
    for name in ("plates", "cameras", "read_ids"):
        assert params[name].schema["type"] == "array"
    for name in ("window_from", "window_to"):
        assert params[name].schema["format"] == "date-time"


@pytest.fixture
def evidence(settings: Settings, monkeypatch: pytest.MonkeyPatch, as_of: datetime) -> None:
    monkeypatch.setenv("ALPR_PRESERVATION_EVIDENCE_BUCKET", f"evid-{uuid.uuid4().hex[:10]}")
    upgrade_catalog(settings.catalog_url)
    auth = settings.replace(auth=FAST_AUTH).auth
    with engine_for(settings.catalog_url).begin() as conn:
        add_user(conn, "ada", Role.ADMINISTRATOR, "correct horse", actor="op", now=as_of, auth=auth)


def test_a_triggered_run_places_one_hold_per_day_as_the_administrator(
    dag_bag: Any, settings: Settings, alpr_environ: None, evidence: None, as_of: datetime
) -> None:
    day = seed(settings, as_of, (as_of - timedelta(days=10)).date())
    start = datetime.combine(day.day, time(), tzinfo=UTC)
    conf = {
        "user": "ada",
        "case": "24-001234",
        "basis": "civil_lawsuit",
        "reason": "notice of intent to sue",
        "plates": [day.plates[0]],
        "window_from": start.isoformat(),
        "window_to": (start + timedelta(days=2)).isoformat(),
    }
    dag = dag_bag.dags["alpr_preservation"]

    assert dag.test(run_after=as_of, run_conf=conf).state == "success"

    with engine_for(settings.catalog_url).connect() as conn:
        holds = list_holds(conn)
        kinds = conn.execute(
            sa.select(preserved_objects.c.hold_id, preserved_objects.c.kind).distinct()
        ).all()
    assert len(holds) == 2
    assert {(h.case_number, h.placed_by, h.legal_basis) for h in holds} == {
        ("24-001234", "ada", "civil_lawsuit")
    }
    assert all(h.selection.plates == (day.plates[0],) for h in holds)
    assert sorted(h.selection.start.date() for h in holds if h.selection.start) == [
        day.day,
        day.day + timedelta(days=1),
    ]
    # the seeded day's hold copied the read's image, sidecar, crop and record; the next day none
    seeded_hold = next(h.hold_id for h in holds if h.selection.start == start)
    assert {k for h, k in kinds if h == seeded_hold} == {"image", "sidecar", "crop", "reads"}
    assert not [k for h, k in kinds if h != seeded_hold]
