"""The Great Expectations suites as asset checks: one check per expectation, on its asset.

A critical expectation is a blocking check (severity ERROR): downstream assets of the run do not
execute, and the core gate (``pipelines.quality.gate``) refuses the batch in later runs too. A
warning is reported (severity WARN). Each result carries the counts and a small sample.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import partial
from typing import Any

import dagster as dg

from assets._keys import table_key
from assets._time import ReferenceTime
from assets.hotlists.assets import hotlist_key
from assets.matching.assets import ALERTS_KEY
from assets.partitions import daily_partitions
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.quality.batches import Batch, day_batch, hotlist_batch
from pipelines.quality.run import validate_batch
from pipelines.quality.suites import Severity, load_suite
from pipelines.quality.validate import ExpectationOutcome
from pipelines.storage.lake import LAKE_TABLES

__all__ = ["build_quality_checks", "check_name"]

# (settings, partition day or None, reference time) -> the batch to validate
_BatchOf = Callable[[Settings, Any, datetime], Batch]


def check_name(suite: str, expectation: str) -> str:
    """``<table>_<property>``, the house name of a check."""
    return f"{suite}_{expectation}"


def _result(key: dg.AssetKey, suite: str, outcome: ExpectationOutcome) -> dg.AssetCheckResult:
    expectation = outcome.expectation
    critical = expectation.severity is Severity.CRITICAL
    metadata: dict[str, Any] = {
        "rule": expectation.rule,
        "expectation": expectation.type,
        "element_count": outcome.element_count,
        "unexpected_count": outcome.unexpected_count,
        "sample": dg.MetadataValue.json(list(outcome.sample)),
    }
    if outcome.success is None:
        metadata["skipped"] = "the batch gives no value for a parameter it needs"
    if outcome.error:
        metadata["error"] = outcome.error
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=check_name(suite, expectation.name),
        passed=outcome.success is not False,
        severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _suite_checks(
    key: dg.AssetKey,
    suite: str,
    batch_of: _BatchOf,
    *,
    name: str,
    partitioned: bool = True,
) -> dg.AssetChecksDefinition:
    specs = [
        dg.AssetCheckSpec(
            check_name(suite, e.name),
            asset=key,
            description=f"{e.type} ({e.severity.value}): {e.rule}",
            blocking=e.severity is Severity.CRITICAL,
            partitions_def=daily_partitions if partitioned else None,
        )
        for e in load_suite(suite).expectations
    ]

    @dg.multi_asset_check(specs=specs, name=name)
    def _checks(
        context: dg.AssetCheckExecutionContext, config: ReferenceTime, alpr: AlprSettings
    ) -> Iterator[dg.AssetCheckResult]:
        day = context.partition_time_window.start.date() if partitioned else None
        settings, as_of = alpr.load(), config.now()
        outcome = validate_batch(
            settings,
            batch_of(settings, day, as_of),
            run_id=context.op_execution_context.run_id,
            as_of=as_of,
        )
        for item in outcome.outcomes:
            yield _result(key, suite, item)

    return _checks


def build_quality_checks(hotlist_sources: Iterable[str]) -> list[dg.AssetChecksDefinition]:
    """The suite checks of the lake tables, the alerts, and each configured hotlist."""
    daily = {table_key(t): t.suite for t in LAKE_TABLES if t.suite}
    daily[ALERTS_KEY] = "alerts"
    checks = [
        _suite_checks(key, suite, partial(_day, suite), name=f"{suite}_suite")
        for key, suite in daily.items()
    ]
    checks += [
        _suite_checks(
            hotlist_key(source),
            "hotlist_entries",
            partial(_hotlist, source),
            name=f"hotlist_{source}_suite",
            partitioned=False,
        )
        for source in hotlist_sources
    ]
    return checks


def _day(suite: str, settings: Settings, day: date, as_of: datetime) -> Batch:
    return day_batch(settings, suite, day, as_of)


def _hotlist(source: str, settings: Settings, _day: None, _as_of: datetime) -> Batch:
    return hotlist_batch(settings, source)
