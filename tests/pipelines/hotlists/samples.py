"""Sample hotlist files written for these tests (never copied from real data): each format's
layout as ../shared/formats/hotlists.md describes it, good and malformed."""

from __future__ import annotations


def ncic_record(
    code: str = "V",
    plate: str = "AB123456",
    state: str = "CA",
    date: str = "20190509",
    nic: str = "123456789LA0570200",
    tail: str = "2009MC2009YAMACYLMCBLK",
) -> str:
    """One NCIC fixed-width record: code 0-1, NIC/ORI 1-19, date 19-27, plate 27-37, state
    37-39, tag year, plate type, vehicle year, make, model, style, colour."""
    return f"{code}{nic}{date}{plate:<10}{state:<2}{tail}"


NCIC_HEADER = "NCIC VEHICLE HOT FILE 20260301 LAKEWOOD PD"

# A stolen motorcycle (the format's own example), an Ohio plate written 0H, the same plate in
# Colorado and Wyoming, a plate with a dash, a junk plate, a stolen plate and a wanted person on
# one vehicle (one identity: merged).
NCIC_GOOD = (
    "\n".join(
        [
            NCIC_HEADER,
            "V123456789LA057020020190509AB123456  CA2009MC2009YAMACYLMCBLK",
            ncic_record("V", "OHI 777", "0H", "20200101"),
            ncic_record("P", "KLM456", "CO", "20210202"),
            ncic_record("P", "KLM456", "WY", "20210203"),
            ncic_record("F", "XY-1234", "TX", "20220303"),
            ncic_record("V", "00", "CO", "20220404"),
            ncic_record("P", "DUP999", "CO", "20230101"),
            ncic_record("W", "DUP999", "CO", "20230105"),
        ]
    )
    + "\n"
)

CCIC_HEADER = "CCIC HOTLIST EXPORT 2026-03-01"

CCIC_GOOD = (
    "\n".join(
        [
            CCIC_HEADER,
            "ABC123    COAttempt To Locate     2002 FORD FOC BLK",
            "ABC123    WYStolen Plate          ",
            "XYZ 987   COStolen/Car Jacking/Ca 2019 TOYT CAM SIL",
            "QRS555    COUsed in Misdemeanor or2011 HOND CIV RED",
            "0         COFelony Warrant        ",
        ]
    )
    + "\n"
)

CSV_HEADER = "plate,state,list,description,expires,entered_by"

CSV_GOOD = (
    "\n".join(
        [
            CSV_HEADER,
            'ABC-123,co,stolen,"red sedan, ""loud"" exhaust",2027-01-31,jdoe',
            "XYZ9,,wanted,,,",
            "LMN 456,WY,stolen,blue truck,,asmith",
        ]
    )
    + "\n"
)
