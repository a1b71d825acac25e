"""Plate text rules: normalization, look-alike characters, US state formats, jurisdiction hints.

Pure functions and module-level tables, no model: the OCR (``ocr.py``) and hotlist matching both
import from here, so a read and a hotlist entry go through the same :func:`normalize_plate`
(or the same :func:`normalized_plate_expr` inside a polars join).

Two keys, two purposes:

* :func:`normalize_plate` keeps what is printed: upper case ``A-Z0-9``, separators dropped. This is
  the ``text`` of a read and what exact-read accuracy is measured on.
* :func:`match_key` also folds the pairs that most US plates print with one glyph (letter O and
  digit 0, letter I and digit 1), so that a hotlist entry typed as ``0IT643`` meets a read of
  ``OIT643``. Join on it, not on the normalized text.

The OCR reports the O/0 glyph as ``0`` by default (``PlateReader.load(o_as_zero=True)``), so read
texts rarely contain ``O``; hotlist entries still may, which is one more reason to join on
:func:`match_key`.
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

import polars as pl

__all__ = [
    "CONFUSABLE_PAIRS",
    "JURISDICTION_MARKERS",
    "MATCH_FOLDS",
    "PLATE_ALPHABET",
    "US_STATE_FORMATS",
    "WIDE_PLATE_FORMATS",
    "confusables",
    "fit_lookalikes",
    "fits_format",
    "formats_for",
    "guess_jurisdiction",
    "match_key",
    "match_key_expr",
    "normalize_plate",
    "normalized_plate_expr",
    "plate_candidates",
    "plate_shape",
]

PLATE_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = frozenset("0123456789")

# Look-alike pairs an OCR swaps on plate fonts; symmetric by construction (see `confusables`).
CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("O", "0"),
    ("D", "0"),
    ("Q", "0"),
    ("O", "D"),
    ("O", "Q"),
    ("I", "1"),
    ("T", "1"),
    ("L", "1"),
    ("B", "8"),
    ("S", "5"),
    ("Z", "2"),
    ("Z", "7"),
    ("G", "6"),
    ("A", "4"),
    ("U", "V"),
    ("U", "0"),
    ("M", "N"),
    ("K", "X"),
    ("E", "F"),
    ("P", "R"),
    ("C", "G"),
    ("H", "N"),
)

# Glyphs most US states print identically (and some never issue as letters): fold for matching.
MATCH_FOLDS: Mapping[str, str] = {"O": "0", "I": "1"}

# Common passenger formats per state, current and still-on-the-road legacy ones ("L" letter,
# "D" digit); a few (ia, md, me, ms, va) were added from the OpenALPR US *tuning* split. A prior
# for letter/digit look-alikes, not a validator: vanity and specialty plates often fit none.
US_STATE_FORMATS: Mapping[str, tuple[str, ...]] = {
    "ak": ("LLLDDD",),
    "al": ("DLDDDDL", "DDLDDDL", "DLLDDDD", "DDLLDDD"),
    "ar": ("DDDLLL", "LLLDDD", "LLLDDL"),
    "az": ("LLLDDDD", "DDDLLL", "LLLDDD"),
    "ca": ("DLLLDDD", "DDDLLL", "LLLDDD"),
    "co": ("DDDLLL", "LLLDDD", "LLLLDD", "LLLDDDD"),
    "ct": ("DDDLLL", "DLLLLD", "LLDDDDD"),
    "dc": ("LLDDDD", "DDDDDD"),
    "de": ("DDDDDD", "DDDDD", "DDDD"),
    "fl": ("LLLLDD", "DDDLLL", "LLLDDD", "LDDDLL", "LDDLLL", "DDLLLL"),
    "ga": ("LLLDDDD", "LLLDDD", "DDDLLL"),
    "hi": ("LLLDDD", "DDDLLL"),
    "ia": ("DDDLLL", "LLLDDD", "LLLDDDD", "DDDDLL"),
    "id": ("DLDDDDD", "DLLDDDD", "DLDDDD", "LDDDDD", "DLDDDDL"),
    "il": ("LDDDDDD", "LLDDDDD", "LLLDDD", "DDDDDD", "DDDDDDD"),
    "in": ("DDDLLL", "DDLDDD", "LLLDDD"),
    "ks": ("DDDLLL", "LLLDDD"),
    "ky": ("DDDLLL", "LLLDDD"),
    "la": ("LLLDDD", "DDDLLL"),
    "ma": ("DDDLLL", "DLLDDD", "DLLLDD", "DDLLDD", "DDDLLD"),
    "md": ("DLLDDDD", "LLLDDD", "DLLDDD", "DLLLDD"),
    "me": ("DDDDLL", "DDDLLL", "DDDLL", "DDDDDD"),
    "mi": ("LLLDDDD", "LLLDDD", "DDDLLL", "DLLLDD"),
    "mn": ("DDDLLL", "LLLDDD"),
    "mo": ("DDDLLL", "LLLDDD", "LLDLDL"),
    "ms": ("LLLDDD", "DDDLLL", "LLLDDDD"),
    "mt": ("DDDDDDL", "DDDDDL", "DLDDDDL"),
    "nc": ("LLLDDDD", "LLLDDD"),
    "nd": ("DDDLLL", "LLLDDD"),
    "ne": ("LLLDDD", "DLDDDD", "DDLDDD", "DLLDDD"),
    "nh": ("DDDDDDD", "DDDDDD"),
    "nj": ("LDDLLL", "LLLDDL"),
    "nm": ("LLLDDD", "DDDLLL", "LLLLDD"),
    "nv": ("DDDLLL", "DDLDDD", "DDDLDD"),
    "ny": ("LLLDDDD", "LLLDDD", "DDDLLL"),
    "oh": ("LLLDDDD", "LLLDDD", "LLDDLL"),
    "ok": ("LLLDDD", "DDDLLL", "LLLDDDD"),
    "or": ("DDDLLL", "LLLDDD"),
    "pa": ("LLLDDDD", "LLLDDD"),
    "ri": ("DDDDDD", "DDDDD", "LLDDD", "LDDDD", "DLLDDD"),
    "sc": ("LLLDDD", "DDDLLL"),
    "sd": ("DLDDDD", "DDLDDD", "DLLDDD"),
    "tn": ("DDDLLL", "LLLDDD", "LDDDDL"),
    "tx": ("LLLDDDD", "LLDLDDD", "DDDLLL", "LLLDDD"),
    "ut": ("DDDLLL", "LDDDLL", "LLLDDD"),
    "va": ("LLLDDDD", "LLLDDD", "DDDLLL", "LLDDDD", "DDDDLL"),
    "vt": ("LLLDDD", "DDDLLL"),
    "wa": ("LLLDDDD", "DDDLLL"),
    "wi": ("DDDLLL", "LLLDDDD", "LLLDDD"),
    "wv": ("DLLDDD", "DLDDDD", "LLLDDD"),
    "wy": ("DDDDD", "DDDD", "DDDDL"),
}

# Words printed around the number (names, slogans, web addresses), as normalized letters, that tell
# the jurisdiction. Longer markers win, so "WASHINGTONDC" beats "WASHINGTON", "ARKANSAS" "KANSAS".
JURISDICTION_MARKERS: Mapping[str, str] = {
    "ALABAMA": "al",
    "HEARTOFDIXIE": "al",
    "ALASKA": "ak",
    "NORTHTOTHEFUTURE": "ak",
    "ARIZONA": "az",
    "GRANDCANYON": "az",
    "ARKANSAS": "ar",
    "NATURALSTATE": "ar",
    "CALIFORNIA": "ca",
    "DMVCAGOV": "ca",
    "COLORADO": "co",
    "CONNECTICUT": "ct",
    "CONSTITUTIONSTATE": "ct",
    "DELAWARE": "de",
    "THEFIRSTSTATE": "de",
    "WASHINGTONDC": "dc",
    "DISTRICTOFCOLUMBIA": "dc",
    "TAXATIONWITHOUT": "dc",
    "FLORIDA": "fl",
    "SUNSHINESTATE": "fl",
    "GEORGIA": "ga",
    "PEACHSTATE": "ga",
    "HAWAII": "hi",
    "ALOHASTATE": "hi",
    "IDAHO": "id",
    "FAMOUSPOTATOES": "id",
    "ILLINOIS": "il",
    "LANDOFLINCOLN": "il",
    "INDIANA": "in",
    "CROSSROADSOFAMERICA": "in",
    "IOWA": "ia",
    "KANSAS": "ks",
    "KENTUCKY": "ky",
    "UNBRIDLEDSPIRIT": "ky",
    "BLUEGRASSSTATE": "ky",
    "LOUISIANA": "la",
    "SPORTSMANSPARADISE": "la",
    "MAINE": "me",
    "VACATIONLAND": "me",
    "MARYLAND": "md",
    "MASSACHUSETTS": "ma",
    "THESPIRITOFAMERICA": "ma",
    "MICHIGAN": "mi",
    "GREATLAKES": "mi",
    "MINNESOTA": "mn",
    "LAKES": "mn",
    "MISSISSIPPI": "ms",
    "MISSOURI": "mo",
    "SHOWMESTATE": "mo",
    "MONTANA": "mt",
    "BIGSKY": "mt",
    "NEBRASKA": "ne",
    "NEVADA": "nv",
    "SILVERSTATE": "nv",
    "NEWHAMPSHIRE": "nh",
    "LIVEFREEORDIE": "nh",
    "NEWJERSEY": "nj",
    "GARDENSTATE": "nj",
    "NEWMEXICO": "nm",
    "LANDOFENCHANTMENT": "nm",
    "NEWYORK": "ny",
    "EMPIRESTATE": "ny",
    "NORTHCAROLINA": "nc",
    "FIRSTINFLIGHT": "nc",
    "FIRSTINFREEDOM": "nc",
    "NORTHDAKOTA": "nd",
    "PEACEGARDEN": "nd",
    "LEGENDARY": "nd",
    "OHIO": "oh",
    "BIRTHPLACEOFAVIATION": "oh",
    "OKLAHOMA": "ok",
    "NATIVEAMERICA": "ok",
    "OREGON": "or",
    "PENNSYLVANIA": "pa",
    "VISITPA": "pa",
    "RHODEISLAND": "ri",
    "OCEANSTATE": "ri",
    "SOUTHCAROLINA": "sc",
    "SOUTHDAKOTA": "sd",
    "MOUNTRUSHMORE": "sd",
    "GREATFACES": "sd",
    "TENNESSEE": "tn",
    "VOLUNTEERSTATE": "tn",
    "TEXAS": "tx",
    "LONESTARSTATE": "tx",
    "UTAH": "ut",
    "LIFEELEVATED": "ut",
    "VERMONT": "vt",
    "GREENMOUNTAIN": "vt",
    "VIRGINIA": "va",
    "VIRGINIAISFORLOVERS": "va",
    "WASHINGTON": "wa",
    "EVERGREENSTATE": "wa",
    "WESTVIRGINIA": "wv",
    "WILDWONDERFUL": "wv",
    "WISCONSIN": "wi",
    "AMERICASDAIRYLAND": "wi",
    "WYOMING": "wy",
}

# Fuzzy marker matching: markers shorter than this must match exactly (IOWA, OHIO, UTAH), longer
# ones may have one error per this many letters.
_MARKER_EXACT_BELOW = 6
_MARKER_LETTERS_PER_ERROR = 4


# Single-line wide plates (European 520x110 mm, Mercosur 400x130 mm) print letters O and I as
# such, in national formats like these; the prior for their look-alikes. Not a validator.
WIDE_PLATE_FORMATS: tuple[str, ...] = (
    "LLLDDDD",  # Brazil before Mercosur
    "LLLDLDD",  # Mercosur (Brazil, Argentina, Uruguay, Paraguay)
    "LLDDDLL",  # Italy, France, Croatia (without the county split)
    "LLDDDDLL",  # Croatia with four digits
    "DDDDLLL",  # Spain
    "LLDDLLL",  # United Kingdom
    "DLLLDDD",  # Sweden, Poland and others
    "LLLDDD",
    "LLDDDD",
)


def normalize_plate(text: str) -> str:
    """Upper-case ``A-Z0-9`` only: compatibility forms folded (fullwidth ``Ａ`` is ``A``), the rest
    (spaces, dashes, dots, symbols, other scripts) dropped. Idempotent.

    Code points this Python's Unicode tables leave unassigned are dropped first, as
    :func:`normalized_plate_expr` drops them: polars' newer tables would fold some (Unicode 16's
    outlined ``U+1CCD6`` is ``A``) that Python 3.11's, Unicode 14, leave alone."""
    known = "".join(c for c in text if unicodedata.category(c) != "Cn")
    upper = unicodedata.normalize("NFKC", known).upper()
    return "".join(c for c in upper if c in _ALPHABET_SET)


_ALPHABET_SET = frozenset(PLATE_ALPHABET)


def match_key(text: str) -> str:
    """The join key for hotlist matching: :func:`normalize_plate`, then ``MATCH_FOLDS`` applied."""
    return normalize_plate(text).translate(_MATCH_TABLE)


_MATCH_TABLE = str.maketrans(dict(MATCH_FOLDS))


def normalized_plate_expr(column: str | pl.Expr) -> pl.Expr:
    """:func:`normalize_plate` as a polars expression (same result, vectorised)."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (
        expr.str.replace_all(_unassigned_class(), "")
        .str.normalize("NFKC")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]", "")
    )


@cache
def _unassigned_class() -> str:
    """A regex class of the code points unassigned in Python's Unicode tables (0.1 s, once)."""
    ranges: list[str] = []
    start = None
    for cp in range(0x110001):  # one past the last code point closes a range running to it
        unassigned = cp <= 0x10FFFF and unicodedata.category(chr(cp)) == "Cn"
        if unassigned and start is None:
            start = cp
        elif not unassigned and start is not None:
            ranges.append(f"\\x{{{start:X}}}-\\x{{{cp - 1:X}}}")
            start = None
    return "[" + "".join(ranges) + "]"


def match_key_expr(column: str | pl.Expr, *, normalized: bool = False) -> pl.Expr:
    """:func:`match_key` as a polars expression: join reads and hotlist entries on this.

    ``normalized``: the column holds :func:`normalize_plate` output already (a read's text and
    candidates, which ``PlateRead`` guarantees), so only the folds are applied: the Unicode
    normalization is most of the cost on millions of reads."""
    expr = pl.col(column) if isinstance(column, str) else column
    if not normalized:
        expr = normalized_plate_expr(expr)
    return expr.str.replace_many(list(MATCH_FOLDS), list(MATCH_FOLDS.values()))


def _build_confusables() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {c: set() for c in PLATE_ALPHABET}
    for a, b in CONFUSABLE_PAIRS:
        table[a].add(b)
        table[b].add(a)
    return {c: frozenset(v) for c, v in table.items()}


_CONFUSABLES = _build_confusables()


def confusables(char: str) -> frozenset[str]:
    """Characters an OCR may read instead of ``char`` (symmetric; empty for non-plate characters)."""
    return _CONFUSABLES.get(char, frozenset())


def plate_shape(text: str) -> str:
    """The letter/digit shape of a normalized plate: ``"7ABC123"`` is ``"DLLLDDD"``."""
    return "".join("D" if c in DIGITS else "L" for c in normalize_plate(text))


def formats_for(jurisdiction: str | None) -> tuple[str, ...]:
    """The known formats of a jurisdiction (two-letter code, any case); empty when unknown."""
    if not jurisdiction:
        return ()
    return US_STATE_FORMATS.get(jurisdiction.lower(), ())


def fits_format(text: str, jurisdiction: str | None) -> bool:
    """Whether the plate has the shape of one of the jurisdiction's known formats."""
    return plate_shape(text) in formats_for(jurisdiction)


# Pairs printed with near-identical glyphs on many plates: swapped freely to fit a known format.
LOOKALIKE_SWAPS: Mapping[str, str] = {"O": "0", "0": "O", "I": "1", "1": "I"}


def fit_lookalikes(
    text: str,
    formats: Sequence[str],
    confidences: Sequence[float] | None = None,
    max_swaps: int = 1,
) -> str:
    """``text`` with O/0 and I/1 swapped where that makes it fit one of ``formats``.

    The fewest swaps win, at most ``max_swaps`` (a reading that needs more is more likely another
    format than a misread); between equally short fixes, the one changing the least confident
    characters (``confidences``, one per character). A text that fits already, or fits none so,
    or stays ambiguous, is returned unchanged.
    """
    base = normalize_plate(text)
    shape = plate_shape(base)
    if shape in formats:
        return base
    confs = list(confidences) if confidences is not None and len(confidences) == len(base) else None
    fixes: dict[str, tuple[int, float]] = {}
    for fmt in formats:
        if len(fmt) != len(base):
            continue
        wrong = [i for i, (have, want) in enumerate(zip(shape, fmt, strict=True)) if have != want]
        if len(wrong) <= max_swaps and all(base[i] in LOOKALIKE_SWAPS for i in wrong):
            chars = list(base)
            for i in wrong:
                chars[i] = LOOKALIKE_SWAPS[chars[i]]
            cost = sum(confs[i] for i in wrong) if confs else 0.0
            fixes["".join(chars)] = (len(wrong), cost)
    ranked = sorted(fixes.items(), key=lambda kv: kv[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return base
    return ranked[0][0]


def plate_candidates(
    text: str,
    char_confidences: Sequence[float] | None = None,
    *,
    alternatives: Sequence[Mapping[str, float]] | None = None,
    jurisdiction: str | None = None,
    formats: Sequence[str] | None = None,
    format_prior: float = 0.9,
    limit: int = 8,
) -> tuple[tuple[str, float], ...]:
    """Likely readings of a plate, best first, with scores in (0, 1] that sum to at most 1.

    Each position keeps its character with its confidence (default 0.9) and shares the rest among
    ``alternatives[i]`` (for instance an OCR's runner-up probabilities) or, when those are absent,
    among ``confusables``. With a known ``jurisdiction``, readings that fit one of its formats get
    ``format_prior`` of the mass and the others the remainder, so a confident reading still wins
    over a format. ``formats`` (letter/digit shapes) replaces the jurisdiction's formats, e.g.
    :data:`WIDE_PLATE_FORMATS`. The normalized input is always among the returned readings.
    """
    base = normalize_plate(text)
    if not base:
        return (("", 1.0),)
    confs = [0.9] * len(base) if char_confidences is None else list(char_confidences)
    if len(confs) == len(text) != len(base):
        # One confidence per raw character: keep those of the characters normalization keeps.
        confs = [c for ch, c in zip(text, confs, strict=True) for _ in normalize_plate(ch)]
    if len(confs) != len(base):
        raise ValueError(
            f"{len(char_confidences or ())} confidences for {text!r}; give one per character"
        )
    options: list[list[tuple[str, float]]] = []
    for i, char in enumerate(base):
        keep = min(max(float(confs[i]), 1e-6), 1.0)
        given = dict(alternatives[i]) if alternatives is not None and i < len(alternatives) else {}
        others = {normalize_plate(k): float(v) for k, v in given.items() if k != char}
        others = {k: v for k, v in others.items() if len(k) == 1 and k != char and v > 0}
        if not others:
            near = sorted(confusables(char))
            others = dict.fromkeys(near, 1.0) if near else {}
        total = sum(others.values())
        column = [(char, keep)]
        if total > 0 and keep < 1.0:
            column += [(k, (1.0 - keep) * v / total) for k, v in others.items()]
        column.sort(key=lambda kv: -kv[1])
        options.append(column)

    pool = _k_best(options, max(limit * 4, 16))
    formats = tuple(formats) if formats is not None else formats_for(jurisdiction)
    scored: dict[str, float] = {}
    for reading, p in pool:
        if formats:
            p *= format_prior if plate_shape(reading) in formats else 1.0 - format_prior
        scored[reading] = max(scored.get(reading, 0.0), p)
    if base not in scored:
        p = math.prod(dict(col)[ch] for col, ch in zip(options, base, strict=True))
        if formats:
            p *= format_prior if plate_shape(base) in formats else 1.0 - format_prior
        scored[base] = p
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    best = ranked[:limit]
    if base not in dict(best):
        best = [*best[: limit - 1], (base, scored[base])]
    return tuple((t, s) for t, s in best)


def _k_best(options: Sequence[Sequence[tuple[str, float]]], k: int) -> list[tuple[str, float]]:
    """The ``k`` most probable strings from independent per-position choices (each column sorted
    best first), by a best-first walk over index vectors."""
    start = (0,) * len(options)

    def prob(ix: tuple[int, ...]) -> float:
        return math.prod(options[i][j][1] for i, j in enumerate(ix))

    heap = [(-prob(start), start)]
    seen = {start}
    out: list[tuple[str, float]] = []
    while heap and len(out) < k:
        neg, ix = heapq.heappop(heap)
        out.append(("".join(options[i][j][0] for i, j in enumerate(ix)), -neg))
        for i in range(len(ix)):
            if ix[i] + 1 < len(options[i]):
                nxt = (*ix[:i], ix[i] + 1, *ix[i + 1 :])
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-prob(nxt), nxt))
    return out


def guess_jurisdiction(texts: Iterable[str]) -> str | None:
    """The state whose name or slogan appears in the text read around a plate's number, if any.

    ``texts`` are free OCR output (any case, spaces and punctuation ignored). A marker may be misread
    by one letter in four; the longest, least-wrong marker wins, so ``WEST VIRGINIA`` is ``wv``, not
    ``va``. Returns a two-letter lower-case code or ``None``.
    """
    best: tuple[float, str] | None = None
    for raw in texts:
        letters = "".join(c for c in normalize_plate(raw) if not c.isdigit())
        if len(letters) < 4:
            continue
        for marker, state in JURISDICTION_MARKERS.items():
            allowed = (
                0 if len(marker) < _MARKER_EXACT_BELOW else len(marker) // _MARKER_LETTERS_PER_ERROR
            )
            errors = _substring_distance(marker, letters)
            if errors <= allowed:
                score = len(marker) - 2.0 * errors
                if best is None or score > best[0]:
                    best = (score, state)
    return None if best is None else best[1]


def _substring_distance(pattern: str, text: str) -> int:
    """Fewest edits turning ``pattern`` into some substring of ``text`` (Myers' bit-parallel
    algorithm, semi-global: the match may start and end anywhere in ``text``)."""
    m = len(pattern)
    if m == 0:
        return 0
    peq: dict[str, int] = {}
    for i, c in enumerate(pattern):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score, best = mask, 0, m, m
    for c in text:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = (ph << 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
        best = min(best, score)
    return best
