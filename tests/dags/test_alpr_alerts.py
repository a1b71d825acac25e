"""The alert sweep DAG, run with ``dag.test()``: overdue alerts are escalated, then expired."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipelines.alerts.tables import alerts
from pipelines.config import Settings
from pipelines.matching.run import match_partition
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests.pipelines.matching.test_run import at, load_list, read, write_reads


def raise_one_alert(settings: Settings, raised: datetime, day: date) -> None:
    upgrade_catalog(settings.catalog_url)
    load_list(settings, raised - timedelta(hours=1), ("ABC123", "CO"))
    write_reads(settings, day, read("r1", "ABC123", "CO", at(day, 14)))
    assert match_partition(settings, day, now=raised, run_id="m").alerts_raised == 1


def state_of_the_alert(settings: Settings) -> tuple[str, datetime | None]:
    with engine_for(settings.catalog_url).connect() as conn:
        state, escalated = conn.execute(sa.select(alerts.c.state, alerts.c.escalated_at)).one()
    return state, escalated


def test_the_sweep_escalates_then_expires_overdue_alerts(
    dag_bag: Any, settings: Settings, alpr_environ: None, as_of: datetime, capture_day: date
) -> None:
    raise_one_alert(settings, as_of, capture_day)
    dag = dag_bag.dags["alpr_alerts"]
    review = timedelta(minutes=settings.alerts.review_minutes)

    assert dag.test(run_after=as_of + review - timedelta(minutes=1)).state == "success"
    assert state_of_the_alert(settings) == ("pending", None)

    dag.test(run_after=as_of + review)
    assert state_of_the_alert(settings) == ("pending", as_of + review)

    dag.test(run_after=as_of + timedelta(hours=settings.alerts.expire_hours))
    assert state_of_the_alert(settings)[0] == "expired"
