"""Chapter 5 widget: keep only k directions of the full fine-tuning update and watch the loss.

The numbers come from a finished run (``experiment.truncation_study`` builds a
``TruncationStudy``): ``truncation_step`` reads the study at one k (testable without a browser),
``truncation_explorer`` wraps it in a slider, and ``truncation_explorer_figure`` is the static
twin shown in the HTML book.
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import check_int
from ..experiment.study import TruncationStudy
from ..plotting import COLORS, bilingual
from ._render import FigureImage
from ._static import GridControl, PageExplorer

__all__ = ["truncation_step", "truncation_explorer", "truncation_explorer_static",
           "truncation_explorer_figure"]

LAYER_MARKERS = ("o", "s", "^", "D")


def truncation_step(study: TruncationStudy, k: int) -> dict[str, object]:
    """What the widget shows at k: the loss and, per layer, the share of ΔW's energy kept."""
    if not isinstance(study, TruncationStudy):
        raise TypeError(f"study must be a TruncationStudy, got {type(study).__name__}")
    k = check_int(k, "k", low=1, high=study.ks.size)
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
    view, show = _truncation_view(study)
    caption = widgets.HTML()

    def update(_change=None) -> None:
        en, zh = show(slider.value)
        caption.value = f"{en}<br>{zh}"
        view.refresh()

    slider.observe(update, names="value")
    update()
    box = widgets.VBox([slider, caption, view.image])
    box.update = update   # exposed for tests
    box.slider, box.caption, box.view = slider, caption, view
    return box


def _truncation_view(study: TruncationStudy):
    """The explorer's figure (no widget): ``(view, show)``; ``show(k)`` moves the marker and
    the cut to k and returns the caption ``(en, zh)``."""
    view = FigureImage(figsize=(9.0, 3.4))
    marker, line = _draw(view.figure, study, 1)
    view.animate([marker, line])

    def show(k: int) -> tuple[str, str]:
        marker.set_data([k], [study.losses[k - 1]])
        line.set_xdata([k + 0.5, k + 0.5])
        return _caption(study, k)

    return view, show


def truncation_explorer_static(study: TruncationStudy, k: int | None = None) -> PageExplorer:
    """The explorer for the HTML book: every k = 1..K drawn in advance with the live explorer's
    figure and switched in the page, no kernel needed. Used in chapter 5."""
    k = study.r_star if k is None else truncation_step(study, k)["k"]
    view, show = _truncation_view(study)
    ks = [int(q) for q in study.ks]
    views = {}
    for i, q in enumerate(ks):
        en, zh = show(q)
        views[(i,)] = (view.encode(), "png",
                       f'<div class="lang-en">{en}</div><div class="lang-zh">{zh}</div>')
    return PageExplorer([GridControl("k", ks, k, "directions kept", "保留的方向數")], views)


def truncation_explorer_figure(study: TruncationStudy, k: int | None = None) -> plt.Figure:
    """The widget's static twin: the same two panels with the cut at k (default r*)."""
    k = study.r_star if k is None else k
    k = truncation_step(study, k)["k"]   # checks k
    fig = plt.figure(figsize=(9.0, 3.6))
    _draw(fig, study, k)
    en, zh = _caption(study, k)
    fig.suptitle(f"{en}\n{zh}", fontsize=8)
    return fig
