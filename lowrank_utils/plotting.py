"""The book's one plotting setup: style, colours, a Traditional Chinese font, shared figures.

``use_book_style()`` is called once in every chapter's imports cell. It registers the shipped
subset of Noto Sans CJK TC (SIL Open Font License, see ``fonts/OFL.txt``) so that Chinese labels
render without boxes and without missing-glyph warnings on a fresh machine. Latin letters come
from DejaVu Sans (matplotlib's own font); Chinese characters fall back to the shipped font.
If a label needs a character the subset lacks, regenerate it: ``python tools/make_font_subset.py``.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

from ._validate import as_matrix, as_singular_values
from .linalg import default_tolerance

__all__ = [
    "FONT_PATH",
    "COLORS",
    "use_book_style",
    "bilingual",
    "plot_singular_values",
    "plot_cumulative_share",
    "plot_lora_update",
    "plot_svd_overview",
]

FONT_PATH = Path(__file__).with_name("fonts") / "NotoSansCJKtc-BookSubset.otf"

#: The same colour for the same object in every chapter.
COLORS = {
    "sigma": "#1f5fa8",        # singular values σ_i
    "log_sigma": "#c0392b",    # log σ_i
    "energy": "#1b8a5a",       # cumulative energy Σσ²
    "sigma_share": "#8e6cc2",  # cumulative Σσ share (the seed's "information")
    "threshold": "#7f7f7f",    # tolerances, break-even lines
    "lora": "#e67e22",         # LoRA adapters
    "full": "#34495e",         # full fine-tuning
    "base": "#95a5a6",         # frozen base model
    "sv1": "#c2185b",          # first singular pair v₁, u₁ (and σ₁u₁)
    "sv2": "#00897b",          # second singular pair v₂, u₂ (and σ₂u₂)
}


def _inline_figures_in_a_kernel() -> None:
    """In a Jupyter kernel: figures inline (even if MPLBACKEND=Agg is set), at retina resolution."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with every notebook install
        return
    shell = get_ipython()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return
    if mpl.get_backend().lower() == "agg":
        shell.run_line_magic("matplotlib", "inline")
    # Twice the pixels at the same displayed size: legends stay legible on a phone, and in the
    # book each figure links to this full-resolution file (a tap opens it, zoomable).
    from matplotlib_inline.backend_inline import set_matplotlib_formats
    set_matplotlib_formats("retina")


def use_book_style() -> str:
    """Apply the book's matplotlib style and register the Chinese font; return its family name.

    Used in the imports cell of every chapter.
    """
    _inline_figures_in_a_kernel()
    font_manager.fontManager.addfont(str(FONT_PATH))
    family = font_manager.FontProperties(fname=str(FONT_PATH)).get_name()
    mpl.rcParams.update(
        {
            # Per-glyph fallback needs the families listed in font.family itself (a generic
            # "sans-serif" resolves to one font): Latin from DejaVu Sans, CJK from the subset.
            "font.family": ["DejaVu Sans", family],
            "axes.unicode_minus": True,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.constrained_layout.use": True,
            "image.cmap": "gray",
            "axes.titlesize": 11,
            "axes.labelsize": 10,
        }
    )
    return family


def bilingual(en: str, zh: str, sep: str = " / ") -> str:
    """A label in both languages, English first: ``bilingual("rank", "秩") == "rank / 秩"``."""
    return f"{en}{sep}{zh}"


def plot_singular_values(
    s: np.ndarray,
    ax: plt.Axes | None = None,
    *,
    log: bool = True,
    mark: int | None = None,
    title: str | None = None,
) -> plt.Axes:
    """σ_k against k (left axis) and, if ``log``, log₁₀ σ_k (right axis), as in the seed's figure.

    ``mark`` draws a vertical line at k = mark. Used in chapters 1, 3 and 5.
    """
    s = as_singular_values(s)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    k = np.arange(1, s.size + 1)
    every = max(1, s.size // 40)        # markers on at most ~40 points: long spectra stay lines
    ax.plot(k, s, "o-", ms=3, markevery=every, color=COLORS["sigma"],
            label=bilingual("σ_k", "奇異值"))
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.set_xlabel(bilingual("k (index)", "第 k 個"))
    ax.set_ylabel(bilingual("singular value σ_k", "奇異值 σ_k"), color=COLORS["sigma"])
    handles, labels = ax.get_legend_handles_labels()
    if log:
        ax2 = ax.twinx()
        positive = s > 0
        ax2.plot(k[positive], np.log10(s[positive]), "s-", ms=2.5, lw=1, markevery=every,
                 color=COLORS["log_sigma"], label="log₁₀ σ_k")
        ax2.set_ylabel("log₁₀ σ_k", color=COLORS["log_sigma"])
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    if mark is not None:
        ax.axvline(mark, color=COLORS["threshold"], ls="--", lw=1)
    ax.legend(handles, labels, loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_cumulative_share(
    s: np.ndarray,
    ax: plt.Axes | None = None,
    *,
    show_sigma_share: bool = True,
    mark_fraction: float | None = None,
    title: str | None = None,
) -> plt.Axes:
    """Cumulative energy Σ_{i≤k} σ_i² / Σσ² against k (and the Σσ share the seed plots).

    ``mark_fraction`` marks the smallest k that keeps that share of the energy. Used in chapters 3, 5.
    """
    s = np.sort(as_singular_values(s))[::-1]
    k = np.arange(1, s.size + 1)
    energy = np.cumsum(s**2) / np.sum(s**2)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(k, energy, color=COLORS["energy"], lw=2,
            label=bilingual("energy Σσ²", "能量 Σσ²"))
    if show_sigma_share:
        ax.plot(k, np.cumsum(s) / np.sum(s), color=COLORS["sigma_share"], lw=1.5, ls="--",
                label=bilingual("Σσ share", "Σσ 比例"))
    if mark_fraction is not None:
        k_star = int(np.searchsorted(energy, mark_fraction - 1e-12) + 1)
        ax.axhline(mark_fraction, color=COLORS["threshold"], lw=0.8, ls=":")
        ax.axvline(k_star, color=COLORS["threshold"], lw=0.8, ls=":")
        ax.annotate(f"k = {k_star}", (k_star, mark_fraction), textcoords="offset points",
                    xytext=(6, -14), fontsize=9)
    ax.set_xlabel(bilingual("k (rank kept)", "保留的秩 k"))
    ax.set_ylabel(bilingual("cumulative share", "累積比例"))
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_svd_overview(
    A: np.ndarray,
    *,
    s: np.ndarray | None = None,
    mark_fraction: float | None = 0.9,
    cmap: str = "gray",
    matrix_title: str | None = None,
) -> plt.Figure:
    """The seed's three-panel figure: the matrix (an image) with its rank; σ_k and log₁₀ σ_k
    against k; the cumulative energy Σσ² (and the Σσ share the seed plots) against k.

    ``s`` (the singular values of A) skips the SVD when already known. Used in chapter 3
    ("Choosing k") on the photograph and in chapter 5 on a fine-tuning update ΔW.
    """
    A = as_matrix(A)
    s = np.linalg.svd(A, compute_uv=False) if s is None else as_singular_values(s)
    if s.size != min(A.shape):
        raise ValueError(f"s must hold the min(m, n) = {min(A.shape)} singular values of A, "
                         f"got {s.size}")
    r = int(np.sum(s > default_tolerance(A, s)))
    fig, (ax_a, ax_s, ax_c) = plt.subplots(1, 3, figsize=(13, 3.8),
                                            gridspec_kw={"width_ratios": [0.8, 1.1, 1.0]})
    ax_a.imshow(A, cmap=cmap)
    ax_a.set_axis_off()
    m, n = A.shape
    head = matrix_title or bilingual("matrix A", "矩陣 A")
    ax_a.set_title(f"{head}\n{m}×{n}, " + bilingual("rank", "秩") + f" r = {r}")
    plot_singular_values(s, ax_s, title=bilingual("singular values", "奇異值"))
    plot_cumulative_share(s, ax_c, mark_fraction=mark_fraction,
                          title=bilingual("cumulative share", "累積比例"))
    return fig


def plot_lora_update(W0: np.ndarray, B: np.ndarray, A: np.ndarray, scaling: float = 1.0,
                     cmap: str = "RdBu_r") -> plt.Figure:
    """W₀ + scaling · B A = W as heat maps drawn to scale: W₀ (d×k), the thin B (d×r), the flat
    A (r×k), and the merged W. Used in chapter 4, section "The LoRA layer".
    """
    W0, B, A = as_matrix(W0, "W0"), as_matrix(B, "B"), as_matrix(A, "A")
    (d, k), r = W0.shape, A.shape[0]
    if B.shape != (d, r) or A.shape != (r, k):
        raise ValueError(f"expected B of shape (d, r) = {(d, r)} and A of shape (r, k) = {(r, k)} "
                         f"for W0 of shape {(d, k)}, got B {B.shape} and A {A.shape}")
    W = W0 + scaling * (B @ A)                                    # (d, k)
    unit = 2.6 / max(d, k)                                        # inches per matrix entry
    signs = ["+ " + (f"{scaling:g} ·" if scaling != 1 else ""), "·", "="]
    gaps = [0.25 + 0.12 * len(sign) for sign in signs]            # inches for "+ α/r ·", "·", "="
    fig_w = unit * (3 * k + r) + sum(gaps) + 0.5
    fig_h = unit * d + 1.0
    fig = plt.figure(figsize=(fig_w, fig_h), layout="none")
    panels = [(W0, "W₀", f"{d}×{k}"), (B, "B", f"{d}×{r}"), (A, "A", f"{r}×{k}"),
              (W, "W", f"{d}×{k}")]
    top = 0.2 + unit * d                                          # inches from the bottom
    lim_w = np.abs(np.concatenate([W0.ravel(), W.ravel()])).max()
    x = 0.25
    for i, (M, name, shape) in enumerate(panels):
        h = unit * M.shape[0]
        ax = fig.add_axes((x / fig_w, (top - h) / fig_h, unit * M.shape[1] / fig_w, h / fig_h))
        lim = lim_w if name in ("W₀", "W") else np.abs(M).max() or 1.0
        ax.imshow(M, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(True)
        ax.set_title(f"{name}\n{shape}", fontsize=9)
        x += unit * M.shape[1]
        if i < 3:
            fig.text((x + gaps[i] / 2) / fig_w, (top - unit * d / 2) / fig_h, signs[i],
                     ha="center", va="center", fontsize=12)
            x += gaps[i]
    return fig
