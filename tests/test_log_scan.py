"""Logs stay clean (issue 11, PP-9126 B.6, B.9, C.7): the main jobs run end to end over SeaweedFS
and PostgreSQL while every log is captured, then scanned for what must never be in one.

The jobs: users created (passwords on stdin), a sample drop ingested, recognized, a hotlist
refreshed from its source, the day matched (by Dagster's alerts asset), an alert reviewed, a
search with a reason and one refused for a vague reason. What is captured: stderr and stdout of
every ``alpr`` run (each with every Python logger at DEBUG, ``tests/_debug_cli.py``), except
the stdout of the commands whose output is the data asked for (search results, alerts); every
Python log record at DEBUG of the in-process Dagster run; and every entry of its Dagster event
log (messages and metadata). What must not appear: the plate texts of the drop (drawn and read)
and of the hotlist, the sidecars' coordinates, the reasons given, the password and the S3
secret. The test names each leak: what, where, and the line around it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from assets._time import ReferenceTime
from assets.matching.assets import build_matching_assets
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.hotlists.sample import listable_reads, sample_ncic_file
from pipelines.hotlists.tables import hotlist_lists
from pipelines.ingest.sample import seed_sample_drop
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.lake import READS
from pipelines.storage.tables import scan_table
from tests._log_capture import Capture, Records, debug_records
from tests._users import FAST_AUTH_ENV, PASSWORD

REPO = Path(__file__).resolve().parents[1]
SEARCH_REASON = "silver hatchback seen leaving the burglary on Wadsworth"
VAGUE_REASON = "qzv7"  # under audit.min_reason_length: refused, and not to be echoed
CONFIRM_REASON = "plate, make and colour match the NCIC record of the stolen car"
# a row whose text is looked for in the logs (a list name stands for any personal column)
LIST_NAME = "KZQ4471-watch"
_LIST = {
    "list_name": LIST_NAME,
    "format": "ncic",
    "priority": 1,
    "match_strategy": "zq9x7",  # not part of the key: PostgreSQL's own DETAIL names keys
    "created_at": datetime(2026, 3, 1, tzinfo=UTC),
}


@pytest.fixture
def python_logs() -> Iterator[Records]:
    with debug_records() as records:
        yield records


def _alpr(
    env: dict[str, str],
    capture: Capture,
    *args: str,
    password: str | None = None,
    stdin: str = "",
    data_on_stdout: bool = False,
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, **FAST_AUTH_ENV}
    full.pop("ALPR_PASSWORD", None)
    if password is not None:
        full["ALPR_PASSWORD"] = password
    done = subprocess.run(
        [sys.executable, "-m", "tests._debug_cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        input=stdin,
    )
    name = "alpr " + " ".join(args[:2])  # the verb; its arguments may be what is looked for
    capture.add(f"stderr of {name}", done.stderr)
    if not data_on_stdout:
        capture.add(f"stdout of {name}", done.stdout)
    return done


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_the_main_jobs_log_no_plate_reason_password_or_secret(
    settings: Settings,
    alpr_config: Path,
    tmp_path: Path,
    as_of: datetime,
    capture_day: date,
    python_logs: Records,
) -> None:
    capture = Capture()
    env = {
        **settings.as_env(),
        "ALPR_PRESERVATION_EVIDENCE_BUCKET": f"evid-{uuid.uuid4().hex[:10]}",
    }
    drop = seed_sample_drop(settings, capture_day, n_images=4, with_bad=False)
    day = capture_day.isoformat()

    for name, role in (("ada", "administrator"), ("jdoe", "agent")):
        _ok(
            _alpr(
                env, capture, "users", "add", name, "--role", role, "--password-stdin",
                stdin=PASSWORD + "\n",
            )
        )  # fmt: skip
    _ok(_alpr(env, capture, "ingest", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M:%S")))
    _ok(_alpr(env, capture, "recognize-partition", day))
    read = listable_reads(
        scan_table(settings, READS, capture_day), settings.quality.plate_max_length
    ).collect()
    assert read.height >= 2, "the drop's plates were not read: nothing to scan for"
    hot = read.head(2)

    # the hotlist refresh: its configured source, a file naming two plates read
    source = tmp_path / "ncic"
    source.mkdir()
    (source / "ncic.txt").write_bytes(sample_ncic_file(hot.iter_rows(), entered=capture_day))
    env["ALPR_HOTLISTS_SOURCES"] = json.dumps(
        [{"name": "ncic", "format": "ncic", "location": str(source)}]
    )
    refreshed = _ok(_alpr(env, capture, "hotlists", "refresh"))
    assert json.loads(refreshed.stdout.splitlines()[0])["status"] == "activated"

    # matching: Dagster's alerts asset for the day, in this process
    alerts_asset, _ = build_matching_assets(["ncic"])
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        result = dg.materialize(
            [alerts_asset],
            resources={"alpr": AlprSettings(config_path=str(alpr_config))},
            instance=instance,
            partition_key=day,
            run_config=dg.RunConfig({"matching__alerts": ReferenceTime(as_of=as_of.isoformat())}),
        )
        assert result.success
        for entry in instance.all_logs(result.run_id):
            capture.add("the Dagster event log of matching__alerts", repr(entry))

    # alert review: the agent lists the pending alerts and confirms one with a reason
    listed = _ok(
        _alpr(
            env, capture, "alerts", "list", "--state", "pending", "--user", "jdoe",
            password=PASSWORD, data_on_stdout=True,
        )
    )  # fmt: skip
    alert_ids = [json.loads(line)["alert_id"] for line in listed.stdout.splitlines()]
    assert alert_ids, "matching raised no alert to review"
    _ok(
        _alpr(
            env, capture, "alerts", "confirm", alert_ids[0], "--user", "jdoe", "--compared",
            "--reason", CONFIRM_REASON, password=PASSWORD, data_on_stdout=True,
        )
    )  # fmt: skip

    # a search with a reason (its results are the data asked for), and one refused
    plate = str(hot["plate_text"][0])
    found = _ok(
        _alpr(
            env, capture, "search", "--user", "jdoe", "--reason-category", "stolen_vehicle",
            "--reason", SEARCH_REASON, "--plate", plate, "--format", "jsonl",
            password=PASSWORD, data_on_stdout=True,
        )
    )  # fmt: skip
    assert plate in found.stdout
    refused = _alpr(
        env, capture, "search", "--user", "jdoe", "--reason-category", "stolen_vehicle",
        "--reason", VAGUE_REASON, "--plate", plate, "--format", "jsonl", password=PASSWORD,
    )  # fmt: skip
    assert refused.returncode != 0 and "reason" in refused.stderr

    capture.add("Python logging of this process", "\n".join(python_logs.lines))
    secrets = {
        f"plate {i}": text
        for i, text in enumerate(
            sorted(
                {t for texts in drop.plates.values() for t in texts}
                | set(read["plate_text"].to_list())
            )
        )
        if len(text) >= 4
    }
    for key, sidecar in drop.sidecars.items():
        secrets[f"latitude of {key}"] = str(sidecar["latitude"])
        secrets[f"longitude of {key}"] = str(sidecar["longitude"])
    secrets |= {
        "the search reason": SEARCH_REASON,
        "the refused search's reason": VAGUE_REASON,
        "the confirmation reason": CONFIRM_REASON,
        "the password": PASSWORD,
        "the S3 secret": settings.s3.secret_access_key,
    }
    assert sum(len(text) for _, text in capture.texts) > 10_000, "almost nothing was captured"
    assert any(w.startswith("stderr") and "DEBUG sqlalchemy" in t for w, t in capture.texts)
    assert any("alerts_raised" in t for w, t in capture.texts if w.startswith("the Dagster"))
    leaks = capture.leaks(secrets)
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks[:40])


def test_the_catalog_keeps_parameters_and_rows_out_of_logs_and_errors(
    pg_url: str, python_logs: Records
) -> None:
    engine = engine_for(pg_url)
    upgrade_catalog(pg_url)
    with engine.begin() as conn:
        conn.execute(hotlist_lists.insert().values(**_LIST))
    with engine.connect() as conn:
        assert conn.execute(sa.select(hotlist_lists.c.list_name)).scalar_one() == LIST_NAME
    with pytest.raises(sa.exc.IntegrityError) as refused, engine.begin() as conn:
        conn.execute(hotlist_lists.insert().values(**_LIST))
    logged = "\n".join(python_logs.lines)
    assert "INSERT INTO hotlist_lists" in logged and "SQL parameters hidden" in logged
    assert LIST_NAME not in logged, "a parameter or a row was logged"
    assert "SQL parameters hidden" in str(refused.value)
    assert "zq9x7" not in str(refused.value), "the error message shows a parameter"


def test_the_scan_finds_what_it_looks_for() -> None:
    capture = Capture()
    capture.add("stderr of alpr x", "INFO a: fine\nDEBUG b: read ABC123 at cam-07\n")
    assert capture.leaks({"plate 0": "ABC123", "the password": "hunter2"}) == [
        "plate 0 'ABC123' in stderr of alpr x: DEBUG b: read ABC123 at cam-07"
    ]
