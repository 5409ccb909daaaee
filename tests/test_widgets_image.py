"""Chapter 3 image explorer: what the view shows per slider move, no browser (the computation
itself is tested in test_images.py)."""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from lowrank_utils import best_rank_k, compression_ratio, storage_cost  # noqa: E402
from lowrank_utils.images import psnr  # noqa: E402
from lowrank_utils.plotting import use_book_style  # noqa: E402
from lowrank_utils.widgets import image_explorer, image_grid_figure  # noqa: E402

use_book_style()   # the Chinese font: figure titles draw without missing-glyph warnings


@pytest.fixture(scope="module")
def explorer():
    return image_explorer(k=7)


@pytest.mark.parametrize("k", [1, 20, 277, 512])
def test_slider_move_shows_best_rank_k(explorer, photo, k, photo_best):
    explorer.slider.value = k                      # the observer runs update()
    im_k, im_e = explorer.artists
    shown = np.asarray(im_k.get_array())
    assert np.allclose(shown, photo_best(k), atol=1e-10)
    assert np.allclose(np.asarray(im_e.get_array()), photo - shown)
    assert explorer.step.k == k


def test_caption_reports_the_library_numbers(explorer, photo, photo_best):
    m, n = photo.shape
    k = 20
    explorer.slider.value = k
    text = explorer.caption.value
    assert f"k = {k}" in text
    assert f"{storage_cost(m, n, k):,}" in text
    assert f"{compression_ratio(m, n, k):.2f}" in text
    assert f"{psnr(photo, photo_best(k)):.1f} dB" in text
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


def test_grid_figure_titles_carry_psnr_and_ratio(photo, photo_best):
    ks = (1, 20)
    fig = image_grid_figure(ks=ks)
    titles = [ax.get_title() for ax in fig.axes]
    m, n = photo.shape
    for k in ks:
        title = next(t for t in titles if t.startswith(f"k = {k} "))
        assert f"{psnr(photo, photo_best(k)):.1f} dB" in title
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
