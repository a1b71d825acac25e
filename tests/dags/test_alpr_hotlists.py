"""The hotlists DAG with ``dag.test()``: refresh, retro-match, and the staleness task that fails."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.config import HotlistSource, Settings
from pipelines.hotlists.refresh import ListSpec, import_file
from pipelines.storage.catalog import upgrade_catalog
from tests.pipelines.matching.test_run import alert_rows, at, ncic_file, read, write_reads


@pytest.fixture
def source_file(
    settings: Settings, alpr_environ: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """One configured NCIC source, a local file, in the tasks' environment."""
    path = tmp_path / "ncic.txt"
    configured = settings.replace(hotlists={"sources": (HotlistSource("ncic", "ncic", str(path)),)})
    monkeypatch.setenv("ALPR_HOTLISTS_SOURCES", configured.as_env()["ALPR_HOTLISTS_SOURCES"])
    upgrade_catalog(settings.catalog_url)
    return path


def states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def test_a_refresh_retro_matches_the_added_entries(
    dag_bag: Any, settings: Settings, source_file: Path, as_of: datetime, capture_day: date
) -> None:
    write_reads(settings, capture_day, read("r1", "NEW777", "CO", at(capture_day, 9)))
    source_file.write_bytes(ncic_file(("NEW777", "CO")))

    dag_run = dag_bag.dags["alpr_hotlists"].test(run_after=as_of)

    assert dag_run.state == "success", states(dag_run)
    raised = alert_rows(settings)
    assert raised["read_id"].to_list() == ["r1"]
    assert raised["seen_before_listed"].to_list() == [True]


def test_the_staleness_task_fails_on_a_stale_list(
    dag_bag: Any, settings: Settings, source_file: Path, as_of: datetime
) -> None:
    data = ncic_file(("ABC123", "CO"))
    source_file.write_bytes(data)
    # Loaded 30 h ago; the vendor file has not changed since, so the refresh changes nothing.
    loaded = as_of - timedelta(hours=30)
    import_file(settings, data, ListSpec("ncic", "ncic"), source=str(source_file), now=loaded)

    # A run of its own (run ids follow run_after, and the Airflow database lives for the session).
    dag_run = dag_bag.dags["alpr_hotlists"].test(run_after=as_of + timedelta(minutes=1))

    assert dag_run.state == "failed"
    assert states(dag_run) == {
        "configured_sources": "success",
        "refresh": "success",
        "validate": "success",  # an unchanged list: nothing new to validate
        "retro_match": "success",
        "check_staleness": "failed",
    }
