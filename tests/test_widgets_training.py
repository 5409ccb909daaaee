"""Chapter 5 truncation explorer: the step at one k, its view and its static twin (no torch)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lowrank_utils.plotting import use_book_style
from lowrank_utils.experiment.study import TruncationStudy
from lowrank_utils.widgets import truncation_explorer, truncation_explorer_figure, truncation_step


def study(K: int = 6) -> TruncationStudy:
    rng = np.random.default_rng(0)
    spectra = {"fc1": np.sort(rng.uniform(0.01, 1, 10))[::-1],
               "fc2": np.sort(rng.uniform(0.01, 2, 12))[::-1]}
    losses = 0.1 * 0.5 ** np.arange(K)
    return TruncationStudy(ks=np.arange(1, K + 1), losses=losses, spectra=spectra, r_star=3,
                           base_loss=0.3, full_loss=0.001, lora_losses={1: 0.1, 4: 0.002, 64: 1e-3})


def test_step_reads_the_loss_and_the_energy_kept():
    st = study()
    for k in range(1, 7):
        step = truncation_step(st, k)
        assert step["loss"] == st.losses[k - 1]
        for name, s in st.spectra.items():
            assert step["energy"][name] == pytest.approx(np.sum(s[:k] ** 2) / np.sum(s ** 2))
    energies = [truncation_step(st, k)["energy"]["fc1"] for k in range(1, 7)]
    assert np.all(np.diff(energies) > 0)


@pytest.mark.parametrize("k", [0, 7, 2.5])
def test_step_refuses_k_outside_the_study(k):
    with pytest.raises((ValueError, TypeError)):
        truncation_step(study(), k)


def test_explorer_updates_its_image_and_caption():
    use_book_style()
    box = truncation_explorer(study())
    slider, caption, image = box.children
    first = image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and "k = 1" in caption.value
    slider.value = 4
    assert image.value != first and "k = 4" in caption.value and "k = 4：" in caption.value


def test_static_twin_marks_r_star_by_default():
    use_book_style()
    fig = truncation_explorer_figure(study())
    assert len(fig.axes) == 2 and "k = 3" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError):
        truncation_explorer_figure(study(), k=99)
