"""plot_svd_overview: the seed's three-panel figure (chapters 3 and 5)."""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lowrank_utils import k_for_energy, numerical_rank
from lowrank_utils.plotting import plot_svd_overview, use_book_style


@pytest.fixture
def A() -> np.ndarray:
    """A 40×25 matrix of rank 6: non-square, non-symmetric, rank-deficient."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 6)) @ rng.standard_normal((6, 25))


def test_three_panels_with_rank_spectrum_and_shares(A):
    use_book_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # a missing glyph would be a warning
        fig = plot_svd_overview(A, mark_fraction=0.9, matrix_title="A")
        fig.canvas.draw()
    ax_a, ax_s, ax_c, ax_log = fig.axes             # the twin log axis is created last
    assert f"r = {numerical_rank(A)}" in ax_a.get_title() and "40×25" in ax_a.get_title()
    s = np.linalg.svd(A, compute_uv=False)
    assert np.allclose(ax_s.lines[0].get_ydata(), s)
    positive = s > 0
    assert np.allclose(ax_log.lines[0].get_ydata(), np.log10(s[positive]))
    energy, share = ax_c.lines[0].get_ydata(), ax_c.lines[1].get_ydata()
    assert np.allclose(energy, np.cumsum(s**2) / np.sum(s**2))
    assert np.allclose(share, np.cumsum(s) / np.sum(s))
    marked = [line.get_xdata()[0] for line in ax_c.lines[2:] if line.get_linestyle() == ":"]
    assert k_for_energy(s, 0.9) in marked
    plt.close(fig)


def test_given_singular_values_skip_the_svd(A, monkeypatch):
    s = np.linalg.svd(A, compute_uv=False)

    def refuse(*args, **kwargs):
        raise AssertionError("s was given: no SVD needed")

    monkeypatch.setattr(np.linalg, "svd", refuse)
    plt.close(plot_svd_overview(A, s=s, mark_fraction=None))


def test_wrong_number_of_singular_values(A):
    with pytest.raises(ValueError, match="s must hold"):
        plot_svd_overview(A, s=np.ones(3))


def test_bad_matrix():
    with pytest.raises(ValueError, match="A"):
        plot_svd_overview(np.ones(5))
