"""Refresh every configured hotlist source daily before the morning shift, apply what each new
version changed to what is stored (retro-matching, cleared entries), then fail loudly when any
list is stale (PP-9126 B.4: at least daily).

The schedule is ``hotlists.refresh_cron`` in ``hotlists.refresh_timezone``; the sources are
``[[hotlists.sources]]``, read when the run starts. Same ``pipelines`` functions as Dagster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from dags._assets import hotlist_entries
from pipelines.config import load_settings

_hotlists = load_settings().hotlists  # the refresh time is part of the DAG's definition


@dag(
    dag_id=Path(__file__).stem,
    schedule=CronTriggerTimetable(_hotlists.refresh_cron, timezone=_hotlists.refresh_timezone),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "hotlists"],
    default_args={"retries": 1},
    doc_md=__doc__,
)
def alpr_hotlists() -> None:
    @task
    def configured_sources() -> list[str]:
        """The names of the configured sources, one mapped refresh each."""
        return [source.name for source in load_settings().hotlists.sources]

    @task(outlets=[hotlist_entries], map_index_template="{{ task.op_kwargs['source'] }}")
    def refresh(source: str) -> dict[str, Any]:
        """Fetch and activate one source as the service account; a rejected file fails."""
        from pipelines.hotlists.watch import refresh_named

        now = get_current_context()["dag_run"].run_after
        return refresh_named(load_settings(), source, now=now).summary()

    # A new version that fails its suite fails here, so it is not retro-matched (its entries
    # stay flagged in the catalog); matching of new reads is stopped by the Dagster checks.
    @task(retries=0)
    def validate(refreshed: dict[str, Any]) -> dict[str, Any]:
        """Validate a newly activated version against expectations/hotlist_entries.json."""
        if "version" not in refreshed:  # unchanged: the active version was validated before
            return refreshed
        from pipelines.quality.batches import hotlist_batch
        from pipelines.quality.run import validate_batch

        settings, dag_run = load_settings(), get_current_context()["dag_run"]
        batch = hotlist_batch(settings, refreshed["list"], refreshed["version"])
        outcome = validate_batch(settings, batch, run_id=dag_run.run_id, as_of=dag_run.run_after)
        print({"suite": batch.suite, "batch": batch.label, "passed": outcome.passed})
        outcome.raise_for_failure()
        return refreshed

    @task(trigger_rule="all_done")
    def retro_match(refreshed: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
        """Each new version that added or removed entries: clear and retro-match it."""
        from pipelines.matching.run import retro_match_version

        settings, now = load_settings(), get_current_context()["dag_run"].run_after
        changed = [r for r in refreshed if r and "version" in r and (r["added"] or r["removed"])]
        return [
            retro_match_version(settings, r["list"], r["version"], now=now).summary()
            for r in changed
        ]

    # No retry: a stale list does not freshen by waiting, and the failure must show at once.
    @task(trigger_rule="all_done", retries=0)
    def check_staleness() -> list[str]:
        """Fails when any configured list is older than hotlists.max_age_hours."""
        from pipelines.errors import HotlistError
        from pipelines.hotlists.watch import stale_sources

        settings, now = load_settings(), get_current_context()["dag_run"].run_after
        stale = stale_sources(settings, now=now)
        if stale:
            ages = ", ".join(
                f"{f.list_name} ({'never loaded' if f.age_hours is None else f'{f.age_hours} h'})"
                for f in stale
            )
            raise HotlistError(
                f"stale hotlists, older than {settings.hotlists.max_age_hours} h: {ages}"
            )
        return [source.name for source in settings.hotlists.sources]

    refreshed = validate.expand(refreshed=refresh.expand(source=configured_sources()))
    retro_match(refreshed) >> check_staleness()  # type: ignore[arg-type]


alpr_hotlists()
