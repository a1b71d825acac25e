"""The ``web`` settings section: checked at load, the session secret never shown."""

from __future__ import annotations

import json

import pytest

from pipelines.config import load_settings
from pipelines.errors import ConfigError
from tests.cli._run import alpr

SECRET = "a-session-secret-of-forty-characters-xx"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALPR_WEB_HOST": "0.0.0.0"}, "web.host='0.0.0.0'; valid values: ['127.0.0.1'"),
        ({"ALPR_WEB_PORT": "70000"}, "web.port=70000 must be 1..65535"),
        ({"ALPR_WEB_SESSION_MINUTES": "0"}, "web.session_minutes=0 must be a positive integer"),
        ({"ALPR_WEB_SESSION_SECRET": "short"}, "web.session_secret must be at least 32"),
    ],
)
def test_invalid_web_settings_name_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_settings(env=env)


def test_session_secret_comes_from_the_environment_and_is_masked() -> None:
    settings = load_settings(env={"ALPR_WEB_SESSION_SECRET": SECRET, "ALPR_WEB_PORT": "8400"})
    assert (settings.web.session_secret, settings.web.port) == (SECRET, 8400)
    assert settings.web.host == "127.0.0.1"
    assert settings.masked()["web"]["session_secret"] == "****"
    assert SECRET not in json.dumps(settings.masked())


def test_alpr_config_does_not_print_the_session_secret() -> None:
    result = alpr({"ALPR_WEB_SESSION_SECRET": SECRET}, "config")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["web"]["session_secret"] == "****"
    assert SECRET not in result.stdout + result.stderr
