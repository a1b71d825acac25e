"""Logs stay clean in Airflow too (issue 11; tests/test_log_scan.py runs the rest): the matching
DAG run with ``dag.test()`` for a day whose reads hit a hotlist, with every Python logger at
DEBUG and the process's stdout and stderr captured; no plate text may be in any of it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from pipelines.config import Settings
from pipelines.storage.catalog import upgrade_catalog
from tests._log_capture import Capture, debug_records
from tests.pipelines.matching.test_run import alert_rows, at, load_list, read, write_reads

HIT, MISS = "KQZ4471", "WXR8830"


@pytest.mark.slow
def test_the_matching_dag_logs_no_plate_text(
    dag_bag: Any,
    settings: Settings,
    alpr_environ: None,
    as_of: datetime,
    capture_day: date,
    capfd: pytest.CaptureFixture[str],
) -> None:
    upgrade_catalog(settings.catalog_url)
    load_list(settings, as_of - timedelta(hours=1), (HIT, "CO"))
    write_reads(
        settings,
        capture_day,
        read("r1", HIT, "CO", at(capture_day, 14)),
        read("r2", MISS, "CO", at(capture_day, 15)),
    )
    capfd.readouterr()  # what the setup printed is not the DAG's
    with debug_records() as records:
        dag_run = dag_bag.dags["alpr_matching"].test(
            run_conf={"capture_date": capture_day.isoformat()},
            # the run id derives from run_after: test_alpr_matching.py's run is at as_of
            run_after=as_of + timedelta(minutes=7),
        )
    assert dag_run.state == "success"
    assert alert_rows(settings)["read_id"].to_list() == ["r1"]
    out, err = capfd.readouterr()
    capture = Capture()
    capture.add("Python logging of dag.test", "\n".join(records.lines))
    capture.add("stdout of dag.test", out)
    capture.add("stderr of dag.test", err)
    assert any("alpr_matching" in text for _, text in capture.texts), "nothing was captured"
    leaks = capture.leaks({"the plate hit": HIT, "the plate read": MISS})
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks)
