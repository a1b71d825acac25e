"""What every ``alpr`` command acting for a person shares: its settings, a migrated catalog, and
the user it authenticates (password from ``ALPR_PASSWORD``, else a hidden prompt on stderr)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import click
import sqlalchemy as sa

from pipelines.audit.users import User, authenticate
from pipelines.config import Settings, load_settings

__all__ = [
    "PASSWORD_ENV",
    "Invocation",
    "authenticated",
    "catalog",
    "invocation",
    "settings_of",
    "user_option",
]

PASSWORD_ENV = "ALPR_PASSWORD"


@dataclass(frozen=True)
class Invocation:
    """What the root command hands its subcommands: the ``--config`` path and the environment
    that settings and the password are read from.

    From a shell that is ``os.environ``. A program that runs ``alpr`` in its own process (the
    tests, through click's runner) passes a mapping as ``obj`` instead of changing
    ``os.environ``: setenv is not thread-safe, and once polars has read from S3 one of its
    threads reads the environment every 100 ms (a test worker's thread segfaulted there).
    """

    config_path: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def with_config(self, config_path: str | None) -> Invocation:
        return dataclasses.replace(self, config_path=config_path or self.config_path)


def invocation(ctx: click.Context | None = None) -> Invocation:
    """The invocation of the running command (``ctx``, else click's current context)."""
    root = (ctx or click.get_current_context()).find_root()
    return root.obj if isinstance(root.obj, Invocation) else Invocation()


user_option = click.option(
    "--user",
    "user_name",
    required=True,
    metavar="NAME",
    help=f"who acts; authenticated with ${PASSWORD_ENV} or a prompt",
)


def settings_of(ctx: click.Context) -> Settings:
    """The settings of the ``alpr --config`` in force, with the invocation's ``ALPR_*``."""
    called = invocation(ctx)
    return load_settings(called.config_path, called.environ)


def catalog(settings: Settings) -> sa.Engine:
    """The catalog engine, its schema brought up to date first (the command's start-up)."""
    from pipelines.storage.catalog import engine_for, upgrade_catalog

    upgrade_catalog(settings.catalog_url)
    return engine_for(settings.catalog_url)


def authenticated(settings: Settings, name: str, *, now: datetime) -> User:
    """The user ``name`` once their password checks out (throttled and audited by the core)."""
    password = invocation().environ.get(PASSWORD_ENV)
    if password is None:
        password = click.prompt(f"password for {name}", hide_input=True, err=True)
    with catalog(settings).begin() as conn:
        return authenticate(conn, name, password, now=now, auth=settings.auth)
