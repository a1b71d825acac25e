"""``alpr users ...``: the operator's commands on the server (like Django's createsuperuser): they
need the catalog, not a login, and are audited as ``operator:<OS user>``."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime

import click

from cli._auth import authenticated, catalog, settings_of
from pipelines.audit.users import Role, User, add_user, disable_user, list_users, set_role
from pipelines.errors import AlprError

__all__ = ["users"]

HELP = """Users of the review workflow and their roles.

\b
Roles: administrator (users, reviews), agent (reviews alerts), analyst (reads alerts),
service (schedules; the built-in account "service" exists already).
\b
Examples:
  printf '%s\\n' "$PASSWORD" | alpr users add jdoe --role agent --password-stdin
  alpr users add chief --role administrator        (prompts for the password twice)
  alpr users list                                  one JSON object per user
  alpr users role jdoe administrator               change a role (audited, old and new)
  alpr users disable jdoe                          no more logins; the account stays
  alpr users disable jdoe --user chief             as an administrator (ALPR_PASSWORD)
"""


@click.group(help=HELP)
def users() -> None:
    pass


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password-stdin", is_flag=True, help="read the password from stdin's first line")
@click.pass_context
def add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create user NAME with ROLE; prints the user as JSON."""
    settings = settings_of(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AlprError("--password-stdin: stdin held no password")
    else:
        password = click.prompt(
            f"password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
    with catalog(settings).begin() as conn:
        user = add_user(
            conn, name, role, password, actor=_operator(), now=datetime.now(UTC), auth=settings.auth
        )
    click.echo(json.dumps({"name": user.name, "role": user.role.value, "active": user.active}))
    click.echo(f"user {user.name} ({user.role.value}) created", err=True)


admin_option = click.option(
    "--user",
    "admin_name",
    metavar="NAME",
    help="an administrator to act as (ALPR_PASSWORD or a prompt); default: the server operator",
)


def _actor(ctx: click.Context, admin_name: str | None, now: datetime) -> User | str:
    return authenticated(settings_of(ctx), admin_name, now=now) if admin_name else _operator()


def _as_json(user: User) -> str:
    return json.dumps({"name": user.name, "role": user.role.value, "active": user.active})


@users.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """One JSON object per user (name, role, active), by name."""
    with catalog(settings_of(ctx)).connect() as conn:
        for user in list_users(conn):
            click.echo(_as_json(user))


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice([r.value for r in Role if r is not Role.SERVICE]))
@admin_option
@click.pass_context
def role_cmd(ctx: click.Context, name: str, role: str, admin_name: str | None) -> None:
    """Give user NAME the role ROLE; audited with the role before and after."""
    now = datetime.now(UTC)
    actor = _actor(ctx, admin_name, now)
    with catalog(settings_of(ctx)).begin() as conn:
        user = set_role(conn, name, role, actor=actor, now=now)
    click.echo(_as_json(user))


@users.command("disable")
@click.argument("name")
@admin_option
@click.pass_context
def disable_cmd(ctx: click.Context, name: str, admin_name: str | None) -> None:
    """Disable user NAME: no login from now on; the account and its history stay."""
    now = datetime.now(UTC)
    actor = _actor(ctx, admin_name, now)
    with catalog(settings_of(ctx)).begin() as conn:
        user = disable_user(conn, name, actor=actor, now=now)
    click.echo(_as_json(user))


def _operator() -> str:
    """Who ran the command on the server, for the audit log."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "operator"
