"""The auth and alerts settings: checked at load, secrets masked, reproducible from ALPR_*."""

from __future__ import annotations

import pytest

from pipelines.config import load_settings
from pipelines.errors import ConfigError

HOOK = "https://hooks.example.org/services/T000/B000/s3cr3tT0ken"


def test_webhooks_come_from_the_environment_and_are_masked() -> None:
    settings = load_settings(
        env={
            "ALPR_ALERTS_WEBHOOKS": f"{HOOK},http://127.0.0.1:9000/alpr",
            "ALPR_ALERTS_WEBHOOK_SECRET": "hmac-key",
            "ALPR_ALERTS_WEBHOOK_INCLUDE_PLATE": "true",
            "ALPR_AUTH_MAX_FAILED_LOGINS": "3",
        }
    )
    assert settings.alerts.webhooks == (HOOK, "http://127.0.0.1:9000/alpr")
    assert settings.alerts.webhook_include_plate is True
    assert settings.auth.max_failed_logins == 3
    masked = settings.masked()
    assert masked["alerts"]["webhook_secret"] == "****"
    assert masked["alerts"]["webhooks"] == [
        "https://hooks.example.org/****",
        "http://127.0.0.1:9000/****",
    ]
    assert "s3cr3tT0ken" not in str(masked) and "hmac-key" not in str(masked)
    assert load_settings(env=settings.as_env()) == settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPR_ALERTS_WEBHOOKS": HOOK}, "alerts.webhook_secret must be set"),
        (
            {"ALPR_ALERTS_WEBHOOKS": "ftp://x/y", "ALPR_ALERTS_WEBHOOK_SECRET": "k"},
            "http:// or https://",
        ),
        ({"ALPR_ALERTS_REVIEW_MINUTES": "0"}, "alerts.review_minutes=0 must be a positive integer"),
        (
            {"ALPR_ALERTS_EXPIRE_HOURS": "1", "ALPR_ALERTS_REVIEW_MINUTES": "90"},
            "escalation comes before expiry",
        ),
        ({"ALPR_ALERTS_WEBHOOK_MAX_ATTEMPTS": "0"}, "alerts.webhook_max_attempts=0"),
        ({"ALPR_AUTH_LOCKOUT_MINUTES": "0"}, "auth.lockout_minutes=0"),
        ({"ALPR_AUTH_ARGON2_MEMORY_KIB": "16"}, "auth.argon2_memory_kib=16 must be at least"),
    ],
)
def test_invalid_values_are_refused_naming_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)
