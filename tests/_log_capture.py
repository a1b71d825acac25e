"""What the log scans share: a capture of log texts by origin, the scan that names each leak
(what, where, the line around it), and every Python log record of this process at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Capture", "Records", "debug_records"]


@dataclass
class Capture:
    """Every log text captured, by where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        if text:
            self.texts.append((where, text))

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        found = []
        for where, text in self.texts:
            for what, secret in secrets.items():
                at_ = text.find(secret)
                if at_ >= 0:
                    line_start = text.rfind("\n", 0, at_) + 1
                    line_end = text.find("\n", at_)
                    line = text[line_start : line_end if line_end >= 0 else None]
                    found.append(f"{what} {secret!r} in {where}: {line[:300]}")
        return found


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.levelname} {record.name}: {text}")


@contextmanager
def debug_records() -> Iterator[Records]:
    """Every Python log record of this process at DEBUG, whatever level a library asks for:
    every logger reset to inherit the root's DEBUG, ``Logger.setLevel`` a no-op meanwhile."""
    handler = Records()
    root = logging.getLogger()
    loggers = [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    saved_root, set_level = root.level, logging.Logger.setLevel
    for lg in loggers:
        lg.setLevel(logging.NOTSET)
        lg.disabled = False
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    logging.Logger.setLevel = lambda self, level: None  # type: ignore[method-assign]
    try:
        yield handler
    finally:
        logging.Logger.setLevel = set_level  # type: ignore[method-assign]
        root.removeHandler(handler)
        root.setLevel(saved_root)
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
