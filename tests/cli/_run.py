"""``alpr`` run as a person (and the external checks) run it: a subprocess, with the test's
settings as ``ALPR_*`` variables and the password, if any, in ``ALPR_PASSWORD``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "correct horse battery"
# Cheap argon2 parameters for the users these tests create (the hashes are still argon2id;
# tests/pipelines/audit checks the production cost).
FAST_AUTH = {
    "ALPR_AUTH_ARGON2_MEMORY_KIB": "1024",
    "ALPR_AUTH_ARGON2_TIME_COST": "1",
    "ALPR_AUTH_ARGON2_PARALLELISM": "1",
}


def alpr(
    env: dict[str, str], *args: str, password: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, **FAST_AUTH}
    full.pop("ALPR_PASSWORD", None)
    if password is not None:
        full["ALPR_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        input=stdin if stdin is not None else "",
    )
