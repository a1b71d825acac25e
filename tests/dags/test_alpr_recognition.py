"""The recognition DAG run by hand for one capture date with ``dag.test()``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pipelines import ingest
from pipelines.config import Settings
from pipelines.ingest.sample import seed_sample_drop
from pipelines.storage.lake import READS
from pipelines.storage.tables import scan_table
from tests._truth import MIN_EXACT_SHARE, check_reads


def test_manual_run_recognizes_the_given_date(
    dag_bag: Any, settings: Settings, alpr_environ: None, as_of: datetime, capture_day: date
) -> None:
    drop = seed_sample_drop(settings, capture_day, n_images=4, with_bad=False)
    ingest.ingest_drops(settings, "ingest", as_of)

    dag_run = dag_bag.dags["alpr_recognition"].test(
        run_conf={"capture_date": capture_day.isoformat()}
    )

    assert dag_run.state == "success"
    reads = scan_table(settings, READS, capture_day).collect()
    assert reads.get_column("run_id").unique().to_list() == [dag_run.run_id]
    check_reads(settings, capture_day, drop, MIN_EXACT_SHARE)
