"""The matching DAG run by hand for one capture date with ``dag.test()``."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pipelines.config import Settings
from pipelines.storage.catalog import upgrade_catalog
from tests.pipelines.matching.test_run import alert_rows, at, load_list, read, write_reads


def test_a_manual_run_raises_the_alerts_of_the_given_date(
    dag_bag: Any, settings: Settings, alpr_environ: None, as_of: datetime, capture_day: date
) -> None:
    upgrade_catalog(settings.catalog_url)
    load_list(settings, as_of - timedelta(hours=1), ("ABC123", "CO"))
    write_reads(
        settings,
        capture_day,
        read("r1", "ABC123", "CO", at(capture_day, 14)),
        read("r2", "QRS555", "CO", at(capture_day, 15)),
    )

    dag_run = dag_bag.dags["alpr_matching"].test(
        run_conf={"capture_date": capture_day.isoformat()}, run_after=as_of
    )

    assert dag_run.state == "success"
    raised = alert_rows(settings)
    assert raised["read_id"].to_list() == ["r1"]
    assert raised["hotlist_age_seconds"].to_list() == [3600.0]
