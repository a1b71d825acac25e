"""Search of ALPR reads with a documented reason (PP-9126 B.6, B.9), every search audited.

``search_reads(settings, user, SearchRequest(...), now=...)`` is the API; ``alpr search`` and
the web page adapt it.
"""

from __future__ import annotations

from pipelines.search.criteria import WILDCARDS, Criteria, plate_expr
from pipelines.search.reads import RESULT_COLUMNS, Found, find_reads
from pipelines.search.reason import Reason, SearchRefusal, check_reason
from pipelines.search.service import (
    SEARCH_ACTION,
    SEARCHERS,
    SearchRequest,
    SearchResult,
    search_reads,
)

__all__ = [
    "RESULT_COLUMNS",
    "SEARCHERS",
    "SEARCH_ACTION",
    "WILDCARDS",
    "Criteria",
    "Found",
    "Reason",
    "SearchRefusal",
    "SearchRequest",
    "SearchResult",
    "check_reason",
    "find_reads",
    "plate_expr",
    "search_reads",
]
