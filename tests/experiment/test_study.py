"""lowrank_utils.experiment.study: the data of chapter 5's truncation widget checks itself."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils.experiment.study import TruncationStudy


@pytest.mark.parametrize("change, words", [
    ({"ks": np.array([1, 3])}, "ks must be"),
    ({"losses": np.array([1.0, np.nan])}, "losses must hold"),
    ({"spectra": {}}, "spectra must name"),
    ({"spectra": {"fc1": np.array([1.0])}}, "fewer than K"),
    ({"spectra": {"fc1": np.array([1.0, -1.0])}}, "non-negative"),
])
def test_study_checks_its_data(change, words):
    fields = dict(ks=np.array([1, 2]), losses=np.array([0.1, 0.05]),
                  spectra={"fc1": np.array([2.0, 1.0, 0.5])}, r_star=1, base_loss=0.2,
                  full_loss=0.01)
    fields.update(change)
    with pytest.raises(ValueError, match=words):
        TruncationStudy(**fields)


def test_the_study_and_its_widget_need_no_torch():
    import subprocess
    import sys
    code = ("import sys; from lowrank_utils.experiment.study import TruncationStudy; "
            "import lowrank_utils.widgets.training; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
