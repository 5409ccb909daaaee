"""Chapter 1 rank explorer: its computation, its view, and its static twin."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils import default_tolerance, numerical_rank
from lowrank_utils.plotting import use_book_style
from lowrank_utils.widgets import rank_experiment, rank_explorer, rank_explorer_figure


@pytest.mark.parametrize("k", [0, 1, 3, 8])
def test_without_noise_the_rank_is_k(k):
    ex = rank_experiment(k, 0.0)
    assert ex.A.shape == (12, 8)
    assert ex.rank_numpy == numerical_rank(ex.A) == np.linalg.matrix_rank(ex.A) == k


def test_noise_fools_numpy_but_not_a_sensible_tolerance():
    ex = rank_experiment(3, 1e-10, tol=1e-6)
    assert ex.rank_numpy == 8 and ex.rank_tol == 3
    assert ex.tol_numpy == pytest.approx(default_tolerance(ex.A))
    assert np.allclose(ex.s, np.linalg.svd(ex.A, compute_uv=False))


def test_slider_moves_change_one_thing_at_a_time():
    a, b = rank_experiment(2, 0.0), rank_experiment(3, 0.0)
    rng = np.random.default_rng(0)
    U, V = rng.standard_normal((12, 8)), rng.standard_normal((8, 8))
    assert np.allclose(b.A - a.A, np.outer(U[:, 2], V[:, 2]))       # one more outer product


@pytest.mark.parametrize("kwargs, words", [
    ({"k": 9, "noise": 0.0}, "k must satisfy 0 <= k <= 8"),
    ({"k": -1, "noise": 0.0}, "k must satisfy 0 <= k <= 8"),
    ({"k": 2, "noise": -1.0}, "noise must be"),
    ({"k": 2, "noise": float("nan")}, "noise must be"),
    ({"k": 2, "noise": 0.0, "tol": -1.0}, "tol must be"),
    ({"k": 2, "noise": 0.0, "m": 0}, "m must be an integer >= 1"),
])
def test_bad_input(kwargs, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        rank_experiment(**kwargs)


def test_explorer_updates_its_image_and_caption():
    use_book_style()
    box = rank_explorer()
    sliders, caption, image = box.children
    k_slider, noise_slider, _ = sliders.children
    first = image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    k_slider.value = 5
    assert image.value != first and "k = 5" in caption.value
    noise_slider.value = -10
    assert "rank (NumPy tol) = 8" in caption.value


def test_static_twin_has_one_panel_per_noise_level():
    use_book_style()
    fig = rank_explorer_figure(noises=(0.0, 1e-8))
    assert len(fig.axes) == 2
