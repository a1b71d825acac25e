"""ENTRIES_SCHEMA, declared once; used by hotlists and matching. Also the parsed-file schema and
the list codes the parsers accept.

One frame holds the active entries of every list (``active_entries``); matching joins reads
against it. An entry's identity is (list, plate, state), never the plate alone.
"""

from __future__ import annotations

import polars as pl

__all__ = ["CCIC_LIST_TYPES", "ENTRIES_SCHEMA", "NCIC_LIST_CODES", "PARSED_SCHEMA"]

_UTC = pl.Datetime("us", "UTC")

# What every consumer (matching, alerts, the CLI) gets from `active_entries`, all lists together.
ENTRIES_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "entry_id": pl.String,  # stable hash of (list_name, plate, state)
        "list_name": pl.String,
        "version": pl.Int64,  # 0 for agency-local entries
        "plate": pl.String,  # normalized, as printed
        "state": pl.String,  # null when unknown
        "match_key": pl.String,  # pipelines.recognition.plates.match_key_expr(plate)
        "list_code": pl.String,  # NCIC code, CCIC list type as printed, CSV list
        "entry_date": pl.String,  # as in the file
        "description": pl.String,
        "priority": pl.Int32,
        "match_strategy": pl.String,  # exact | lenient
        "first_listed_at": _UTC,  # when this identity first appeared in any version of the list
        "loaded_at": _UTC,  # when the active version was loaded (staleness)
        "expires_at": _UTC,  # CSV and local entries; null otherwise
    }
)

# One parsed file: an entry per identity, before it is stored as a version.
PARSED_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]
        "line": pl.Int64,  # first line of the file that gave this entry (header is line 1)
        "entry_id": pl.String,
        "plate": pl.String,
        "state": pl.String,
        "match_key": pl.String,
        "list_code": pl.String,
        "entry_date": pl.String,
        "description": pl.String,
        "details": pl.String,  # JSON object of the format's other fields, or null
        "expires_at": _UTC,
    }
)

# NCIC list type codes (../shared/formats/hotlists.md); any other code rejects the file.
NCIC_LIST_CODES: dict[str, str] = {
    "A": "Amber alert",
    "F": "felony",
    "W": "wanted person",
    "V": "stolen vehicle",
    "P": "stolen plate",
    "M": "missing person",
    "C": "supervised release",
    "H": "protection order",
    "K": "protective interest",
    "L": "violent person",
    "R": "stolen Canadian vehicle",
    "T": "gang/terrorist member",
    "X": "sex offender",
}

# CCIC list types as the export prints them (cut to the 22-character field); others reject.
CCIC_LIST_TYPES: tuple[str, ...] = (
    "Attempt To Locate",
    "Felony Warrant",
    "Local Warrant",
    "Reported Lost",
    "Sexual Offender",
    "Stolen/Car Jacking/Ca",
    "Stolen Plate",
    "Stolen Vehicle",
    "Used in Felony or By",
    "Used in Misdemeanor or",
)
