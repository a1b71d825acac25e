"""The legal bases that allow preserving ALPR data past retention (PP-9126 C.4.c, C.5)."""

from __future__ import annotations

from enum import StrEnum

from pipelines.errors import PolicyRefusal

__all__ = ["LegalBasis", "parse_basis"]

_MISDEMEANOR_REFUSAL = (
    "a misdemeanor criminal investigation is not a basis for preserving ALPR data past one year "
    "(C.R.S. 24-72-113, PP-9126 C.5) unless one of the listed bases also applies"
)


class LegalBasis(StrEnum):
    FELONY_CRIMINAL_INVESTIGATION = "felony_criminal_investigation"
    INTERNAL_AFFAIRS_INVESTIGATION = "internal_affairs_investigation"
    PERSONNEL_MATTER = "personnel_matter"
    ADMINISTRATIVE_MATTER = "administrative_matter"
    CIVIL_LAWSUIT = "civil_lawsuit"  # a civil lawsuit, or a notice of intent to sue


def parse_basis(value: str | LegalBasis) -> LegalBasis:
    """The basis ``value`` names (case, spaces and dashes ignored); a misdemeanor basis, or one
    not listed, is refused with the rule and the valid values."""
    if isinstance(value, LegalBasis):
        return value
    folded = "_".join(value.strip().lower().replace("-", " ").split())
    if "misdemeanor" in folded or "misdemeanour" in folded:
        raise PolicyRefusal(_MISDEMEANOR_REFUSAL)
    if folded in ("notice_of_intent_to_sue", "civil_suit"):
        return LegalBasis.CIVIL_LAWSUIT
    try:
        return LegalBasis(folded)
    except ValueError:
        raise PolicyRefusal(
            f"legal basis {value!r} is not one of PP-9126 C.4.c (C.R.S. 24-72-113); valid values: "
            f"{[b.value for b in LegalBasis]}"
        ) from None
