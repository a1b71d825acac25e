"""For the core tests: a migrated PostgreSQL catalog of the test's own, with a cheap argon2 cost
(the hashes are still argon2id; tests/pipelines/audit checks the production cost)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.config import Settings, load_settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import FAST_AUTH


@pytest.fixture
def catalog_settings(pg_url: str, tmp_path: Path) -> Settings:
    settings = load_settings(env={}).replace(
        data_dir=tmp_path / "var", catalog={"url": pg_url}, auth=FAST_AUTH
    )
    upgrade_catalog(settings.catalog_url)
    return settings


@pytest.fixture
def engine(catalog_settings: Settings) -> sa.Engine:
    return engine_for(catalog_settings.catalog_url)
