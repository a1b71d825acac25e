"""``alpr demo`` (``make demo``, the README's first command) on the test's own buckets and catalog."""

from __future__ import annotations

import json

import pytest

from tests.cli._run import alpr


@pytest.mark.slow  # seeds, ingests and reads 48 images: 12 s
def test_the_demo_lists_two_read_plates_and_raises_their_alerts(alpr_env: dict[str, str]) -> None:
    # This day's drop has a camera's timestamp read as a 16-character "plate", which the sample
    # hotlist once listed and then refused as malformed.
    done = alpr(alpr_env, "demo", "--day", "2026-12-03")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ingested"] == 48
    assert summary["alerts"]["alerts_raised"] == 2
    assert "pending review" in done.stderr
