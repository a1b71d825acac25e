"""``alpr`` run with the test's settings as ``ALPR_*`` variables and the password, if any, in
``ALPR_PASSWORD``: in this process through click's runner (the same command, arguments, stdin,
stdout, stderr and exit status as ``cli.main.main`` gives a shell, without a Python start-up
of 1.4 s per call), or as a real subprocess where the entry point itself is what is tested."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from pathlib import Path

from click.testing import CliRunner

from cli._auth import PASSWORD_ENV, Invocation
from cli.main import cli
from pipelines.errors import AlprError
from tests._users import FAST_AUTH_ENV


def alpr(
    env: dict[str, str], *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``alpr ARGS`` in this process; an ``AlprError`` exits 2 with ``error: ...`` on stderr, as
    ``cli.main.main`` makes it. The variables reach the command as its :class:`Invocation`'s
    environment, never through ``os.environ`` (see there why)."""
    environ = {**os.environ, **env, **FAST_AUTH_ENV}
    environ.pop(PASSWORD_ENV, None)
    if password is not None:
        environ[PASSWORD_ENV] = password
    result = CliRunner().invoke(
        cli, list(args), input=stdin or "", obj=Invocation(environ=environ), prog_name="alpr"
    )
    code, stderr = result.exit_code, result.stderr
    exc = result.exception
    if isinstance(exc, AlprError):
        code, stderr = 2, f"{stderr}error: {exc}\n"
    elif exc is not None and not isinstance(exc, SystemExit):
        stderr += "".join(traceback.format_exception(exc))  # what the interpreter would print
    return subprocess.CompletedProcess(["alpr", *args], code, result.stdout, stderr)


def alpr_process(
    env: dict[str, str], *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m cli.main ARGS`` as a separate process, as a person (and the external checks)
    run it."""
    full = {**os.environ, **env, **FAST_AUTH_ENV}
    full.pop(PASSWORD_ENV, None)
    if password is not None:
        full[PASSWORD_ENV] = password
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
        input=stdin if stdin is not None else "",
    )
