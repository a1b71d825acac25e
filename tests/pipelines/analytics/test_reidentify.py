"""Re-identifying a pseudonym over SeaweedFS and PostgreSQL: the reason gate of search, agents and
administrators only (analysts refused), audited either way with the pseudonym and the reason,
never the plate; the plate is found by hashing the reads again (no mapping stored)."""

from __future__ import annotations

import json
from datetime import datetime

import polars as pl
import pytest

from pipelines.analytics import (
    REIDENTIFY_ACTION,
    ReidentifyRequest,
    analytics_key,
    build_sightings,
    reidentify,
)
from pipelines.audit.users import Role
from pipelines.config import Settings
from pipelines.errors import PermissionDenied
from pipelines.search import SearchRefusal
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import DAY1, DAY2, GOOD, PLATES, entries, seeded, user


def _pseudonym_of(settings: Settings, plate: str) -> str:
    return str(analytics_key(settings.analytics).pseudonyms(pl.Series([plate]))[0])


@pytest.fixture
def built(settings: Settings) -> Settings:
    analytics = seeded(settings)
    build_sightings(analytics, DAY1)
    build_sightings(analytics, DAY2)
    return analytics


def test_a_good_reidentification_returns_the_plate_and_audits_no_plate(
    built: Settings, as_of: datetime
) -> None:
    agent = user(built, "jdoe", Role.AGENT, as_of)
    pseudonym = _pseudonym_of(built, "B0S123")
    assert pseudonym in set(scan_table(built, SIGHTINGS).collect()["pseudonym"])

    found = reidentify(built, agent, ReidentifyRequest(pseudonym, **GOOD), now=as_of)

    assert found.plates.rows() == [("B0S123", "co", 3)]
    assert found.sightings == 3
    [entry] = entries(built, REIDENTIFY_ACTION)
    assert (entry["actor"], entry["outcome"], entry["event_id"]) == ("jdoe", "ok", found.event_id)
    assert entry["details"] == {
        "pseudonym": pseudonym,
        "reason_category": "stolen_vehicle",
        "reason": GOOD["reason"],
        "case": "",
        "sightings": 3,
        "results": 1,
    }
    assert entry["subject"] == f"pseudonym:{pseudonym}"
    assert not any(plate in json.dumps(entry, default=str) for plate in PLATES)


def test_reidentification_is_refused_without_a_reason_or_for_an_analyst_and_audited(
    built: Settings, as_of: datetime
) -> None:
    agent = user(built, "jdoe", Role.AGENT, as_of)
    analyst = user(built, "ann", Role.ANALYST, as_of)
    pseudonym = _pseudonym_of(built, "B0S123")

    with pytest.raises(SearchRefusal, match="reason_category: missing") as missing:
        reidentify(built, agent, ReidentifyRequest(pseudonym), now=as_of)
    assert missing.value.field == "reason_category"
    with pytest.raises(SearchRefusal, match="reason: too vague"):
        reidentify(
            built,
            agent,
            ReidentifyRequest(pseudonym, "stolen_vehicle", "investigation test inv"),
            now=as_of,
        )
    civil = {**GOOD, "reason_category": "civil_litigation", "case": "CV-12"}
    with pytest.raises(SearchRefusal, match="not a law-enforcement reason"):
        reidentify(built, agent, ReidentifyRequest(pseudonym, **civil), now=as_of)
    with pytest.raises(
        PermissionDenied,
        match="may not re-identify a pseudonym; allowed roles: administrator, agent",
    ):
        reidentify(built, analyst, ReidentifyRequest(pseudonym, **GOOD), now=as_of)
    with pytest.raises(SearchRefusal, match="pseudonym: not a pseudonym"):
        reidentify(built, agent, ReidentifyRequest("B0S123", **GOOD), now=as_of)

    logged = entries(built, REIDENTIFY_ACTION)
    assert [(e["actor"], e["outcome"], e["details"]["field"]) for e in logged] == [
        ("jdoe", "refused", "reason_category"),
        ("jdoe", "refused", "reason"),
        ("jdoe", "refused", "reason_category"),
        ("ann", "refused", "user"),
        ("jdoe", "refused", "pseudonym"),
    ]
    assert all(e["details"]["pseudonym"] for e in logged)
    assert logged[3]["details"]["reason"] == GOOD["reason"]


def test_an_unknown_pseudonym_finds_nothing_and_is_audited(
    built: Settings, as_of: datetime
) -> None:
    admin = user(built, "ada", Role.ADMINISTRATOR, as_of)
    found = reidentify(built, admin, ReidentifyRequest("0" * 32, **GOOD), now=as_of)
    assert (found.sightings, found.plates.height) == (0, 0)
    [entry] = entries(built, REIDENTIFY_ACTION)
    assert (entry["outcome"], entry["details"]["results"]) == ("ok", 0)
