"""``alpr analytics``: the pseudonymized ``sightings`` table of crime analysis (PP-9126 B.8, B.9):
build a day, run an audited analysis, re-identify a pseudonym with a documented reason, rotate
the key. Refusals exit 2 and say why on stderr."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from cli._auth import authenticated, catalog, settings_of, user_option

__all__ = ["analytics"]

HELP = """Crime analysis on pseudonymized reads (analysts, agents, administrators).

Sightings keep, of each read, a keyed hash of the plate (HMAC-SHA256 under analytics.key or
analytics.key_file, never stored with the data), the camera, the time and its local hour, the
state and the confidence; no plate text, image or position. Every analysis is audited with its
criteria; re-identifying a pseudonym needs a law-enforcement reason (the search reason gate,
analytics.reidentify_categories) and an agent or administrator, and is audited too.

\b
Examples:
  alpr analytics build 2026-03-10                          pseudonymize one capture date
  alpr analytics patterns multi_camera --user ann --from 2026-03-01 --to 2026-03-10
  alpr analytics patterns hour_profile --user ann --from 2026-03-01 --to 2026-03-10 --camera cam-07
  alpr analytics patterns track --user ann --from 2026-03-01 --to 2026-03-10 --pseudonym 3f2a...
  alpr analytics reidentify 3f2a... --user jdoe --reason-category stolen_vehicle \\
      --reason "vehicle reported stolen this morning, NCIC hit"
  alpr analytics rotate-key --user chief       after a new key and analytics.key_version
"""

_DAY = click.DateTime(["%Y-%m-%d"])


@click.group(help=HELP)
def analytics() -> None:
    pass


@analytics.command("build")
@click.argument("day", type=_DAY)
@click.pass_context
def build(ctx: click.Context, day: datetime) -> None:
    """Replace the sightings of capture date DAY (YYYY-MM-DD, UTC) from its reads."""
    from pipelines.analytics import build_sightings

    settings = settings_of(ctx)
    report = build_sightings(settings, day.date())
    click.echo(
        json.dumps(
            {
                "capture_date": report.capture_date.isoformat(),
                "rows": report.rows,
                "key_version": report.key_version,
            }
        )
    )


@analytics.command("patterns")
@click.argument("kind", type=click.Choice(["counts", "multi_camera", "hour_profile", "track"]))
@user_option
@click.option("--from", "start", type=_DAY, required=True, help="first capture date (UTC)")
@click.option("--to", "end", type=_DAY, required=True, help="last capture date, inclusive")
@click.option("--camera", "cameras", multiple=True, help="a camera id (repeatable)")
@click.option("--min-cameras", default=2, show_default=True, help="multi_camera: at least")
@click.option("--pseudonym", default="", help="track: the pseudonym followed")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.pass_context
def patterns(
    ctx: click.Context,
    kind: str,
    user_name: str,
    start: datetime,
    end: datetime,
    cameras: tuple[str, ...],
    min_cameras: int,
    pseudonym: str,
    fmt: str,
) -> None:
    """One JSON object per row of the analysis KIND on stdout; the audit entry on stderr."""
    from pipelines.analytics import PatternQuery, pattern_counts

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    query = PatternQuery(
        kind=kind,
        start=start.date(),
        end=end.date(),
        cameras=cameras,
        min_cameras=min_cameras,
        pseudonym=pseudonym,
    )
    result = pattern_counts(settings, user, query, now=now)
    if result.rows.height:
        sys.stdout.write(result.rows.write_ndjson())
    click.echo(f"{result.rows.height} rows; audit entry {result.event_id}", err=True)


@analytics.command("reidentify")
@click.argument("pseudonym")
@user_option
@click.option("--reason-category", "category", default="", help="analytics.reidentify_categories")
@click.option("--reason", default="", help="why this pseudonym is re-identified (free text)")
@click.option("--case", default="", help="case number (audit.case_number_pattern)")
@click.pass_context
def reidentify_command(
    ctx: click.Context, pseudonym: str, user_name: str, category: str, reason: str, case: str
) -> None:
    """The plate text(s) behind PSEUDONYM, one JSON object each, with a documented reason."""
    from pipelines.analytics import ReidentifyRequest, reidentify

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    request = ReidentifyRequest(pseudonym, category, reason, case)
    found = reidentify(settings, user, request, now=now)
    if found.plates.height:
        sys.stdout.write(found.plates.write_ndjson())
    click.echo(
        f"{found.plates.height} plates behind {found.sightings} sightings; "
        f"audit entry {found.event_id}",
        err=True,
    )


@analytics.command("rotate-key")
@user_option
@click.pass_context
def rotate(ctx: click.Context, user_name: str) -> None:
    """Rebuild every day made with another key than analytics.key (administrators; audited)."""
    from pipelines.analytics import rotate_key

    settings = settings_of(ctx)
    catalog(settings)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    rotation = rotate_key(
        settings, user, now=now, progress=lambda day: click.echo(f"rebuilt {day}", err=True)
    )
    click.echo(
        json.dumps(
            {
                "key_version": rotation.key_version,
                "key_id": rotation.key_id,
                "previous_versions": list(rotation.previous_versions),
                "days": [d.isoformat() for d in rotation.days],
                "rows": rotation.rows,
                "audit_entry": rotation.event_id,
            }
        )
    )
