"""lowrank_utils.images: the shipped photograph, PSNR, colour reconstruction."""
from __future__ import annotations

import math

import matplotlib.cbook as cbook
import numpy as np
import pytest
from PIL import Image

from lowrank_utils import best_rank_k
from lowrank_utils.images import (
    LUMINANCE,
    PHOTO,
    load_photo,
    psnr,
    psnr_from_sse,
    reconstruct_color,
    to_grayscale,
)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    """The photograph read independently of the module, as uint8 (m, n, 3)."""
    with Image.open(cbook.get_sample_data(PHOTO, asfileobj=False)) as image:
        return np.asarray(image.convert("RGB"))


def test_color_photo_is_the_file_scaled_to_unit_interval(pixels):
    rgb = load_photo(color=True)
    assert rgb.shape == pixels.shape and rgb.ndim == 3 and rgb.shape[2] == 3
    assert rgb.dtype == np.float64
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0
    assert np.allclose(rgb * 255.0, pixels)


def test_grayscale_is_documented_luminance(pixels):
    grey = load_photo()
    assert grey.shape == pixels.shape[:2]
    assert grey.min() >= 0.0 and grey.max() <= 1.0
    expected = (pixels.astype(float) / 255.0) @ np.array([0.299, 0.587, 0.114])
    assert np.allclose(grey, expected)
    assert math.isclose(LUMINANCE.sum(), 1.0)


def test_grayscale_close_to_pillow(pixels):
    with Image.open(cbook.get_sample_data(PHOTO, asfileobj=False)) as image:
        pillow = np.asarray(image.convert("L"), dtype=float) / 255.0
    assert np.max(np.abs(load_photo() - pillow)) <= 1.0 / 255.0 + 1e-12   # Pillow rounds to uint8


def test_photo_not_square_and_full_rank():
    grey = load_photo()
    m, n = grey.shape
    assert m != n
    assert np.linalg.matrix_rank(grey) == min(m, n)


def test_load_returns_fresh_arrays():
    first = load_photo()
    first[:] = 0.0
    assert load_photo().max() > 0.0


@pytest.mark.parametrize("color", [1, "yes", None])
def test_load_color_must_be_bool(color):
    with pytest.raises(TypeError, match="color"):
        load_photo(color=color)


def test_load_unknown_name():
    with pytest.raises((ValueError, FileNotFoundError)):
        load_photo(name="no_such_picture.jpg")


def test_to_grayscale_bad_shape():
    with pytest.raises(ValueError, match="rgb"):
        to_grayscale(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="rgb"):
        to_grayscale(np.zeros((4, 5, 4)))


def test_psnr_formula_on_a_known_error():
    rng = np.random.default_rng(0)
    reference = rng.random((30, 20))
    error = rng.standard_normal((30, 20)) * 0.01
    mse = np.mean(error**2)
    assert math.isclose(psnr(reference, reference + error), 10 * np.log10(1.0 / mse), rel_tol=1e-12)
    assert math.isclose(psnr(255 * reference, 255 * (reference + error), peak=255),
                        psnr(reference, reference + error), rel_tol=1e-12)


def test_psnr_is_symmetric_and_decreases_with_error():
    rng = np.random.default_rng(1)
    a = rng.random((16, 12))
    b = a + 0.01 * rng.standard_normal(a.shape)
    c = a + 0.1 * rng.standard_normal(a.shape)
    assert psnr(a, b) == psnr(b, a)
    assert psnr(a, b) > psnr(a, c)


def test_psnr_identical_images_is_infinite():
    a = load_photo()
    assert psnr(a, a.copy()) == math.inf
    assert psnr_from_sse(0.0, 10) == math.inf


def test_psnr_colour_averages_over_channels():
    rng = np.random.default_rng(2)
    a = rng.random((10, 8, 3))
    b = a + 0.05 * rng.standard_normal(a.shape)
    assert math.isclose(psnr(a, b), 10 * np.log10(1 / np.mean((a - b) ** 2)), rel_tol=1e-12)


def test_psnr_of_best_rank_k_from_singular_values():
    # Eckart–Young: ‖A − A_k‖_F² = Σ_{i>k} σ_i², so PSNR follows from the spectrum alone.
    rng = np.random.default_rng(3)
    A = rng.random((40, 25)) @ np.diag(0.9 ** np.arange(25)) @ rng.random((25, 25))
    s = np.linalg.svd(A, compute_uv=False)
    k = 6
    assert math.isclose(psnr(A, best_rank_k(A, k)), psnr_from_sse(np.sum(s[k:] ** 2), A.size),
                        rel_tol=1e-9)


def test_psnr_shape_mismatch():
    with pytest.raises(ValueError, match="same shape"):
        psnr(np.zeros((4, 5)), np.zeros((5, 4)))


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((2, 2, 2, 2)), np.zeros((0, 3))])
def test_psnr_bad_dimensions(bad):
    with pytest.raises(ValueError, match="reference"):
        psnr(bad, bad)


def test_psnr_nan_and_strings():
    a = np.zeros((3, 3))
    b = a.copy()
    b[1, 1] = np.nan
    with pytest.raises(ValueError, match="approximation"):
        psnr(a, b)
    with pytest.raises(TypeError, match="reference"):
        psnr([["a"]], [["b"]])


@pytest.mark.parametrize("peak, error", [(0, ValueError), (-1.0, ValueError),
                                         (math.inf, ValueError), ("1", TypeError), (True, TypeError)])
def test_psnr_bad_peak(peak, error):
    with pytest.raises(error, match="peak"):
        psnr(np.zeros((2, 2)), np.ones((2, 2)), peak=peak)


@pytest.mark.parametrize("sse, size", [(-1.0, 4), (math.nan, 4), (1.0, 0)])
def test_psnr_from_sse_bad_input(sse, size):
    with pytest.raises(ValueError):
        psnr_from_sse(sse, size)


def test_reconstruct_color_is_best_rank_k_per_channel():
    rng = np.random.default_rng(4)
    image = rng.random((24, 18, 3))
    k = 5
    approx = reconstruct_color(image, k)
    assert approx.shape == image.shape
    for c in range(3):
        assert np.allclose(approx[:, :, c], best_rank_k(image[:, :, c], k))
        assert np.linalg.matrix_rank(approx[:, :, c]) == k


def test_reconstruct_color_full_rank_is_exact():
    image = np.random.default_rng(5).random((9, 7, 3))
    assert np.allclose(reconstruct_color(image, 7), image)


def test_reconstruct_color_bad_input():
    with pytest.raises(ValueError, match="colour"):
        reconstruct_color(np.zeros((4, 4)), 1)
    with pytest.raises(ValueError, match="k"):
        reconstruct_color(np.zeros((4, 5, 3)), 5)
