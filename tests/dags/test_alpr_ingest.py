"""The ingest DAG, run end to end with ``dag.test()`` against the real services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.ingest.sample import seed_sample_drop
from pipelines.quality.run import flagged_rows
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


def test_a_partition_that_fails_its_suite_fails_the_validation_task(
    dag_bag: Any,
    settings: Settings,
    alpr_environ: None,
    monkeypatch: pytest.MonkeyPatch,
    as_of: datetime,
    capture_day: date,
) -> None:
    seed_sample_drop(settings, capture_day, n_images=2, size=(160, 120))
    monkeypatch.setenv("ALPR_QUALITY_MIN_IMAGE_SIDE", "200")  # every 160x120 frame is too small

    # A run of its own: Airflow's run id derives from run_after, which the other test uses.
    dag_run = dag_bag.dags["alpr_ingest"].test(run_after=as_of + timedelta(minutes=1))

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed"
    assert states["write_images_partition"] == "success"
    assert states["validate_images"] == "failed"  # the images Asset is not updated
    kept = scan_table(settings, IMAGES, capture_day).collect()  # the batch is kept, not dropped
    assert kept.height == 2
    assert flagged_rows(settings, "images", capture_day.isoformat()).height == 4  # 2 x (w, h)
