"""Sharing ALPR data with other agencies (PP-9126 C.6): agreements (MOUs) registered by an
administrator, and exports of reads under one in force, each a bundle with a sha256 manifest.

``register_agreement`` / ``revoke_agreement`` / ``list_agreements`` and ``share_reads`` are the
API; ``alpr agreements`` and ``alpr share`` adapt it. Every attempt is audited.
"""

from __future__ import annotations

from pipelines.sharing.agreements import (
    AGREEMENT_REGISTER_ACTION,
    AGREEMENT_REVOKE_ACTION,
    Agreement,
    AgreementTerms,
    SharingRefusal,
    check_in_force,
    get_agreement,
    list_agreements,
    register_agreement,
    revoke_agreement,
)
from pipelines.sharing.export import (
    EXPORT_ACTION,
    EXPORTERS,
    MANIFEST,
    SHARED_COLUMNS,
    ShareRequest,
    ShareResult,
    share_reads,
    verify_bundle,
)

__all__ = [
    "AGREEMENT_REGISTER_ACTION",
    "AGREEMENT_REVOKE_ACTION",
    "EXPORTERS",
    "EXPORT_ACTION",
    "MANIFEST",
    "SHARED_COLUMNS",
    "Agreement",
    "AgreementTerms",
    "ShareRequest",
    "ShareResult",
    "SharingRefusal",
    "check_in_force",
    "get_agreement",
    "list_agreements",
    "register_agreement",
    "revoke_agreement",
    "share_reads",
    "verify_bundle",
]
