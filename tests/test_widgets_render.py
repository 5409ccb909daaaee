"""lowrank_utils.widgets._render: one persistent figure, blitted, encoded into an Image widget."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from lowrank_utils.widgets._render import FigureImage


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).astype(int)


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("jpeg", b"\xff\xd8")])
def test_refresh_pushes_an_encoded_picture(fmt, magic):
    view = FigureImage(figsize=(2, 1.5), dpi=50, image_format=fmt)
    view.figure.subplots().plot([0, 1], [0, 1])
    view.refresh()
    data = bytes(view.image.value)
    assert data.startswith(magic) and view.image.format == fmt
    assert decoded(data).shape == (75, 100, 3)


def test_a_blitted_artist_moves_and_the_background_stays():
    view = FigureImage(figsize=(3, 2), dpi=50)
    ax = view.figure.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 1)
    line = ax.axvline(2, color="red", lw=4)
    view.animate([line])
    first = decoded(view.encode())
    line.set_xdata([8, 8])
    second = decoded(view.encode())
    def red_columns(pixels: np.ndarray) -> np.ndarray:
        red = (pixels[..., 0] > 200) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)
        return np.flatnonzero(red.any(axis=0))
    width = first.shape[1]
    assert red_columns(first).max() < width / 2 < red_columns(second).min()   # it moved right
    axes_pixels = np.any(first != 255, axis=2) & ~np.isin(np.arange(width), red_columns(first))
    kept = np.any(second != 255, axis=2) & ~np.isin(np.arange(width), red_columns(second))
    both_free = ~np.isin(np.arange(width), np.union1d(red_columns(first), red_columns(second)))
    assert np.array_equal(axes_pixels[:, both_free], kept[:, both_free])    # the rest is kept


def test_bad_format():
    with pytest.raises(ValueError, match="image_format"):
        FigureImage(figsize=(2, 2), image_format="gif")
