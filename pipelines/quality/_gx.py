"""Great Expectations, set up once: an ephemeral context with analytics and progress bars off,
its validation results written as files under a folder the caller names (and uploads).

GX has no polars data source: a batch is converted once, through Arrow, to a pandas frame backed
by Arrow arrays, holding only the columns the suite reads.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["gx_context", "run_suite", "to_gx_frame"]

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # never phones home
# GX logs the expectations it evaluates at INFO; the values they name stay out of our logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


def _backend(folder: Path) -> dict[str, Any]:
    return {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)}


def gx_context(results_dir: Path, docs_dir: Path | None = None) -> Any:
    """An ephemeral context whose validation results are files under ``results_dir``
    (``<suite>/<run name>/<run time>/<batch>.json``) and, with ``docs_dir``, whose Data Docs site
    is built there."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores = dict(defaults.stores)
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": _backend(results_dir),
    }
    sites = {}
    if docs_dir is not None:
        sites["lake"] = {
            "class_name": "SiteBuilder",
            "store_backend": _backend(docs_dir),
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def to_gx_frame(frame: pl.DataFrame, columns: set[str]) -> Any:
    """The columns of ``frame`` a suite reads, as pandas over Arrow (no copy of strings)."""
    kept = [c for c in frame.columns if c in columns]
    return frame.select(kept).to_pandas(use_pyarrow_extension_array=True)


def run_suite(
    context: Any,
    *,
    suite_name: str,
    batch: str,
    expectations: list[dict[str, Any]],
    data: Any,
    parameters: dict[str, Any],
    result_format: dict[str, Any],
    run_name: str,
    run_time: datetime,
) -> Any:
    """Validate ``data`` against ``expectations`` (configuration dicts) as one suite run;
    the result is stored in the context's results folder and returned."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    # The asset is named for the batch too, so a stored result's file name says which batch
    # (capture date) it judged: retention deletes it with that day's data.
    asset = context.data_sources.add_pandas(name="lake").add_dataframe_asset(
        name=f"{suite_name}.{batch}"
    )
    definition = asset.add_batch_definition_whole_dataframe(batch)
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=suite_name,
            expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in expectations],
        )
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}:{batch}", data=definition, suite=suite)
    )
    return validation.run(
        batch_parameters={"dataframe": data},
        expectation_parameters=parameters,
        result_format=result_format,
        run_id=gx.RunIdentifier(run_name=run_name, run_time=run_time),
    )
