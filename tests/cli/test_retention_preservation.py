"""The `alpr retention`, `alpr preserve` and `alpr holds` contract, run as an operator runs it."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines.config import Settings
from tests._users import PASSWORD
from tests.cli._run import alpr
from tests.pipelines.retention._data import Day, seed


@pytest.fixture
def env(alpr_env: dict[str, str]) -> dict[str, str]:
    bucket = f"evid-{uuid.uuid4().hex[:10]}"
    return {**alpr_env, "ALPR_PRESERVATION_EVIDENCE_BUCKET": bucket}


@pytest.fixture
def old_day(settings: Settings, as_of: datetime) -> Day:
    return seed(settings, as_of, (as_of - timedelta(days=370)).date())


def test_retention_run_prints_a_summary_per_data_class(
    env: dict[str, str], as_of: datetime, old_day: Day
) -> None:
    day = as_of.date().isoformat()
    dry = alpr(env, "retention", "run", "--dry-run", "--as-of", day)
    assert dry.returncode == 0, dry.stderr
    summary = json.loads(dry.stdout)
    assert summary["dry_run"] is True
    assert set(summary["classes"]) == {"images", "reads", "quarantine", "alerts"}
    assert summary["classes"]["images"]["deleted"] == len(old_day.keys)
    done = alpr(env, "retention", "run", "--as-of", day)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["classes"]["reads"]["rows"]["reads"] == len(old_day.plates)
    assert not any(p in done.stdout + done.stderr for p in old_day.plates)
    again = json.loads(alpr(env, "retention", "run", "--as-of", day).stdout)
    assert all(c["deleted"] == 0 for c in again["classes"].values())


def test_preserve_holds_list_and_release(
    env: dict[str, str], as_of: datetime, old_day: Day
) -> None:
    for name, role in (("ada", "administrator"), ("bob", "agent")):
        added = alpr(
            env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
        )
        assert added.returncode == 0, added.stderr
    base = ["preserve", "--case", "24-5", "--reason", "robbery", "--plate", old_day.plates[0]]
    refused = alpr(
        env,
        *base,
        "--user",
        "ada",
        "--basis",
        "misdemeanor criminal investigation",
        password=PASSWORD,
    )
    assert refused.returncode == 2 and "C.R.S. 24-72-113" in refused.stderr and not refused.stdout
    agent = alpr(
        env, *base, "--user", "bob", "--basis", "felony_criminal_investigation", password=PASSWORD
    )
    assert agent.returncode == 2 and "administrator" in agent.stderr
    nothing = alpr(
        env,
        "preserve",
        "--user",
        "ada",
        "--case",
        "1",
        "--basis",
        "personnel_matter",
        "--reason",
        "r",
        password=PASSWORD,
    )
    assert nothing.returncode == 2 and "selects specific data" in nothing.stderr
    done = alpr(
        env, *base, "--user", "ada", "--basis", "felony_criminal_investigation", password=PASSWORD
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["hold_id"].startswith("hold-") and result["manifest"].endswith("manifest.json")
    assert Path(result["bundle_zip"]).is_file()
    listed = [json.loads(line) for line in alpr(env, "holds", "list").stdout.splitlines()]
    assert [h["hold_id"] for h in listed] == [result["hold_id"]]
    assert old_day.plates[0] not in json.dumps(listed)  # listings count plates, never show them
    kept = json.loads(alpr(env, "retention", "run", "--as-of", as_of.date().isoformat()).stdout)
    assert kept["classes"]["reads"]["held"] == 1
    no_reason = alpr(
        env,
        "holds",
        "release",
        result["hold_id"],
        "--user",
        "ada",
        "--reason",
        " ",
        password=PASSWORD,
    )
    assert no_reason.returncode == 2 and "reason" in no_reason.stderr
    released = alpr(
        env,
        "holds",
        "release",
        result["hold_id"],
        "--user",
        "ada",
        "--reason",
        "case closed",
        password=PASSWORD,
    )
    assert released.returncode == 0, released.stderr
    assert json.loads(released.stdout)["released_by"] == "ada"
