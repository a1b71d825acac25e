"""``alpr status`` shows each camera's health beside the ingest counts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from pipelines.config import Settings
from tests.assets.test_camera_health import write_days
from tests.cli._run import alpr
from tests.pipelines.quality._cameras import CameraDay, history


def test_status_shows_camera_health_of_the_latest_day_or_the_one_asked(
    settings: Settings, alpr_env: dict[str, str], as_of: datetime, capture_day: date
) -> None:
    write_days(
        settings,
        [
            *history("cam-07", capture_day),
            CameraDay("cam-07", capture_day, read=1),
            *history("cam-12", capture_day),
            CameraDay("cam-12", capture_day),
        ],
    )
    moment = f"{as_of:%Y-%m-%dT%H:%M:%S}"

    latest = alpr(alpr_env, "status", "--format", "jsonl", "--as-of", moment)
    assert latest.returncode == 0, latest.stderr
    health = json.loads(latest.stdout.splitlines()[-1])["camera_health"]
    assert health["capture_date"] == capture_day.isoformat()
    assert health["failing"] == ["cam-07"]
    dirty = next(c for c in health["cameras"] if c["camera_id"] == "cam-07")
    assert dirty["read_rate"] == 0.1 and dirty["baseline_read_rate"] == 0.8
    assert "ABC123" not in latest.stdout  # figures only, never a plate

    before = capture_day - timedelta(days=1)
    asked = alpr(alpr_env, "status", "--day", before.isoformat(), "--as-of", moment)
    assert asked.returncode == 0, asked.stderr
    assert f"camera health {before}" in asked.stdout
    rows = [line for line in asked.stdout.splitlines() if line.startswith("| cam-")]
    assert len(rows) == 2 and all(row.endswith("| ok |") for row in rows)


def test_status_without_images_says_so(alpr_env: dict[str, str]) -> None:
    done = alpr(alpr_env, "status", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"camera_health": None}
