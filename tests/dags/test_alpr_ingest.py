"""The ingest DAG, run end to end with ``dag.test()`` against the real services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

from pipelines.config import Settings
from pipelines.ingest.sample import seed_sample_drop
from pipelines.storage.lake import IMAGES
from pipelines.storage.tables import scan_table


def test_dag_ingests_a_drop(
    dag_bag: Any, settings: Settings, alpr_environ: None, as_of: datetime, capture_day: date
) -> None:
    drop = seed_sample_drop(settings, capture_day, n_images=3, size=(160, 120))

    dag_run = dag_bag.dags["alpr_ingest"].test(run_after=as_of)

    assert dag_run.state == "success"
    table = scan_table(settings, IMAGES, capture_day).collect()
    assert sorted(table.get_column("key")) == sorted(drop.good)
    assert table.get_column("run_id").unique().to_list() == [dag_run.run_id]
    assert table.filter(pl.col("image_format") != "JPEG").is_empty()
