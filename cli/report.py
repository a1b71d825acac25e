"""``alpr report ...``: the administrator's reports outside the audit log's own (PP-9126 C.8).

Like ``alpr audit report``, it runs as an administrator (``--user``, ``ALPR_PASSWORD``) or as
the server operator (``operator:<OS user>``), and reading it is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cli._auth import authenticated, catalog, settings_of
from cli.users import _operator

__all__ = ["report"]

HELP = """Reports for the administrator.

\b
Examples:
  alpr report annual-status --year 2026                   Markdown on stdout
  alpr report annual-status --year 2026 --format html --out status-2026.html
  alpr report annual-status --year 2026 --user chief      as an administrator (ALPR_PASSWORD)
"""


@click.group(help=HELP)
def report() -> None:
    pass


@report.command("annual-status")
@click.option("--year", required=True, type=click.IntRange(1970, 9998), help="calendar year (UTC)")
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write to FILE")
@click.option("--user", "user_name", help="an administrator to act as (else the server operator)")
@click.pass_context
def annual_status_cmd(
    ctx: click.Context, year: int, fmt: str, out: Path | None, user_name: str | None
) -> None:
    """The yearly operational-status notice to the state patrol (C.8): uptime of ingestion and
    recognition per camera, hotlist refreshes, retention runs, preservation requests by legal
    basis, searches per month, and the audit log's verification. Counts only; audited."""
    from pipelines.audit.annual import annual_status

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    by = authenticated(settings, user_name, now=now) if user_name else _operator()
    with catalog(settings).begin() as conn:
        built = annual_status(settings, conn, year, by=by, now=now)
    text = built.html() if fmt == "html" else built.markdown()
    if out is None:
        click.echo(text)
        return
    out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    click.echo(f"annual status report {year} written to {out}", err=True)
