"""The legal-basis rule of preservation (PP-9126 C.4.c, C.5), on its own: no store or catalog."""

from __future__ import annotations

import pytest

from pipelines.errors import PolicyRefusal
from pipelines.preservation.basis import LegalBasis, parse_basis

MISDEMEANOR = (
    "a misdemeanor criminal investigation is not a basis for preserving ALPR data past one year "
    "(C.R.S. 24-72-113, PP-9126 C.5) unless one of the listed bases also applies"
)


@pytest.mark.parametrize(
    "text",
    [
        "misdemeanor criminal investigation",
        "Misdemeanor",
        "misdemeanour investigation",  # the British spelling is the same basis
        "felony or misdemeanour",
    ],
)
def test_a_misdemeanor_basis_is_refused_with_the_statute(text: str) -> None:
    with pytest.raises(PolicyRefusal) as exc:
        parse_basis(text)
    assert str(exc.value) == MISDEMEANOR


@pytest.mark.parametrize("text", ["civil suit", "Civil-Suit", "notice of intent to sue"])
def test_a_civil_suit_or_its_notice_is_the_civil_lawsuit_basis(text: str) -> None:
    assert parse_basis(text) is LegalBasis.CIVIL_LAWSUIT


def test_an_unlisted_basis_is_refused_listing_the_valid_values() -> None:
    with pytest.raises(PolicyRefusal) as exc:
        parse_basis("curiosity")
    assert str(exc.value) == (
        "legal basis 'curiosity' is not one of PP-9126 C.4.c (C.R.S. 24-72-113); valid values: "
        "['felony_criminal_investigation', 'internal_affairs_investigation', 'personnel_matter', "
        "'administrative_matter', 'civil_lawsuit']"
    )


def test_a_basis_given_as_the_enum_is_returned_as_is() -> None:
    assert parse_basis(LegalBasis.PERSONNEL_MATTER) is LegalBasis.PERSONNEL_MATTER
