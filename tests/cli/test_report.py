"""The `alpr report annual-status --year Y` contract, run as an administrator runs it.
Markdown on stdout, `--format html --out FILE` a self-contained page; the server
operator or an administrator only; audited."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.audit.log import record
from pipelines.audit.tables import audit_events
from pipelines.config import Settings
from pipelines.storage.catalog import camera_objects, engine_for, upgrade_catalog
from tests._users import PASSWORD
from tests.cli._run import alpr

YEAR = 2025  # a past year: the command reports it whole
AT = datetime(2025, 5, 6, 8, tzinfo=UTC)


@pytest.fixture
def report_env(settings: Settings, alpr_env: dict[str, str]) -> dict[str, str]:
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).begin() as conn:
        conn.execute(
            camera_objects.insert(),
            [
                {
                    "image_id": f"img{i}",
                    "bucket": "drops",
                    "key": f"cam-07/2025-05-0{6 + i}/{i}.jpg",
                    "etag": f"e{i}",
                    "size_bytes": 1000,
                    "status": "ingested",
                    "camera_id": "cam-07",
                    "captured_at": AT.replace(day=6 + i),
                    "capture_date": AT.replace(day=6 + i).date(),
                    "run_id": "ingest-1",
                    "registered_at": AT,
                }
                for i in range(3)
            ],
        )
        record(
            conn,
            actor="jdoe",
            action="search.reads",
            details={"criteria": {"plate": "ABC123"}, "reason": "a stolen sedan", "results": 1},
            now=AT,
        )
    return {**alpr_env, "ALPR_PRESERVATION_EVIDENCE_BUCKET": f"evid-{uuid.uuid4().hex[:10]}"}


def _add(env: dict[str, str], name: str, role: str) -> subprocess.CompletedProcess[str]:
    return alpr(
        env, "users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n"
    )


def test_annual_status_prints_markdown_and_writes_html(
    report_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    done = alpr(report_env, "report", "annual-status", "--year", str(YEAR))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"# ALPR annual operational-status report {YEAR} (PP-9126 C.8)")
    assert "| cam-07 | 3 | 3 | 0.0082 | 0 | 0 | 0.0 |" in text
    assert "| 2025-05 | 1 | 0 | 0 | 1 | 1 |" in text
    assert "intact, 1 entries" in text and "ABC123" not in text and "sedan" not in text
    page = tmp_path / "status.html"
    written = alpr(
        report_env, "report", "annual-status", "--year", str(YEAR), "--format", "html",
        "--out", str(page),
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert written.stdout == "" and f"written to {page}" in written.stderr
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<td>cam-07</td>" in html
    assert "http" not in html and "<link" not in html and "<script" not in html
    with engine_for(settings.catalog_url).connect() as conn:
        made = conn.execute(
            sa.select(audit_events.c.actor, audit_events.c.details).where(
                audit_events.c.action == "report.annual_status"
            )
        ).all()
    assert len(made) == 2 and all(actor.startswith("operator") for actor, _ in made)
    assert json.loads(made[0].details)["year"] == YEAR


def test_annual_status_refuses_a_non_administrator(report_env: dict[str, str]) -> None:
    assert _add(report_env, "jdoe", "agent").returncode == 0
    assert _add(report_env, "chief", "administrator").returncode == 0
    refused = alpr(
        report_env, "report", "annual-status", "--year", str(YEAR), "--user", "jdoe",
        password=PASSWORD,
    )  # fmt: skip
    assert refused.returncode == 2 and refused.stdout == ""
    assert "user 'jdoe' (role agent) may not read the annual status report" in refused.stderr
    allowed = alpr(
        report_env, "report", "annual-status", "--year", str(YEAR), "--user", "chief",
        password=PASSWORD,
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert "by chief." in allowed.stdout
