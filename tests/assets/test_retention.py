"""The retention job, run by Dagster at an explicit reference time: an expired day goes, a recent
one stays; a dry run counts and deletes nothing; the schedule follows ``retention.nightly_cron``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_defs
from assets.resources import AlprSettings
from assets.retention.jobs import RetentionRun, retention_job
from pipelines.config import Settings
from pipelines.storage.lake import LAKE_TABLES, READS, LakeTable
from pipelines.storage.tables import scan_table
from tests.pipelines.retention._data import Day, seed, versions


@pytest.fixture
def seeded(settings: Settings, as_of: datetime) -> tuple[Day, Day]:
    old = seed(settings, as_of, (as_of - timedelta(days=370)).date())
    recent = seed(settings, as_of, (as_of - timedelta(days=10)).date())
    return old, recent


def _run(alpr_config: Path, as_of: datetime, *, dry_run: bool) -> dg.ExecuteInProcessResult:
    config = RetentionRun(as_of=as_of.isoformat(), dry_run=dry_run)
    return retention_job.execute_in_process(
        run_config=dg.RunConfig({"run_retention_pass": config}),
        resources={"alpr": AlprSettings(config_path=str(alpr_config))},
    )


def _days(settings: Settings, table: LakeTable) -> list[object]:
    frame = scan_table(settings, table).select("capture_date").unique().collect()
    return sorted(frame.to_series().to_list())


def test_the_job_deletes_the_expired_day_and_keeps_the_recent_one(
    settings: Settings, alpr_config: Path, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    old, recent = seeded

    result = _run(alpr_config, as_of, dry_run=False)

    assert result.success
    counts = result.output_for_node("run_retention_pass")
    assert counts["images"]["deleted"] == len(old.keys)
    assert counts["reads"]["deleted"] == len(old.read_ids) + 1  # and the recognition error
    assert counts["alerts"]["deleted"] == len(old.alert_ids)
    assert all(c["held"] == 0 for c in counts.values())
    left = {key for key, _ in versions(settings, settings.s3.drops_bucket)}
    assert left == set(recent.keys) | set(recent.sidecars)
    for table in LAKE_TABLES:
        assert _days(settings, table) == [recent.day], table.name


def test_a_dry_run_counts_and_deletes_nothing(
    settings: Settings, alpr_config: Path, as_of: datetime, seeded: tuple[Day, Day]
) -> None:
    old, recent = seeded
    before = versions(settings, settings.s3.drops_bucket)

    result = _run(alpr_config, as_of, dry_run=True)

    assert result.output_for_node("run_retention_pass")["images"]["deleted"] == len(old.keys)
    assert versions(settings, settings.s3.drops_bucket) == before
    assert _days(settings, READS) == [old.day, recent.day]


def test_the_pass_is_scheduled_nightly_at_the_configured_cron(settings: Settings) -> None:
    defs = build_defs(settings.replace(retention={"nightly_cron": "40 3 * * *"}))
    schedule = defs.get_repository_def().get_schedule_def("retention_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "40 3 * * *",
        "UTC",
        "retention_job",
    )
