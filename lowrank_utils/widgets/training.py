"""Chapter 5 widget: keep only k directions of the full fine-tuning update and watch the loss.

The numbers come from a finished run (``lowrank_utils.training.truncation_study`` builds them),
so this module needs no torch: ``truncation_step`` reads the study at one k (testable without a
browser), ``truncation_explorer`` wraps it in a slider, and ``truncation_explorer_figure`` is
the static twin shown in the HTML book.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import as_int, as_singular_values
from ..plotting import COLORS, bilingual
from ._render import FigureImage

__all__ = ["TruncationStudy", "truncation_step", "truncation_explorer",
           "truncation_explorer_figure"]

LAYER_MARKERS = ("o", "s", "^", "D")


@dataclass(frozen=True)
class TruncationStudy:
    """Loss of W₀ + (ΔW_full)_k for k = 1..K, with what is needed to draw it."""

    ks: np.ndarray                          # (K,) the ranks 1, 2, …, K
    losses: np.ndarray                      # (K,) held-out loss with the best rank-k ΔW per layer
    spectra: dict[str, np.ndarray]          # layer -> σ of the full fine-tuning ΔW, descending
    r_star: int                             # the planted rank r*
    base_loss: float                        # loss of the pre-trained model (k = 0)
    full_loss: float                        # loss after full fine-tuning
    lora_losses: dict[int, float] = field(default_factory=dict)   # rank -> loss of the LoRA run

    def __post_init__(self) -> None:
        ks = np.asarray(self.ks)
        if ks.ndim != 1 or ks.size == 0 or not np.array_equal(ks, np.arange(1, ks.size + 1)):
            raise ValueError("ks must be 1, 2, …, K")
        if np.shape(self.losses) != ks.shape or not np.all(np.isfinite(self.losses)):
            raise ValueError(f"losses must hold {ks.size} finite numbers, one per k")
        if not self.spectra:
            raise ValueError("spectra must name at least one layer")
        for name, s in self.spectra.items():
            s = as_singular_values(s, f"spectra[{name!r}]")
            if s.size < ks.size:
                raise ValueError(f"spectra[{name!r}] has {s.size} values, fewer than K = {ks.size}")
        as_int(self.r_star, "r_star")


def truncation_step(study: TruncationStudy, k: int) -> dict[str, object]:
    """What the widget shows at k: the loss and, per layer, the share of ΔW's energy kept."""
    k = as_int(k, "k")
    if not 1 <= k <= study.ks.size:
        raise ValueError(f"k must satisfy 1 <= k <= {study.ks.size}, got k={k}")
    energy = {name: float(np.sum(s[:k] ** 2) / np.sum(s ** 2)) for name, s in study.spectra.items()}
    return {"k": k, "loss": float(study.losses[k - 1]), "energy": energy}


def _draw(fig: plt.Figure, study: TruncationStudy, k: int) -> tuple:
    """Both panels; returns the artists that move with k (marker, vertical line)."""
    ax_loss, ax_s = fig.subplots(1, 2)
    ax_loss.semilogy(study.ks, study.losses, "-", color=COLORS["full"], lw=1.5,
                     label=bilingual("W₀ + best rank-k ΔW", "W₀ + 最佳秩 k 的 ΔW"))
    ax_loss.axhline(study.base_loss, color=COLORS["base"], ls="--", lw=1,
                    label=bilingual("before fine-tuning", "微調前"))
    ax_loss.axhline(study.full_loss, color=COLORS["full"], ls=":", lw=1,
                    label=bilingual("full fine-tuning", "完整微調"))
    if study.lora_losses:
        rs = sorted(r for r in study.lora_losses if r <= study.ks.size)
        ax_loss.plot(rs, [study.lora_losses[r] for r in rs], "D", color=COLORS["lora"], ms=5,
                     label=bilingual("LoRA at rank r", "秩 r 的 LoRA"))
    ax_loss.axvline(study.r_star, color=COLORS["threshold"], lw=0.8, ls=":")
    marker, = ax_loss.plot([k], [study.losses[k - 1]], "o", color=COLORS["energy"], ms=9)
    ax_loss.set_xlabel(bilingual("k (directions kept)", "保留的方向數 k"))
    ax_loss.set_ylabel(bilingual("loss on task B", "任務 B 的損失"))
    ax_loss.legend(fontsize=7, loc="center right")

    K = study.ks.size
    for (name, s), m in zip(study.spectra.items(), LAYER_MARKERS):
        ax_s.semilogy(np.arange(1, K + 1), s[:K], m, ms=3.5, color=COLORS["sigma"],
                      mfc="none" if m != "o" else COLORS["sigma"], label=f"σ_i(ΔW {name})")
    ax_s.axvline(study.r_star, color=COLORS["threshold"], lw=0.8, ls=":")
    line = ax_s.axvline(k + 0.5, color=COLORS["energy"], lw=2)
    ax_s.set_xlabel(bilingual("i", "第 i 個"))
    ax_s.set_ylabel(bilingual("singular value σ_i", "奇異值 σ_i"))
    ax_s.legend(fontsize=7, loc="upper right")
    return marker, line


def _caption(study: TruncationStudy, k: int) -> tuple[str, str]:
    step = truncation_step(study, k)
    kept = ", ".join(f"{name} {e:.1%}" for name, e in step["energy"].items())
    en = (f"k = {k}: loss {step['loss']:.2g} (full fine-tuning {study.full_loss:.2g}, "
          f"before {study.base_loss:.2g}); energy of ΔW kept: {kept}")
    zh = (f"k = {k}：損失 {step['loss']:.2g}（完整微調 {study.full_loss:.2g}，"
          f"微調前 {study.base_loss:.2g}）；保留的 ΔW 能量：{kept}")
    return en, zh


def truncation_explorer(study: TruncationStudy) -> widgets.VBox:
    """A slider for k; the loss of W₀ + (ΔW_full)_k and the spectrum of ΔW with the cut.

    Used in chapter 5, section "How many directions does the task need?". Needs a kernel.
    """
    slider = widgets.IntSlider(value=1, min=1, max=int(study.ks.size), description="k")
    view = FigureImage(figsize=(9.0, 3.4))
    marker, line = _draw(view.figure, study, 1)
    view.animate([marker, line])
    caption = widgets.HTML()

    def update(_change=None) -> None:
        k = slider.value
        marker.set_data([k], [study.losses[k - 1]])
        line.set_xdata([k + 0.5, k + 0.5])
        en, zh = _caption(study, k)
        caption.value = f"{en}<br>{zh}"
        view.refresh()

    slider.observe(update, names="value")
    update()
    box = widgets.VBox([slider, caption, view.image])
    box.update = update   # exposed for tests
    box.slider = slider
    return box


def truncation_explorer_figure(study: TruncationStudy, k: int | None = None) -> plt.Figure:
    """The widget's static twin: the same two panels with the cut at k (default r*)."""
    k = study.r_star if k is None else as_int(k, "k")
    truncation_step(study, k)            # checks k
    fig = plt.figure(figsize=(9.0, 3.6))
    _draw(fig, study, k)
    en, zh = _caption(study, k)
    fig.suptitle(f"{en}\n{zh}", fontsize=8)
    return fig
