"""lowrank_utils.widgets._static and the *_static explorers: every slider position precomputed,
switched in the page, so the book's sliders move without a kernel."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from lowrank_utils.experiment.study import TruncationStudy
from lowrank_utils.plotting import use_book_style
from lowrank_utils.widgets import (image_explorer_static, rank_explorer_static,
                                   truncation_explorer_static)
from lowrank_utils.widgets._static import GridControl, PageExplorer, compact

use_book_style()


def png(color: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (color, 0, 0)).save(out, format="png")
    return out.getvalue()


def test_a_page_explorer_holds_one_view_per_combination_and_shows_one():
    a = GridControl("a", ["x", "y"], "y", "first", "第一")
    b = GridControl("b", [1, 2, 3], 1, "second", "第二")
    views = {(i, j): (png(40 * i + j), "png", f"<b>{i},{j}</b>") for i in range(2) for j in range(3)}
    page = PageExplorer([a, b], views)._repr_html_()
    assert page.count('class="pe-view"') == 6 and page.count(" hidden>") == 5
    shown = re.search(r'<figure class="pe-view" data-key="([\d,]+)">', page).group(1)
    assert shown == "1,0"                                     # a = "y", b = 1
    assert 'aria-label="first / 第一"' in page and page.count('type="range"') == 2
    assert "http" not in page.split("<script>")[1]            # nothing is fetched
    with pytest.raises(ValueError, match="every combination"):
        PageExplorer([a, b], {(0, 0): views[0, 0]})
    with pytest.raises(ValueError, match="one of the grid's positions"):
        GridControl("c", [1, 2], 5, "c", "c")


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


def test_the_image_explorer_shows_every_k_of_its_grid():
    ks = (1, 5, 20, 512)
    explorer = image_explorer_static(ks=ks, k=20)
    (control,) = explorer.controls
    assert [str(p) for p in control.positions] == ["1", "5", "20", "512"] and control.index == 2
    for index, k in enumerate(ks):
        assert f"k = {k} " in explorer.selected(index)
    assert explorer.size < 250_000 * len(ks)
    with pytest.raises(ValueError, match="contain k"):
        image_explorer_static(ks=(1, 5), k=20)


def test_the_rank_explorer_grid_covers_the_noise_and_k():
    explorer = rank_explorer_static(k=3, log_noises=(-16, -6))
    noise, k = explorer.controls
    assert [str(p) for p in noise.positions] == ["0", "1e-6"]
    assert [str(p) for p in k.positions] == [str(q) for q in range(9)]
    assert "k = 3, noise = 1e-06" in explorer.selected(1, 3)
    assert len(explorer.views) == 2 * 9


def test_the_truncation_explorer_has_every_k():
    rng = np.random.default_rng(1)
    study = TruncationStudy(ks=np.arange(1, 7), losses=0.1 * 0.5 ** np.arange(6),
                            spectra={"fc1": np.sort(rng.uniform(0.01, 1, 10))[::-1]}, r_star=2,
                            base_loss=0.3, full_loss=0.001)
    explorer = truncation_explorer_static(study)
    assert explorer.controls[0].index == 1 and len(explorer.views) == 6
    caption = explorer.selected(1)
    assert caption.startswith('<div class="lang-en">k = 2: loss') and 'class="lang-zh"' in caption


def test_the_page_explorers_create_no_ipywidget():
    """A widget created while the book is built stays in the page's widget state (closing it
    does not remove it), and would make the page load the 3.5 MB widget manager for nothing."""
    from ipywidgets.widgets import widget
    before = set(widget._instances)
    rank_explorer_static(log_noises=(-16,))
    image_explorer_static(ks=(1, 20), k=20)
    assert set(widget._instances) == before
