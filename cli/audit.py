"""``alpr audit ...``: the administrator's audit of the system (PP-9126 C.7).

``verify`` and ``head`` are operator commands on the server (like ``alpr users add``): they need
the catalog and the evidence bucket, not a login, and are audited as ``operator:<OS user>``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from cli._auth import authenticated, catalog, settings_of
from cli.preservation import _moment
from cli.users import _operator

__all__ = ["audit"]

HELP = """The audit log: verify it, lock its head, report on it.

\b
Examples:
  alpr audit verify                 every entry and chain head; exit 1 naming the first bad entry
  alpr audit head                   lock the chain's head in the evidence bucket (the schedules
                                    do it every audit.head_cron)
  alpr audit report --from 2026-01-01 --to 2026-04-01          who did what, when and why
  alpr audit report --from 2026-03-01 --to 2026-03-11 --user chief --format json
"""


@click.group(help=HELP)
def audit() -> None:
    pass


@audit.command("verify")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def verify(ctx: click.Context, fmt: str) -> None:
    """Check every entry's hash and link and every chain head of the evidence bucket. Prints the
    number of entries verified and exits 0; otherwise names the first bad entry and exits 1."""
    from pipelines.audit.log import record
    from pipelines.audit.verify import verify_log

    settings = settings_of(ctx)
    engine = catalog(settings)
    with engine.connect() as conn:
        verified = verify_log(settings, conn)
    problem = verified.problem
    with engine.begin() as conn:  # the verification itself is on the record (C.8's report)
        record(
            conn,
            actor=_operator(),
            action="audit.verify",
            subject="audit_events",
            outcome="ok" if problem is None else "failed",
            details={
                "entries": verified.entries,
                "heads": verified.heads,
                "first_bad_event_id": problem.event_id if problem else None,
                "problem": problem.kind if problem else None,
            },
            now=datetime.now(UTC),
        )
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "ok": verified.ok,
                    "entries": verified.entries,
                    "heads": verified.heads,
                    "first_bad_event_id": problem.event_id if problem else None,
                    "problem": problem.kind if problem else None,
                    "message": problem.message if problem else None,
                }
            )
        )
    if problem is not None:
        click.echo(f"audit log NOT intact: {problem.message}", err=True)
        sys.exit(1)
    if fmt == "text":
        click.echo(f"{verified.entries} entries verified ({verified.heads} chain heads match)")


@audit.command("head")
@click.pass_context
def head(ctx: click.Context) -> None:
    """Write the chain's newest entry (id and hash) to the evidence bucket under Object Lock."""
    from pipelines.audit.heads import write_chain_head

    settings = settings_of(ctx)
    with catalog(settings).connect() as conn:
        written = write_chain_head(settings, conn, now=datetime.now(UTC))
    if written is None:
        click.echo("the audit log is empty: no head to write", err=True)
        return
    click.echo(json.dumps({"event_id": written.event_id, "entry_hash": written.entry_hash}))
    bucket = settings.preservation.evidence_bucket
    click.echo(f"chain head at entry {written.event_id}: s3://{bucket}/{written.key}", err=True)


@audit.command("report")
@click.option("--from", "start", required=True, help="period start, ISO (UTC unless given)")
@click.option("--to", "end", required=True, help="period end, ISO, exclusive")
@click.option(
    "--inactive-days",
    type=click.IntRange(min=1),
    help="users without a login this long (audit.report_inactive_days)",
)
@click.option("--user", "user_name", help="an administrator to act as (else the server operator)")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown")
@click.pass_context
def report(
    ctx: click.Context,
    start: str,
    end: str,
    inactive_days: int | None,
    user_name: str | None,
    fmt: str,
) -> None:
    """Who did what, when and why; searches per user and without a case number; inactive users;
    failed logins. Reading it is audited."""
    from pipelines.audit.report import audit_report

    settings = settings_of(ctx)
    now = datetime.now(UTC)
    by = authenticated(settings, user_name, now=now) if user_name else _operator()
    begin, finish = _moment(start, "--from"), _moment(end, "--to")
    assert begin is not None and finish is not None  # both options are required
    with catalog(settings).begin() as conn:
        built = audit_report(
            conn,
            begin,
            finish,
            inactive_days=inactive_days or settings.audit.report_inactive_days,
            by=by,
            now=now,
        )
    click.echo(json.dumps(built.as_dict(), indent=2) if fmt == "json" else built.markdown())
