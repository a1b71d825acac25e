"""Preservation to evidence (PP-9126 C.4.c, C.5): holds that retention honours, copies under S3
Object Lock with a chain-of-custody manifest, and field interview reports for old data."""

from pipelines.preservation.basis import LegalBasis, parse_basis
from pipelines.preservation.holds import Hold, active_holds, get_hold, list_holds, release_hold
from pipelines.preservation.selection import Selection
from pipelines.preservation.service import (
    InterviewReport,
    Preservation,
    file_interview_report,
    list_interview_reports,
    read_preserved,
    request_preservation,
)

__all__ = [
    "Hold",
    "InterviewReport",
    "LegalBasis",
    "Preservation",
    "Selection",
    "active_holds",
    "file_interview_report",
    "get_hold",
    "list_holds",
    "list_interview_reports",
    "parse_basis",
    "read_preserved",
    "release_hold",
    "request_preservation",
]
