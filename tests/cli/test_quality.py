"""``alpr quality validate`` and ``alpr quality docs`` as a person runs them."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.quality.docs import DOCS_PREFIX
from pipelines.storage.catalog import upgrade_catalog
from pipelines.storage.lake import DETECTIONS, IMAGES, READS
from pipelines.storage.objects import s3_client
from tests.cli._run import alpr
from tests.pipelines.quality import _lake


def test_validate_exits_1_on_a_bad_day_and_docs_render_the_results(
    settings: Settings,
    alpr_env: dict[str, str],
    tmp_path: Path,
    as_of: datetime,
    capture_day: date,
) -> None:
    upgrade_catalog(settings.catalog_url)
    _lake.write(settings, IMAGES, _lake.images(capture_day))
    _lake.write(settings, DETECTIONS, _lake.detections(capture_day))
    bad = _lake.reads(capture_day).with_columns(pl.col("confidence") + 5)
    _lake.write(settings, READS, bad)
    day = capture_day.isoformat()

    failed = alpr(alpr_env, "quality", "validate", "reads", day, "--as-of", as_of.isoformat())
    assert failed.returncode == 1, failed.stderr
    summary = json.loads(failed.stdout)
    assert summary["blocking"] == ["confidence_in_unit_interval"]
    assert "confidence_in_unit_interval" in failed.stderr
    assert "ABC123" not in failed.stdout + failed.stderr  # no plate text on the terminal

    good = alpr(alpr_env, "quality", "validate", "images", day, "--as-of", as_of.isoformat())
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["passed"] is True

    refused = alpr(alpr_env, "quality", "validate", "plates", day)
    assert refused.returncode != 0 and "valid values" in refused.stderr

    out = tmp_path / "site"
    built = alpr(alpr_env, "quality", "docs", "--out", str(out))
    assert built.returncode == 0, built.stderr
    index = Path(json.loads(built.stdout)["index"])
    assert index == out / "index.html" and index.exists()
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert any(p.startswith("validations/reads/") for p in pages), pages
    assert any(p.startswith("validations/images/") for p in pages), pages
    assert "expectations/reads.html" in pages
    client = s3_client(settings.s3)
    head = client.head_object(Bucket=settings.s3.lake_bucket, Key=DOCS_PREFIX + "index.html")
    assert head["ContentType"] == "text/html"
