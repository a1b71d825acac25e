"""Rotating the key over SeaweedFS and PostgreSQL: every day rebuilt with the new key, by an
administrator only, audited with versions and fingerprints and never the key; old pseudonyms
then match nothing; a re-run rebuilds nothing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pipelines.analytics import (
    ROTATE_ACTION,
    AnalyticsKeyError,
    ReidentifyRequest,
    analytics_key,
    build_sightings,
    reidentify,
    rotate_key,
)
from pipelines.audit.users import Role
from pipelines.config import Settings
from pipelines.errors import PermissionDenied
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import (
    DAY1,
    DAY2,
    GOOD,
    KEY,
    OTHER_KEY,
    entries,
    seeded,
    user,
    with_key,
)


def test_a_rotation_rebuilds_every_day_with_the_new_key_and_is_audited_without_it(
    settings: Settings, as_of: datetime
) -> None:
    old = seeded(settings)
    build_sightings(old, DAY1)
    build_sightings(old, DAY2)
    before = scan_table(old, SIGHTINGS).collect()
    admin = user(old, "ada", Role.ADMINISTRATOR, as_of)
    new = with_key(old, OTHER_KEY, 2)

    rotation = rotate_key(new, admin, now=as_of)

    after = scan_table(new, SIGHTINGS).collect()
    assert (rotation.days, rotation.rows, rotation.previous_versions) == ((DAY1, DAY2), 6, (1,))
    assert after["key_version"].unique().to_list() == [2]
    assert after["key_id"].unique().to_list() == [analytics_key(new.analytics).key_id]
    assert not set(before["pseudonym"]) & set(after["pseudonym"])
    assert after["pseudonym"].n_unique() == before["pseudonym"].n_unique() == 4
    [entry] = entries(new, ROTATE_ACTION)
    assert (entry["actor"], entry["outcome"]) == ("ada", "ok")
    assert entry["details"] == {
        "key_version": 2,
        "key_id": rotation.key_id,
        "previous_versions": [1],
        "days": 2,
        "rows": 6,
    }
    logged = json.dumps(entry, default=str)
    assert KEY not in logged and OTHER_KEY not in logged
    # an old pseudonym names nothing now; a re-run has nothing left to rebuild
    agent = user(new, "jdoe", Role.AGENT, as_of)
    stale = reidentify(new, agent, ReidentifyRequest(before["pseudonym"][0], **GOOD), now=as_of)
    assert stale.plates.height == 0
    assert rotate_key(new, admin, now=as_of).days == ()


def test_a_rotation_needs_an_administrator_and_a_new_version(
    settings: Settings, as_of: datetime
) -> None:
    old = seeded(settings)
    build_sightings(old, DAY1)
    agent = user(old, "jdoe", Role.AGENT, as_of)
    admin = user(old, "ada", Role.ADMINISTRATOR, as_of)

    with pytest.raises(PermissionDenied, match="may not rotate the analytics key"):
        rotate_key(with_key(old, OTHER_KEY, 2), agent, now=as_of)
    with pytest.raises(AnalyticsKeyError, match="needs a new analytics"):
        rotate_key(with_key(old, OTHER_KEY, 1), admin, now=as_of)
    assert scan_table(old, SIGHTINGS).collect()["key_id"].unique().to_list() == [
        analytics_key(old.analytics).key_id
    ]
    logged = entries(old, ROTATE_ACTION)
    assert [(e["actor"], e["outcome"]) for e in logged] == [
        ("jdoe", "refused"),
        ("ada", "refused"),
    ]
    assert OTHER_KEY not in json.dumps(logged, default=str)


def test_a_pseudonym_of_a_replaced_key_is_not_reidentified_before_the_rebuild(
    settings: Settings, as_of: datetime
) -> None:
    old = seeded(settings)
    build_sightings(old, DAY1)
    pseudonym = scan_table(old, SIGHTINGS).collect()["pseudonym"][0]
    agent = user(old, "jdoe", Role.AGENT, as_of)

    with pytest.raises(AnalyticsKeyError, match="made with another key"):
        reidentify(
            with_key(old, OTHER_KEY, 2), agent, ReidentifyRequest(pseudonym, **GOOD), now=as_of
        )
    [entry] = entries(old, "analytics.reidentify")
    assert (entry["outcome"], entry["details"]["why"]) == ("refused", "AnalyticsKeyError")
