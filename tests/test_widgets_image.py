"""Chapter 3 image explorer: the computation per slider move and what the view shows, no browser."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from lowrank_utils import (  # noqa: E402
    best_rank_k,
    compression_ratio,
    energy_retained,
    storage_cost,
)
from lowrank_utils.images import load_photo, psnr  # noqa: E402
from lowrank_utils.plotting import use_book_style  # noqa: E402
from lowrank_utils.widgets import (  # noqa: E402
    compression_step,
    image_explorer,
    image_grid_figure,
    image_svd,
)
from lowrank_utils.widgets.image import BLOCK, ImageSVD  # noqa: E402

use_book_style()   # the Chinese font: figure titles draw without missing-glyph warnings


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_photo()


_REFERENCE: dict[int, np.ndarray] = {}


def reference(photo: np.ndarray, k: int) -> np.ndarray:
    """best_rank_k(photo, k), computed apart from the widget (once per k: each costs an SVD)."""
    if k not in _REFERENCE:
        _REFERENCE[k] = best_rank_k(photo, k)
    return _REFERENCE[k]


@pytest.fixture(scope="module")
def photo_svd(photo) -> ImageSVD:
    return image_svd(photo)


@pytest.fixture(scope="module")
def explorer():
    return image_explorer(k=7)


@pytest.fixture
def small() -> np.ndarray:
    """A small non-square, non-symmetric image of rank 5 (rank-deficient), values in [0, 1]."""
    rng = np.random.default_rng(0)
    A = rng.random((30, 5)) @ rng.random((5, 22))      # (30, 22), rank 5
    return A / A.max()


def test_svd_cached_once_and_consistent(photo, photo_svd):
    m, n = photo.shape
    p = min(m, n)
    assert photo_svd.U.shape == (m, p) and photo_svd.s.shape == (p,) and photo_svd.Vh.shape == (p, n)
    assert np.allclose((photo_svd.U * photo_svd.s) @ photo_svd.Vh, photo)
    assert np.allclose(photo_svd.Us, photo_svd.U * photo_svd.s)


@pytest.mark.parametrize("k", [1, 20, 277, 512])
def test_step_image_is_best_rank_k(photo, photo_svd, k):
    step = compression_step(photo_svd, k)
    assert step.k == k
    assert np.allclose(step.A_k, reference(photo, k), atol=1e-10)
    assert np.allclose(step.error, photo - step.A_k)


@pytest.mark.parametrize("k", [1, 20, 277])
def test_step_numbers_equal_the_library(photo, photo_svd, k):
    m, n = photo.shape
    step = compression_step(photo_svd, k)
    assert step.storage == storage_cost(m, n, k)
    assert step.ratio == compression_ratio(m, n, k)
    assert math.isclose(step.psnr, psnr(photo, reference(photo, k)), rel_tol=1e-9)
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


@pytest.mark.parametrize("k", [1, 20, 277, 512])
def test_slider_move_shows_best_rank_k(explorer, photo, k):
    explorer.slider.value = k                      # the observer runs update()
    im_k, im_e = explorer.artists
    shown = np.asarray(im_k.get_array())
    assert np.allclose(shown, reference(photo, k), atol=1e-10)
    assert np.allclose(np.asarray(im_e.get_array()), photo - shown)
    assert explorer.step.k == k


def test_caption_reports_the_library_numbers(explorer, photo):
    m, n = photo.shape
    k = 20
    explorer.slider.value = k
    text = explorer.caption.value
    assert f"k = {k}" in text
    assert f"{storage_cost(m, n, k):,}" in text
    assert f"{compression_ratio(m, n, k):.2f}" in text
    assert f"{psnr(photo, reference(photo, k)):.1f} dB" in text
    assert 'class="lang-en"' in text and 'class="lang-zh"' in text
    assert "break-even k* =" in text and "損益平衡秩 k* =" in text       # the glossary's term


def test_caption_warns_above_break_even(explorer):
    explorer.slider.value = 276                    # k* = 600·512 / 1113 ≈ 276.01
    assert "k*:" not in explorer.caption.value
    explorer.slider.value = 277
    assert "k &gt; k*" in explorer.caption.value


def test_image_widget_receives_a_new_picture_per_move(explorer):
    explorer.slider.value = 3
    first = explorer.view.image.value
    explorer.slider.value = 4
    second = explorer.view.image.value
    assert explorer.view.image.format == "jpeg"
    assert first[:2] == b"\xff\xd8" and second[:2] == b"\xff\xd8"   # JPEG start-of-image marker
    assert first != second


def test_svd_is_not_recomputed_per_move(explorer, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the SVD must be computed once, not per slider move")

    monkeypatch.setattr(np.linalg, "svd", refuse)
    explorer.slider.value = 11
    explorer.slider.value = 12
    assert explorer.step.k == 12


def test_explorer_on_own_image_and_bad_k(small):
    box = image_explorer(small, k=2)
    assert np.allclose(np.asarray(box.artists[0].get_array()), best_rank_k(small, 2))
    with pytest.raises(ValueError, match="k"):
        image_explorer(small, k=23)


def test_grid_figure_titles_carry_psnr_and_ratio(photo):
    ks = (1, 20)
    fig = image_grid_figure(ks=ks)
    titles = [ax.get_title() for ax in fig.axes]
    m, n = photo.shape
    for k in ks:
        title = next(t for t in titles if t.startswith(f"k = {k} "))
        assert f"{psnr(photo, reference(photo, k)):.1f} dB" in title
        assert f"{compression_ratio(m, n, k):.1f}×" in title
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_explorer_and_grid_share_a_precomputed_svd(photo_svd, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an ImageSVD passed in must be used as it is")

    monkeypatch.setattr(np.linalg, "svd", refuse)
    box = image_explorer(photo_svd, k=5)
    assert box.svd is photo_svd
    import matplotlib.pyplot as plt
    plt.close(image_grid_figure(photo_svd, ks=(3,)))


def test_grid_figure_bad_ranks():
    with pytest.raises(ValueError, match="k"):
        image_grid_figure(ks=(0,))
    with pytest.raises(ValueError, match="ks"):
        image_grid_figure(ks=())
