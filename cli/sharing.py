"""``alpr agreements add|list|revoke`` and ``alpr share``: sharing reads with other agencies under
a registered agreement (PP-9126 C.6). The core checks roles, agreement, reason and criteria and
audits every attempt; a refusal exits 2 and says why on stderr."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from cli._auth import authenticated, catalog, settings_of, user_option
from cli.preservation import _moment
from cli.search import criteria_options, search_request

__all__ = ["agreements", "share"]

AGREEMENTS_HELP = """Agreements (MOUs) under which reads are shared with other agencies.

Only administrators register or revoke one (--user, ALPR_PASSWORD or a prompt); each is audited.
Purposes are criminal-justice purposes only, from sharing.purposes. A non-governmental recipient
needs its agreed retention terms (--retention-terms).

\b
Examples:
  alpr agreements add --user ada --mou MOU-2026-014 --agency "Denver Police Department" \\
      --contact "Records unit, records@denvergov.example" \\
      --purpose stolen_vehicle --purpose criminal_investigation --expires 2027-03-31
  alpr agreements add --user ada --mou MOU-2026-015 --agency "Metro Crime Stoppers" \\
      --contact "J. Smith" --purpose wanted_person --expires 2026-12-31 \\
      --non-governmental --retention-terms "deleted 30 days after receipt, C.R.S. 24-72-113"
  alpr agreements list                 one JSON object per agreement, with its status today
  alpr agreements revoke MOU-2026-014 --user ada --reason "MOU terminated by the agency"
"""

SHARE_HELP = """Export reads to another agency under an agreement in force (agents, administrators).

The reads are selected as `alpr search` selects them, with the same documented reason; the
reason category is the export's purpose, which the agreement must cover (criminal-justice
purposes only, sharing.purposes). An export without a registered agreement, or under one that is
revoked, expired or not yet in force, is refused. The bundle folder --out (absent or empty)
receives reads.jsonl, README.txt and manifest.json (sha256 of every file); the manifest's own
sha256 is printed and audited.

\b
Examples:
  alpr share --user jdoe --agreement MOU-2026-014 --reason-category stolen_vehicle \\
      --reason "Denver stolen vehicle report 26-88812, grey sedan" --plate ABC123 \\
      --out /srv/exports/denver-26-88812
  alpr share --user jdoe --agreement MOU-2026-014 --reason-category criminal_investigation \\
      --case 26-001234 --reason "armed robbery on Colfax, suspect vehicle seen westbound" \\
      --camera cam-07 --from 2026-03-10T14:00Z --to 2026-03-10T15:00Z --out ./bundle
"""


def _expiry(value: str) -> datetime:
    """``--expires``: a date means the agreement is in force through that day (UTC)."""
    moment = _moment(value, "--expires")
    assert moment is not None
    return moment + timedelta(days=1) if len(value) == 10 else moment


@click.group(help=AGREEMENTS_HELP)
def agreements() -> None:
    pass


@agreements.command("add")
@user_option
@click.option("--mou", "mou_id", required=True, help="the MOU's id")
@click.option("--agency", required=True, help="the receiving agency")
@click.option("--contact", required=True, help="who receives the data there")
@click.option("--purpose", "purposes", multiple=True, required=True, help="repeatable")
@click.option("--valid-from", help="in force from, ISO (default: now)")
@click.option("--expires", required=True, help="ISO date (in force through it) or time")
@click.option("--non-governmental", is_flag=True, help="the recipient is not a government agency")
@click.option("--retention-terms", default="", help="a non-governmental recipient's retention")
@click.pass_context
def add_cmd(
    ctx: click.Context,
    user_name: str,
    mou_id: str,
    agency: str,
    contact: str,
    purposes: tuple[str, ...],
    valid_from: str | None,
    expires: str,
    non_governmental: bool,
    retention_terms: str,
) -> None:
    """Register an agreement; prints it as JSON."""
    from pipelines.sharing import AgreementTerms, register_agreement

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    terms = AgreementTerms(
        mou_id=mou_id,
        agency=agency,
        contact=contact,
        purposes=purposes,
        valid_from=_moment(valid_from, "--valid-from") or now,
        expires_at=_expiry(expires),
        non_governmental=non_governmental,
        retention_terms=retention_terms,
    )
    agreement = register_agreement(settings, user, terms, now=now)
    click.echo(json.dumps(agreement.as_dict(now)))
    click.echo(f"agreement {agreement.mou_id} registered", err=True)


@agreements.command("list")
@click.pass_context
def list_cmd(ctx: click.Context) -> None:
    """One JSON object per agreement (revoked and expired ones too), by MOU id."""
    from pipelines.sharing import list_agreements

    now = datetime.now(UTC)
    with catalog(settings_of(ctx)).connect() as conn:
        for agreement in list_agreements(conn):
            click.echo(json.dumps(agreement.as_dict(now)))


@agreements.command("revoke")
@click.argument("mou_id")
@user_option
@click.option("--reason", required=True, help="why the agreement ends")
@click.pass_context
def revoke_cmd(ctx: click.Context, mou_id: str, user_name: str, reason: str) -> None:
    """Revoke agreement MOU_ID from now on: no export under it after that."""
    from pipelines.sharing import revoke_agreement

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    agreement = revoke_agreement(settings, user, mou_id, reason, now=now)
    click.echo(json.dumps(agreement.as_dict(now)))


@click.command(help=SHARE_HELP)
@user_option
@click.option("--agreement", "mou_id", required=True, help="the MOU id of the agreement")
@click.option("--reason-category", "category", default="", help="the purpose: sharing.purposes")
@click.option("--reason", default="", help="why this data is shared (free text)")
@criteria_options
@click.option("--out", required=True, type=click.Path(file_okay=False), help="bundle folder")
@click.pass_context
def share(
    ctx: click.Context,
    user_name: str,
    mou_id: str,
    category: str,
    reason: str,
    case: str,
    plate: str,
    cameras: tuple[str, ...],
    states: tuple[str, ...],
    start: str | None,
    end: str | None,
    out: str,
) -> None:
    """Prints the export (id, audit entry, reads, bundle, sha256 of each file) as JSON."""
    from pipelines.sharing import ShareRequest, share_reads

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    query = search_request(category, reason, case, plate, cameras, states, start, end)
    result = share_reads(settings, user, ShareRequest(mou_id, query), Path(out), now=now)
    click.echo(json.dumps(result.as_dict()))
    click.echo(
        f"{result.reads} reads exported to {result.bundle} under {result.agreement}; "
        f"audit entry {result.event_id}",
        err=True,
    )
