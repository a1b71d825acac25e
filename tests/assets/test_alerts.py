"""The alert sweep job, run by Dagster: an overdue alert is escalated at the run's reference time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from assets._time import ReferenceTime
from assets.alerts.jobs import alerts_sweep_job
from assets.definitions import build_defs
from assets.resources import AlprSettings
from pipelines.config import Settings
from tests.dags.test_alpr_alerts import raise_one_alert, state_of_the_alert


def test_the_sweep_job_escalates_an_overdue_alert(
    settings: Settings, alpr_config: Path, as_of: datetime, capture_day: date
) -> None:
    raise_one_alert(settings, as_of, capture_day)
    due = as_of + timedelta(minutes=settings.alerts.review_minutes)
    config = dg.RunConfig({"sweep_alerts": ReferenceTime(as_of=due.isoformat())})

    result = alerts_sweep_job.execute_in_process(
        run_config=config, resources={"alpr": AlprSettings(config_path=str(alpr_config))}
    )

    assert result.success
    assert result.output_for_node("sweep_alerts") == {"escalated": 1, "expired": 0}
    assert state_of_the_alert(settings) == ("pending", due)


def test_the_sweep_is_scheduled_at_the_configured_cron(settings: Settings) -> None:
    defs = build_defs(settings.replace(alerts={"sweep_cron": "*/7 * * * *"}))
    schedule = defs.get_repository_def().get_schedule_def("alerts_sweep_job_schedule")
    assert (schedule.cron_schedule, schedule.job_name) == ("*/7 * * * *", "alerts_sweep_job")
