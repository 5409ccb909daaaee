"""Chapter 1 widget: build a matrix from k outer products plus noise; watch its singular values.

``rank_experiment`` is the computation (testable without a browser); ``rank_explorer`` wraps it
in sliders; ``rank_explorer_figure`` is the static figure that stands in for the widget in the
HTML book.
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import check_int, check_positive_int, check_real, check_seed
from ._static import GridControl, PageExplorer
from ..linalg import default_tolerance
from ..plotting import COLORS, bilingual
from ._render import FigureImage

__all__ = ["RankExperiment", "rank_experiment", "rank_explorer", "rank_explorer_static",
           "rank_explorer_figure", "STATIC_LOG_NOISES"]

FLOOR = 1e-18   # singular values below this are drawn at the floor of the log axis


@dataclass(frozen=True)
class RankExperiment:
    """A = Σ_{i≤k} u_i v_iᵀ + noise · E and what the SVD says about it."""

    A: np.ndarray            # (m, n)
    s: np.ndarray            # (min(m, n),) singular values, descending
    k: int                   # number of outer products (the rank without noise)
    noise: float             # noise level
    tol_numpy: float         # σ_max · max(m, n) · eps
    rank_numpy: int          # singular values above tol_numpy
    tol: float               # the reader's tolerance
    rank_tol: int            # singular values above tol


def rank_experiment(k: int, noise: float, tol: float = 1e-6, m: int = 12, n: int = 8,
                    seed: int = 0) -> RankExperiment:
    """Build A from the first k of a fixed set of outer products u_i v_iᵀ, add noise · E.

    The vectors and the noise matrix E depend only on ``seed``, so moving a slider changes one
    thing at a time. Used in chapter 1, section "Numerical rank".
    """
    m, n = check_positive_int(m, "m"), check_positive_int(n, "n")
    k = check_int(k, "k", low=0, high=min(m, n))
    noise = check_real(noise, "noise", low=0.0)
    tol = check_real(tol, "tol", low=0.0)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((m, min(m, n)))        # (m, p): u_1 … u_p
    V = rng.standard_normal((n, min(m, n)))        # (n, p): v_1 … v_p
    E = rng.standard_normal((m, n))                # (m, n): fixed noise pattern
    A = U[:, :k] @ V[:, :k].T + noise * E          # (m, n), rank k before the noise
    s = np.linalg.svd(A, compute_uv=False)
    tol_numpy = default_tolerance(A, s) if s[0] > 0 else 0.0
    return RankExperiment(A=A, s=s, k=k, noise=float(noise), tol_numpy=tol_numpy,
                          rank_numpy=int(np.sum(s > tol_numpy)), tol=float(tol),
                          rank_tol=int(np.sum(s > tol)))


def _draw_spectrum(ax: plt.Axes, ex: RankExperiment):
    """Bars of σ_i on a log axis with both tolerances; returns the artists to update."""
    idx = np.arange(1, ex.s.size + 1)
    bars = ax.bar(idx, np.maximum(ex.s, FLOOR), bottom=FLOOR * 0.5, color=COLORS["sigma"])
    line_np = ax.axhline(max(ex.tol_numpy, FLOOR), color=COLORS["threshold"], ls="--", lw=1.2,
                         label=bilingual("NumPy tol", "NumPy 容許誤差"))
    line_tol = ax.axhline(max(ex.tol, FLOOR), color=COLORS["lora"], lw=1.5,
                          label=bilingual("your tol", "你的容許誤差"))
    ax.set_yscale("log")
    ax.set_ylim(FLOOR * 0.5, 1e3)
    ax.set_yticks(10.0 ** np.arange(-18, 4, 3))   # fixed ticks: no tick search per slider move
    ax.minorticks_off()
    ax.set_xticks(idx)
    ax.set_xlabel(bilingual("i", "第 i 個"))
    ax.set_ylabel(bilingual("singular value σ_i", "奇異值 σ_i"))
    ax.legend(loc="upper right", fontsize=8)
    return bars, line_np, line_tol


def _caption(ex: RankExperiment) -> str:
    return (f"k = {ex.k}, noise = {ex.noise:.0e}:  rank (NumPy tol) = {ex.rank_numpy},  "
            f"rank (your tol) = {ex.rank_tol}\n"
            f"k = {ex.k}，雜訊 = {ex.noise:.0e}：秩（NumPy 容許誤差）= {ex.rank_numpy}，"
            f"秩（你的容許誤差）= {ex.rank_tol}")


def rank_explorer(m: int = 12, n: int = 8, seed: int = 0) -> widgets.VBox:
    """Sliders for k, log₁₀(noise) and log₁₀(tol); a bar chart of the singular values.

    Used in chapter 1, section "Numerical rank". Needs a running kernel.
    """
    k_slider = widgets.IntSlider(value=3, min=0, max=min(m, n), description="k")
    noise_slider = widgets.FloatSlider(value=-16, min=-16, max=0, step=0.5,
                                       description="log₁₀ noise", readout_format=".1f")
    tol_slider = widgets.FloatSlider(value=-6, min=-16, max=1, step=0.5,
                                     description="log₁₀ tol", readout_format=".1f")
    for s in (k_slider, noise_slider, tol_slider):
        s.style.description_width = "90px"

    def experiment() -> RankExperiment:
        return rank_experiment(k_slider.value, _noise(noise_slider.value), 10.0 ** tol_slider.value, m, n, seed)

    view, show = _rank_view(experiment())
    caption = widgets.HTML()

    def update(_change=None) -> None:
        caption.value = show(experiment()).replace("\n", "<br>")
        view.refresh()

    for s in (k_slider, noise_slider, tol_slider):
        s.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([k_slider, noise_slider, tol_slider]), caption, view.image])
    box.update = update   # exposed for tests and benchmarks
    box.sliders = {"k": k_slider, "noise": noise_slider, "tol": tol_slider}
    box.caption, box.view = caption, view
    return box


def _noise(log_noise: float) -> float:
    """The sliders' log₁₀(noise) as a noise level; their bottom stop, -16, means no noise."""
    return 0.0 if log_noise <= -16 else 10.0 ** log_noise


def _rank_view(first: RankExperiment):
    """The explorer's figure (no widget): ``(view, show)``; ``show(ex)`` redraws the bars and
    both tolerances for the experiment ``ex`` and returns its caption."""
    view = FigureImage(figsize=(6.4, 3.2))
    ax = view.figure.add_subplot()
    bars, line_np, line_tol = _draw_spectrum(ax, first)
    view.animate([*bars, line_np, line_tol])

    def show(ex: RankExperiment) -> str:
        for bar, value in zip(bars, np.maximum(ex.s, FLOOR)):
            bar.set_height(value)
        line_np.set_ydata([max(ex.tol_numpy, FLOOR)] * 2)
        line_tol.set_ydata([max(ex.tol, FLOOR)] * 2)
        return _caption(ex)

    return view, show


#: The noise slider's positions in the HTML book, as log₁₀(noise); -16 stands for no noise.
STATIC_LOG_NOISES = (-16, -13, -10, -8, -6, -4, -2)


def rank_explorer_static(k: int = 3, log_noises: tuple[float, ...] = STATIC_LOG_NOISES,
                         log_tol: float = -6, m: int = 12, n: int = 8,
                         seed: int = 0) -> PageExplorer:
    """The explorer for the HTML book: sliders for the noise (on the grid ``log_noises``) and k
    (0..min(m, n)) at the tolerance 10^log_tol, every position drawn in advance by
    ``rank_explorer`` and switched in the page, no kernel needed. Used in chapter 1."""
    k = check_int(k, "k", low=0, high=min(m, n))
    ks = list(range(0, min(m, n) + 1))
    tol = 10.0 ** log_tol
    view, show = _rank_view(rank_experiment(k, 0.0, tol, m, n, seed))   # the live figure
    views = {}
    for i, log_noise in enumerate(log_noises):
        noise = _noise(log_noise)
        for j, q in enumerate(ks):
            en, _, zh = show(rank_experiment(q, noise, tol, m, n, seed)).partition("\n")
            views[(i, j)] = (view.encode(), "png",
                             f'<div class="lang-en">{en}</div><div class="lang-zh">{zh}</div>')
    noise_labels = ["0" if _noise(v) == 0 else f"1e{int(v)}" for v in log_noises]
    title = (f'<p class="pe-title"><span class="lang-en">tolerance = 1e{int(log_tol)} (orange '
             f'line)</span><span class="lang-zh">容許誤差 = 1e{int(log_tol)}（橘線）</span></p>')
    return PageExplorer([GridControl("noise", noise_labels, noise_labels[0], "noise level", "雜訊大小"),
                         GridControl("k", ks, k, "rank k of the signal", "訊號的秩 k")],
                        views, title)


def rank_explorer_figure(k: int = 3, noises: tuple[float, ...] = (0.0, 1e-10, 1e-3),
                         tol: float = 1e-6, m: int = 12, n: int = 8, seed: int = 0) -> plt.Figure:
    """The widget's static stand-in: the same k at several noise levels, side by side."""
    fig, axes = plt.subplots(1, len(noises), figsize=(4.0 * len(noises), 3.4), sharey=True)
    for i, (ax, noise) in enumerate(zip(np.atleast_1d(axes), noises)):
        ex = rank_experiment(k, noise, tol, m, n, seed)
        _draw_spectrum(ax, ex)
        if i:
            ax.set_ylabel("")
            ax.get_legend().remove()
        ax.set_title(f"noise = {ex.noise:.0e}\n" + bilingual("rank", "秩")
                     + f": NumPy {ex.rank_numpy},  tol {ex.tol:.0e} → {ex.rank_tol}", fontsize=9)
    fig.suptitle(bilingual(f"A rank-{k} matrix plus noise", f"秩 {k} 矩陣加上雜訊"))
    return fig
