"""The audit section of the settings (``AuditSettings``): what it refuses at load, in the words
the operator reads, and the edges that pass."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.config import AuditSettings
from pipelines.errors import ConfigError


def _refusal(**fields: Any) -> str:
    with pytest.raises(ConfigError) as refused:
        AuditSettings(**fields)
    return str(refused.value)


def test_the_defaults_load() -> None:
    audit = AuditSettings()
    assert set(audit.case_required_categories) <= set(audit.reason_categories)
    assert (audit.log_retention_days, audit.head_prefix, audit.head_cron) == (
        1095,
        "audit/chain-heads/",
        "0 * * * *",
    )


def test_at_least_one_reason_category() -> None:
    assert _refusal(reason_categories=(), case_required_categories=()) == (
        "audit.reason_categories must name at least one category"
    )


def test_reason_categories_are_lowercase_words() -> None:
    got = _refusal(
        reason_categories=("ok_1", "Stolen", "a-b", "x y", "abc!", ""),
        case_required_categories=(),
    )
    assert got == (
        "audit.reason_categories ['Stolen', 'a-b', 'x y', 'abc!', ''] are not valid: "
        "lowercase letters, digits and _"
    )
    accepted = AuditSettings(reason_categories=("a", "z9_", "0", "_"), case_required_categories=())
    assert accepted.reason_categories == ("a", "z9_", "0", "_")


def test_case_required_categories_must_be_reason_categories() -> None:
    got = _refusal(reason_categories=("a", "b"), case_required_categories=("c", "a", "b2"))
    assert got == (
        "audit.case_required_categories ['b2', 'c'] are not reason categories; "
        "valid values: ['a', 'b']"
    )
    assert AuditSettings(reason_categories=("a", "b"), case_required_categories=("b",))


@pytest.mark.parametrize(
    "name", ["min_reason_length", "max_search_results", "report_inactive_days"]
)
@pytest.mark.parametrize("value", [0, -1])
def test_counts_are_positive(name: str, value: int) -> None:
    assert _refusal(**{name: value}) == f"audit.{name}={value} must be a positive integer"
    one: dict[str, Any] = {name: 1}
    assert getattr(AuditSettings(**one), name) == 1


def test_the_case_number_pattern_must_compile() -> None:
    assert _refusal(case_number_pattern="[A-Z") == (
        "audit.case_number_pattern='[A-Z' is not a regular expression: "
        "unterminated character set at position 0"
    )
    assert AuditSettings(case_number_pattern=r"LPD\d{4}").case_number_pattern == r"LPD\d{4}"


@pytest.mark.parametrize("days", [364, 36501, 0, -365])
def test_audit_records_are_kept_one_year_to_a_hundred(days: int) -> None:
    assert _refusal(log_retention_days=days) == (
        f"audit.log_retention_days={days} must be 365..36500 "
        "(CJIS: audit records kept at least one year)"
    )


@pytest.mark.parametrize("days", [365, 36500])
def test_the_edges_of_the_audit_record_period_load(days: int) -> None:
    assert AuditSettings(log_retention_days=days).log_retention_days == days


@pytest.mark.parametrize("prefix", ["audit", "/audit/", "", "/"])
def test_the_chain_head_prefix_is_a_relative_folder(prefix: str) -> None:
    assert _refusal(head_prefix=prefix) == (
        f"audit.head_prefix={prefix!r} must end with '/' and not start with one"
    )


def test_a_relative_folder_is_a_chain_head_prefix() -> None:
    assert AuditSettings(head_prefix="heads/").head_prefix == "heads/"


def test_the_chain_head_schedule_is_a_cron_expression() -> None:
    assert _refusal(head_cron="0 * * *") == (
        "audit.head_cron='0 * * *' must be a cron expression of 5 fields "
        "(minute hour day month weekday), e.g. '30 5 * * *'"
    )
