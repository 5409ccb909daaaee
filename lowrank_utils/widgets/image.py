"""Chapter 3 widget: compress a photograph with its truncated SVD and slide the rank k.

The SVD is computed once (``image_svd``), together with block prefix sums of the outer-product
expansion: the partial sums A_k at k = 0, 32, 64, …, p (p = min(m, n)). A slider move then costs
one matrix product of at most 16 factors, from the nearest stored A_k to the one asked for, and
one subtraction for the error map (``compression_step``, testable without a browser). The view
blits two ``AxesImage`` artists (reconstruction and error) into one persistent figure through
``FigureImage``; the numbers that change (k, storage, compression ratio, PSNR, energy) go in an
HTML label beside it. ``image_grid_figure`` is the static twin for the HTML book.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import as_matrix, check_positive_int, check_rank_k
from ..images import load_photo, psnr_from_sse
from ..linalg import break_even_rank, compression_ratio, storage_cost
from ..plotting import bilingual
from ._render import FigureImage

__all__ = [
    "ImageSVD",
    "CompressionStep",
    "image_svd",
    "compression_step",
    "image_explorer",
    "image_grid_figure",
]

ERROR_LIMIT = 0.3    # the error map's colour scale: A − A_k from −0.3 (blue) to +0.3 (red)
JPEG_QUALITY = 90    # photographs: JPEG encodes ~15× faster than PNG at a fifth of the bytes
BLOCK = 32           # A_k is stored every BLOCK ranks: a move multiplies at most BLOCK / 2 factors


@dataclass(frozen=True)
class ImageSVD:
    """A greyscale image, its SVD and stored partial sums, computed once: A = (U * s) @ Vh."""

    A: np.ndarray            # (m, n) the image
    U: np.ndarray            # (m, p) left singular vectors, p = min(m, n)
    s: np.ndarray            # (p,) singular values, descending
    Vh: np.ndarray           # (p, n) right singular vectors as rows
    Us: np.ndarray = field(repr=False)        # (m, p) U scaled by s: column i is σ_i u_i
    energy: np.ndarray = field(repr=False)    # (p,) cumulative Σ_{i≤k} σ_i² / Σ σ_i²
    grid: np.ndarray = field(repr=False)      # (g,) ranks 0, BLOCK, 2·BLOCK, …, p
    partial: tuple[np.ndarray, ...] = field(repr=False)   # A_k for k in grid[1:], each (m, n)

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    def split(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(A_k, A − A_k): the nearest stored partial sum plus or minus one product.

        With k₀ the nearest rank in ``grid``, A_k = A_{k₀} + Σ_{k₀<i≤k} σ_i u_i v_iᵀ (or minus the
        terms k < i ≤ k₀), a product of |k − k₀| ≤ BLOCK / 2 factors. A_p is A itself.
        """
        k = check_rank_k(k, self.A.shape)
        j = int(np.argmin(np.abs(self.grid - k)))
        k0 = int(self.grid[j])
        if k0 == 0:
            A_k = self.Us[:, :k] @ self.Vh[:k, :]                          # (m, k) @ (k, n)
        elif k > k0:
            A_k = self.Us[:, k0:k] @ self.Vh[k0:k, :]                      # (m, n): added terms
            A_k += self.partial[j - 1]                                    # in place: no new array
        elif k < k0:
            A_k = self.Us[:, k:k0] @ self.Vh[k:k0, :]                      # (m, n): removed terms
            np.subtract(self.partial[j - 1], A_k, out=A_k)
        else:
            A_k = self.partial[j - 1].copy()                              # never hand out the cache
        return A_k, self.A - A_k                                          # (m, n), (m, n)

    def reconstruct(self, k: int) -> np.ndarray:
        """A_k, the best rank-k approximation of the image, (m, n)."""
        return self.split(k)[0]


def image_svd(A: np.ndarray, block: int = BLOCK) -> ImageSVD:
    """Compute the SVD of a greyscale image once, and A_k every ``block`` ranks (prefix sums).

    The partial sums cost about one extra full product and p / block images of memory (16 for
    the photo, about 40 MB). Used by ``compression_step`` and the explorer.
    """
    A = as_matrix(A)
    block = check_positive_int(block, "block")
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    s2 = s**2
    total = s2.sum()
    if total == 0.0:
        raise ValueError("A must not be all zeros: a blank image has nothing to compress")
    Us = np.asfortranarray(U * s)             # (m, p), column-major: column slices are contiguous
    p = s.size
    grid = np.unique(np.append(np.arange(0, p, block), p))                # 0, block, …, p
    partial, current = [], np.zeros_like(A)
    for k0, k1 in zip(grid[:-1], grid[1:]):
        if k1 == p:
            current = A                                                   # A_p = A exactly
        else:
            current = current + Us[:, k0:k1] @ Vh[k0:k1, :]               # (m, n)
        partial.append(current)
    return ImageSVD(A=A, U=U, s=s, Vh=Vh, Us=Us, energy=np.cumsum(s2) / total, grid=grid,
                    partial=tuple(partial))


@dataclass(frozen=True)
class CompressionStep:
    """What one slider position shows: the rank-k image, its error and its numbers."""

    k: int
    A_k: np.ndarray          # (m, n) best rank-k approximation
    error: np.ndarray        # (m, n) A − A_k
    storage: int             # k(m + n + 1) numbers
    ratio: float             # m·n / storage
    psnr: float              # dB, peak 1.0
    energy: float            # Σ_{i≤k} σ_i² / Σ σ_i²


def compression_step(svd: ImageSVD, k: int) -> CompressionStep:
    """The computation of one slider move: one small product and one subtraction (``split``).

    Used by ``image_explorer`` and its tests; storage, ratio and PSNR come from the same functions
    as everywhere else in the book (``storage_cost``, ``compression_ratio``, ``psnr``'s formula).
    """
    if not isinstance(svd, ImageSVD):
        raise TypeError(f"svd must be an ImageSVD (from image_svd), got {type(svd).__name__}")
    A_k, error = svd.split(k)                         # (m, n), (m, n)
    k = int(k)
    m, n = svd.shape
    flat = error.ravel()
    return CompressionStep(
        k=k, A_k=A_k, error=error,
        storage=storage_cost(m, n, k),
        ratio=compression_ratio(m, n, k),
        psnr=psnr_from_sse(float(np.dot(flat, flat)), flat.size),
        energy=float(svd.energy[k - 1]),
    )


def _as_image_svd(A: np.ndarray | ImageSVD | None) -> ImageSVD:
    """The photo by default; an image's SVD, computed once; an ``ImageSVD`` as it is."""
    if isinstance(A, ImageSVD):
        return A
    return image_svd(load_photo() if A is None else A)


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
    svd = _as_image_svd(A)
    m, n = svd.shape
    k = check_rank_k(k, (m, n))
    slider = widgets.IntSlider(value=k, min=1, max=min(m, n), description="k",
                               continuous_update=True)
    slider.layout.width = "60%"
    caption = widgets.HTML()

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

    def update(_change=None) -> None:
        step = compression_step(svd, slider.value)
        im_k.set_data(step.A_k)
        im_e.set_data(step.error)
        caption.value = _caption(step, m, n)
        box.step = step
        view.refresh()

    box = widgets.VBox([slider, caption, view.image])
    box.update, box.slider, box.caption, box.svd = update, slider, caption, svd
    box.view, box.artists = view, (im_k, im_e)
    slider.observe(update, names="value")
    update()
    return box


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
    svd = _as_image_svd(A)
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
