"""``alpr`` run as a person (and the external checks) run it: a subprocess, with the test's
settings as ``ALPR_*`` variables and the password, if any, in ``ALPR_PASSWORD``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests._users import FAST_AUTH_ENV


def alpr(
    env: dict[str, str], *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, **FAST_AUTH_ENV}
    full.pop("ALPR_PASSWORD", None)
    if password is not None:
        full["ALPR_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
        input=stdin if stdin is not None else "",
    )
