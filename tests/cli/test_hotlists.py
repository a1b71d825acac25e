"""The `alpr hotlists` contract, run as a user (and the external checks) run it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.audit.users import Role, add_user
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr
from tests.pipelines.hotlists.samples import CCIC_GOOD, NCIC_GOOD, NCIC_HEADER, ncic_record


def test_import_and_entries(alpr_env: dict[str, str], tmp_path: Path) -> None:
    ncic = tmp_path / "ncic.txt"
    ncic.write_text(NCIC_GOOD)
    done = alpr(alpr_env, "hotlists", "import", str(ncic), "--format", "ncic", "--list", "ncic")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "list": "ncic",
        "version": 1,
        "entries": 6,
        "added": 6,
        "removed": 0,
        "changed": 0,
        "skipped": 1,
    }
    listed = alpr(alpr_env, "hotlists", "entries", "--list", "ncic", "--format", "jsonl")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    moto = next(r for r in rows if r["plate"] == "AB123456")
    assert (moto["state"], moto["list_code"], moto["entry_date"]) == ("CA", "V", "20190509")
    assert {r["state"] for r in rows if r["plate"] == "KLM456"} == {"CO", "WY"}
    assert any(r["plate"] == "OHI777" and r["state"] == "OH" for r in rows)

    ccic = tmp_path / "ccic.txt"
    ccic.write_text(CCIC_GOOD)
    done = alpr(alpr_env, "hotlists", "import", str(ccic), "--format", "ccic", "--list", "ccic")
    assert done.returncode == 0, done.stderr
    listed = alpr(alpr_env, "hotlists", "entries", "--list", "ccic", "--format", "jsonl")
    types = {json.loads(line)["list_type"] for line in listed.stdout.splitlines()}
    assert types == {
        "Attempt To Locate",
        "Stolen Plate",
        "Stolen/Car Jacking/Ca",
        "Used in Misdemeanor or",
    }


def test_rejected_file_names_file_lines_and_reasons(
    alpr_env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "day1.txt"
    good.write_text(NCIC_GOOD)
    assert (
        alpr(
            alpr_env, "hotlists", "import", str(good), "--format", "ncic", "--list", "ncic"
        ).returncode
        == 0
    )
    bad = tmp_path / "day2.txt"
    bad.write_text(
        "\n".join([NCIC_HEADER, ncic_record(), ncic_record(code="Z"), ncic_record()[:30]]) + "\n"
    )
    done = alpr(alpr_env, "hotlists", "import", str(bad), "--format", "ncic", "--list", "ncic")
    assert done.returncode != 0
    assert done.stdout == ""
    assert str(bad) in done.stderr
    assert "line 3: unknown list code 'Z'" in done.stderr
    assert "line 4: truncated record" in done.stderr
    listed = alpr(alpr_env, "hotlists", "entries", "--list", "ncic", "--format", "jsonl")
    assert {json.loads(line)["version"] for line in listed.stdout.splitlines()} == {1}


def test_force_needs_an_administrator_and_a_reason(
    alpr_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    upgrade_catalog(settings.catalog_url)
    now = datetime.now(UTC)
    with engine_for(settings.catalog_url).begin() as conn:
        add_user(conn, "boss", Role.ADMINISTRATOR, PASSWORD, actor="operator", now=now)
        add_user(conn, "ana", Role.ANALYST, PASSWORD, actor="operator", now=now)
    big = tmp_path / "big.txt"
    big.write_text(
        "\n".join([NCIC_HEADER, *(ncic_record(plate=f"P{i:04d}") for i in range(10))]) + "\n"
    )
    small = tmp_path / "small.txt"
    small.write_text("\n".join([NCIC_HEADER, ncic_record(plate="P0001")]) + "\n")
    base = ["hotlists", "import", "--format", "ncic", "--list", "ncic"]
    assert alpr(alpr_env, *base, str(big)).returncode == 0
    refused = alpr(alpr_env, *base, str(small))
    assert refused.returncode != 0 and "shrink from 10 to 1" in refused.stderr
    no_reason = alpr(alpr_env, *base, str(small), "--force", "--user", "boss", password=PASSWORD)
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    analyst = alpr(
        alpr_env, *base, str(small), "--force", "--user", "ana", "--reason", "r", password=PASSWORD
    )
    assert analyst.returncode != 0 and "ana" in analyst.stderr
    wrong = alpr(
        alpr_env,
        *base,
        str(small),
        "--force",
        "--user",
        "boss",
        "--reason",
        "r",
        password="nope-nope",
    )
    assert wrong.returncode != 0 and "authentication failed" in wrong.stderr
    forced = alpr(
        alpr_env,
        *base,
        str(small),
        "--force",
        "--user",
        "boss",
        "--reason",
        "vendor purge",
        password=PASSWORD,
    )
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["removed"] == 9


def test_local_add_and_status(alpr_env: dict[str, str], settings: Settings) -> None:
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        add_user(conn, "ana", Role.ANALYST, PASSWORD, actor="operator", now=datetime.now(UTC))
    expires = datetime.now(UTC).date().replace(day=1)
    expires = expires.replace(
        year=expires.year + (expires.month == 12), month=expires.month % 12 + 1
    )
    done = alpr(
        alpr_env, "hotlists", "local", "add", "ABC-123", "--state", "CO", "--list", "local",
        "--reason", "seen at a burglary", "--expires", expires.isoformat(), "--user", "ana",
        password=PASSWORD,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = alpr(alpr_env, "hotlists", "entries", "--list", "local", "--format", "jsonl")
    assert [(r["plate"], r["state"]) for r in map(json.loads, listed.stdout.splitlines())] == [
        ("ABC123", "CO")
    ]
    status = alpr(alpr_env, "hotlists", "status")
    assert status.returncode == 0, status.stderr


@pytest.mark.parametrize("args", [["--list", "nothing"]])
def test_entries_of_an_unknown_list(alpr_env: dict[str, str], args: list[str]) -> None:
    done = alpr(alpr_env, "hotlists", "entries", *args)
    assert done.returncode == 2 and "no list named 'nothing'" in done.stderr


def test_an_import_retro_matches_the_stored_reads_as_the_schedules_do(
    settings: Settings, alpr_env: dict[str, str], tmp_path: Path
) -> None:
    # The command runs on the real clock, so the stored read is of a day relative to it.
    from tests.pipelines.matching.test_run import alert_rows, ncic_file, read, write_reads

    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    write_reads(settings, seen.date(), read("r1", "KLM456", "WY", seen))
    ncic = tmp_path / "ncic.txt"
    ncic.write_bytes(ncic_file(("KLM456", "WY"), ("ZZZ999", "CO")))

    done = alpr(alpr_env, "hotlists", "import", str(ncic), "--format", "ncic", "--list", "ncic")

    assert done.returncode == 0, done.stderr
    assert '"alerts_raised": 1' in done.stderr
    rows = alert_rows(settings)
    assert rows.select("read_id", "entry_plate", "seen_before_listed").rows() == [
        ("r1", "KLM456", True)
    ]
    again = alpr(alpr_env, "hotlists", "retro-match", "--list", "ncic", "--version", "1")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["alerts_raised"] == 0 and alert_rows(settings).height == 1
