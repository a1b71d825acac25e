"""The synthetic generator: boxes inside the frame, same seed same pixels, valid plate texts,
characters at a plate face's proportions and weights, camera text clear of the plates."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from PIL import Image

from pipelines.recognition.plates import US_STATE_FORMATS, plate_shape
from pipelines.training.synth import (
    _STATE_CODES,
    PLATE_STYLES,
    US_FORMATS,
    _fit_text,
    _overlays,
    number_layout,
    plate_text,
    render_plate,
    render_scene,
)


def _pattern(formats: tuple[str, ...]) -> re.Pattern[str]:
    alts = ("".join("[A-Z]" if c == "L" else "[0-9]" for c in f) for f in formats)
    return re.compile("^(" + "|".join(alts) + ")$")


# A US plate's text: a generic US format or one of the formats of a state the generator prints.
_US_TEXT = _pattern(
    (*US_FORMATS, *(f for code in _STATE_CODES.values() for f in US_STATE_FORMATS[code]))
)


@pytest.mark.parametrize("size", [(1280, 720), (640, 480), (300, 900)])
@pytest.mark.parametrize("seed", range(4))
def test_boxes_inside_image(size: tuple[int, int], seed: int) -> None:
    scene = render_scene(np.random.default_rng(seed), size=size)
    assert scene.image.size == size
    assert scene.image.mode == "RGB"
    for plate in scene.plates:
        x1, y1, x2, y2 = plate.box
        assert 0 <= x1 < x2 <= size[0]
        assert 0 <= y1 < y2 <= size[1]
        assert re.match(r"^[A-Z0-9]{5,8}$", plate.text)


def test_same_seed_same_scene() -> None:
    a = render_scene(np.random.default_rng(7))
    b = render_scene(np.random.default_rng(7))
    c = render_scene(np.random.default_rng(8))
    assert a.plates == b.plates
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert not np.array_equal(np.asarray(a.image), np.asarray(c.image))


@pytest.mark.parametrize("n", [0, 1, 3])
def test_plate_count(n: int) -> None:
    scene = render_scene(np.random.default_rng(n), n_plates=n)
    assert len(scene.plates) == n


@pytest.mark.parametrize("band", [(50, 70), (110, 130)])
def test_plates_drawn_at_a_given_width_are_that_wide_and_us_styled(band: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    for _ in range(12):
        scene = render_scene(rng, size=(1280, 720), n_plates=1, plate_width=band, style="us")
        (plate,) = scene.plates
        x1, y1, x2, y2 = plate.box
        # the perspective warp moves each corner by up to 4 % of the width
        assert band[0] * 0.9 <= x2 - x1 <= band[1] * 1.1
        assert 1.5 <= (x2 - x1) / (y2 - y1) <= 2.6  # a US plate is 2:1
        assert _US_TEXT.match(plate.text)


def test_us_text_formats() -> None:
    rng = np.random.default_rng(0)
    us = _pattern(US_FORMATS)
    texts = [plate_text(rng, "us") for _ in range(200)]
    assert all(us.match(t) for t in texts)
    assert {len(t) for t in texts} == {6, 7}
    assert any(re.match(r"^[A-Z]{3}[0-9]{4}$", t) for t in texts)  # ABC1234
    assert any(re.match(r"^[0-9][A-Z]{3}[0-9]{3}$", t) for t in texts)  # 1ABC234
    assert any(re.match(r"^[0-9]{3}[A-Z]{3}$", t) for t in texts)  # 123ABC


@pytest.mark.parametrize("state", ["NEW JERSEY", "Idaho", "MAINE"])
def test_a_states_text_is_in_one_of_its_formats(state: str) -> None:
    # New Jersey LDDLLL/LLLDDL, Idaho's five formats, Maine's DDDLL: each drawn, nothing else.
    rng = np.random.default_rng(2)
    formats = US_STATE_FORMATS[_STATE_CODES[state.upper()]]
    texts = [plate_text(rng, "us", state) for _ in range(300)]
    assert all(_pattern(formats).match(t) for t in texts)
    assert {plate_shape(t) for t in texts} == set(formats)


def test_most_us_plates_carry_a_format_of_their_state_the_rest_generic_ones() -> None:
    rng = np.random.default_rng(4)
    texts = [render_plate(rng, style="us")[1] for _ in range(200)]
    assert all(_US_TEXT.match(t) for t in texts)
    # Maine's DDDLL and Idaho's DLDDDD exist in no generic format: some must be drawn.
    assert any(re.match(r"^[0-9]{3}[A-Z]{2}$|^[0-9][A-Z][0-9]{4}$", t) for t in texts)


@pytest.mark.parametrize("style", PLATE_STYLES)
def test_render_plate_styles(style: str) -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        image, text = render_plate(rng, style=style)
        assert image.mode == "RGB"
        assert image.width > image.height  # plates are landscape
        assert re.match(r"^[A-Z0-9]{5,8}$", text)


def test_render_plate_given_text_is_normalized() -> None:
    _, text = render_plate(np.random.default_rng(0), text="abc-123 4", style="us")
    assert text == "ABC1234"
    with pytest.raises(ValueError, match="valid values"):
        render_plate(np.random.default_rng(0), style="mars")
    with pytest.raises(ValueError, match="no letters"):
        render_plate(np.random.default_rng(0), text="--")


@pytest.mark.parametrize("body", ["AB", "5Y", "ABC123", "7ABC123X"])
def test_plate_characters_keep_a_plate_face_s_proportions(body: str) -> None:
    rng = np.random.default_rng(11)
    for _ in range(30):
        groups, gap = number_layout(rng, body, 30, 450)
        assert "".join(text for _, text in groups) == body
        widths = sum(box[2] - box[0] for box, _ in groups)
        height = groups[0][0][3] - groups[0][0][1]
        # never wider than a plate face's characters; narrowed only to fit the plate
        assert widths / len(body) <= 0.64 * height + 1
        if len(body) <= 6:
            assert widths / len(body) >= 0.46 * height - 1
        boxes = sorted([box for box, _ in groups] + ([gap] if gap else []))
        assert all(30 <= b[0] < b[2] <= 450 for b in boxes)
        assert all(a[2] <= b[0] for a, b in itertools.pairwise(boxes))


def test_stroke_weight_thickens_and_thins_the_characters() -> None:
    ink = {
        weight: int((np.asarray(_fit_text((300, 120), "8B0", "DejaVuSans.ttf", (0, 0, 0), weight))
                     [..., 3] > 127).sum())
        for weight in (-2, 0, 3)
    }  # fmt: skip
    assert ink[-2] < 0.85 * ink[0] and ink[3] > 1.15 * ink[0]


def test_camera_text_is_burned_in_clear_of_the_plates() -> None:
    with_text = 0
    for seed in range(40):
        scene = render_scene(np.random.default_rng(seed), size=(1280, 720))
        grey = np.asarray(scene.image.convert("L"))
        for x1, y1, x2, y2 in scene.overlays:
            with_text += 1
            assert 0 <= x1 < x2 <= 1280 and 0 <= y1 < y2 <= 720
            assert all(
                x2 <= p.box[0] or p.box[2] <= x1 or y2 <= p.box[1] or p.box[3] <= y1
                for p in scene.plates
            )
            patch = grey[y1:y2, x1:x2]
            assert (patch > 200).mean() > 0.05 and (patch < 40).mean() > 0.05  # light on dark
    assert 10 <= with_text <= 60  # 40 % of frames, one or two lines, less those on a plate


def test_camera_text_never_covers_a_plate() -> None:
    for seed in range(10):
        img = Image.new("RGB", (1280, 720), (90, 90, 90))
        everywhere = [(0, 0, 1280, 720)]
        assert _overlays(np.random.default_rng(seed), img, everywhere) == []
        assert np.asarray(img).max() == 90  # nothing drawn
        assert _overlays(np.random.default_rng(seed), img, [(500, 300, 620, 360)])
