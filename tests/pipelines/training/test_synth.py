"""The synthetic generator: boxes inside the frame, same seed same pixels, valid plate texts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pipelines.training.synth import (
    PLATE_STYLES,
    US_FORMATS,
    plate_text,
    render_plate,
    render_scene,
)


def _pattern(formats: tuple[str, ...]) -> re.Pattern[str]:
    alts = ("".join("[A-Z]" if c == "L" else "[0-9]" for c in f) for f in formats)
    return re.compile("^(" + "|".join(alts) + ")$")


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
    us = _pattern(US_FORMATS)
    for _ in range(12):
        scene = render_scene(rng, size=(1280, 720), n_plates=1, plate_width=band, style="us")
        (plate,) = scene.plates
        x1, y1, x2, y2 = plate.box
        # the perspective warp moves each corner by up to 4 % of the width
        assert band[0] * 0.9 <= x2 - x1 <= band[1] * 1.1
        assert 1.5 <= (x2 - x1) / (y2 - y1) <= 2.6  # a US plate is 2:1
        assert us.match(plate.text)


def test_us_text_formats() -> None:
    rng = np.random.default_rng(0)
    us = _pattern(US_FORMATS)
    texts = [plate_text(rng, "us") for _ in range(200)]
    assert all(us.match(t) for t in texts)
    assert {len(t) for t in texts} == {6, 7}
    assert any(re.match(r"^[A-Z]{3}[0-9]{4}$", t) for t in texts)  # ABC1234
    assert any(re.match(r"^[0-9][A-Z]{3}[0-9]{3}$", t) for t in texts)  # 1ABC234
    assert any(re.match(r"^[0-9]{3}[A-Z]{3}$", t) for t in texts)  # 123ABC


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
