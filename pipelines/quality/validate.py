"""Validate one batch (a frame) against its suite: a verdict, per-expectation counts and a small
sample, and the keys of the rows that failed a row-level expectation (flagged, never dropped).

The first pass uses GX's SUMMARY result format, which stays small however large the batch. Only
when a row-level expectation fails does a second pass, over those expectations alone, ask for
the failing rows' keys.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.errors import DataQualityError
from pipelines.quality._gx import gx_context, run_suite, to_gx_frame
from pipelines.quality.suites import Severity, Suite, SuiteExpectation

__all__ = ["FLAGS_SCHEMA", "ExpectationOutcome", "ValidationOutcome", "validate_frame"]

FLAGS_SCHEMA = pl.Schema({"row_id": pl.String, "check": pl.String})


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: SuiteExpectation
    success: bool | None  # None: skipped, the batch could not give one of its parameters
    element_count: int = 0
    unexpected_count: int = 0
    sample: tuple[str, ...] = ()  # a few unexpected values (or the observed value)
    error: str | None = None  # GX could not evaluate it (a missing column, say): a failure

    @property
    def failed(self) -> bool:
        return self.success is False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.expectation.name,
            "expectation": self.expectation.type,
            "column": self.expectation.column,
            "severity": self.expectation.severity.value,
            "rule": self.expectation.rule,
            "success": self.success,
            "element_count": self.element_count,
            "unexpected_count": self.unexpected_count,
            "sample": list(self.sample),
            "error": self.error,
        }


@dataclass(frozen=True)
class ValidationOutcome:
    suite: str
    batch: str  # the capture date, hotlist version... that was validated
    rows: int
    outcomes: tuple[ExpectationOutcome, ...]
    flags: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FLAGS_SCHEMA))
    results_dir: Path | None = None  # GX's stored result files, to upload

    @property
    def blocking(self) -> list[ExpectationOutcome]:
        return [
            o for o in self.outcomes if o.failed and o.expectation.severity is Severity.CRITICAL
        ]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.failed and o.expectation.severity is Severity.WARNING]

    @property
    def passed(self) -> bool:
        """No critical expectation failed: downstream may use the batch."""
        return not self.blocking

    def outcome(self, name: str) -> ExpectationOutcome:
        for item in self.outcomes:
            if item.expectation.name == name:
                return item
        raise KeyError(f"suite {self.suite!r} has no expectation {name!r}")

    def summary(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "batch": self.batch,
            "rows": self.rows,
            "passed": self.passed,
            "blocking": [o.expectation.name for o in self.blocking],
            "warnings": [o.expectation.name for o in self.warnings],
            "flagged_rows": self.flags.get_column("row_id").n_unique(),
            "expectations": [o.as_dict() for o in self.outcomes],
        }

    def raise_for_failure(self) -> None:
        """DataQualityError naming each failed critical expectation, if any failed."""
        if self.passed:
            return
        failed = "; ".join(
            f"{o.expectation.name} ({o.error or f'{o.unexpected_count} of {o.element_count}'})"
            for o in self.blocking
        )
        raise DataQualityError(
            f"{self.suite} {self.batch}: {len(self.blocking)} critical expectation(s) failed: "
            f"{failed}"
        )


def validate_frame(
    frame: pl.DataFrame,
    suite: Suite,
    *,
    batch: str,
    parameters: dict[str, Any],
    key_column: str,
    run_name: str,
    run_time: datetime,
    sample_size: int = 20,
    results_dir: Path | None = None,
) -> ValidationOutcome:
    """Validate ``frame`` against ``suite``; ``parameters`` fill its ``$PARAMETER`` references
    (None or absent: the expectations that need it are skipped). GX's result files are written
    under ``results_dir`` (a temporary folder, gone on return, if not given)."""
    given = {k: v for k, v in parameters.items() if v is not None}
    runnable = [e for e in suite.expectations if e.parameters <= given.keys()]
    skipped = [ExpectationOutcome(e, None) for e in suite.expectations if e not in runnable]
    if not runnable:
        return ValidationOutcome(suite.name, batch, frame.height, tuple(skipped))
    columns = {key_column} | {
        c for e in runnable for c in (e.kwargs.get("column"), *e.kwargs.get("column_list", ()))
    }
    data = to_gx_frame(frame, {c for c in columns if c})
    with tempfile.TemporaryDirectory(prefix="alpr-gx-") as scratch:
        folder = results_dir or Path(scratch)
        context = gx_context(folder)
        common = {
            "context": context,
            "batch": batch,
            "data": data,
            "parameters": given,
            "run_name": run_name,
            "run_time": run_time,
        }
        result = run_suite(
            suite_name=suite.name,
            expectations=[_config(e) for e in runnable],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_size},
            **common,
        )
        outcomes = [
            _outcome(e, r, sample_size) for e, r in zip(runnable, result.results, strict=True)
        ]
        to_flag = [
            o.expectation for o in outcomes if o.expectation.row_level and o.unexpected_count
        ]
        flags = pl.DataFrame(schema=FLAGS_SCHEMA)
        if to_flag:
            # The failing rows' keys, in a scratch store: the stored result stays the small one.
            rows = run_suite(
                **{**common, "context": gx_context(Path(scratch) / "complete")},
                suite_name=f"{suite.name}_flags",
                expectations=[_config(e) for e in to_flag],
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": [key_column],
                    "return_unique_unexpected": False,
                },
            )
            flags = _flags(to_flag, rows.results, key_column)
            outcomes = [_keys_as_sample(o, flags, sample_size) for o in outcomes]
    return ValidationOutcome(
        suite.name,
        batch,
        frame.height,
        tuple(sorted([*outcomes, *skipped], key=lambda o: suite.expectations.index(o.expectation))),
        flags,
        results_dir,
    )


def _config(expectation: SuiteExpectation) -> dict[str, Any]:
    return {
        "type": expectation.type,
        "kwargs": expectation.kwargs,
        "meta": {
            "name": expectation.name,
            "rule": expectation.rule,
            "severity": expectation.severity.value,
            "personal": expectation.personal,
        },
    }


def _outcome(expectation: SuiteExpectation, result: Any, sample_size: int) -> ExpectationOutcome:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return ExpectationOutcome(
            expectation, False, error=str(info.get("exception_message"))[:300]
        )
    detail = result.result or {}
    sample = detail.get("partial_unexpected_list")
    if sample is None and "observed_value" in detail:
        sample = [detail["observed_value"]]
    return ExpectationOutcome(
        expectation,
        bool(result.success),
        element_count=int(detail.get("element_count") or 0),
        unexpected_count=int(detail.get("unexpected_count") or 0),
        sample=tuple(str(v) for v in (sample or [])[:sample_size]),
    )


def _keys_as_sample(
    outcome: ExpectationOutcome, flags: pl.DataFrame, sample_size: int
) -> ExpectationOutcome:
    """Name the failing rows instead of their values where the values say nothing (a derived
    column's ``False``) or must not travel (plate text, into the orchestrators' UIs and logs)."""
    expectation = outcome.expectation
    derived = (expectation.column or "").startswith("_")
    if not (derived or expectation.personal) or not outcome.unexpected_count:
        return outcome
    keys = flags.filter(pl.col("check") == outcome.expectation.name).get_column("row_id")
    return replace(outcome, sample=tuple(keys.sort().head(sample_size).to_list()))


def _flags(expectations: list[SuiteExpectation], results: Any, key_column: str) -> pl.DataFrame:
    frames = [
        pl.DataFrame(
            {
                "row_id": [str(i[key_column]) for i in r.result.get("unexpected_index_list") or []],
                "check": expectation.name,
            },
            schema=FLAGS_SCHEMA,
        )
        for expectation, r in zip(expectations, results, strict=True)
    ]
    return pl.concat(frames).unique()
