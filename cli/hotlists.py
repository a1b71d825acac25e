"""``alpr hotlists ...``: import, inspect and refresh hotlists, and add agency-local entries.

Data on stdout (one JSON object, or JSON lines), messages on stderr; a rejected file is an
``AlprError``, which ``cli.main.main`` prints as ``error: ...`` with exit code 2.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli._auth import authenticated, catalog, settings_of
from pipelines.config import Settings

if TYPE_CHECKING:
    from pipelines.hotlists.snapshot import ImportResult

__all__ = ["hotlists"]

HELP = """Hotlists (NCIC, CCIC, agency CSV): versions, entries, refreshes, local entries.

\b
Examples:
  alpr hotlists import ncic.txt --format ncic --list ncic
  alpr hotlists import ncic.txt --format ncic --list ncic --force --user admin --reason "..."
  alpr hotlists entries --list ncic --format jsonl
  alpr hotlists refresh                      every configured source ([[hotlists.sources]])
  alpr hotlists refresh --source ccic
  alpr hotlists retro-match --list ncic --version 7   redo a version's retro-matching
  alpr hotlists local add ABC123 --state CO --list local --reason "..." --expires 2027-01-31 --user ana
  alpr hotlists status                       versions, ages and staleness of every list
"""


@click.group(help=HELP)
def hotlists() -> None:
    pass


def _now() -> datetime:
    return datetime.now(UTC)


@hotlists.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["ncic", "ccic", "csv"]), required=True)
@click.option("--list", "list_name", required=True, help="a configured source, or a new list")
@click.option("--force", is_flag=True, help="accept a suspicious shrink (administrators)")
@click.option("--user", help="the administrator forcing the import")
@click.option("--reason", help="why the import is forced (recorded)")
@click.pass_context
def import_cmd(
    ctx: click.Context,
    file: str,
    fmt: str,
    list_name: str,
    force: bool,
    user: str | None,
    reason: str | None,
) -> None:
    """Import FILE as the next version of a list and activate it; prints one JSON object.

    Runs as the service account, as the schedule does. A rejected file changes nothing: stderr
    names the file, each bad line (the header is line 1) and the reason.
    """
    from pipelines.errors import PolicyRefusal
    from pipelines.hotlists.refresh import import_file, spec_for

    if force and not (user and (reason or "").strip()):
        raise PolicyRefusal("--force needs --user (an administrator) and --reason")
    settings = settings_of(ctx)
    now = _now()
    catalog(settings)
    actor = authenticated(settings, user, now=now) if force and user else None
    result = import_file(
        settings,
        Path(file).read_bytes(),
        spec_for(settings, list_name, fmt),
        source=file,
        now=now,
        user=actor,
        force=force,
        reason=reason,
    )
    click.echo(json.dumps(result.summary()))
    _retro_match(settings, result, now)


@hotlists.command("entries")
@click.option("--list", "list_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl")
@click.pass_context
def entries_cmd(ctx: click.Context, list_name: str, fmt: str) -> None:
    """The active entries of a list, one JSON object per line."""
    import sqlalchemy as sa

    from pipelines.errors import HotlistError
    from pipelines.hotlists.snapshot import active_entries
    from pipelines.hotlists.tables import hotlist_lists

    settings = settings_of(ctx)
    with catalog(settings).connect() as conn:
        list_format = conn.execute(
            sa.select(hotlist_lists.c.format).where(hotlist_lists.c.list_name == list_name)
        ).scalar_one_or_none()
        frame = active_entries(conn, _now(), lists=[list_name])
    if list_format is None and frame.is_empty():
        raise HotlistError(f"no list named {list_name!r}")
    for row in frame.iter_rows(named=True):
        out = {
            "list": row["list_name"],
            "version": row["version"],
            "plate": row["plate"],
            "state": row["state"],
            "list_code": row["list_code"],
            "entry_date": row["entry_date"],
            "description": row["description"],
            "first_listed_at": _iso(row["first_listed_at"]),
            "expires_at": _iso(row["expires_at"]),
            "entry_id": row["entry_id"],
        }
        if list_format == "ccic":
            out["list_type"] = row["list_code"]
        click.echo(json.dumps(out))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@hotlists.command("refresh")
@click.option("--source", "names", multiple=True, help="only this configured source (repeatable)")
@click.pass_context
def refresh_cmd(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Fetch the configured sources and import each one whose file changed; one JSON line per
    source (status activated, unchanged or rejected). Exits 1 when one was rejected."""
    from pipelines.errors import ConfigError
    from pipelines.hotlists.refresh import refresh_source

    settings = settings_of(ctx)
    sources = settings.hotlists.sources
    if names:
        unknown = sorted(set(names) - {s.name for s in sources})
        if unknown:
            raise ConfigError(
                f"unknown source(s) {unknown}; configured: {[s.name for s in sources]}"
            )
        sources = tuple(s for s in sources if s.name in names)
    if not sources:
        raise ConfigError("no hotlist source is configured ([[hotlists.sources]])")
    catalog(settings)
    failed = False
    for source in sources:
        now = _now()
        outcome = refresh_source(settings, source, now=now)
        click.echo(json.dumps(outcome.summary()))
        if outcome.result is not None:
            _retro_match(settings, outcome.result, now)
        if outcome.status == "rejected":
            failed = True
            click.echo(f"error: {outcome.error}", err=True)
        elif outcome.status == "unchanged":
            click.echo(f"{source.name}: unchanged (sha256 of the active version)", err=True)
    if failed:
        sys.exit(1)


def _retro_match(settings: Settings, result: ImportResult, now: datetime) -> None:
    """After an activation, as the schedules do: stored reads against the entries added, pending
    alerts on the entries removed cleared. The list stays active if this fails: say how to redo it."""
    if not (result.added_entry_ids or result.removed_entry_ids):
        return
    from botocore.exceptions import BotoCoreError

    from pipelines.errors import StorageError
    from pipelines.matching.run import retro_match_refresh

    try:
        report = retro_match_refresh(settings, result, now=now)
    except (StorageError, BotoCoreError, OSError) as exc:
        click.echo(
            f"warning: version {result.version} of {result.list_name!r} is active, but retro-"
            f"matching failed ({type(exc).__name__}); redo it with: alpr hotlists retro-match "
            f"--list {result.list_name} --version {result.version}",
            err=True,
        )
        return
    click.echo(f"retro-match: {json.dumps(report.summary())}", err=True)


@hotlists.command("retro-match")
@click.option("--list", "list_name", required=True)
@click.option("--version", type=int, required=True, help="the version whose changes to match")
@click.pass_context
def retro_match_cmd(ctx: click.Context, list_name: str, version: int) -> None:
    """Match the stored reads (within retention) against the entries a version added, and clear
    the pending alerts on those it removed; idempotent. Prints one JSON object."""
    from pipelines.matching.run import retro_match_version

    settings = settings_of(ctx)
    catalog(settings)
    click.echo(json.dumps(retro_match_version(settings, list_name, version, now=_now()).summary()))


@hotlists.command("status")
@click.pass_context
def status_cmd(ctx: click.Context) -> None:
    """Every list: active version, entries, load time, age and staleness (JSON lines)."""
    from datetime import timedelta

    from pipelines.hotlists.snapshot import list_status

    settings = settings_of(ctx)
    with catalog(settings).connect() as conn:
        status = list_status(
            conn,
            _now(),
            timedelta(hours=settings.hotlists.max_age_hours),
            [s.name for s in settings.hotlists.sources],
        )
    for row in status.iter_rows(named=True):
        row["loaded_at"] = _iso(row["loaded_at"])
        click.echo(json.dumps(row))


@hotlists.group("local")
def local() -> None:
    """Agency-local entries: added by a user, with an owner, a reason and an expiry."""


@local.command("add")
@click.argument("plate")
@click.option("--state", help="two-letter state (omit when unknown)")
@click.option("--list", "list_name", required=True, help="a local list (not one loaded from files)")
@click.option("--reason", required=True)
@click.option(
    "--expires",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="the entry leaves the list at 00:00 UTC that day (at most hotlists.local_max_days away)",
)
@click.option("--user", required=True)
@click.option("--owner", help="who answers for the entry (default: the user)")
@click.option("--description")
@click.pass_context
def local_add(
    ctx: click.Context,
    plate: str,
    state: str | None,
    list_name: str,
    reason: str,
    expires: datetime,
    user: str,
    owner: str | None,
    description: str | None,
) -> None:
    """Add an agency-local entry; prints it as one JSON object."""
    from pipelines.hotlists.local import add_local_entry

    settings = settings_of(ctx)
    now = _now()
    actor = authenticated(settings, user, now=now)
    expires_at = datetime.combine(expires.date(), time.min, tzinfo=UTC)
    with catalog(settings).begin() as conn:
        entry = add_local_entry(
            conn,
            user=actor,
            list_name=list_name,
            plate=plate,
            state=state,
            reason=reason,
            expires_at=expires_at,
            now=now,
            settings=settings.hotlists,
            owner=owner,
            description=description,
        )
    click.echo(
        json.dumps(
            {
                "local_id": entry.local_id,
                "entry_id": entry.entry_id,
                "list": entry.list_name,
                "expires_at": entry.expires_at.isoformat(),
            }
        )
    )


# --- `alpr hotlists lookup` is the matching helper's: it adds its command to the `hotlists`
# group here (``@hotlists.command("lookup")``), below this line. ---


@hotlists.command("lookup")
@click.argument("plate")
@click.option("--state", help="two-letter state of the plate (omit when unknown: any state)")
@click.option("--user", required=True, help="who asks (authenticated: ALPR_PASSWORD or a prompt)")
@click.option("--reason", required=True, help="why (policy B.6; recorded in the audit log)")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl")
@click.pass_context
def lookup_cmd(
    ctx: click.Context, plate: str, state: str | None, user: str, reason: str, fmt: str
) -> None:
    """The active entries a read of PLATE would hit, one JSON object per line: list, plate,
    state, match (exact, or lenient for look-alikes, shown for every list), list_code, entry_id.

    \b
    Example:
      ALPR_PASSWORD=... alpr hotlists lookup ABC123 --state CO --user ana --reason "case 26-114"
    """
    from pipelines.errors import PolicyRefusal
    from pipelines.matching.audited import audited_lookup

    if not reason.strip():  # before asking for a password
        raise PolicyRefusal("policy B.6: a hotlist lookup needs a reason (--reason)")
    settings = settings_of(ctx)
    now = _now()
    actor = authenticated(settings, user, now=now)
    with catalog(settings).begin() as conn:
        found = audited_lookup(conn, actor, plate, state, reason=reason, now=now)
    for row in found.iter_rows(named=True):
        click.echo(json.dumps(row))
