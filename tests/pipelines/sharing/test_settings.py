"""The sharing section of the settings: criminal-justice purposes only, each a reason category
(an export's purpose is its reason category), checked at load with the key and valid values."""

from __future__ import annotations

import pytest

from pipelines.config import NON_CRIMINAL_JUSTICE_PURPOSES, load_settings
from pipelines.errors import ConfigError


def test_the_defaults_are_criminal_justice_reason_categories() -> None:
    settings = load_settings(env={})
    assert set(settings.sharing.purposes) <= set(settings.audit.reason_categories)
    assert not set(settings.sharing.purposes) & set(NON_CRIMINAL_JUSTICE_PURPOSES)
    assert settings.sharing.max_export_reads == 10_000


@pytest.mark.parametrize(
    ("env", "says"),
    [
        (
            {"ALPR_SHARING_PURPOSES": "stolen_vehicle,civil_litigation"},
            "sharing.purposes ['civil_litigation'] are not criminal-justice purposes (PP-9126 C.6)",
        ),
        (
            {"ALPR_SHARING_PURPOSES": "stolen_vehicle,internal_affairs"},
            "sharing.purposes ['internal_affairs'] are not criminal-justice purposes",
        ),
        (
            {"ALPR_SHARING_PURPOSES": "stolen_vehicle,burglary"},
            "sharing.purposes ['burglary'] are not reason categories",
        ),
        ({"ALPR_SHARING_PURPOSES": ""}, "sharing.purposes must name at least one"),
        ({"ALPR_SHARING_MAX_EXPORT_READS": "0"}, "sharing.max_export_reads=0 must be a positive"),
    ],
)
def test_purposes_that_are_not_criminal_justice_are_refused_at_load(
    env: dict[str, str], says: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(env=env)
    assert says in str(refused.value)


def test_the_purposes_may_be_narrowed() -> None:
    settings = load_settings(env={"ALPR_SHARING_PURPOSES": "stolen_vehicle, amber_alert"})
    assert settings.sharing.purposes == ("stolen_vehicle", "amber_alert")
