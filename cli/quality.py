"""``alpr quality validate|docs``: the Great Expectations suites of ``expectations/`` by hand.

Data on stdout (one JSON object), messages on stderr. A batch that fails a critical expectation
exits 1, so a shell script stops as the schedules do.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from cli._auth import catalog, settings_of

__all__ = ["quality"]

HELP = """Data quality: validate a batch against its suite; render the results as Data Docs.

\b
Examples:
  alpr quality validate reads 2026-03-10           one capture date against expectations/reads.json
  alpr quality validate images 2026-03-10 --as-of 2026-03-11T06:00:00Z
  alpr quality validate hotlist_entries ncic       the active version of hotlist ncic
  alpr quality docs --out var/data_docs            build the Data Docs site; open its index.html
"""


@click.group(help=HELP)
def quality() -> None:
    pass


@quality.command("validate")
@click.argument("suite")
@click.argument("batch")
@click.option("--as-of", "as_of", help="reference time (ISO 8601, UTC if naive); default: now")
@click.pass_context
def validate(ctx: click.Context, suite: str, batch: str, as_of: str | None) -> None:
    """Validate BATCH (a capture date; for hotlist_entries, a list name) against SUITE; prints
    per-expectation counts and verdict (samples of values are in the stored result only)."""
    from pipelines.quality.batches import DAILY_SUITES, day_batch, hotlist_batch
    from pipelines.quality.run import validate_batch

    settings = settings_of(ctx)
    catalog(settings)
    moment = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if suite == "hotlist_entries":
        found = hotlist_batch(settings, batch)
    elif suite in DAILY_SUITES:
        try:
            day = date.fromisoformat(batch)
        except ValueError:
            raise click.BadParameter(
                f"{batch!r} is not a date YYYY-MM-DD", param_hint="BATCH"
            ) from None
        found = day_batch(settings, suite, day, moment)
    else:
        valid = [*DAILY_SUITES, "hotlist_entries"]
        raise click.BadParameter(f"{suite!r}; valid values: {valid}", param_hint="SUITE")
    run_id = f"cli-{moment.strftime('%Y%m%dT%H%M%SZ')}"
    outcome = validate_batch(settings, found, run_id=run_id, as_of=moment)
    summary = outcome.summary()
    for item in summary["expectations"]:
        item.pop("sample")  # values (plate text) stay out of terminals and their logs
    click.echo(json.dumps(summary, indent=2))
    if not outcome.passed:
        click.echo(f"{suite} {found.label}: failed {summary['blocking']}", err=True)
        sys.exit(1)


@quality.command("docs")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/data_docs"),
    show_default=True,
    help="folder to build the site in",
)
@click.pass_context
def docs(ctx: click.Context, out_dir: Path) -> None:
    """Build the Data Docs of every kept validation into OUT and publish them to the lake
    bucket (quality/data_docs/); prints the index path to open in a browser."""
    from pipelines.quality.docs import build_data_docs

    index = build_data_docs(settings_of(ctx), out_dir)
    click.echo(json.dumps({"index": str(index)}))
