"""lowrank_utils.widgets.svd2x2_page: the HTML and script of chapter 2's in-page geometry widget
(its numbers are compared with svd_2x2 in a browser: tests/site/test_static_widgets.py)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from lowrank_utils.widgets import svd_geometry_page
from lowrank_utils.widgets.svd2x2 import PRESETS, SLIDER_MAX


def test_the_page_holds_four_labelled_sliders_four_panels_and_its_script():
    A = np.array([[1.2, 0.5], [-0.4, 0.7]])
    page = svd_geometry_page(A)._repr_html_()
    values = re.findall(r'type="range" min="-1.5" max="1.5" step="0.05" value="([-\d.]+)"', page)
    assert [float(v) for v in values] == A.ravel().tolist()
    assert page.count('class="svd-panel"') == 4 and page.count("<svg") == 4
    assert all(f"<option>{name}</option>" in page for name in PRESETS)
    assert 'aria-label="a₁₁"' in page and 'aria-label="preset / 範例"' in page
    assert "<script>" in page and "http" not in page.split("<script>")[1]   # nothing fetched
    assert 'class="lang-en"' in page and 'class="lang-zh"' in page


@pytest.mark.parametrize("bad, error", [(np.eye(3), ValueError), ([[2.0, 0], [0, 1]], ValueError),
                                        ("A", TypeError), ([[np.nan, 0], [0, 1]], ValueError)])
def test_bad_matrices_are_refused(bad, error):
    with pytest.raises(error, match="A"):
        svd_geometry_page(bad)
    assert SLIDER_MAX == 1.5
