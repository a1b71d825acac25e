"""The suites as Dagster asset checks: a bad batch fails its blocking checks and the assets
downstream of it do not run; a good batch passes them and they do."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets._keys import READS_KEY
from assets.definitions import build_defs
from assets.partitions import daily_partitions
from assets.quality.checks import build_quality_checks
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.storage.catalog import upgrade_catalog
from pipelines.storage.lake import DETECTIONS, IMAGES, READS
from tests.pipelines.quality import _lake

DOWNSTREAM = dg.AssetKey(["test", "downstream"])


def _run(
    settings: Settings, alpr_config: Path, day: date, as_of: datetime, reads: pl.DataFrame
) -> dg.ExecuteInProcessResult:
    upgrade_catalog(settings.catalog_url)
    _lake.write(settings, IMAGES, _lake.images(day))
    _lake.write(settings, DETECTIONS, _lake.detections(day))

    @dg.asset(key=READS_KEY, partitions_def=daily_partitions)
    def written_reads() -> None:  # stands in for recognition: writes the day's reads
        _lake.write(settings, READS, reads)

    @dg.asset(key=DOWNSTREAM, deps=[READS_KEY], partitions_def=daily_partitions)
    def downstream() -> None:
        pass

    checks = {c.node_def.name: c for c in build_quality_checks([])}
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        return dg.materialize(
            [written_reads, downstream, checks["reads_suite"]],
            resources={"alpr": AlprSettings(config_path=str(alpr_config))},
            instance=instance,
            partition_key=day.isoformat(),
            run_config={"ops": {"reads_suite": {"config": {"as_of": as_of.isoformat()}}}},
            raise_on_error=False,
        )


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def _evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_a_bad_reads_batch_blocks_downstream(
    settings: Settings, alpr_config: Path, capture_day: date, as_of: datetime
) -> None:
    bad = _lake.reads(capture_day, texts=("ABC123", "AB$1", "")).with_columns(
        pl.col("image_id").replace({"img0": "lost"})
    )
    result = _run(settings, alpr_config, capture_day, as_of, bad)
    checks = _evaluations(result)
    linked = checks["reads_image_linked"]
    assert not linked.passed and linked.severity == dg.AssetCheckSeverity.ERROR
    assert linked.metadata["unexpected_count"].value == 1
    assert linked.metadata["sample"].value == ["read0"]
    text = checks["reads_plate_text_alphabet"]
    assert not text.passed and text.severity == dg.AssetCheckSeverity.WARN
    assert text.metadata["sample"].value == ["read1"]  # the row, never its plate text
    assert checks["reads_read_id_unique"].passed
    assert DOWNSTREAM not in _materialized(result)  # blocked
    assert READS_KEY in _materialized(result)  # the bad batch is kept, flagged


def test_a_good_reads_batch_lets_downstream_run(
    settings: Settings, alpr_config: Path, capture_day: date, as_of: datetime
) -> None:
    result = _run(settings, alpr_config, capture_day, as_of, _lake.reads(capture_day))
    assert result.success
    assert all(e.passed for e in _evaluations(result).values())
    assert DOWNSTREAM in _materialized(result)


@pytest.mark.parametrize("suite", ["images", "detections", "reads", "alerts"])
def test_every_daily_suite_checks_its_asset_in_the_definitions(suite: str) -> None:
    defs = build_defs(Settings())
    names = {key.name for c in defs.asset_checks or [] for key in c.check_keys}
    assert f"{suite}_suite" not in names  # checks are named per expectation, not per suite
    assert any(name.startswith(f"{suite}_") for name in names)
