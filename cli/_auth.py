"""What every ``alpr`` command acting for a person shares: its settings, a migrated catalog, and
the user it authenticates (password from ``ALPR_PASSWORD``, else a hidden prompt on stderr)."""

from __future__ import annotations

import os
from datetime import datetime

import click
import sqlalchemy as sa

from pipelines.audit.users import User, authenticate
from pipelines.config import Settings, load_settings

__all__ = ["PASSWORD_ENV", "authenticated", "catalog", "settings_of", "user_option"]

PASSWORD_ENV = "ALPR_PASSWORD"

user_option = click.option(
    "--user",
    "user_name",
    required=True,
    metavar="NAME",
    help=f"who acts; authenticated with ${PASSWORD_ENV} or a prompt",
)


def settings_of(ctx: click.Context) -> Settings:
    """The settings of the ``alpr --config`` in force (the root command keeps its path)."""
    root = ctx.find_root()
    return load_settings(root.obj if isinstance(root.obj, str) else None)


def catalog(settings: Settings) -> sa.Engine:
    """The catalog engine, its schema brought up to date first (the command's start-up)."""
    from pipelines.storage.catalog import engine_for, upgrade_catalog

    upgrade_catalog(settings.catalog_url)
    return engine_for(settings.catalog_url)


def authenticated(settings: Settings, name: str, *, now: datetime) -> User:
    """The user ``name`` once their password checks out (throttled and audited by the core)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt(f"password for {name}", hide_input=True, err=True)
    with catalog(settings).begin() as conn:
        return authenticate(conn, name, password, now=now, auth=settings.auth)
