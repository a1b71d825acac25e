"""Deterministic synthetic licence plates and street scenes, for training and for tests.

Everything is drawn from a ``numpy.random.Generator``: the same seed gives the same pixels, so tests
can build their own scenes and a dataset can be rebuilt bit for bit. Fonts are matplotlib's bundled
DejaVu faces; nothing is downloaded.
"""

from __future__ import annotations

import io
import string
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipelines.recognition._ultralytics import bundled_font_dir
from pipelines.recognition.plates import JURISDICTION_MARKERS, US_STATE_FORMATS, normalize_plate

__all__ = [
    "OVERLAY_RATE",
    "PLATE_STYLES",
    "SMALL_PLATES",
    "US_FORMATS",
    "SyntheticPlate",
    "SyntheticScene",
    "number_layout",
    "plate_text",
    "render_plate",
    "render_scene",
]

# L = letter, N = digit. US formats first: they are what the cameras mostly see.
US_FORMATS = ("LLLNNNN", "NLLLNNN", "NNNLLL", "LLLNNN", "NLLNNN", "LLNNNNN", "NNNNLL", "LLNLNNN")
EU_FORMATS = ("LLNNLLL", "LLLNNNN", "LNNLLL", "LLNNNN", "LNLNLN", "NNLLLNN")
BR_FORMATS = ("LLLNLNN", "LLLNNNN")  # Mercosul, and the older grey plates
PLATE_STYLES = ("us", "eu", "br")
_STYLE_WEIGHTS = (0.6, 0.2, 0.2)

_STATES = (
    "CALIFORNIA", "TEXAS", "FLORIDA", "NEW YORK", "OHIO", "ILLINOIS", "GEORGIA", "ARIZONA",
    "NEVADA", "OREGON", "WASHINGTON", "COLORADO", "MICHIGAN", "VIRGINIA", "MAINE", "IDAHO",
    "UTAH", "NEW JERSEY", "MONTANA", "KANSAS", "ALABAMA", "INDIANA",
)  # fmt: skip
_STATE_CODES = {name: JURISDICTION_MARKERS[normalize_plate(name)] for name in _STATES}
_STATE_FORMAT_RATE = 0.8  # of US plates drawn in a format of the state they print; others generic
_SLOGANS = (
    "Sunshine State", "Lone Star State", "Empire State", "Grand Canyon State", "Live Free",
    "Great Lakes", "Famous Potatoes", "Land of Lincoln", "dmv.gov", "Vacationland",
    "Big Sky Country", "Peach State", "Heart of Dixie", "Crossroads of America",
)  # fmt: skip
_EU_CODES = ("D", "F", "NL", "I", "E", "PL", "B", "CZ", "GB", "A", "P", "SK")
_BADGES = ("RENAULT", "FIAT", "GOL", "PUNTO", "FORD", "CIVIC", "COROLLA", "SPORT", "4x4",
           "HYBRID", "TDI", "1.6", "ELX", "FIESTA", "UNO", "LIMITED")  # fmt: skip
_LANES = ("NB", "SB", "EB", "WB", "NB LANE 2", "SB LN1", "ENTRY", "EXIT GATE")
_SITES = ("I-95 MM 42", "MAIN ST & 5TH", "US-1 N", "HWY 101 S", "TOLL PLAZA 3", "PD LOT B")
OVERLAY_RATE = 0.4  # of scenes with a camera's burned-in text
SMALL_PLATES = (50, 130)  # px wide in a 1280x720 frame: a lane camera's far plates
_WORDS = ("OPEN", "STOP", "PARKING", "EXIT", "SALE", "HOTEL", "PIZZA", "BUS", "TAXI", "CAFE")


@dataclass(frozen=True)
class SyntheticPlate:
    text: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels, inside the image


@dataclass(frozen=True)
class SyntheticScene:
    image: Image.Image  # RGB
    plates: list[SyntheticPlate]
    overlays: tuple[tuple[int, int, int, int], ...] = ()  # burned-in camera text: not plates


@cache
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(bundled_font_dir() / name), size)


# Plate characters in five faces, each drawn thinner or bolder (_fit_text's weight): real plates
# range from thin condensed gothics to heavy embossed ones, and a model that saw three faces at
# one weight learnt their glyphs rather than the characters.
_PLATE_FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf",
                "DejaVuSans.ttf", "cmss10.ttf")  # fmt: skip
_BAND_FONTS = ("DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans-Oblique.ttf",
               "DejaVuSerif-BoldItalic.ttf")  # fmt: skip
_OVERLAY_FONTS = ("DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf")


def plate_text(rng: np.random.Generator, style: str = "us", state: str | None = None) -> str:
    """A random plate string in one of the formats of ``style`` (no spaces or dashes); for a US
    ``state`` (a name :data:`_STATES` prints), in one of that state's formats
    (:data:`~pipelines.recognition.plates.US_STATE_FORMATS`, D a digit)."""
    formats = {"us": US_FORMATS, "eu": EU_FORMATS, "br": BR_FORMATS}[style]
    if state is not None:
        formats = US_STATE_FORMATS[_STATE_CODES[state.upper()]]
    fmt = formats[int(rng.integers(len(formats)))]
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"  # I, O, Q are rare on plates
    return "".join(
        letters[int(rng.integers(len(letters)))] if c == "L" else str(int(rng.integers(10)))
        for c in fmt
    )


def _rgb(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(lo, hi, 3))
    return r, g, b


def _fit_text(
    draw_size: tuple[int, int],
    text: str,
    font_name: str,
    color: tuple[int, int, int],
    weight: int = 0,
) -> Image.Image:
    """Text rendered large, then squeezed into ``draw_size`` (plates use condensed faces);
    ``weight`` > 0 thickens the strokes by that many pixels a side at the large size, < 0 thins
    them."""
    font = _font(font_name, 96)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    pad = 4 + abs(weight)
    tile = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((pad - left, pad - top), text, font=font, fill=(*color, 255))
    if weight:
        grow = ImageFilter.MaxFilter if weight > 0 else ImageFilter.MinFilter
        tile.putalpha(tile.getchannel("A").filter(grow(2 * abs(weight) + 1)))
    return tile.resize(draw_size, Image.Resampling.LANCZOS)


def _paste_text(
    img: Image.Image,
    box: tuple[int, int, int, int],
    text: str,
    font_name: str,
    color: tuple[int, int, int],
    weight: int = 0,
) -> None:
    x1, y1, x2, y2 = box
    tile = _fit_text((max(1, x2 - x1), max(1, y2 - y1)), text, font_name, color, weight)
    img.paste(tile, (x1, y1), tile)


def _plate_art(rng: np.random.Generator, img: Image.Image, bg: tuple[int, int, int]) -> None:
    """Faint scenery behind the characters (mountains, a sun, waves), as many states print."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(1, 4))):
        tint = tuple(int(np.clip(c + rng.integers(-90, 60), 0, 255)) for c in bg)
        kind = int(rng.integers(3))
        if kind == 0:  # a ridge of mountains along the lower half
            xs = np.linspace(0, w, int(rng.integers(4, 9)))
            ys = h * rng.uniform(0.45, 0.85, len(xs))
            draw.polygon([(0, h), *zip(xs.tolist(), ys.tolist(), strict=True), (w, h)], fill=tint)
        elif kind == 1:  # a sun or a seal
            r = h * rng.uniform(0.1, 0.35)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tint)
        else:  # waves or stripes
            y0, amp = h * rng.uniform(0.2, 0.9), h * rng.uniform(0.02, 0.08)
            xs = np.arange(0, w + 8, 8, dtype=float)
            ys = y0 + amp * np.sin(xs / w * rng.uniform(4, 14) + rng.uniform(0, 6))
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=tint,
                      width=int(rng.integers(2, 10)))  # fmt: skip


def _emblem(rng: np.random.Generator, img: Image.Image, box: tuple[int, int, int, int]) -> None:
    """A graphic beside the number (a state outline, a logo, a flag) that is not a character."""
    x1, y1, x2, y2 = box
    draw = ImageDraw.Draw(img)
    colour = _rgb(rng)
    kind = int(rng.integers(3))
    if kind == 0:
        n = int(rng.integers(5, 9))
        pts = np.stack([rng.uniform(x1, x2, n), rng.uniform(y1, y2, n)], axis=1)
        centre = pts.mean(axis=0)
        order = np.argsort(np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0]))
        draw.polygon([tuple(p) for p in pts[order].tolist()], fill=colour)
    elif kind == 1:
        draw.ellipse(box, fill=colour, outline=_rgb(rng), width=int(rng.integers(1, 5)))
    else:
        draw.rectangle(box, fill=colour)
        for k in range(int(rng.integers(2, 6))):
            y = y1 + (y2 - y1) * (k + 0.5) / 6
            draw.line((x1, y, x2, y), fill=_rgb(rng), width=max(1, (y2 - y1) // 12))


def _us_plate(rng: np.random.Generator, text: str | None) -> tuple[Image.Image, str]:
    w, h = 480, 240
    dark = rng.random() < 0.15
    bg = _rgb(rng, 0, 90) if dark else _rgb(rng, 190, 256)
    ink = _rgb(rng, 200, 256) if dark else _rgb(rng, 0, 110)
    img = Image.new("RGB", (w, h), bg)
    if rng.random() < 0.4:  # a gradient behind the characters
        top = np.array(_rgb(rng, 150, 256) if not dark else _rgb(rng, 0, 90), dtype=float)
        grad = np.linspace(0, 1, h)[:, None, None]
        arr = (1 - grad) * top + grad * np.array(bg, dtype=float)
        img = Image.fromarray(np.broadcast_to(arr, (h, w, 3)).astype(np.uint8))
    if rng.random() < 0.35:
        _plate_art(rng, img, bg)
    band = _rgb(rng, 0, 200)
    state = _STATES[int(rng.integers(len(_STATES)))]
    if text is None:  # mostly one of the printed state's formats, as on the road
        text = plate_text(rng, "us", state if rng.random() < _STATE_FORMAT_RATE else None)
    if rng.random() < 0.4:  # "California", "Arkansas": many states print mixed case
        state = state.title()
    _paste_text(img, (int(w * rng.uniform(0.15, 0.3)), 10, int(w * rng.uniform(0.7, 0.85)), 52),
                state, _BAND_FONTS[int(rng.integers(len(_BAND_FONTS)))], band)  # fmt: skip
    if rng.random() < 0.8:
        slogan = _SLOGANS[int(rng.integers(len(_SLOGANS)))]
        _paste_text(img, (int(w * 0.25), h - 44, int(w * 0.75), h - 14), slogan,
                    _BAND_FONTS[int(rng.integers(len(_BAND_FONTS)))], band)  # fmt: skip
    font = _PLATE_FONTS[int(rng.integers(len(_PLATE_FONTS)))]
    weight = int(rng.integers(-2, 5))
    left, right = 30, w - 30
    if rng.random() < 0.2:  # a graphic on one side of the number, not a character
        side = int(rng.uniform(50, 90))
        if rng.random() < 0.6:
            _emblem(rng, img, (left, 70, left + side, 70 + side))
            left += side + 8
        else:
            _emblem(rng, img, (right - side, 70, right, 70 + side))
            right -= side + 8
    if rng.random() < 0.2 and len(text) >= 6:  # two small stacked characters on the left
        _paste_text(img, (left, 70, left + 32, 120), text[0], font, ink, weight)
        _paste_text(img, (left, 125, left + 32, 175), text[1], font, ink, weight)
        left += 44
        body = text[2:]
    else:
        body = text
    groups, gap = number_layout(rng, body, left, right)
    for text_box, group in groups:
        _paste_text(img, text_box, group, font, ink, weight)
    if gap is not None:
        _separator(rng, img, gap, ink)
    _border_and_bolts(rng, draw_img=img, w=w, h=h, ink=ink)
    return img, text


def number_layout(
    rng: np.random.Generator, body: str, left: int, right: int
) -> tuple[list[tuple[tuple[int, int, int, int], str]], tuple[int, int, int, int] | None]:
    """Where a US plate's number goes between columns ``left`` and ``right`` of the 480 x 240
    plate: one or two groups (box, characters) and the box of the gap between them, if any.

    Characters keep a plate face's proportions (0.46-0.64 as wide as tall, spacing included) and
    are only narrowed where the number would not fit: a short vanity plate leaves the plate's
    sides empty instead of stretching its letters across it.
    """
    top = int(rng.uniform(56, 72))
    bottom = top + int(rng.uniform(105, 128))
    pitch = (bottom - top) * rng.uniform(0.46, 0.64)
    texts = [body]
    if rng.random() < 0.4 and len(body) >= 5:  # a gap between two groups, with a mark or not
        cut = len(body) // 2 + int(rng.integers(-1, 1))
        texts = [body[:cut], body[cut:]]
    gap = pitch * rng.uniform(0.5, 1.0) if len(texts) == 2 else 0.0
    span = min(right - left, pitch * len(body) + gap)
    scale = span / (pitch * len(body) + gap)
    x = left + (right - left - span) * rng.uniform(0.3, 0.7)
    groups: list[tuple[tuple[int, int, int, int], str]] = []
    gap_box = None
    for k, text in enumerate(texts):
        width = pitch * scale * len(text)
        groups.append(((int(x), top, int(x + width), bottom), text))
        x += width
        if k == 0 and len(texts) == 2:
            gap_box = (int(x), top, int(x + gap * scale), bottom)
            x += gap * scale
    return groups, gap_box


def _separator(
    rng: np.random.Generator,
    img: Image.Image,
    box: tuple[int, int, int, int],
    ink: tuple[int, int, int],
) -> None:
    """What a plate prints between its groups: a dash, a dot, a small emblem, or nothing."""
    x1, y1, x2, y2 = box
    cx, cy, r = (x1 + x2) / 2, (y1 + y2) / 2, max(2.0, (x2 - x1) * 0.25)
    draw = ImageDraw.Draw(img)
    kind = int(rng.integers(4))
    if kind == 0:
        draw.rectangle((x1 + (x2 - x1) * 0.15, cy - r * 0.4, x2 - (x2 - x1) * 0.15, cy + r * 0.4),
                       fill=ink)  # fmt: skip
    elif kind == 1:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=ink)
    elif kind == 2:
        _emblem(rng, img, (int(x1), int(cy - (x2 - x1) / 2), int(x2), int(cy + (x2 - x1) / 2)))


def _eu_plate(rng: np.random.Generator, text: str) -> Image.Image:
    w, h = 520, 112
    bg = (250, 210, 30) if rng.random() < 0.15 else _rgb(rng, 225, 256)
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 44, h), fill=(0, 51, 153))
    cx, cy = 22, 36
    for a in np.linspace(0, 2 * np.pi, 12, endpoint=False):  # ring of stars
        sx, sy = cx + 13 * np.cos(a), cy + 13 * np.sin(a)
        draw.ellipse((sx - 2, sy - 2, sx + 2, sy + 2), fill=(255, 204, 0))
    code = _EU_CODES[int(rng.integers(len(_EU_CODES)))]
    _paste_text(img, (8, 62, 36, 98), code, "DejaVuSans-Bold.ttf", (255, 255, 255))
    shown = text
    if rng.random() < 0.6 and len(text) >= 5:
        cut = int(rng.integers(1, len(text) - 2))
        shown = text[:cut] + " " + text[cut:]
    font = _PLATE_FONTS[int(rng.integers(len(_PLATE_FONTS)))]
    _paste_text(img, (56, 12, w - 14, h - 12), shown, font, (15, 15, 15))
    _border_and_bolts(rng, draw_img=img, w=w, h=h, ink=(20, 20, 20))
    return img


def _br_plate(rng: np.random.Generator, text: str) -> Image.Image:
    w, h = 400, 130
    mercosul = text[4].isalpha() or rng.random() < 0.3
    bg = _rgb(rng, 235, 256) if mercosul else _rgb(rng, 150, 200)
    img = Image.new("RGB", (w, h), bg)
    draw = ImageDraw.Draw(img)
    if mercosul:
        draw.rectangle((0, 0, w, 30), fill=(0, 40, 150))
        _paste_text(img, (150, 5, 250, 26), "BRASIL", "DejaVuSans-Bold.ttf", (255, 255, 255))
        shown = text
    else:
        _paste_text(img, (120, 4, 280, 26), "SP - SAO PAULO", "DejaVuSans.ttf", (30, 30, 30))
        shown = text[:3] + "-" + text[3:]
    font = _PLATE_FONTS[int(rng.integers(len(_PLATE_FONTS)))]
    _paste_text(img, (18, 36, w - 18, h - 10), shown, font, (10, 10, 10))
    _border_and_bolts(rng, draw_img=img, w=w, h=h, ink=(20, 20, 20))
    return img


def _border_and_bolts(
    rng: np.random.Generator, draw_img: Image.Image, w: int, h: int, ink: tuple[int, int, int]
) -> None:
    draw = ImageDraw.Draw(draw_img)
    if rng.random() < 0.7:
        width = int(rng.integers(2, 9))
        draw.rounded_rectangle((1, 1, w - 2, h - 2), radius=int(h * 0.08), outline=ink, width=width)
    if rng.random() < 0.6:
        bolt = _rgb(rng, 120, 220)
        for bx in (w * 0.22, w * 0.78):
            for by in (h * 0.12, h * 0.88) if rng.random() < 0.5 else (h * 0.12,):
                r = max(3, h // 30)
                draw.ellipse((bx - r, by - r, bx + r, by + r), fill=bolt, outline=(60, 60, 60))


def render_plate(
    rng: np.random.Generator, text: str | None = None, style: str | None = None
) -> tuple[Image.Image, str]:
    """One frontal plate image and its text (uppercase letters and digits only).

    ``style`` is one of :data:`PLATE_STYLES` (default: US 60 %, EU and BR 20 % each); ``text`` is
    drawn as given (spaces and dashes are decoration added by the style, never part of the text).
    """
    if style is None:
        style = PLATE_STYLES[int(rng.choice(len(PLATE_STYLES), p=_STYLE_WEIGHTS))]
    if style not in PLATE_STYLES:
        raise ValueError(f"style={style!r}; valid values: {list(PLATE_STYLES)}")
    if text is not None:
        text = "".join(c for c in text.upper() if c in string.ascii_uppercase + string.digits)
        if not text:
            raise ValueError("text has no letters or digits")
    if style == "us":  # the state is drawn first, and the text from its formats
        return _us_plate(rng, text)
    if text is None:
        text = plate_text(rng, style)
    if style == "br" and len(text) < 5:
        text = text.ljust(7, "0")
    renderer = {"eu": _eu_plate, "br": _br_plate}[style]
    return renderer(rng, text), text


# --- scenes -----------------------------------------------------------------------------------


def _background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    kind = int(rng.integers(4))
    if kind == 0:  # vertical gradient: sky to ground
        top, bottom = np.array(_rgb(rng)), np.array(_rgb(rng))
        t = np.linspace(0, 1, h)[:, None, None]
        arr = np.broadcast_to((1 - t) * top + t * bottom, (h, w, 3))
    elif kind == 1:  # road: grey asphalt with lane marks
        base = rng.integers(40, 140)
        arr = np.full((h, w, 3), base, dtype=float) + rng.normal(0, 12, (h, w, 1))
    elif kind == 2:  # smooth coloured noise texture
        small = rng.uniform(0, 255, (max(2, h // 40), max(2, w // 40), 3)).astype(np.uint8)
        arr = np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC), float)
    else:  # flat colour with fine noise
        arr = np.full((h, w, 3), _rgb(rng), dtype=float) + rng.normal(0, 20, (h, w, 3))
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    if kind == 1:
        for x in range(int(rng.integers(0, 200)), w, int(rng.integers(150, 400))):
            draw.rectangle((x, h * 0.7, x + 60, h * 0.72), fill=(230, 230, 210))
    for _ in range(int(rng.integers(0, 12))):  # buildings, poles, signs
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        bw, bh = int(rng.integers(10, w // 3)), int(rng.integers(10, h // 2))
        draw.rectangle((x, y, x + bw, y + bh), fill=_rgb(rng))
    for _ in range(int(rng.integers(0, 3))):  # text that is not a plate
        word = _WORDS[int(rng.integers(len(_WORDS)))]
        x, y = int(rng.integers(0, w - 100)), int(rng.integers(0, h - 40))
        size = int(rng.integers(14, 60))
        box = (x, y, x + size * len(word) * 2 // 3 + 10, y + size + 10)
        draw.rectangle(box, fill=_rgb(rng))
        draw.text((x + 5, y + 5), word, font=_font("DejaVuSans-Bold.ttf", size), fill=_rgb(rng))
    return img


def _vehicle(
    rng: np.random.Generator, img: Image.Image, x1: int, y1: int, x2: int, y2: int
) -> tuple[int, int, int, int]:
    """Draw a front or rear view of a vehicle; return the rectangle where the plate goes."""
    draw = ImageDraw.Draw(img)
    vw, vh = x2 - x1, y2 - y1
    body = _rgb(rng)
    shade = tuple(max(0, c - 50) for c in body)
    # Wheels, then body, then cabin with windshield.
    wr = int(vw * 0.09)
    for wx in (x1 + int(vw * 0.16), x2 - int(vw * 0.16)):
        draw.ellipse((wx - wr, y2 - int(wr * 1.4), wx + wr, y2), fill=(20, 20, 20))
    cab_top = y1
    body_top = y1 + int(vh * rng.uniform(0.3, 0.45))
    draw.rounded_rectangle(
        (x1 + int(vw * 0.12), cab_top, x2 - int(vw * 0.12), body_top + 10),
        radius=int(vw * 0.06), fill=body,
    )  # fmt: skip
    glass = _rgb(rng, 20, 90)
    draw.polygon(
        [
            (x1 + int(vw * 0.18), body_top),
            (x1 + int(vw * 0.24), cab_top + int(vh * 0.06)),
            (x2 - int(vw * 0.24), cab_top + int(vh * 0.06)),
            (x2 - int(vw * 0.18), body_top),
        ],
        fill=glass,
    )
    bottom = y2 - int(wr * 0.9)
    draw.rounded_rectangle((x1, body_top, x2, bottom), radius=int(vw * 0.05), fill=body)
    # Lights on both sides, a grille, then the bumper where the plate sits.
    light = (255, int(rng.integers(200, 256)), 200) if rng.random() < 0.5 else (200, 20, 20)
    ly = body_top + int((bottom - body_top) * 0.15)
    lh = int((bottom - body_top) * rng.uniform(0.12, 0.25))
    draw.ellipse((x1 + int(vw * 0.04), ly, x1 + int(vw * 0.2), ly + lh), fill=light)
    draw.ellipse((x2 - int(vw * 0.2), ly, x2 - int(vw * 0.04), ly + lh), fill=light)
    if rng.random() < 0.6:
        gy1, gy2 = ly, ly + int((bottom - body_top) * 0.3)
        draw.rectangle((x1 + int(vw * 0.3), gy1, x2 - int(vw * 0.3), gy2), fill=shade)
        for gx in range(x1 + int(vw * 0.3), x2 - int(vw * 0.3), max(3, vw // 40)):
            draw.line((gx, gy1, gx, gy2), fill=tuple(max(0, c - 40) for c in shade), width=1)
    bumper_top = body_top + int((bottom - body_top) * 0.55)
    draw.rectangle((x1 + 2, bumper_top, x2 - 2, bottom), fill=shade)
    # Badges and emblems: text and shapes on the body that are not plates (hard negatives: an
    # early model fired on model names and brand logos in real photos).
    if rng.random() < 0.7:
        word = _BADGES[int(rng.integers(len(_BADGES)))]
        size = max(6, int(vw * rng.uniform(0.03, 0.07)))
        chrome = _rgb(rng, 170, 240) if rng.random() < 0.6 else _rgb(rng, 10, 60)
        bx = x1 + int(vw * rng.uniform(0.55, 0.75))
        by = body_top + int((bumper_top - body_top) * rng.uniform(0.55, 0.8))
        font = _BAND_FONTS[int(rng.integers(len(_BAND_FONTS)))]
        draw.text((bx, by), word, font=_font(font, size), fill=chrome)
    if rng.random() < 0.6:
        r = max(3, int(vw * rng.uniform(0.03, 0.06)))
        cx, cy = (x1 + x2) // 2, body_top + int((bumper_top - body_top) * 0.55)
        draw.ellipse(
            (cx - r * 1.6, cy - r, cx + r * 1.6, cy + r), fill=_rgb(rng), outline=_rgb(rng)
        )
    return x1, bumper_top, x2, bottom


def _warp_plate(
    rng: np.random.Generator, plate: Image.Image, width: int
) -> tuple[Image.Image, Image.Image]:
    """The plate resized to ``width`` and seen at a random angle; returns (RGB, mask)."""
    pw, ph = plate.size
    height = max(4, round(width * ph / pw))
    plate = plate.resize((width, height), Image.Resampling.LANCZOS)
    # Corner offsets as fractions of the size: yaw squeezes one side, pitch and roll shear.
    yaw = rng.uniform(-0.18, 0.18)
    roll = rng.uniform(-0.08, 0.08)
    pad = int(max(width, height) * 0.25) + 2
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=float)
    dst = src.copy()
    dst[[1, 2], 1] += np.array([-1, 1]) * yaw * height  # right side shorter or taller
    dst[[0, 3], 1] -= np.array([-1, 1]) * yaw * height * 0.3
    dst[:, 1] += dst[:, 0] * roll
    dst[:, 0] += rng.uniform(-0.04, 0.04, 4) * width
    dst += pad - dst.min(axis=0)
    out_w, out_h = (np.ceil(dst.max(axis=0)) + 1).astype(int)
    coeffs = _perspective_coeffs(dst, src)
    rgb = plate.transform((out_w, out_h), Image.Transform.PERSPECTIVE, coeffs,
                          Image.Resampling.BICUBIC)  # fmt: skip
    mask = Image.new("L", plate.size, 255).transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    return rgb, mask


def _perspective_coeffs(dst: np.ndarray, src: np.ndarray) -> tuple[float, ...]:
    """PIL maps output pixels back to input: solve the homography from ``dst`` to ``src``."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    sol = np.linalg.solve(np.array(rows, dtype=float), src.reshape(8))
    return tuple(float(c) for c in sol)


def _motion_blur(arr: np.ndarray, length: int, axis: int) -> np.ndarray:
    kernel = np.ones(length) / length
    return np.apply_along_axis(lambda m: np.convolve(m, kernel, mode="same"), axis, arr)


def _photometric(rng: np.random.Generator, img: Image.Image, boxes: list) -> Image.Image:
    """Camera effects on the whole frame: night/IR, glare, blur, noise, JPEG."""
    arr = np.asarray(img, dtype=np.float32)
    h, w = arr.shape[:2]
    mode = rng.random()
    if mode < 0.15:  # infrared: grey, dark surroundings, retro-reflective plates glow
        grey = arr.mean(axis=2, keepdims=True) * rng.uniform(0.3, 0.6)
        for x1, y1, x2, y2 in boxes:
            grey[y1:y2, x1:x2] = np.clip(grey[y1:y2, x1:x2] * rng.uniform(1.8, 3.0) + 40, 0, 255)
        arr = np.repeat(grey, 3, axis=2)
    elif mode < 0.3:  # night in colour
        arr = arr * rng.uniform(0.2, 0.5)
    else:
        arr = arr * rng.uniform(0.7, 1.25) + rng.uniform(-30, 30)
    if rng.random() < 0.25:  # glare: a bright blob somewhere
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.3) * w
        yy, xx = np.ogrid[:h, :w]
        blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))
        arr = arr + blob[..., None] * rng.uniform(80, 220)
    arr = np.clip(arr + rng.normal(0, rng.uniform(0, 8), arr.shape), 0, 255)
    out = Image.fromarray(arr.astype(np.uint8))
    if rng.random() < 0.4:
        out = out.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.8))))
    if rng.random() < 0.1:  # motion blur along the direction of travel
        small = np.asarray(out, dtype=np.float32)
        out = Image.fromarray(_motion_blur(small, int(rng.integers(3, 9)), 1).astype(np.uint8))
    if rng.random() < 0.6:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=int(rng.integers(25, 90)))
        buf.seek(0)
        out = Image.open(buf).convert("RGB")
    return out


def render_scene(
    rng: np.random.Generator,
    size: tuple[int, int] = (1280, 720),
    n_plates: int | None = None,
    *,
    plate_width: tuple[int, int] | None = None,
    style: str | None = None,
) -> SyntheticScene:
    """A camera frame of ``size`` (width, height) with ``n_plates`` vehicles, each with one plate.

    Plate boxes are the axis-aligned bounds of the warped plate, clipped to the frame.
    ``n_plates=0`` gives a negative frame (background with signs and text, no vehicle).
    ``plate_width`` (lo, hi) draws each plate that many pixels wide before its perspective warp
    (a lane camera's far plates: 50-130 px in 1280x720), the vehicle sized to match; ``style``
    fixes the plate style (:func:`render_plate`).
    """
    w, h = size
    if n_plates is None:
        n_plates = int(rng.choice(4, p=(0.05, 0.6, 0.25, 0.1)))
    img = _background(rng, w, h)
    plates: list[SyntheticPlate] = []
    if n_plates:
        slot = w / n_plates
        for i in range(n_plates):
            if plate_width is not None:  # the plate takes 22-40 % of the vehicle's width
                pw = int(rng.integers(plate_width[0], plate_width[1] + 1))
                vw = min(int(pw / rng.uniform(0.22, 0.4)), int(slot * 0.98))
            else:
                # From far away (small plate) to close up (plate a third of the frame).
                vw = int(min(slot * rng.uniform(0.7, 0.98), w * rng.uniform(0.15, 0.95)))
            vw = max(vw, 60)
            vh = int(vw * rng.uniform(0.6, 0.9))
            vh = min(vh, h - 4)
            x1 = int(i * slot + rng.uniform(0, max(1, slot - vw)))
            x1 = min(max(0, x1), w - vw)
            y1 = int(rng.uniform(0, max(1, h - vh)))
            bx1, by1, bx2, by2 = _vehicle(rng, img, x1, y1, x1 + vw, y1 + vh)
            plate, text = render_plate(rng, style=style)
            if plate_width is None:
                pw = int((bx2 - bx1) * rng.uniform(0.22, 0.4))
            warped, mask = _warp_plate(rng, plate, max(16, pw))
            px = int((bx1 + bx2) / 2 - warped.width / 2 + rng.uniform(-0.15, 0.15) * (bx2 - bx1))
            py = int((by1 + by2) / 2 - warped.height / 2)
            px = min(max(-warped.width // 4, px), w - warped.width * 3 // 4)
            py = min(max(-warped.height // 4, py), h - warped.height * 3 // 4)
            img.paste(warped, (px, py), mask)
            ys, xs = np.nonzero(np.asarray(mask) > 127)
            box = (
                max(0, px + int(xs.min())),
                max(0, py + int(ys.min())),
                min(w, px + int(xs.max()) + 1),
                min(h, py + int(ys.max()) + 1),
            )
            if box[2] - box[0] >= 8 and box[3] - box[1] >= 4:
                plates.append(SyntheticPlate(text=text, box=box))
    out = _photometric(rng, img, [p.box for p in plates])
    overlays = _overlays(rng, out, [p.box for p in plates]) if rng.random() < OVERLAY_RATE else []
    return SyntheticScene(image=out, plates=plates, overlays=tuple(overlays))


def _overlay_text(rng: np.random.Generator) -> str:
    """A camera's burned-in line: a timestamp, a camera or site name, a lane, a speed."""
    y, mo, d = int(rng.integers(2019, 2031)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    hh, mm, ss = int(rng.integers(0, 24)), int(rng.integers(0, 60)), int(rng.integers(0, 60))
    kinds = (
        f"{y}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}",
        f"{mo:02d}/{d:02d}/{y} {hh % 12 or 12:02d}:{mm:02d}:{ss:02d} {'AM' if hh < 12 else 'PM'}",
        f"CAM {int(rng.integers(1, 40)):02d} {_LANES[int(rng.integers(len(_LANES)))]}",
        f"{_SITES[int(rng.integers(len(_SITES)))]} LN {int(rng.integers(1, 5))}",
        f"SPEED {int(rng.integers(15, 90))} MPH",
        f"ALPR-{int(rng.integers(1, 99)):02d} {y}{mo:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}",
    )
    return kinds[int(rng.integers(len(kinds)))]


def _overlays(
    rng: np.random.Generator, img: Image.Image, plates: list[tuple[int, int, int, int]]
) -> list[tuple[int, int, int, int]]:
    """One or two lines of camera text along the top or bottom edge, clear of the plates
    (hard negatives: a detector fired on a camera's timestamp in unseen photos); their boxes."""
    w, h = img.size
    draw = ImageDraw.Draw(img)
    boxes: list[tuple[int, int, int, int]] = []
    size = max(8, int(h * rng.uniform(0.018, 0.045)))
    font = _font(_OVERLAY_FONTS[int(rng.integers(len(_OVERLAY_FONTS)))], size)
    top = rng.random() < 0.6
    y = int(rng.uniform(0.005, 0.03) * h) if top else int(h * rng.uniform(0.93, 0.97)) - size
    fill = (255, 255, 255) if rng.random() < 0.6 else (255, 230, 40)
    backed = rng.random() < 0.5  # on a black bar, or outlined
    for _ in range(int(rng.integers(1, 3))):
        text = _overlay_text(rng)
        left, t, right, b = (int(v) for v in font.getbbox(text))
        tw, th = right - left + 6, b - t + 6
        x = int(rng.uniform(0.005, 0.03) * w) if rng.random() < 0.6 else w - tw - int(0.02 * w)
        box = (max(0, x), max(0, y), min(w, x + tw), min(h, y + th))
        if any(not (box[2] <= p[0] or p[2] <= box[0] or box[3] <= p[1] or p[3] <= box[1])
               for p in plates):  # fmt: skip
            continue
        if backed:
            draw.rectangle(box, fill=(0, 0, 0))
        draw.text((x + 3 - left, y + 3 - t), text, font=font, fill=fill,
                  stroke_width=0 if backed else max(1, size // 12), stroke_fill=(0, 0, 0))  # fmt: skip
        boxes.append(box)
        y = y + th + 2 if top else y - th - 2
    return boxes
