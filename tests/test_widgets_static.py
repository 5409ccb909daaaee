"""lowrank_utils.widgets._static and the *_static explorers: every slider position precomputed,
linked in the page (jslink), so the book's sliders move without a kernel."""
from __future__ import annotations

import io

import ipywidgets as widgets
from ipywidgets.widgets import widget as widget_registry
from ipywidgets.widgets.widget_link import Link
import numpy as np
import pytest
from PIL import Image

from lowrank_utils.experiment.study import TruncationStudy
from lowrank_utils.plotting import use_book_style
from lowrank_utils.widgets import (image_explorer_static, rank_explorer_static,
                                   truncation_explorer_static)
from lowrank_utils.widgets._static import compact, grid_slider, stacked_explorer, view

use_book_style()


def links_of(slider: widgets.Widget) -> list[Link]:
    return [w for w in widget_registry._instances.values()
            if isinstance(w, Link) and w.source[0] is slider]


def pictures(box: widgets.Widget) -> list[bytes]:
    found = []
    def walk(w):
        if isinstance(w, widgets.Image):
            found.append(bytes(w.value))
        for child in getattr(w, "children", ()):
            walk(child)
    walk(box)
    return found


def shown_caption(box: widgets.VBox) -> str:
    """The caption of the view the stacks currently select (what the page shows)."""
    node = box.children[-1]
    while isinstance(node, widgets.Stack):
        node = node.children[node.selected_index]
    return node.children[0].value


def test_nested_stacks_link_every_slider_and_cover_every_combination():
    a = grid_slider(["x", "y"], "y", "a", "first", "第一")
    b = grid_slider([1, 2, 3], 1, "b", "second", "第二")
    seen = []
    box = stacked_explorer([a, b], lambda index: seen.append(index) or widgets.HTML(str(index)))
    assert sorted(seen) == [(i, j) for i in range(2) for j in range(3)]
    outer = box.children[-1]
    assert isinstance(outer, widgets.Stack) and outer.selected_index == 1
    assert all(isinstance(inner, widgets.Stack) and len(inner.children) == 3
               for inner in outer.children)
    assert len(links_of(a)) == 1 and len(links_of(b)) == 2       # one link per stack it drives
    assert all(link.target[1] == "selected_index" and link.source[1] == "index"
               for link in links_of(a) + links_of(b))
    assert a.tooltip == "first / 第一" and box.sliders == [a, b]
    with pytest.raises(ValueError, match="one of the grid's positions"):
        grid_slider([1, 2], 5, "c", "c", "c")


def test_compact_pictures_stay_pictures_and_get_smaller():
    rng = np.random.default_rng(0)
    pixels = (rng.random((40, 60, 3)) * 255).astype(np.uint8)
    for fmt in ("png", "jpeg"):
        raw = io.BytesIO()
        Image.fromarray(pixels).save(raw, format=fmt, **({"quality": 95} if fmt == "jpeg" else {}))
        small = compact(raw.getvalue(), fmt)
        with Image.open(io.BytesIO(small)) as image:
            assert image.size == (60, 40) and image.format.lower() == fmt
        assert len(small) < len(raw.getvalue())
    assert isinstance(view(small, "jpeg", "<b>x</b>").children[1], widgets.Image)


def test_the_image_explorer_shows_every_k_of_its_grid():
    ks = (1, 5, 20, 512)
    box = image_explorer_static(ks=ks, k=20)
    slider, stack = box.sliders[0], box.children[-1]
    assert list(slider.options) == ["1", "5", "20", "512"] and slider.value == "20"
    assert stack.selected_index == 2 and len(stack.children) == len(ks)
    for index, k in enumerate(ks):
        stack.selected_index = index             # what the jslink does in the page
        assert f"k = {k} " in shown_caption(box)
    assert sum(map(len, pictures(box))) < 250_000 * len(ks)
    with pytest.raises(ValueError, match="contain k"):
        image_explorer_static(ks=(1, 5), k=20)


def test_the_rank_explorer_grid_covers_k_and_the_noise():
    box = rank_explorer_static(k=3, log_noises=(-16, -6))
    noise, k = box.sliders
    assert list(noise.options) == ["0", "1e-6"] and list(k.options) == [str(q) for q in range(9)]
    outer = box.children[-1]
    outer.selected_index = 1
    outer.children[1].selected_index = 3
    assert "k = 3, noise = 1e-06" in shown_caption(box)
    assert len(pictures(box)) == 2 * 9


def test_the_truncation_explorer_has_every_k():
    rng = np.random.default_rng(1)
    study = TruncationStudy(ks=np.arange(1, 7), losses=0.1 * 0.5 ** np.arange(6),
                            spectra={"fc1": np.sort(rng.uniform(0.01, 1, 10))[::-1]}, r_star=2,
                            base_loss=0.3, full_loss=0.001)
    box = truncation_explorer_static(study)
    stack = box.children[-1]
    assert box.sliders[0].value == "2" and len(stack.children) == 6
    caption = shown_caption(box)
    assert caption.startswith('<div class="lang-en">k = 2: loss') and 'class="lang-zh"' in caption
