"""Resources: the settings object, injected, so assets never read the environment themselves."""

from __future__ import annotations

import dagster as dg

from pipelines.config import Settings, load_settings

__all__ = ["RESOURCES_BY_DEPLOYMENT", "AlprSettings"]


class AlprSettings(dg.ConfigurableResource):
    """The project's settings: ``ALPR_*`` variables over an optional TOML file."""

    config_path: str | None = None

    def load(self) -> Settings:
        return load_settings(self.config_path)


# Local runs read ./alpr.toml and ALPR_*; a deployment names its file in ALPR_CONFIG.
RESOURCES_BY_DEPLOYMENT: dict[str, dict[str, AlprSettings]] = {
    "local": {"alpr": AlprSettings()},
    "production": {"alpr": AlprSettings(config_path=dg.EnvVar("ALPR_CONFIG"))},
}
