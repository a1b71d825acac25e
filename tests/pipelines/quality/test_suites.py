"""Each suite, run by GX on tiny batches: a good batch passes, each kind of defect is caught by
the expectation named for it, with its severity, and its rows are flagged (kept, not dropped)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.errors import ConfigError, DataQualityError
from pipelines.quality.batches import (
    alerts_frame,
    alerts_parameters,
    detections_frame,
    hotlist_parameters,
    images_frame,
    lake_parameters,
    reads_frame,
)
from pipelines.quality.suites import SUITES_DIR, Severity, load_suite
from pipelines.quality.validate import ValidationOutcome, validate_frame
from pipelines.storage.lake import IMAGES, LAKE_TABLES, READS
from tests.pipelines.quality import _lake

DAY = date(2026, 3, 10)
AS_OF = datetime(2026, 3, 11, 12, tzinfo=UTC)


def _run(frame: pl.DataFrame, suite: str, params: dict, key: str) -> ValidationOutcome:
    return validate_frame(
        frame,
        load_suite(suite),
        batch="b",
        parameters=params,
        key_column=key,
        run_name="test",
        run_time=AS_OF,
    )


def _images(frame: pl.DataFrame, settings: Settings | None = None) -> ValidationOutcome:
    params = lake_parameters(settings or Settings(), IMAGES, AS_OF)
    return _run(images_frame(frame.lazy()).collect(), "images", params, "image_id")


def _reads(reads: pl.DataFrame, detections: pl.DataFrame | None = None) -> ValidationOutcome:
    detections = _lake.detections(DAY) if detections is None else detections
    frame = reads_frame(reads.lazy(), detections.lazy(), _lake.images(DAY).lazy()).collect()
    return _run(frame, "reads", lake_parameters(Settings(), READS, AS_OF), "read_id")


def _failed(outcome: ValidationOutcome) -> set[str]:
    return {o.expectation.name for o in outcome.outcomes if o.failed}


def test_every_suite_names_a_rule_and_a_severity_for_each_expectation() -> None:
    for path in sorted(SUITES_DIR.glob("*.json")):
        suite = load_suite(path.stem)
        assert suite.expectations, path.name
        for e in suite.expectations:
            assert e.rule and e.severity in Severity, (path.name, e.name)
    declared = {t.suite for t in LAKE_TABLES if t.suite}
    assert declared <= {p.stem for p in SUITES_DIR.glob("*.json")}


def test_a_suite_without_a_rule_is_refused(tmp_path: Path) -> None:
    bad = {
        "name": "x",
        "expectations": [
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "a"},
                "meta": {"name": "a"},
            }
        ],
    }
    (tmp_path / "x.json").write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"lacks \['rule', 'severity'\]"):
        load_suite("x", tmp_path)


def test_good_lake_batches_pass_every_expectation() -> None:
    images = _images(_lake.images(DAY))
    assert images.passed and not _failed(images)
    assert images.outcome("camera_known").success is None  # no registry configured: skipped
    detections = detections_frame(_lake.detections(DAY).lazy(), _lake.images(DAY).lazy())
    outcome = _run(detections.collect(), "detections", {}, "detection_id")
    assert outcome.passed and not _failed(outcome)
    reads = _reads(_lake.reads(DAY))
    assert reads.passed and not _failed(reads) and reads.flags.is_empty()


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        (pl.col("image_id").replace({"img1": "img0"}), "image_id_unique"),
        (pl.col("sha256").replace({"ab" * 32: "not-a-hash"}), "sha256_well_formed"),
        (pl.col("size_bytes") * 0, "size_bytes_in_bounds"),
        (pl.col("width") * 0 + 32, "width_in_bounds"),
        (pl.col("height") * 0 + 40_000, "pixels_in_bounds"),  # 51.2 M pixels
    ],
)
def test_each_image_defect_fails_its_critical_expectation(
    change: pl.Expr, expectation: str
) -> None:
    outcome = _images(_lake.images(DAY).with_columns(change))
    assert expectation in _failed(outcome)
    assert outcome.outcome(expectation).expectation.severity is Severity.CRITICAL
    assert not outcome.passed
    with pytest.raises(DataQualityError, match=expectation):
        outcome.raise_for_failure()


@pytest.mark.parametrize(
    ("shift", "passed"),
    [
        (timedelta(days=1), False),  # in the future of the reference time
        (timedelta(seconds=300), True),  # within the clock-skew tolerance
        (timedelta(seconds=301), False),
        (-timedelta(days=400), True),  # ingest.max_age_days
        (-timedelta(days=400, seconds=1), False),
    ],
)
def test_capture_time_is_judged_against_the_reference_time(shift: timedelta, passed: bool) -> None:
    when = AS_OF + shift
    frame = _lake.images(DAY).with_columns(
        captured_at=pl.lit(when), capture_date=pl.lit(when.date())
    )
    assert _images(frame).outcome("captured_at_plausible").success is passed


def test_a_row_outside_its_partition_is_caught() -> None:
    frame = _lake.images(DAY).with_columns(capture_date=pl.lit(DAY + timedelta(days=1)))
    assert "captured_at_in_partition" in _failed(_images(frame))


def test_unknown_cameras_fail_when_a_registry_is_configured(tmp_path: Path) -> None:
    registry = tmp_path / "cameras.txt"
    registry.write_text("cam-01\n")
    settings = Settings().replace(ingest={"camera_registry": str(registry)})
    good = _images(_lake.images(DAY), settings)
    assert good.outcome("camera_known").success is True
    bad = _images(_lake.images(DAY, cameras=("cam-01", "cam-99")), settings)
    assert bad.outcome("camera_known").failed
    assert bad.outcome("camera_known").sample == ("cam-99",)


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        (pl.col("x2") + 2000, "box_inside_image"),
        (pl.col("x1").clip(upper_bound=-1.0).alias("x1"), "box_inside_image"),
        (pl.col("score") + 1, "score_in_unit_interval"),
        (pl.col("detector_sha256").replace({"ab" * 32: ""}), "detector_sha256_present"),
        (pl.col("image_id").replace({"img2": "gone"}), "image_linked"),
    ],
)
def test_each_detection_defect_is_caught(change: pl.Expr, expectation: str) -> None:
    detections = _lake.detections(DAY).with_columns(change)
    frame = detections_frame(detections.lazy(), _lake.images(DAY).lazy()).collect()
    outcome = _run(frame, "detections", {}, "detection_id")
    assert _failed(outcome) == {expectation}
    assert not outcome.passed


def test_impossible_plate_text_is_a_warning_whose_rows_are_flagged_and_kept() -> None:
    reads = _lake.reads(DAY, texts=("ABC123", "AB$12", "X"))
    outcome = _reads(reads)
    check = outcome.outcome("plate_text_alphabet")
    assert check.failed and check.unexpected_count == 2
    assert check.sample == ("read1", "read2")  # plate text is personal: the rows, not values
    assert outcome.passed  # a warning: the batch goes on, with its bad rows flagged
    assert outcome.warnings == [check]
    flagged = outcome.flags.filter(pl.col("check") == "plate_text_alphabet")
    assert sorted(flagged.get_column("row_id").to_list()) == ["read1", "read2"]


def test_empty_text_is_a_plate_not_read_and_passes() -> None:
    outcome = _reads(_lake.reads(DAY, texts=("", "", "ABCDEFGH")))
    assert outcome.outcome("plate_text_alphabet").success is True


@pytest.mark.parametrize(
    ("change", "expectation"),
    [
        (pl.col("confidence") + 2, "confidence_in_unit_interval"),
        (
            pl.col("char_confidences").list.eval(pl.element() * -1),
            "char_confidences_in_unit_interval",
        ),
        (pl.col("detection_id").replace({"det1": "missing"}), "detection_linked"),
        (pl.col("image_id").replace({"img0": "missing"}), "image_linked"),
        (pl.col("read_id").replace({"read2": "read1"}), "read_id_unique"),
    ],
)
def test_each_read_defect_blocks(change: pl.Expr, expectation: str) -> None:
    outcome = _reads(_lake.reads(DAY, texts=("ABC123", "XYZ789", "QQ11")).with_columns(change))
    assert expectation in _failed(outcome)
    assert outcome.blocking and not outcome.passed


def test_a_broken_link_names_the_rows_not_false() -> None:
    reads = _lake.reads(DAY).with_columns(pl.col("detection_id").replace({"det1": "missing"}))
    assert _reads(reads).outcome("detection_linked").sample == ("read1",)


def _entries(rows: list[tuple[str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "entry_id": f"e{i}",
                "list_name": "ncic",
                "plate": p,
                "state": s,
                "match_key": p,
                "list_code": c,
            }
            for i, (p, s, c) in enumerate(rows)
        ],
        schema={
            k: pl.String
            for k in ("entry_id", "list_name", "plate", "state", "match_key", "list_code")
        },
    )


def test_hotlist_defects_are_caught() -> None:
    params = hotlist_parameters(Settings(), "ncic", previous=None)
    good = _run(
        _entries([("ABC123", "CO", "V"), ("ABC123", "WY", "V")]),
        "hotlist_entries",
        params,
        "entry_id",
    )
    assert good.passed and not _failed(good)
    assert good.outcome("size_within_band").success is None  # a first version
    bad = _run(
        _entries([("ABC123", "CO", "V"), ("ABC123", "CO", "V"), ("XY1", "CO", "Z")]),
        "hotlist_entries",
        params,
        "entry_id",
    )
    assert _failed(bad) == {"identity_unique", "list_code_valid"}


@pytest.mark.parametrize(("previous", "passed"), [(4, True), (2, True), (1, False), (8, False)])
def test_hotlist_size_is_judged_against_the_version_before(previous: int, passed: bool) -> None:
    # quality.hotlist_size_band = 0.5: 3 entries pass against 2..6 before, not 1 or 8
    params = hotlist_parameters(Settings(), "ncic", previous=previous)
    entries = _entries([("A1", "CO", "V"), ("B2", "CO", "V"), ("C3", "CO", "V")])
    outcome = _run(entries, "hotlist_entries", params, "entry_id")
    check = outcome.outcome("size_within_band")
    assert check.success is passed
    assert check.expectation.severity is Severity.WARNING and outcome.passed


def test_alert_defects_are_caught() -> None:
    reads = _lake.reads(DAY).lazy()
    alerts = pl.DataFrame(
        {
            "alert_id": ["a1", "a2", "a3"],
            "state": ["pending", "confirmed", "stopped"],
            "read_id": ["read0", "read1", "nowhere"],
            "entry_id": ["e1", "e2", None],
            "match_kind": ["exact", "lenient", "exact"],
        }
    )
    frame = alerts_frame(alerts.lazy(), reads).collect()
    outcome = _run(frame, "alerts", alerts_parameters(Settings()), "alert_id")
    assert _failed(outcome) == {"state_valid", "read_linked", "entry_linked"}
    assert outcome.outcome("read_linked").sample == ("a3",)
