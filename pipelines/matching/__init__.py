"""Matching: reads against the active hotlist entries, as polars joins (no database).

``match_reads`` (every new partition of reads), ``retro_match`` (entries a refresh added, against
stored reads), ``suppress_duplicates`` (one row per vehicle passing a camera) and ``lookup`` (the
entries a typed plate would hit, for a person asking). See ``match.py`` for the rules.
"""

from __future__ import annotations

from pipelines.matching._keys import LOOKALIKE_CLASSES, lookalike_key
from pipelines.matching.match import lookup, match_reads, retro_match
from pipelines.matching.schema import MATCH_KINDS, MATCHES_SCHEMA, SUPPRESSED_MATCHES_SCHEMA
from pipelines.matching.suppress import suppress_duplicates

__all__ = [
    "LOOKALIKE_CLASSES",
    "MATCHES_SCHEMA",
    "MATCH_KINDS",
    "SUPPRESSED_MATCHES_SCHEMA",
    "lookalike_key",
    "lookup",
    "match_reads",
    "retro_match",
    "suppress_duplicates",
]
