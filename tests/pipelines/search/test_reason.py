"""The reason gate on its own (PP-9126 B.6): what is refused, with which field named, and what
passes."""

from __future__ import annotations

import pytest

from pipelines.config import AuditSettings, load_settings
from pipelines.errors import ConfigError
from pipelines.search import Reason, SearchRefusal, check_reason

AUDIT = AuditSettings()
GOOD = "hit and run at Wadsworth and Alameda, white pickup"


@pytest.mark.parametrize(
    ("reason", "field", "says"),
    [
        (Reason("", GOOD, "26-1"), "reason_category", "missing; valid values"),
        (Reason("curiosity", GOOD, "26-1"), "reason_category", "not a configured category"),
        (Reason("criminal_investigation", "", "26-1"), "reason", "missing"),
        (Reason("criminal_investigation", "   ", "26-1"), "reason", "missing"),
        (Reason("stolen_vehicle", "stolen car", ""), "reason", "too short (10 characters"),
        (Reason("stolen_vehicle", "inv", ""), "reason", "too short"),
        (Reason("stolen_vehicle", "investigation investigation", ""), "reason", "too vague"),
        (Reason("stolen_vehicle", "Investigation -- TEST, test!!", ""), "reason", "too vague"),
        (Reason("stolen_vehicle", "inv. / ongoing investigation", ""), "reason", "too vague"),
        (Reason("stolen_vehicle", "n/a n/a n/a n/a n/a n/a", ""), "reason", "too vague"),
        (Reason("stolen_vehicle", "x" * 2001, ""), "reason", "too long"),
        (Reason("criminal_investigation", GOOD, ""), "case", "missing: a case number is required"),
        (Reason("criminal_investigation", GOOD, "  "), "case", "missing"),
        (Reason("stolen_vehicle", GOOD, "2026/1"), "case", "not a valid case number"),
    ],
)
def test_a_reason_that_documents_nothing_is_refused_naming_the_field(
    reason: Reason, field: str, says: str
) -> None:
    with pytest.raises(SearchRefusal) as refused:
        check_reason(reason, AUDIT)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"search refused (PP-9126 B.6): {field}: {says}")
    if len(reason.text.strip()) > 8 and field == "reason":  # the message never repeats it
        assert reason.text not in str(refused.value)


def test_a_documented_reason_passes_tidied() -> None:
    checked = check_reason(
        Reason(" Criminal_Investigation ", f"  {GOOD}\n  (suspect seen eastbound) ", " 26-001234 "),
        AUDIT,
    )
    assert checked == Reason(
        "criminal_investigation", f"{GOOD} (suspect seen eastbound)", "26-001234"
    )
    # a category without a required case needs none, and a stop word among others is fine
    assert check_reason(Reason("stolen_vehicle", "stolen vehicle test drive, dealer", ""), AUDIT)


def test_the_gate_follows_its_settings() -> None:
    strict = AuditSettings(
        reason_categories=("patrol",),
        min_reason_length=5,
        vague_reasons=("routine",),
        case_required_categories=("patrol",),
        case_number_pattern=r"LPD\d{4}",
    )
    assert check_reason(Reason("patrol", "plate seen at a break-in", "lpd1234"), strict).case == (
        "LPD1234"
    )
    with pytest.raises(SearchRefusal, match="too vague"):
        check_reason(Reason("patrol", "Routine, routine.", "LPD1234"), strict)
    with pytest.raises(SearchRefusal, match=r"must match 'LPD\\\\d\{4\}'"):
        check_reason(Reason("patrol", "plate seen at a break-in", "26-1"), strict)
    # "investigation" alone passes a stop-list without it: the list is the setting's
    assert check_reason(Reason("patrol", "investigation", "LPD0001"), strict)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"ALPR_AUDIT_REASON_CATEGORIES": ""}, "audit.reason_categories must name at least one"),
        ({"ALPR_AUDIT_REASON_CATEGORIES": "Stolen Car"}, r"\['Stolen Car'\] are not valid"),
        (
            {"ALPR_AUDIT_CASE_REQUIRED_CATEGORIES": "patrol"},
            r"audit.case_required_categories \['patrol'\] are not reason categories; valid values: "
            r"\['criminal_investigation', ",
        ),
        ({"ALPR_AUDIT_CASE_NUMBER_PATTERN": "[0-9"}, "audit.case_number_pattern='\\[0-9' is not a"),
        ({"ALPR_AUDIT_MIN_REASON_LENGTH": "0"}, "audit.min_reason_length=0 must be a positive"),
        (
            {"ALPR_AUDIT_LOG_RETENTION_DAYS": "300"},
            r"audit.log_retention_days=300 must be 365..36500",
        ),
        ({"ALPR_AUDIT_HEAD_PREFIX": "heads"}, "audit.head_prefix='heads' must end with '/'"),
        ({"ALPR_AUDIT_HEAD_CRON": "hourly"}, "audit.head_cron='hourly' must be a cron expression"),
    ],
)
def test_audit_settings_are_checked_at_load_naming_the_key(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_settings(env=env)


def test_audit_settings_load_from_the_environment() -> None:
    audit = load_settings(
        env={"ALPR_AUDIT_VAGUE_REASONS": "inv,n/a", "ALPR_AUDIT_MIN_REASON_LENGTH": "30"}
    ).audit
    assert (audit.vague_reasons, audit.min_reason_length) == (("inv", "n/a"), 30)
    assert AUDIT.log_retention_days == 1095  # three years unless configured
