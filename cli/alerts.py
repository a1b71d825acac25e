"""``alpr alerts ...``: the review workflow from a shell, over ``pipelines.alerts.AlertService``.

Each command authenticates ``--user`` (``ALPR_PASSWORD`` or a prompt); the core checks the role.
Data on stdout (JSON), messages on stderr.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from cli._auth import authenticated, catalog, settings_of, user_option
from pipelines.alerts.states import AlertState
from pipelines.config import Settings

if TYPE_CHECKING:
    from pipelines.alerts import Alert, AlertService

__all__ = ["alerts"]

HELP = """Hotlist alerts and their review (PP-9126 C.1-C.3).

An alert is one element of reasonable suspicion, never by itself grounds for a stop: compare the
captured image with the NCIC/CCIC record before confirming it.

\b
Examples:
  alpr alerts list --state pending --user jdoe --format table
  alpr alerts show 3f2a9c... --user jdoe
  alpr alerts confirm 3f2a9c... --user jdoe --compared --reason "plate and car match NCIC"
  alpr alerts reject 3f2a9c... --user jdoe --reason "misread: 8 for B"
  alpr alerts sweep            escalate and expire overdue alerts (as the service account)
"""


@click.group(help=HELP)
def alerts() -> None:
    pass


@alerts.command("list")
@click.option("--state", type=click.Choice([s.value for s in AlertState]), help="only this state")
@user_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl")
@click.option("--limit", default=500, show_default=True, help="newest first")
@click.pass_context
def list_cmd(ctx: click.Context, state: str | None, user_name: str, fmt: str, limit: int) -> None:
    """Alerts, newest first: one JSON object per line, or a table."""
    settings = settings_of(ctx)
    user = authenticated(settings, user_name, now=datetime.now(UTC))
    found = _service(settings).list_alerts(user, state, limit=limit)
    if fmt == "jsonl":
        for alert in found:
            click.echo(json.dumps(alert.as_dict()))
        return
    click.echo("alert_id\tstate\tcreated_at\tlist\tplate\tcamera\thits\tmatch")
    for a in found:
        click.echo(
            f"{a.alert_id}\t{a.state}\t{a.created_at:%Y-%m-%d %H:%M}Z\t{a.list_name}\t"
            f"{a.plate_text}\t{a.camera_id}\t{a.hit_count}\t{a.match_kind}"
        )


@alerts.command("show")
@click.argument("alert_id")
@user_option
@click.pass_context
def show(ctx: click.Context, alert_id: str, user_name: str) -> None:
    """One alert with its transitions, as JSON."""
    settings = settings_of(ctx)
    user = authenticated(settings, user_name, now=datetime.now(UTC))
    click.echo(json.dumps(_service(settings).get_alert(user, alert_id).as_dict(), indent=2))


@alerts.command("confirm")
@click.argument("alert_id")
@user_option
@click.option("--reason", required=True, help="why the alert holds (recorded and audited)")
@click.option(
    "--compared",
    is_flag=True,
    help="I compared the captured image with the NCIC/CCIC record (required, C.3)",
)
@click.pass_context
def confirm(ctx: click.Context, alert_id: str, user_name: str, reason: str, compared: bool) -> None:
    """Confirm a pending alert after comparing its image with the hotlist record."""
    if not compared:  # before asking for a password; the core refuses it as well
        raise click.UsageError(
            "confirming states that you compared the captured image with the NCIC/CCIC "
            "record (PP-9126 C.3): pass --compared"
        )
    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    alert = _service(settings).confirm(
        user, alert_id, reason, compared_with_record=compared, now=now
    )
    _done(alert)


@alerts.command("reject")
@click.argument("alert_id")
@user_option
@click.option("--reason", required=True, help="why the alert does not hold (recorded, audited)")
@click.pass_context
def reject(ctx: click.Context, alert_id: str, user_name: str, reason: str) -> None:
    """Reject a pending alert (a misread, a vehicle that does not fit the record, ...)."""
    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    _done(_service(settings).reject(user, alert_id, reason, now=now))


@alerts.command("sweep")
@click.pass_context
def sweep(ctx: click.Context) -> None:
    """Escalate and expire overdue pending alerts, as the schedules do (service account)."""
    settings = settings_of(ctx)
    catalog(settings)
    click.echo(json.dumps(_service(settings).sweep(datetime.now(UTC))))


def _service(settings: Settings) -> AlertService:
    from pipelines.alerts import AlertService  # polars and the recognition module: only when used

    return AlertService(settings)


def _done(alert: Alert) -> None:
    click.echo(json.dumps(alert.as_dict()))
    click.echo(f"alert {alert.alert_id} {alert.state} by {alert.decided_by}", err=True)
