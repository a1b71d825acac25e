"""The documented reason every search of ALPR data carries (PP-9126 B.6, B.9).

A reason is a category of ``audit.reason_categories``, a free text and, for the categories of
``audit.case_required_categories``, a case number. :func:`check_reason` refuses what published
audits of ALPR searches found: no reason, one too short to say anything, one made only of words
such as "inv", "investigation" or "test" (``audit.vague_reasons``), and no case number where one
is required. Each refusal names the field and what it lacks, never the text given (an error
message shown to users holds no reason).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipelines.config import AuditSettings
from pipelines.errors import PolicyRefusal

__all__ = ["MAX_REASON_LENGTH", "Reason", "SearchRefusal", "check_reason"]

MAX_REASON_LENGTH = 2000  # characters: a reason is a sentence or a paragraph, not a file
_WORD = re.compile(r"[^a-z0-9]+")


class SearchRefusal(PolicyRefusal):
    """A search refused by policy; ``field`` names the request field at fault (``reason``,
    ``reason_category``, ``case``, ``plate``, ``window``, ``criteria``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"search refused (PP-9126 B.6): {field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Reason:
    """Why a search is made, as given: check it with :func:`check_reason` before trusting it."""

    category: str = ""
    text: str = ""
    case: str = ""

    def as_audit(self) -> dict[str, Any]:
        """What the audit log keeps of it: all of it (the reason is what an audit reviews)."""
        return {"reason_category": self.category, "reason": self.text, "case": self.case}


def check_reason(reason: Reason, audit: AuditSettings) -> Reason:
    """``reason`` tidied (category lower-cased, spaces collapsed, case number upper-cased), or a
    :class:`SearchRefusal` naming the first field that fails."""
    category = reason.category.strip().lower()
    text = " ".join(reason.text.split())
    case = reason.case.strip().upper()
    if not category:
        raise SearchRefusal(
            "reason_category", f"missing; valid values: {list(audit.reason_categories)}"
        )
    if category not in audit.reason_categories:
        raise SearchRefusal(
            "reason_category",
            f"not a configured category; valid values: {list(audit.reason_categories)}",
        )
    if not text:
        raise SearchRefusal("reason", "missing: say why this search is made")
    if len(text) < audit.min_reason_length:
        raise SearchRefusal(
            "reason",
            f"too short ({len(text)} characters; at least {audit.min_reason_length}, "
            "audit.min_reason_length): say what is investigated and why this data",
        )
    if len(text) > MAX_REASON_LENGTH:
        raise SearchRefusal("reason", f"too long (at most {MAX_REASON_LENGTH} characters)")
    if _is_vague(text, audit.vague_reasons):
        raise SearchRefusal(
            "reason",
            "too vague: only words of the stop-list audit.vague_reasons (such as 'inv', "
            "'investigation', 'test'); say what is investigated and why this data",
        )
    if not case and category in audit.case_required_categories:
        raise SearchRefusal(
            "case",
            f"missing: a case number is required for reason category {category!r} "
            f"(audit.case_required_categories)",
        )
    if case and not re.fullmatch(audit.case_number_pattern, case):
        raise SearchRefusal(
            "case",
            f"not a valid case number: it must match {audit.case_number_pattern!r} "
            "(audit.case_number_pattern)",
        )
    return Reason(category, text, case)


def _words(text: str) -> list[str]:
    return [w for w in _WORD.split(text.lower()) if w]


def _is_vague(text: str, stop_list: tuple[str, ...]) -> bool:
    """Whether every word of ``text`` is a word of the stop-list (entries split the same way)."""
    stop = {w for entry in stop_list for w in _words(entry)}
    return all(w in stop for w in _words(text))
