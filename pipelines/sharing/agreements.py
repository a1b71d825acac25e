"""Agreements (MOUs) under which ALPR data is shared with other agencies (PP-9126 C.6).

An agreement names the receiving agency and a contact there, the criminal-justice purposes it
covers (each one of ``sharing.purposes``), when it is in force (``[valid_from, expires_at)``, UTC)
and whether the recipient is non-governmental, whose agreed retention terms are then recorded
(C.6: an NGO's retention must comply with federal, state and local law). Only an administrator,
as the catalog knows them now, registers or revokes one; every attempt is audited, refused ones
too. An agreement is never edited: a renewed MOU is registered under its own id.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipelines.audit.log import record, require_utc, utc
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings, SharingSettings
from pipelines.errors import AlprError, PolicyRefusal
from pipelines.sharing.tables import sharing_agreements
from pipelines.storage.catalog import engine_for, insert_new

__all__ = [
    "AGREEMENT_REGISTER_ACTION",
    "AGREEMENT_REVOKE_ACTION",
    "Agreement",
    "AgreementTerms",
    "SharingRefusal",
    "check_in_force",
    "get_agreement",
    "list_agreements",
    "register_agreement",
    "revoke_agreement",
]

AGREEMENT_REGISTER_ACTION = "sharing.agreement.register"
AGREEMENT_REVOKE_ACTION = "sharing.agreement.revoke"
_MOU_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
_MAX_NAME = 200  # agency and contact
_MAX_TEXT = 2000  # retention terms, a revocation's reason


class SharingRefusal(PolicyRefusal):
    """Sharing refused by policy; ``field`` names what is at fault (``agreement``, ``purpose``,
    ``purposes``, ``retention_terms``, ``expires_at``, ``out``, ``criteria``, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"sharing refused (PP-9126 C.6): {field}: {message}")
        self.field = field


@dataclass(frozen=True)
class AgreementTerms:
    """An agreement as an administrator asks to register it, unchecked."""

    mou_id: str
    agency: str
    contact: str
    purposes: tuple[str, ...]
    valid_from: datetime
    expires_at: datetime  # exclusive
    non_governmental: bool = False
    retention_terms: str = ""

    def as_audit(self) -> dict[str, Any]:
        return {
            "mou_id": self.mou_id,
            "agency": self.agency,
            "contact": self.contact,
            "purposes": list(self.purposes),
            "valid_from": self.valid_from.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "non_governmental": self.non_governmental,
            "retention_terms": self.retention_terms or None,
        }


@dataclass(frozen=True)
class Agreement:
    mou_id: str
    agency: str
    contact: str
    purposes: tuple[str, ...]
    valid_from: datetime
    expires_at: datetime
    non_governmental: bool
    retention_terms: str | None
    registered_at: datetime
    registered_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def status(self, now: datetime) -> str:
        """``revoked``, ``expired``, ``not_yet_in_force`` or ``in_force`` at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        if now < self.valid_from:
            return "not_yet_in_force"
        return "in_force"

    def terms(self) -> dict[str, Any]:
        """What the recipient agreed to (the bundle's manifest carries it)."""
        return {
            "mou_id": self.mou_id,
            "agency": self.agency,
            "contact": self.contact,
            "purposes": list(self.purposes),
            "valid_from": self.valid_from.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "non_governmental": self.non_governmental,
            "retention_terms": self.retention_terms,
        }

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            **self.terms(),
            "status": self.status(now),
            "registered_at": self.registered_at.isoformat(),
            "registered_by": self.registered_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
        }


def register_agreement(
    settings: Settings, user: User, terms: AgreementTerms, *, now: datetime
) -> Agreement:
    """Register ``terms`` for an administrator; audited, refused attempts too.

    Raises ``PermissionDenied`` for anyone else and ``SharingRefusal`` naming the field at fault.
    """
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    subject = f"agreement:{terms.mou_id[:64]}"
    try:
        current = _administrator(engine, user, "register sharing agreements")
        agreement = _checked(terms, settings.sharing, current.name, now)
        with engine.begin() as conn:
            if not insert_new(conn, sharing_agreements, [_row(agreement)]):
                raise SharingRefusal(
                    "mou_id",
                    f"agreement {agreement.mou_id!r} is registered already; register a renewed "
                    "MOU under its own id",
                )
            record(
                conn,
                actor=current.name,
                action=AGREEMENT_REGISTER_ACTION,
                subject=subject,
                details=terms.as_audit(),
                now=now,
            )
    except AlprError as exc:
        _refused(engine, user.name, AGREEMENT_REGISTER_ACTION, subject, terms.as_audit(), exc, now)
        raise
    return agreement


def revoke_agreement(
    settings: Settings, user: User, mou_id: str, reason: str, *, now: datetime
) -> Agreement:
    """Revoke agreement ``mou_id`` from ``now`` on (an administrator); no export after that.
    Audited with the reason, refused attempts too."""
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    subject = f"agreement:{mou_id[:64]}"
    why = " ".join(reason.split())
    try:
        current = _administrator(engine, user, "revoke sharing agreements")
        if not why:
            raise SharingRefusal("reason", "missing: say why the agreement is revoked")
        if len(why) > _MAX_TEXT:
            raise SharingRefusal("reason", f"too long (at most {_MAX_TEXT} characters)")
        with engine.begin() as conn:
            agreement = get_agreement(conn, mou_id)
            if agreement is None:
                raise SharingRefusal("agreement", f"no agreement {mou_id!r} is registered")
            if agreement.revoked_at is not None:
                raise SharingRefusal("agreement", f"agreement {mou_id!r} is revoked already")
            conn.execute(
                sharing_agreements.update()
                .where(sharing_agreements.c.mou_id == mou_id)
                .values(revoked_at=now, revoked_by=current.name, revoke_reason=why)
            )
            record(
                conn,
                actor=current.name,
                action=AGREEMENT_REVOKE_ACTION,
                subject=subject,
                details={"reason": why},
                now=now,
            )
    except AlprError as exc:
        _refused(engine, user.name, AGREEMENT_REVOKE_ACTION, subject, {"reason": why}, exc, now)
        raise
    return dataclasses.replace(
        agreement, revoked_at=now, revoked_by=current.name, revoke_reason=why
    )


def get_agreement(conn: sa.Connection, mou_id: str) -> Agreement | None:
    row = conn.execute(
        sa.select(sharing_agreements).where(sharing_agreements.c.mou_id == mou_id)
    ).one_or_none()
    return None if row is None else _agreement(row)


def list_agreements(conn: sa.Connection) -> list[Agreement]:
    """Every agreement ever registered (revoked and expired ones too), by MOU id."""
    rows = conn.execute(sa.select(sharing_agreements).order_by(sharing_agreements.c.mou_id))
    return [_agreement(r) for r in rows]


def check_in_force(
    agreement: Agreement | None, mou_id: str, purpose: str, sharing: SharingSettings, now: datetime
) -> Agreement:
    """``agreement`` if an export for ``purpose`` may be made under it at ``now``; else a
    ``SharingRefusal`` that says why (none registered, revoked, expired, not yet in force, a
    purpose it does not cover or that is not a criminal-justice purpose of ``sharing.purposes``)."""
    if agreement is None:
        raise SharingRefusal(
            "agreement",
            f"no agreement {mou_id!r} is registered: data is shared only under a registered "
            "MOU (alpr agreements add)",
        )
    status = agreement.status(now)
    if status == "revoked":
        assert agreement.revoked_at is not None
        raise SharingRefusal(
            "agreement", f"agreement {mou_id!r} was revoked on {agreement.revoked_at.isoformat()}"
        )
    if status == "expired":
        raise SharingRefusal(
            "agreement", f"agreement {mou_id!r} expired on {agreement.expires_at.isoformat()}"
        )
    if status == "not_yet_in_force":
        raise SharingRefusal(
            "agreement",
            f"agreement {mou_id!r} is in force only from {agreement.valid_from.isoformat()}",
        )
    if purpose not in sharing.purposes:
        raise SharingRefusal(
            "purpose",
            f"reason category {purpose!r} is not a purpose data is shared for; valid values: "
            f"{list(sharing.purposes)} (sharing.purposes)",
        )
    if purpose not in agreement.purposes:
        raise SharingRefusal(
            "purpose",
            f"agreement {mou_id!r} does not cover {purpose!r}; it covers "
            f"{list(agreement.purposes)}",
        )
    return agreement


def _administrator(engine: sa.Engine, user: User, action: str) -> User:
    """``user`` as the catalog knows them now, if an active administrator."""
    with engine.connect() as conn:
        current = get_user(conn, user.name)
    require_role(current, Role.ADMINISTRATOR, action=action)
    return current


def _checked(terms: AgreementTerms, sharing: SharingSettings, by: str, now: datetime) -> Agreement:
    """The agreement ``terms`` describe, tidied, or a ``SharingRefusal`` naming the field."""
    if not _MOU_ID.fullmatch(terms.mou_id):
        raise SharingRefusal(
            "mou_id",
            "not valid: 1-64 letters, digits and _ . : / -, starting with a letter or digit",
        )
    agency = " ".join(terms.agency.split())
    contact = " ".join(terms.contact.split())
    for name, value in (("agency", agency), ("contact", contact)):
        if not value:
            raise SharingRefusal(name, "missing")
        if len(value) > _MAX_NAME:
            raise SharingRefusal(name, f"too long (at most {_MAX_NAME} characters)")
    purposes = tuple(dict.fromkeys(p.strip().lower() for p in terms.purposes if p.strip()))
    if not purposes:
        raise SharingRefusal(
            "purposes", f"missing: name at least one of {list(sharing.purposes)} (sharing.purposes)"
        )
    unknown = [p for p in purposes if p not in sharing.purposes]
    if unknown:
        raise SharingRefusal(
            "purposes",
            f"{unknown} are not criminal-justice purposes data is shared for; valid values: "
            f"{list(sharing.purposes)} (sharing.purposes)",
        )
    valid_from = _utc_moment(terms.valid_from, "valid_from")
    expires_at = _utc_moment(terms.expires_at, "expires_at")
    if expires_at <= valid_from:
        raise SharingRefusal("expires_at", "the agreement must expire after it comes into force")
    if expires_at <= now:
        raise SharingRefusal("expires_at", f"{expires_at.isoformat()} has passed already")
    retention = " ".join(terms.retention_terms.split())
    if terms.non_governmental and not retention:
        raise SharingRefusal(
            "retention_terms",
            "missing: a non-governmental recipient's retention terms are recorded (its retention "
            "must comply with federal, state and local law)",
        )
    if len(retention) > _MAX_TEXT:
        raise SharingRefusal("retention_terms", f"too long (at most {_MAX_TEXT} characters)")
    return Agreement(
        mou_id=terms.mou_id,
        agency=agency,
        contact=contact,
        purposes=purposes,
        valid_from=valid_from,
        expires_at=expires_at,
        non_governmental=terms.non_governmental,
        retention_terms=retention or None,
        registered_at=now,
        registered_by=by,
    )


def _refused(
    engine: sa.Engine,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any],
    exc: AlprError,
    now: datetime,
) -> None:
    """A refused attempt's audit entry, committed in a transaction of its own."""
    refusal = {"why": str(exc), "field": getattr(exc, "field", "user")}
    with engine.begin() as conn:
        record(
            conn,
            actor=actor,
            action=action,
            subject=subject,
            outcome="refused",
            details={**details, **refusal},
            now=now,
        )


def _row(agreement: Agreement) -> dict[str, Any]:
    return {
        "mou_id": agreement.mou_id,
        "agency": agreement.agency,
        "contact": agreement.contact,
        "purposes": json.dumps(list(agreement.purposes)),
        "valid_from": agreement.valid_from,
        "expires_at": agreement.expires_at,
        "non_governmental": agreement.non_governmental,
        "retention_terms": agreement.retention_terms,
        "registered_at": agreement.registered_at,
        "registered_by": agreement.registered_by,
    }


def _agreement(row: Any) -> Agreement:
    return Agreement(
        mou_id=row.mou_id,
        agency=row.agency,
        contact=row.contact,
        purposes=tuple(json.loads(row.purposes)),
        valid_from=utc(row.valid_from),
        expires_at=utc(row.expires_at),
        non_governmental=row.non_governmental,
        retention_terms=row.retention_terms,
        registered_at=utc(row.registered_at),
        registered_by=row.registered_by,
        revoked_at=utc(row.revoked_at) if row.revoked_at else None,
        revoked_by=row.revoked_by,
        revoke_reason=row.revoke_reason,
    )


def _utc_moment(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise SharingRefusal(name, f"{value.isoformat()} has no time zone (give UTC)")
    return utc(value)
