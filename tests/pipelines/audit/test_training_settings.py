"""``audit.require_training`` (PP-9126 B.3, B.5): off by default, refused unless a boolean, and on
in the production example configuration, which loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import AuditSettings, load_settings
from pipelines.errors import ConfigError

PRODUCTION = Path(__file__).resolve().parents[3] / "infra" / "alpr.production.toml"


def test_training_is_not_required_by_default() -> None:
    assert AuditSettings().require_training is False
    assert load_settings(env={}).audit.require_training is False


def test_the_setting_is_a_boolean() -> None:
    assert load_settings(env={"ALPR_AUDIT_REQUIRE_TRAINING": "true"}).audit.require_training
    with pytest.raises(ConfigError, match="ALPR_AUDIT_REQUIRE_TRAINING='maybe'"):
        load_settings(env={"ALPR_AUDIT_REQUIRE_TRAINING": "maybe"})
    with pytest.raises(ConfigError, match=r"audit\.require_training='yes' must be true or false"):
        AuditSettings(require_training="yes")  # type: ignore[arg-type]


def test_the_production_example_loads_and_requires_training() -> None:
    settings = load_settings(PRODUCTION, env={})
    assert settings.audit.require_training is True
    assert settings.catalog_url.startswith("postgresql+psycopg://")
    assert settings.policy.retention_days == 365
