"""lowrank_utils.images: the shipped photograph, PSNR, colour reconstruction, and the image SVD
cache behind chapter 3's slider (ImageSVD, compression_step): the computation of one move."""
from __future__ import annotations

import math

import matplotlib.cbook as cbook
import numpy as np
import pytest
from PIL import Image

from lowrank_utils import best_rank_k, compression_ratio, energy_retained, storage_cost
from lowrank_utils.images import (
    BLOCK,
    LUMINANCE,
    PHOTO,
    compression_step,
    image_svd,
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


def test_svd_cached_once_and_consistent(photo, photo_svd):
    m, n = photo.shape
    p = min(m, n)
    assert photo_svd.U.shape == (m, p) and photo_svd.s.shape == (p,) and photo_svd.Vh.shape == (p, n)
    assert np.allclose((photo_svd.U * photo_svd.s) @ photo_svd.Vh, photo)
    assert np.allclose(photo_svd.Us, photo_svd.U * photo_svd.s)


@pytest.mark.parametrize("k", [1, 20, 277, 512])
def test_step_image_is_best_rank_k(photo, photo_svd, k, photo_best):
    step = compression_step(photo_svd, k)
    assert step.k == k
    assert np.allclose(step.A_k, photo_best(k), atol=1e-10)
    assert np.allclose(step.error, photo - step.A_k)


@pytest.mark.parametrize("k", [1, 20, 277])
def test_step_numbers_equal_the_library(photo, photo_svd, k, photo_best):
    m, n = photo.shape
    step = compression_step(photo_svd, k)
    assert step.storage == storage_cost(m, n, k)
    assert step.ratio == compression_ratio(m, n, k)
    assert math.isclose(step.psnr, psnr(photo, photo_best(k)), rel_tol=1e-9)
    assert math.isclose(step.energy, energy_retained(photo_svd.s, k), rel_tol=1e-12)


def test_stored_partial_sums(photo_svd):
    p = photo_svd.s.size
    assert photo_svd.grid[0] == 0 and photo_svd.grid[-1] == p
    assert np.all(np.diff(photo_svd.grid) <= BLOCK)
    assert photo_svd.partial[-1] is photo_svd.A                       # A_p is A itself
    for k0, stored in zip(photo_svd.grid[1:-1], photo_svd.partial):
        assert np.allclose(stored, photo_svd.Us[:, :k0] @ photo_svd.Vh[:k0], atol=1e-10)


def test_every_k_from_the_nearest_partial_sum(photo_svd):
    # split() starts from the nearest stored A_k₀ and adds or removes |k − k₀| ≤ BLOCK/2 terms.
    p = photo_svd.s.size
    ks = sorted(set(range(1, p + 1, 23)) | {15, 16, 17, 31, 32, 33, 48, 49, 255, 256, p - 1, p})
    for k in ks:
        A_k, error = photo_svd.split(k)
        head = photo_svd.Us[:, :k] @ photo_svd.Vh[:k]
        assert np.allclose(A_k, head, atol=1e-10), k
        assert np.allclose(A_k + error, photo_svd.A, atol=1e-12)


def test_split_never_hands_out_the_cache(photo_svd):
    A_k, _ = photo_svd.split(int(photo_svd.grid[1]))
    A_k[:] = -1.0
    assert np.all(photo_svd.partial[0] != -1.0)


def test_block_size_does_not_change_the_result(small):
    for block in (1, 2, 3, 100):
        svd = image_svd(small, block=block)
        for k in range(1, 6):
            assert np.allclose(svd.reconstruct(k), best_rank_k(small, k), atol=1e-12)
    with pytest.raises(ValueError, match="block"):
        image_svd(small, block=0)


def test_full_rank_step_is_the_image_itself(photo, photo_svd):
    step = compression_step(photo_svd, min(photo.shape))
    assert np.array_equal(step.A_k, photo) and not step.error.any()
    assert step.psnr == math.inf
    assert math.isclose(step.energy, 1.0)


def test_psnr_and_energy_grow_with_k(photo_svd):
    steps = [compression_step(photo_svd, k) for k in (1, 5, 25, 125)]
    assert all(a.psnr < b.psnr for a, b in zip(steps, steps[1:]))
    assert all(a.energy < b.energy for a, b in zip(steps, steps[1:]))
    assert all(a.ratio > b.ratio for a, b in zip(steps, steps[1:]))


def test_step_on_a_rank_deficient_image(small):
    svd = image_svd(small)
    exact = compression_step(svd, 5)
    assert np.allclose(exact.A_k, small, atol=1e-12)
    assert exact.psnr > 200                        # only rounding error is left
    assert math.isclose(exact.energy, 1.0)
    assert np.allclose(compression_step(svd, 3).A_k, best_rank_k(small, 3))


def test_step_bad_input(photo_svd, small):
    with pytest.raises(ValueError, match="k"):
        compression_step(photo_svd, 0)
    with pytest.raises(ValueError, match="k"):
        compression_step(photo_svd, 513)
    with pytest.raises(TypeError, match="k"):
        compression_step(photo_svd, 2.5)
    with pytest.raises(TypeError, match="svd"):
        compression_step(small, 2)
    with pytest.raises(ValueError, match="zeros"):
        image_svd(np.zeros((4, 3)))
