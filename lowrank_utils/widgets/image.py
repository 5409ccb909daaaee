"""Chapter 3 widget: compress a photograph with its truncated SVD and slide the rank k.

The computation lives in the core (``lowrank_utils.images``): the SVD is computed once
(``image_svd``) and a slider move is one ``compression_step``. The view
blits two ``AxesImage`` artists (reconstruction and error) into one persistent figure through
``FigureImage``; the numbers that change (k, storage, compression ratio, PSNR, energy) go in an
HTML label beside it. ``image_grid_figure`` is the static twin for the HTML book.
"""
from __future__ import annotations

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import as_matrix, check_rank_k
from ..images import CompressionStep, ImageSVD, as_image_svd, compression_step, load_photo
from ..linalg import break_even_rank
from ..plotting import bilingual
from ._render import FigureImage
from ._static import GridControl, PageExplorer

__all__ = ["image_explorer", "image_explorer_static", "image_grid_figure", "STATIC_KS"]

#: The slider's positions in the HTML book: dense where the picture changes fast, up to p = 512.
STATIC_KS = (1, 2, 3, 4, 5, 7, 10, 14, 20, 28, 40, 50, 70, 100, 140, 200, 280, 400, 512)
ERROR_LIMIT = 0.3    # the error map's colour scale: A − A_k from −0.3 (blue) to +0.3 (red)
JPEG_QUALITY = 90    # photographs: JPEG encodes ~15× faster than PNG at a fifth of the bytes
def _caption(step: CompressionStep, m: int, n: int) -> str:
    """The HTML label beside the images: one line per language (the book's switch picks one)."""
    k_star = break_even_rank(m, n)
    db = "∞" if np.isinf(step.psnr) else f"{step.psnr:.1f}"
    over = step.k > k_star
    en = (f"k = {step.k} · storage k(m+n+1) = {step.storage:,} numbers (image: {m * n:,}) · "
          f"compression ratio {step.ratio:.2f}× · PSNR {db} dB · energy kept "
          f"{100 * step.energy:.2f} % · break-even k* = {k_star:.2f}"
          + (" · <b>k &gt; k*: the factors are bigger than the image</b>" if over else ""))
    zh = (f"k = {step.k} · 儲存量 k(m+n+1) = {step.storage:,} 個數字（原圖 {m * n:,} 個）· "
          f"壓縮比 {step.ratio:.2f} 倍 · PSNR {db} dB · 保留能量 {100 * step.energy:.2f} % · "
          f"損益平衡秩 k* = {k_star:.2f}" + (" · <b>k &gt; k*：因子比原圖還大</b>" if over else ""))
    return f'<div class="lang-en">{en}</div><div class="lang-zh">{zh}</div>'


def image_explorer(A: np.ndarray | ImageSVD | None = None, k: int = 20) -> widgets.VBox:
    """A slider for k; the original, the rank-k image A_k and the error A − A_k, blitted.

    ``A`` is a greyscale image, or its ``image_svd`` (to share one SVD), and defaults to the
    shipped photograph. The returned box exposes ``update``, ``slider``, ``caption``, ``svd``,
    ``view``, ``step`` (the last ``CompressionStep``) and ``artists`` (the AxesImage of A_k and
    of the error) for tests and benchmarks. Used in chapter 3, "Image compression".
    """
    svd = as_image_svd(A)
    m, n = svd.shape
    k = check_rank_k(k, (m, n))
    slider = widgets.IntSlider(value=k, min=1, max=min(m, n), description="k",
                               continuous_update=True)
    slider.layout.width = "60%"
    caption = widgets.HTML()
    view, show, artists = _image_view(svd, k)

    def update(_change=None) -> None:
        caption.value, box.step = show(slider.value)
        view.refresh()

    box = widgets.VBox([slider, caption, view.image])
    box.update, box.slider, box.caption, box.svd = update, slider, caption, svd
    box.view, box.artists = view, artists
    slider.observe(update, names="value")
    update()
    return box


def _image_view(svd: ImageSVD, k: int):
    """The explorer's figure (no widget): ``(view, show, artists)``, where ``show(k)`` redraws
    the rank-k image and the error and returns ``(caption_html, step)``."""
    m, n = svd.shape
    view = FigureImage(figsize=(9.6, 3.6), dpi=80, image_format="jpeg", jpeg_quality=JPEG_QUALITY)
    ax_a, ax_k, ax_e = view.figure.subplots(1, 3)
    ax_a.imshow(svd.A, cmap="gray", vmin=0, vmax=1)
    first = compression_step(svd, k)
    # Resample the data, then colour the smaller result: half the cost of the default ("rgba")
    # when downsampling, and the same picture for these linear colour maps.
    im_k = ax_k.imshow(first.A_k, cmap="gray", vmin=0, vmax=1, interpolation_stage="data")
    im_e = ax_e.imshow(first.error, cmap="RdBu_r", vmin=-ERROR_LIMIT, vmax=ERROR_LIMIT,
                       interpolation_stage="data")
    view.figure.colorbar(im_e, ax=ax_e, shrink=0.8)
    for ax, title in ((ax_a, bilingual("original A", "原圖 A")),
                      (ax_k, bilingual("rank-k image A_k", "秩 k 影像 A_k")),
                      (ax_e, bilingual("error A − A_k", "誤差 A − A_k"))):
        ax.set_title(title)
        ax.set_axis_off()
    view.animate([im_k, im_e])

    def show(q: int) -> tuple[str, CompressionStep]:
        step = compression_step(svd, q)
        im_k.set_data(step.A_k)
        im_e.set_data(step.error)
        return _caption(step, m, n), step

    return view, show, (im_k, im_e)


def image_grid_figure(A: np.ndarray | ImageSVD | None = None,
                      ks: tuple[int, ...] = (1, 5, 20, 50, 100)) -> plt.Figure:
    """The explorer's static twin: the image and its rank-k reconstructions, PSNR and ratio above each.

    ``A`` as in ``image_explorer``. Used in chapter 3, "Image compression".
    """
    if not isinstance(A, ImageSVD):
        A = as_matrix(load_photo() if A is None else A)
    m, n = A.shape
    ks = tuple(check_rank_k(k, (m, n)) for k in ks)
    if not ks:
        raise ValueError("ks must hold at least one rank k")
    svd = as_image_svd(A)
    cols = min(3, len(ks) + 1)
    rows = -(-(len(ks) + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.6 * rows), squeeze=False)
    panels = axes.ravel()
    panels[0].imshow(svd.A, cmap="gray", vmin=0, vmax=1)
    panels[0].set_title(bilingual("original", "原圖") + f"\n{m}×{n} = {m * n:,}", fontsize=9)
    for ax, k in zip(panels[1:], ks):
        step = compression_step(svd, k)
        ax.imshow(np.clip(step.A_k, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"k = {k} · PSNR {step.psnr:.1f} dB\n"
                     + bilingual("compression ratio", "壓縮比") + f" {step.ratio:.1f}×", fontsize=9)
    for ax in panels:
        ax.set_axis_off()
    return fig


def image_explorer_static(A: np.ndarray | ImageSVD | None = None, ks: tuple[int, ...] = STATIC_KS,
                          k: int = 20) -> PageExplorer:
    """The explorer for the HTML book: a slider over ``ks`` whose every position was drawn in
    advance (by ``image_explorer`` itself), switched in the page with no kernel. Used in
    chapter 3. At the default 19 positions the page carries about 0.9 MB of pictures.
    """
    svd = as_image_svd(A)
    m, n = svd.shape
    ks = tuple(check_rank_k(q, (m, n), "ks entries") for q in ks)
    if list(ks) != sorted(set(ks)) or k not in ks:
        raise ValueError(f"ks must be increasing and contain k = {k}, got {ks}")
    view, show, _ = _image_view(svd, ks[0])              # the live explorer's figure
    views = {}
    for i, q in enumerate(ks):
        caption, _ = show(q)
        views[(i,)] = (view.encode(), "jpeg", caption)
    return PageExplorer([GridControl("k", ks, k, "rank k of the approximation", "近似的秩 k")],
                        views)
