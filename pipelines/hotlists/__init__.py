"""Hotlists: NCIC, CCIC and agency CSV files parsed, versioned and activated atomically in the
catalog, plus agency-local entries; ``active_entries`` is what matching joins against."""

from pipelines.hotlists.parse import ParseResult, parse_ccic, parse_csv, parse_hotlist, parse_ncic
from pipelines.hotlists.schema import ENTRIES_SCHEMA, PARSED_SCHEMA
from pipelines.hotlists.snapshot import (
    ImportResult,
    ListSpec,
    active_entries,
    active_sha256,
    hotlist_age_seconds,
    import_snapshot,
    list_status,
    stale_lists,
    version_changes,
)

__all__ = [
    "ENTRIES_SCHEMA",
    "PARSED_SCHEMA",
    "ImportResult",
    "ListSpec",
    "ParseResult",
    "active_entries",
    "active_sha256",
    "hotlist_age_seconds",
    "import_snapshot",
    "list_status",
    "parse_ccic",
    "parse_csv",
    "parse_hotlist",
    "parse_ncic",
    "stale_lists",
    "version_changes",
]
