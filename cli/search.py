"""``alpr search``: reads by plate, camera, state and time window, always with a documented reason
(PP-9126 B.6, B.9). The core checks role, reason and criteria and audits every search, refused
ones too; a refusal exits 2 and says on stderr which field is missing or wrong."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from cli._auth import authenticated, settings_of, user_option
from cli.preservation import _moment

if TYPE_CHECKING:
    from pipelines.search import SearchRequest

__all__ = ["criteria_options", "search", "search_request"]

HELP = """Search plate reads, with a documented reason (agents and administrators).

Every search needs a reason category (audit.reason_categories), a free-text reason that says
what is investigated (at least audit.min_reason_length characters, not only words such as
"inv", "investigation" or "test") and, for the categories of audit.case_required_categories, a
case number. Each search is written to the audit log (criteria, reason, case, result count).

A plate is compared after the look-alike fold of matching (0/O/D/Q, 1/I/L, 2/Z, 5/S, 8/B,
6/G); * matches any run of characters and ? one character. Results: one JSON object per read.

\b
Examples:
  alpr search --user jdoe --reason-category stolen_vehicle \\
      --reason "vehicle reported stolen this morning, NCIC hit" --plate ABC123 --format jsonl
  alpr search --user jdoe --reason-category criminal_investigation --case 26-001234 \\
      --reason "hit and run at Wadsworth and Alameda, white pickup" \\
      --camera cam-07 --from 2026-03-10T14:00Z --to 2026-03-10T15:00Z
  alpr search --user jdoe --reason-category missing_person --reason "..." --plate '7?K*'
"""


def criteria_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The case number and the criteria of a search, as ``alpr search`` and ``alpr share`` take
    them (``search_request`` builds the core's request from them)."""
    options = [
        click.option("--case", default="", help="case number (audit.case_number_pattern)"),
        click.option("--plate", default="", help="plate, exact or with wildcards * and ?"),
        click.option("--camera", "cameras", multiple=True, help="a camera id (repeatable)"),
        click.option(
            "--state", "states", multiple=True, help="a jurisdiction, e.g. CO (repeatable)"
        ),
        click.option("--from", "start", help="window start, ISO (UTC unless given)"),
        click.option("--to", "end", help="window end, ISO, exclusive"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def search_request(
    category: str,
    reason: str,
    case: str,
    plate: str,
    cameras: tuple[str, ...],
    states: tuple[str, ...],
    start: str | None,
    end: str | None,
) -> SearchRequest:
    """The core's request from the options as typed; the core checks every field."""
    from pipelines.search import SearchRequest

    return SearchRequest(
        reason_category=category,
        reason=reason,
        case=case,
        plate=plate,
        cameras=cameras,
        states=states,
        start=_moment(start, "--from"),
        end=_moment(end, "--to"),
    )


@click.command(help=HELP)
@user_option
@click.option("--reason-category", "category", default="", help="one of audit.reason_categories")
@click.option("--reason", default="", help="why this search is made (free text)")
@criteria_options
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.pass_context
def search(
    ctx: click.Context,
    user_name: str,
    category: str,
    reason: str,
    case: str,
    plate: str,
    cameras: tuple[str, ...],
    states: tuple[str, ...],
    start: str | None,
    end: str | None,
    fmt: str,
) -> None:
    """One JSON object per matching read on stdout; the count and audit entry on stderr."""
    from pipelines.search import search_reads

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    user = authenticated(settings, user_name, now=now)
    request = search_request(category, reason, case, plate, cameras, states, start, end)
    result = search_reads(settings, user, request, now=now)
    if result.rows.height:
        sys.stdout.write(result.rows.write_ndjson())
    more = (
        f", the first {result.rows.height} returned (audit.max_search_results)"
        if result.truncated
        else ""
    )
    click.echo(f"{result.total} reads found{more}; audit entry {result.event_id}", err=True)
