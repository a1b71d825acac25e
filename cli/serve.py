"""``alpr serve``: the alert review page on 127.0.0.1, in a process group of its own.

The server runs as a child in a new session (like ``infra/run-in-group.sh`` does for
``make dagster``): Ctrl-C or SIGTERM to ``alpr serve`` stops the child's whole group, first
gently, then for good, so nothing is left listening.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

import click

from cli._auth import invocation, settings_of

__all__ = ["serve"]

_GRACE_SECONDS = 5  # uvicorn finishes the requests in flight; then the group is killed


@click.command()
@click.option("--host", help="address to bind (default: web.host; loopback only)")
@click.option("--port", type=int, help="port (default: web.port)")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Start the alert review page (login, queue, confirm and reject) on 127.0.0.1.

    \b
    Examples:
      alpr serve                      http://127.0.0.1:8000 (web.port)
      alpr serve --port 8400
      ALPR_WEB_SESSION_SECRET=... alpr serve   sessions that survive a restart
    """
    from pipelines.storage.catalog import upgrade_catalog

    settings = settings_of(ctx)
    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    if overrides:
        settings = settings.replace(web=overrides)  # checked here, before anything starts
    upgrade_catalog(settings.catalog_url)  # once at start-up; requests only check the schema
    called = invocation(ctx)
    env = dict(called.environ)
    if called.config_path:
        env["ALPR_CONFIG"] = os.path.abspath(called.config_path)
    command = [sys.executable, "-m", "web", "--host", settings.web.host]
    command += ["--port", str(settings.web.port)]
    click.echo(f"alert review on http://{settings.web.host}:{settings.web.port}/", err=True)
    child = subprocess.Popen(command, env=env, start_new_session=True)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        _signal_group(child.pid, signal.SIGTERM)
        killer = threading.Timer(_GRACE_SECONDS, _signal_group, (child.pid, signal.SIGKILL))
        killer.daemon = True
        killer.start()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    code = child.wait()
    _signal_group(child.pid, signal.SIGKILL)  # whatever the server left behind in its group
    ctx.exit(0 if stopping else code)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is gone already
        os.killpg(pgid, signum)
