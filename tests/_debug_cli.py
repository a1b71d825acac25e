"""``alpr`` with every Python logger at DEBUG, written to stderr: what the log scan runs.

``python -m tests._debug_cli ARGS...`` is ``alpr ARGS...``, except that the root logger is at
DEBUG with a stderr handler, every logger that exists is reset to inherit it, and no library can
raise its own level afterwards (``Logger.setLevel`` and ``logging.disable`` are no-ops), so
what a library logs only at DEBUG is in the capture too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any


def _debug_everywhere() -> None:
    logging.basicConfig(
        level=logging.DEBUG,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.setLevel(logging.NOTSET)
            logger.disabled = False

    def _keep_level(self: logging.Logger, level: Any) -> None:
        return None

    def _no_disable(level: int = logging.CRITICAL) -> None:
        return None

    logging.Logger.setLevel = _keep_level  # type: ignore[method-assign]
    logging.disable = _no_disable


if __name__ == "__main__":
    # The libraries that set their own levels at import, imported first; then the reset.
    import boto3  # noqa: F401
    import sqlalchemy  # noqa: F401

    import cli.main

    _debug_everywhere()
    sys.argv[0] = "alpr"
    cli.main.main()
