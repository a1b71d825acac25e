"""GX Data Docs of the validations kept in the lake bucket: a static HTML site a person opens.

The results stay in ``quality/results/`` (written by ``validate_batch``); this renders them, with
the suites themselves, into a folder, and publishes the same site under ``quality/data_docs/``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.config import Settings
from pipelines.quality._gx import gx_context
from pipelines.quality.run import RESULTS_PREFIX
from pipelines.quality.suites import SUITES_DIR, load_suite
from pipelines.storage.objects import ensure_bucket, s3_client

__all__ = ["DOCS_PREFIX", "build_data_docs"]

DOCS_PREFIX = "quality/data_docs/"
_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript"}


def build_data_docs(settings: Settings, out_dir: Path) -> Path:
    """Render every kept validation result and every suite into ``out_dir`` and publish it to
    the lake bucket; returns the site's ``index.html``."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    client = s3_client(settings.s3)
    bucket = settings.s3.lake_bucket
    with tempfile.TemporaryDirectory(prefix="alpr-gx-results-") as store:
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=RESULTS_PREFIX
        ):
            for item in page.get("Contents", []):
                target = Path(store) / item["Key"][len(RESULTS_PREFIX) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        context = gx_context(Path(store), docs_dir=out_dir)
        for path in sorted(SUITES_DIR.glob("*.json")):
            suite = load_suite(path.stem)
            configs = [
                ExpectationConfiguration(
                    type=e.type, kwargs=e.kwargs, meta={"rule": e.rule, "severity": e.severity}
                ).to_domain_obj()
                for e in suite.expectations
            ]
            context.suites.add(gx.ExpectationSuite(name=suite.name, expectations=configs))
        context.build_data_docs()
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        client.put_object(
            Bucket=bucket,
            Key=DOCS_PREFIX + path.relative_to(out_dir).as_posix(),
            Body=path.read_bytes(),
            ContentType=_TYPES.get(path.suffix, "application/octet-stream"),
        )
    return out_dir / "index.html"
