"""``alpr preserve`` and ``alpr holds ...``: preservation to evidence (PP-9126 C.4.c, C.5).

Each command acting for a person authenticates ``--user`` (``ALPR_PASSWORD`` or a prompt); the
core checks the role. Data on stdout (JSON), messages on stderr; a refusal exits 2 with its reason.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from cli._auth import authenticated, catalog, settings_of, user_option

__all__ = ["holds", "preserve"]

PRESERVE_HELP = """Preserve selected data as evidence, past retention (administrators).

Allowed bases (PP-9126 C.4.c, C.R.S. 24-72-113): felony_criminal_investigation,
internal_affairs_investigation, personnel_matter, administrative_matter, civil_lawsuit (or a
notice of intent to sue). A misdemeanor investigation alone is refused.

\b
Examples:
  alpr preserve --user ada --case 24-001234 --basis felony_criminal_investigation \\
      --reason "armed robbery, suspect vehicle" --plate ABC123
  alpr preserve --user ada --case IA-3 --basis internal_affairs_investigation \\
      --reason "use of force review" --camera cam-07 --from 2026-03-10T14:00Z --to 2026-03-10T15:00Z
"""


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or time", param_hint=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command(help=PRESERVE_HELP)
@user_option
@click.option("--case", "case", required=True, help="case number")
@click.option("--basis", required=True, help="legal basis (see above)")
@click.option("--reason", required=True, help="why this data is evidence")
@click.option("--requester", help="who asked for it (default: --user)")
@click.option("--plate", "plates", multiple=True, help="a plate (repeatable)")
@click.option("--camera", "cameras", multiple=True, help="a camera id (repeatable)")
@click.option("--from", "start", help="window start, ISO (UTC unless given)")
@click.option("--to", "end", help="window end, ISO, exclusive")
@click.option("--read-id", "read_ids", multiple=True, help="a read id (repeatable)")
@click.pass_context
def preserve(
    ctx: click.Context,
    user_name: str,
    case: str,
    basis: str,
    reason: str,
    requester: str | None,
    plates: tuple[str, ...],
    cameras: tuple[str, ...],
    start: str | None,
    end: str | None,
    read_ids: tuple[str, ...],
) -> None:
    """Prints the hold id, the manifest location and the export bundle, as JSON."""
    from pipelines.preservation import Selection, request_preservation

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    selection = Selection(
        plates=plates,
        cameras=cameras,
        start=_moment(start, "--from"),
        end=_moment(end, "--to"),
        read_ids=read_ids,
    )
    done = request_preservation(
        settings, user, case, basis, reason, selection, now=now, requester=requester
    )
    click.echo(json.dumps(done.as_dict(), indent=2))
    click.echo(f"hold {done.hold.hold_id}: manifest {done.manifest_uri}", err=True)


HOLDS_HELP = """Holds placed by preservation; retention never deletes what they select.

\b
Examples:
  alpr holds list
  alpr holds release hold-3f2a... --user ada --reason "case closed, appeal period over"
  alpr holds report hold-3f2a... --user cy --basis felony_criminal_investigation --reason "..."
  alpr holds read hold-3f2a... --user cy --report fir-...
  alpr holds reports --user ada
"""


@click.group(help=HOLDS_HELP)
def holds() -> None:
    pass


@holds.command("list")
@click.option("--active", is_flag=True, help="only holds not released")
@click.pass_context
def list_cmd(ctx: click.Context, active: bool) -> None:
    """One JSON object per hold (selections as counts: no plate text)."""
    from pipelines.preservation import list_holds

    settings = settings_of(ctx)
    with catalog(settings).connect() as conn:
        for hold in list_holds(conn, active_only=active):
            click.echo(json.dumps(hold.as_dict()))


@holds.command("release")
@click.argument("hold_id")
@user_option
@click.option("--reason", required=True, help="why the hold ends")
@click.pass_context
def release(ctx: click.Context, hold_id: str, user_name: str, reason: str) -> None:
    """Release a hold (administrators): its data then ages out normally."""
    from pipelines.preservation import release_hold

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    with catalog(settings).begin() as conn:
        hold = release_hold(conn, user, hold_id, reason, now=now)
    click.echo(json.dumps(hold.as_dict()))


@holds.command("report")
@click.argument("hold_id")
@user_option
@click.option("--basis", required=True, help="legal basis of the access")
@click.option("--reason", required=True, help="why the data is accessed")
@click.pass_context
def report(ctx: click.Context, hold_id: str, user_name: str, basis: str, reason: str) -> None:
    """File a field interview report before reading data older than a year (PP-9126 C.5)."""
    from pipelines.preservation import file_interview_report

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    filed = file_interview_report(settings, user, hold_id, reason=reason, basis=basis, now=now)
    click.echo(json.dumps(filed.as_dict()))


@holds.command("read")
@click.argument("hold_id")
@user_option
@click.option("--report", "report_id", help="your field interview report for this hold")
@click.pass_context
def read(ctx: click.Context, hold_id: str, user_name: str, report_id: str | None) -> None:
    """The preserved read records, one JSON object per line (verified against the manifest)."""
    from pipelines.preservation import read_preserved

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    for row in read_preserved(settings, user, hold_id, now=now, report_id=report_id):
        click.echo(json.dumps(row))


@holds.command("reports")
@user_option
@click.option("--hold", "hold_id", help="only this hold's")
@click.pass_context
def reports(ctx: click.Context, user_name: str, hold_id: str | None) -> None:
    """Field interview reports (administrators), one JSON object per line."""
    from pipelines.preservation import list_interview_reports

    settings = settings_of(ctx)
    user = authenticated(settings, user_name, now=datetime.now(UTC))
    for filed in list_interview_reports(settings, user, hold_id):
        click.echo(json.dumps(filed.as_dict()))
