"""The book's plotting setup: Chinese renders from the shipped font without missing glyphs."""
from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from lowrank_utils.plotting import (FONT_PATH, bilingual, plot_cumulative_share,
                                    plot_singular_values, use_book_style)


def test_the_font_is_registered_and_first_after_dejavu():
    family = use_book_style()
    assert FONT_PATH.exists() and family
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", family]


def test_chinese_labels_render_without_missing_glyph_warnings():
    use_book_style()
    fig, ax = plt.subplots()
    ax.set_title(bilingual("singular values", "奇異值"))
    ax.set_xlabel("第 k 個（秩）")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # "Glyph ... missing" would raise here
        fig.canvas.draw()
    plt.close(fig)


def test_a_character_outside_the_subset_would_be_caught():
    use_book_style()
    fig, ax = plt.subplots()
    ax.set_title("\u9f98")                             # 龘: surely not in the book's subset
    with pytest.warns(UserWarning, match="missing from font"):
        fig.canvas.draw()
    plt.close(fig)


def test_shared_singular_value_figures():
    use_book_style()
    s = np.array([5.0, 3.0, 1.0, 0.1, 0.0])
    ax = plot_singular_values(s, mark=2, title="t")
    assert len(ax.lines) >= 2
    ax2 = plot_cumulative_share(s, mark_fraction=0.9)
    energy = ax2.lines[0].get_ydata()
    assert energy[-1] == pytest.approx(1.0) and np.all(np.diff(energy) >= 0)
    plt.close("all")
    with pytest.raises(ValueError, match="non-negative"):
        plot_singular_values(np.array([1.0, -1.0]))


def test_bilingual_label():
    assert bilingual("rank", "秩") == "rank / 秩"
