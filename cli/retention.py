"""``alpr retention run``: one retention pass (PP-9126 C.4.a, C.4.b), as the nightly schedule runs.

Data on stdout (one JSON object), messages on stderr.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import click

from cli._auth import catalog, settings_of

__all__ = ["retention"]

HELP = """Retention: delete for good what is older than its data class's period and not held.

\b
Examples:
  alpr retention run --dry-run                 what tonight's pass would delete, per data class
  alpr retention run                           delete it (tables, logs, every object version)
  alpr retention run --as-of 2026-03-11        a pass as if today were that date (UTC midnight)
"""


@click.group(help=HELP)
def retention() -> None:
    pass


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="count what would be deleted; delete nothing")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the pass's date (YYYY-MM-DD, UTC midnight); default: now",
)
@click.pass_context
def run(ctx: click.Context, dry_run: bool, as_of: datetime | None) -> None:
    """One pass; prints its summary per data class (deleted, held, objects, rows, by day and
    camera: never plate text) as JSON. Audited as the service account."""
    from pipelines.audit.users import SERVICE_USER, service_user
    from pipelines.retention import run_retention

    settings = settings_of(ctx)
    moment = (
        datetime.combine(date(as_of.year, as_of.month, as_of.day), time(), tzinfo=UTC)
        if as_of
        else datetime.now(UTC)
    )
    with catalog(settings).begin() as conn:
        service_user(conn, now=moment)
    report = run_retention(settings, as_of=moment, dry_run=dry_run, actor=SERVICE_USER)
    click.echo(json.dumps(report.as_dict(), indent=2))
