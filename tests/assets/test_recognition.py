"""The recognition multi-asset, materialised by Dagster for one capture date."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from assets.recognition.assets import recognition_tables
from assets.recognition.sensors import images_updated_sensor
from assets.resources import AlprSettings
from pipelines import ingest
from pipelines.config import Settings
from pipelines.ingest.sample import seed_sample_drop
from pipelines.recognition.detector import DEFAULT_WEIGHTS
from pipelines.storage.lake import DETECTIONS, READS
from pipelines.storage.tables import scan_table
from tests._truth import MIN_EXACT_SHARE, check_reads


def test_recognition_materialises_tables_with_metadata(
    settings: Settings, alpr_config: Path, as_of: datetime, capture_day: date
) -> None:
    drop = seed_sample_drop(settings, capture_day, n_images=4, with_bad=False)
    ingest.ingest_drops(settings, "ingest", as_of)
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}

    # Daily partitions end at "today": judged at the reference time, like everything else.
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        result = dg.materialize(
            [recognition_tables],
            resources=resources,
            instance=instance,
            partition_key=str(capture_day),
        )
        assert result.success
        reads = result.asset_materializations_for_node("recognition_tables")
        by_key = {m.asset_key.to_user_string(): m.metadata for m in reads}
        assert set(by_key) == {
            "recognition/detections",
            "recognition/reads",
            "recognition/recognition_errors",
        }
        counts = {key: meta["dagster/row_count"].value for key, meta in by_key.items()}
        shipped = hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
        assert by_key["recognition/reads"]["detector_sha256"].value == shipped
        assert by_key["recognition/detections"]["detector_sha256"].value == shipped
    for table in (DETECTIONS, READS):  # the metadata counts the rows the partition holds
        written = scan_table(settings, table, capture_day).collect().height
        assert counts[f"recognition/{table.name}"] == written > 0, table.name
    assert counts["recognition/recognition_errors"] == 0
    table = scan_table(settings, READS, capture_day).collect()
    assert table.get_column("run_id").unique().to_list() == [result.run_id]
    assert table.get_column("detector_sha256").unique().to_list() == [shipped]
    check_reads(settings, capture_day, drop, MIN_EXACT_SHARE)


def test_images_partition_triggers_recognition_of_that_date(
    settings: Settings, alpr_config: Path, as_of: datetime, capture_day: date
) -> None:
    from assets.ingest.assets import images

    seed_sample_drop(settings, capture_day, n_images=1, size=(160, 120), with_bad=False)
    ingest.register_drops(settings, "ingest", as_of)
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        dg.materialize(
            [images], resources=resources, instance=instance, partition_key=str(capture_day)
        )
        context = dg.build_sensor_context(instance=instance)
        requests = list(images_updated_sensor(context) or [])
    assert [r.partition_key for r in requests if isinstance(r, dg.RunRequest)] == [str(capture_day)]
