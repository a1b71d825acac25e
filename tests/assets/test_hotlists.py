"""The hotlist assets, freshness check and drop sensor, run by Dagster against the real services."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets._time import ReferenceTime
from assets.hotlists.assets import build_hotlist_asset, hotlist_key
from assets.hotlists.checks import build_freshness_check
from assets.hotlists.sensors import hotlist_drop_sensor
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.hotlists.refresh import ListSpec, import_file
from pipelines.storage.catalog import upgrade_catalog
from tests.pipelines.hotlists.samples import NCIC_HEADER, ncic_record

ASSET_OP = "hotlists__ncic"
CHECK_OP = "hotlists__ncic_hotlist_entries_freshness"


def ncic_file(*plates: str) -> bytes:
    lines = [ncic_record("V", plate, "CO", "20250101") for plate in plates]
    return ("\n".join([NCIC_HEADER, *lines]) + "\n").encode()


def with_source(alpr_config: Path, location: str) -> dict[str, AlprSettings]:
    """The test's settings file with one NCIC source at ``location``; the resources reading it."""
    alpr_config.write_text(
        alpr_config.read_text()
        + f'[[hotlists.sources]]\nname = "ncic"\nformat = "ncic"\nlocation = "{location}"\n'
    )
    return {"alpr": AlprSettings(config_path=str(alpr_config))}


def at(moment: datetime, *ops: str) -> dg.RunConfig:
    return dg.RunConfig({op: ReferenceTime(as_of=moment.isoformat()) for op in ops})


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    meta = result.asset_materializations_for_node(ASSET_OP)[0].metadata
    return {name: value.value for name, value in meta.items()}


def test_a_source_asset_refreshes_and_shows_the_diff(
    settings: Settings, alpr_config: Path, tmp_path: Path, as_of: datetime
) -> None:
    drop = tmp_path / "ncic.txt"
    drop.write_bytes(ncic_file("ABC123", "KLM456", "XYZ789"))
    resources = with_source(alpr_config, str(drop))
    asset, check = build_hotlist_asset("ncic"), build_freshness_check("ncic")
    with dg.instance_for_test() as instance:
        first = dg.materialize(
            [asset, check],
            resources=resources,
            instance=instance,
            run_config=at(as_of, ASSET_OP, CHECK_OP),
        )
        assert first.success
        meta = metadata(first)
        assert {k: meta[k] for k in ("status", "version", "entries", "added", "removed")} == {
            "status": "activated",
            "version": 1,
            "entries": 3,
            "added": 3,
            "removed": 0,
        }
        (evaluation,) = first.get_asset_check_evaluations()
        assert evaluation.passed and evaluation.metadata["version"].value == 1

        drop.write_bytes(ncic_file("ABC123", "KLM456", "NEW777"))
        second = dg.materialize(
            [asset], resources=resources, instance=instance, run_config=at(as_of, ASSET_OP)
        )
        meta = metadata(second)
        assert (meta["version"], meta["added"], meta["removed"], meta["changed"]) == (2, 1, 1, 0)

        same = dg.materialize(
            [asset], resources=resources, instance=instance, run_config=at(as_of, ASSET_OP)
        )
        assert metadata(same)["status"] == "unchanged" and "version" not in metadata(same)


def test_a_rejected_file_fails_the_run(
    settings: Settings, alpr_config: Path, tmp_path: Path, as_of: datetime
) -> None:
    drop = tmp_path / "ncic.txt"
    drop.write_bytes(ncic_file("ABC123") + b"V123456789\n")  # line 3 is truncated
    resources = with_source(alpr_config, str(drop))
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [build_hotlist_asset("ncic")],
            resources=resources,
            instance=instance,
            run_config=at(as_of, ASSET_OP),
            raise_on_error=False,
        )
    assert not result.success
    assert "3" in str(result.get_step_failure_events()[0].event_specific_data)


@pytest.mark.parametrize(("hours", "passed"), [(23.5, True), (24.5, False)])
def test_the_freshness_check_fails_loudly_on_a_stale_list(
    settings: Settings,
    alpr_config: Path,
    tmp_path: Path,
    as_of: datetime,
    hours: float,
    passed: bool,
) -> None:
    upgrade_catalog(settings.catalog_url)
    loaded = as_of - timedelta(hours=hours)
    import_file(settings, ncic_file("ABC123"), ListSpec("ncic", "ncic"), source="x", now=loaded)
    resources = with_source(alpr_config, str(tmp_path / "absent.txt"))
    asset, check = build_hotlist_asset("ncic"), build_freshness_check("ncic")
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset, check],
            selection=dg.AssetSelection.checks(check),
            resources=resources,
            instance=instance,
            run_config=at(as_of, CHECK_OP),
        )
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed is passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["age_hours"].value == pytest.approx(hours)


def test_the_drop_sensor_requests_a_refresh_for_a_new_vendor_file(
    settings: Settings, alpr_config: Path, s3: Any, as_of: datetime
) -> None:
    bucket = settings.s3.drops_bucket
    resources = with_source(alpr_config, f"s3://{bucket}/hotlists/ncic/")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        assert not hotlist_drop_sensor(context).run_requests

        s3.put_object(Bucket=bucket, Key="hotlists/ncic/20260310.txt", Body=ncic_file("ABC123"))
        first = hotlist_drop_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        (request,) = first.run_requests
        assert request.asset_selection == [hotlist_key("ncic")]
        assert request.run_key == f"ncic:s3://{bucket}/hotlists/ncic/20260310.txt"

        dg.materialize(
            [build_hotlist_asset("ncic")],
            resources=resources,
            instance=instance,
            run_config=at(as_of, ASSET_OP),
        )
        loaded = hotlist_drop_sensor(
            dg.build_sensor_context(instance=instance, resources=resources)
        )
        assert not loaded.run_requests  # the newest file is the active version's

        s3.put_object(Bucket=bucket, Key="hotlists/ncic/20260311.txt", Body=ncic_file("NEW777"))
        again = hotlist_drop_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert [r.run_key for r in again.run_requests] == [
            f"ncic:s3://{bucket}/hotlists/ncic/20260311.txt"
        ]
