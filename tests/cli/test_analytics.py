"""The `alpr analytics` verbs run as a user runs them: build a day, an analyst's
audited analysis, re-identification refused for the analyst and granted to an agent with a
law-enforcement reason, and the key masked in `alpr config`."""

from __future__ import annotations

import json

import pytest

from pipelines.config import Settings
from pipelines.storage.catalog import upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr
from tests.pipelines.analytics._sightings import DAY1, DAY2, GOOD, KEY, PLATES, READS, with_key
from tests.pipelines.search._reads import write_reads


@pytest.mark.slow
def test_build_analyse_and_reidentify_from_the_command_line(settings: Settings) -> None:
    keyed = with_key(settings)
    env = keyed.as_env()
    upgrade_catalog(keyed.catalog_url)
    write_reads(keyed, READS)
    for name, role in (("jdoe", "agent"), ("ann", "analyst")):
        added = alpr(env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0, added.stderr
    for day in (DAY1, DAY2):
        built = alpr(env, "analytics", "build", day.isoformat())
        assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout) == {
        "capture_date": DAY2.isoformat(),
        "rows": 2,
        "key_version": 1,
    }

    found = alpr(
        env,
        "analytics",
        "patterns",
        "multi_camera",
        "--user",
        "ann",
        "--from",
        DAY1.isoformat(),
        "--to",
        DAY2.isoformat(),
        password=PASSWORD,
    )
    assert found.returncode == 0, found.stderr
    [row] = [json.loads(line) for line in found.stdout.splitlines()]
    assert (row["cameras"], row["sightings"]) == (2, 3)
    assert not any(plate in found.stdout + found.stderr for plate in PLATES)
    reason = ("--reason-category", GOOD["reason_category"], "--reason", GOOD["reason"])
    refused = alpr(
        env,
        "analytics",
        "reidentify",
        row["pseudonym"],
        "--user",
        "ann",
        *reason,
        password=PASSWORD,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "may not re-identify a pseudonym" in refused.stderr
    no_reason = alpr(
        env, "analytics", "reidentify", row["pseudonym"], "--user", "jdoe", password=PASSWORD
    )
    assert no_reason.returncode == 2
    assert "reason_category: missing" in no_reason.stderr
    granted = alpr(
        env,
        "analytics",
        "reidentify",
        row["pseudonym"],
        "--user",
        "jdoe",
        *reason,
        password=PASSWORD,
    )
    assert granted.returncode == 0, granted.stderr
    assert [json.loads(line) for line in granted.stdout.splitlines()] == [
        {"plate_text": "B0S123", "jurisdiction": "co", "reads": 3}
    ]
    shown = alpr(env, "config")
    assert json.loads(shown.stdout)["analytics"]["key"] == "****" and KEY not in shown.stdout
