"""kill -9 in the middle of a pass (``alpr retention run`` in its own process), then a re-run:
the result is that of one uninterrupted pass, with nothing left behind and nothing kept twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.config import Settings
from pipelines.retention import run_retention
from pipelines.retention.tables import retention_runs
from pipelines.storage.catalog import camera_objects, engine_for
from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.tables import scan_table
from tests.pipelines.retention._data import lake_objects, seed, store_files_with, versions

ROOT = Path(__file__).resolve().parents[3]


def _deleted(settings: Settings) -> int:
    with engine_for(settings.catalog_url).connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(camera_objects)
            .where(camera_objects.c.status == "deleted")
        ).scalar_one()


@pytest.mark.slow
def test_a_rerun_after_kill_9_mid_deletion_completes_the_pass(
    settings: Settings, alpr_env: dict[str, str], as_of: datetime, store_dir: Path
) -> None:
    old = [seed(settings, as_of, (as_of - timedelta(days=380 + d)).date()) for d in range(6)]
    recent = seed(settings, as_of, (as_of - timedelta(days=2)).date())
    drops = settings.s3.drops_bucket
    initial = len(versions(settings, drops))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "retention", "run", "--as-of", as_of.date().isoformat()],
        env={**os.environ, **alpr_env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while process.poll() is None:  # kill once something is gone, long before the end
            if len(versions(settings, drops)) < initial or _deleted(settings):
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the pass ended before it could be killed"
    assert len(versions(settings, drops)) > 3 * len(recent.keys)  # it was cut short

    rerun = run_retention(settings, as_of=as_of.replace(hour=0), dry_run=False)

    assert len(versions(settings, drops)) == 3 * len(recent.keys)
    assert _deleted(settings) == sum(len(d.keys) for d in old)
    assert scan_table(settings, READS).collect().height == len(recent.plates)
    days = scan_table(settings, IMAGES).select("capture_date").unique().collect()
    assert days.to_series().to_list() == [recent.day]
    tables = lake_objects(settings, "tables/")
    for day in old:
        assert not versions(settings, settings.s3.lake_bucket, f"crops/{day.day.isoformat()}/")
        assert not any(p.encode() in body for body in tables.values() for p in day.plates)
        assert not store_files_with(settings, store_dir, day.image_marker)
    with engine_for(settings.catalog_url).connect() as conn:
        statuses = dict(
            conn.execute(sa.select(retention_runs.c.run_id, retention_runs.c.status)).all()
        )
    assert statuses[rerun.run_id] == "succeeded"
    assert sorted(statuses.values()) == ["running", "succeeded"]  # the killed pass stays visible
