"""The retention DAG, run with ``dag.test()`` at the reference time: the expired day is deleted,
the recent one kept; its schedule follows ``retention.nightly_cron``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipelines.config import Settings
from pipelines.storage.lake import READS
from pipelines.storage.tables import scan_table
from tests.pipelines.retention._data import seed, versions


def test_a_run_deletes_what_is_expired_at_its_run_after(
    dag_bag: Any, settings: Settings, alpr_environ: None, as_of: datetime
) -> None:
    old = seed(settings, as_of, (as_of - timedelta(days=370)).date())
    recent = seed(settings, as_of, (as_of - timedelta(days=10)).date())
    dag = dag_bag.dags["alpr_retention"]

    # a dry run just before (its own run id): counts, deletes nothing
    dry = dag.test(run_after=as_of - timedelta(minutes=1), run_conf={"dry_run": True})
    assert dry.state == "success"
    assert {k for k, _ in versions(settings, settings.s3.drops_bucket)} >= set(old.keys)

    # dry_run given, as the trigger form sends it (a dag.test() after one with a run_conf here
    # ran dry again without it)
    assert dag.test(run_after=as_of, run_conf={"dry_run": False}).state == "success"
    left = {k for k, _ in versions(settings, settings.s3.drops_bucket)}
    assert left == set(recent.keys) | set(recent.sidecars)
    days = scan_table(settings, READS).select("capture_date").unique().collect().to_series()
    assert days.to_list() == [recent.day]


def test_it_runs_nightly_at_the_configured_cron_and_dry_run_is_off_by_default(
    dag_bag: Any, settings: Settings
) -> None:
    dag = dag_bag.dags["alpr_retention"]
    assert dag.timetable.summary == settings.retention.nightly_cron
    assert dag.params.get_param("dry_run").resolve() is False
