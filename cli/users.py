"""``alpr users ...``: the operator's commands on the server (like Django's createsuperuser): they
need the catalog, not a login, and are audited as ``operator:<OS user>``."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime

import click

from cli._auth import catalog, settings_of
from pipelines.audit.users import Role, add_user
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


def _operator() -> str:
    """Who ran the command on the server, for the audit log."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "operator"
