"""``alpr users ...``: the operator's commands on the server (like Django's createsuperuser): they
need the catalog, not a login, and are audited as ``operator:<OS user>``."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, date, datetime

import click

from cli._auth import authenticated, catalog, settings_of
from pipelines.audit.designation import current_designation, designate_administrator
from pipelines.audit.training import Course, list_training, record_training
from pipelines.audit.users import (
    Role,
    User,
    add_user,
    disable_user,
    list_users,
    reset_password,
    set_role,
)
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
  printf '%s\n' "$NEW" | alpr users reset-password jdoe --password-stdin   ends a lockout too
  alpr users training add jdoe --course queries_and_search --completed 2026-01-15 \
       --expires 2027-01-15                        a course completed (PP-9126 B.3, B.5)
  alpr users training list jdoe                    one JSON object per record, current or not
  alpr users designate chief                       the ALPR administrator of B.7
  alpr users designation                           who is designated now (JSON, or null)
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
    password = _read_password(name, password_stdin)
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


def _read_password(name: str, password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise AlprError("--password-stdin: stdin held no password")
        return password
    prompt = f"new password for {name}"
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True))


@users.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from stdin's first line")
@admin_option
@click.pass_context
def reset_password_cmd(
    ctx: click.Context, name: str, password_stdin: bool, admin_name: str | None
) -> None:
    """Give user NAME a new password and end any lockout; audited, never with the password."""
    settings = settings_of(ctx)
    now = datetime.now(UTC)
    actor = _actor(ctx, admin_name, now)
    password = _read_password(name, password_stdin)
    with catalog(settings).begin() as conn:
        user = reset_password(conn, name, password, actor=actor, now=now, auth=settings.auth)
    click.echo(_as_json(user))
    click.echo(f"password of {user.name} reset", err=True)


@users.group("training")
def training() -> None:
    """Training records (PP-9126 B.3, B.5): add one, list them."""


_DAY = click.DateTime(formats=["%Y-%m-%d"])


@training.command("add")
@click.argument("name")
@click.option("--course", type=click.Choice([c.value for c in Course]), required=True)
@click.option("--completed", type=_DAY, required=True, help="YYYY-MM-DD, the day it was completed")
@click.option("--expires", type=_DAY, required=True, help="YYYY-MM-DD, the first day it lapses")
@admin_option
@click.pass_context
def training_add(
    ctx: click.Context,
    name: str,
    course: str,
    completed: datetime,
    expires: datetime,
    admin_name: str | None,
) -> None:
    """Record that user NAME completed COURSE; prints the record as JSON."""
    now = datetime.now(UTC)
    actor = _actor(ctx, admin_name, now)
    with catalog(settings_of(ctx)).begin() as conn:
        done = record_training(
            conn, name, course, completed.date(), expires.date(), actor=actor, now=now
        )
    click.echo(json.dumps(done.as_dict(now.date())))


@training.command("list")
@click.argument("name", required=False)
@click.pass_context
def training_list(ctx: click.Context, name: str | None) -> None:
    """One JSON object per training record (of NAME, or everyone's), with whether it is current."""
    today: date = datetime.now(UTC).date()
    with catalog(settings_of(ctx)).connect() as conn:
        for item in list_training(conn, name):
            click.echo(json.dumps(item.as_dict(today)))


@users.command("designate")
@click.argument("name")
@admin_option
@click.pass_context
def designate_cmd(ctx: click.Context, name: str, admin_name: str | None) -> None:
    """Designate administrator NAME as the ALPR administrator (B.7), ending the one before."""
    now = datetime.now(UTC)
    actor = _actor(ctx, admin_name, now)
    with catalog(settings_of(ctx)).begin() as conn:
        done = designate_administrator(conn, name, actor=actor, now=now)
    click.echo(json.dumps(done.as_dict()))


@users.command("designation")
@click.pass_context
def designation_cmd(ctx: click.Context) -> None:
    """The designated ALPR administrator now, as JSON (null when nobody is designated)."""
    with catalog(settings_of(ctx)).connect() as conn:
        found = current_designation(conn, datetime.now(UTC))
    click.echo(json.dumps(found.as_dict() if found else None))


def _operator() -> str:
    """Who ran the command on the server, for the audit log."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return "operator"
