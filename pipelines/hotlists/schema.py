"""ENTRIES_SCHEMA, declared once; used by hotlists and matching.

One frame holds the active entries of every list (``active_entries``); matching joins reads
against it. An entry's identity is (list, plate, state), never the plate alone.
"""

from __future__ import annotations

import polars as pl

__all__ = ["ENTRIES_SCHEMA"]

_UTC = pl.Datetime("us", "UTC")

ENTRIES_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "entry_id": pl.String,  # stable: hash of list_name, plate, state
        "list_name": pl.String,
        "version": pl.Int64,
        "plate": pl.String,  # normalised, as printed
        "state": pl.String,  # null when unknown
        "match_key": pl.String,  # pipelines.recognition.plates.match_key_expr(plate)
        "list_code": pl.String,  # NCIC code, CCIC list type as printed, CSV list
        "entry_date": pl.String,  # as in the file
        "description": pl.String,
        "priority": pl.Int32,
        "match_strategy": pl.String,  # "exact" | "lenient"
        "first_listed_at": _UTC,  # when this identity first appeared in any version of the list
        "loaded_at": _UTC,  # when the active version was loaded (staleness)
        "expires_at": _UTC,  # local entries; null otherwise
    }
)
