"""Images as matrices: the photograph the book ships, PSNR, colour images channel by channel, and
the image SVD cache behind chapter 3's slider (``ImageSVD``, ``compression_step``).

The photograph is Grace Hopper's portrait that matplotlib bundles in its sample data
(``grace_hopper.jpg``, 600 rows × 512 columns): nothing is downloaded. Pixel values are floats
in [0, 1]. Greyscale uses the ITU-R BT.601 luminance weights (0.299, 0.587, 0.114), the same
as Pillow's ``convert("L")``. Used in chapter 3 ("Choosing k", "Image compression").
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from ._validate import (as_array, as_matrix, check_bool, check_positive_int,
                        check_positive_number, check_rank_k, check_real)
from .linalg import best_rank_k

__all__ = [
    "PHOTO",
    "LUMINANCE",
    "load_photo",
    "to_grayscale",
    "psnr",
    "psnr_from_sse",
    "reconstruct_color",
    "ImageSVD",
    "CompressionStep",
    "image_svd",
    "compression_step",
    "as_image_svd",
]

#: The photograph of chapter 3, from matplotlib's sample data.
PHOTO = "grace_hopper.jpg"

#: ITU-R BT.601 luminance weights for (red, green, blue); they sum to 1.
LUMINANCE = np.array([0.299, 0.587, 0.114])
LUMINANCE.flags.writeable = False


@functools.lru_cache(maxsize=4)
def _read_sample(name: str) -> np.ndarray:
    """Read an image of matplotlib's sample data as uint8 (height, width, 3); cached."""
    import matplotlib.cbook as cbook
    from PIL import Image

    try:
        path = cbook.get_sample_data(name, asfileobj=False)
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))     # (height, width, 3) uint8
    except (OSError, ValueError) as exc:       # missing file, not an image (PIL: OSError)
        raise ValueError(f"name must be an image in matplotlib's sample data (such as "
                         f"{PHOTO!r}), got {name!r}") from exc
    pixels.flags.writeable = False
    return pixels


def load_photo(color: bool = False, name: str = PHOTO) -> np.ndarray:
    """The shipped photograph as floats in [0, 1]: (600, 512) greyscale, or (600, 512, 3) colour.

    Greyscale is the luminance ``rgb @ LUMINANCE``. Returns a fresh array on every call (the file
    is read once). Used in chapter 3.
    """
    color = check_bool(color, "color")
    if not isinstance(name, str):
        raise TypeError(f"name must be a file name (str), got {name!r}")
    rgb = _read_sample(name).astype(np.float64) / 255.0   # (m, n, 3) in [0, 1]
    return rgb if color else to_grayscale(rgb)


def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """Luminance of an (m, n, 3) colour image: ``rgb @ LUMINANCE`` (ITU-R BT.601), shape (m, n)."""
    rgb = as_array(rgb, "rgb", (3,), "an (m, n, 3) colour image")
    if rgb.shape[2] != 3:
        raise ValueError(f"rgb must have shape (m, n, 3), got {rgb.shape}")
    return rgb.astype(np.float64, copy=False) @ LUMINANCE       # (m, n)


def _as_image(x: object, name: str) -> np.ndarray:
    """A real, finite 2-D (greyscale) or 3-D (colour) float array."""
    return as_array(x, name, (2, 3), "a 2-D (greyscale) or 3-D (colour) image").astype(
        np.float64, copy=False)


def psnr_from_sse(sse: float, size: int, peak: float = 1.0) -> float:
    """PSNR from a sum of squared errors over ``size`` pixel values: 10 log₁₀(peak² · size / sse).

    ``sse = 0`` gives ``inf``. Lets the chapter-3 widget and the Eckart–Young identity
    (sse = Σ_{i>k} σ_i²) share one formula with ``psnr``.
    """
    return _psnr(check_real(sse, "sse", low=0.0), check_positive_int(size, "size"),
                 check_positive_number(peak, "peak"))


def _psnr(sse: float, size: int, peak: float) -> float:
    """``psnr_from_sse`` without the checks (the slider's hot path checks k once, nothing else)."""
    if sse == 0:
        return math.inf
    return 10.0 * (2 * math.log10(peak) + math.log10(size) - math.log10(sse))   # no peak² overflow


def psnr(reference: np.ndarray, approximation: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: 10 log₁₀(peak² / MSE), MSE over every pixel (and channel).

    Identical images give ``inf`` (no error at all). Higher is better; about 30 dB and above
    looks close to the original to most eyes. ``peak`` is the largest possible pixel value
    (1.0 for the book's float images, 255 for uint8). Used in chapter 3, "Image compression".
    """
    reference = _as_image(reference, "reference")
    approximation = _as_image(approximation, "approximation")
    if reference.shape != approximation.shape:
        raise ValueError(f"reference and approximation must have the same shape, got "
                         f"{reference.shape} and {approximation.shape}")
    diff = (reference - approximation).ravel()
    return psnr_from_sse(float(np.dot(diff, diff)), diff.size, peak)


def reconstruct_color(image: np.ndarray, k: int) -> np.ndarray:
    """Best rank-k approximation of each colour channel of an (m, n, 3) image, stacked again.

    Storage is 3·k(m + n + 1) numbers, so the compression ratio equals that of one channel.
    Values are not clipped (clip to [0, 1] only to display). Used in chapter 3, "Colour images".
    """
    image = _as_image(image, "image")
    if image.ndim != 3:
        raise ValueError(f"image must be a colour image of shape (m, n, channels), got {image.shape}")
    return np.stack([best_rank_k(image[:, :, c], k) for c in range(image.shape[2])], axis=2)


BLOCK = 32   # image_svd stores A_k every BLOCK ranks: a slider move multiplies at most BLOCK / 2 factors


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
        return self._split(check_rank_k(k, self.A.shape))

    def _split(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``split`` for a k already checked (``compression_step`` checks it once)."""
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
    if s[0] == 0.0:
        raise ValueError("A must not be all zeros: a blank image has nothing to compress")
    s2 = (s / s[0]) ** 2                      # σ_i² / σ_1²: energies without under- or overflow
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
    return ImageSVD(A=A, U=U, s=s, Vh=Vh, Us=Us, energy=np.cumsum(s2) / np.sum(s2), grid=grid,
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

    Used by ``widgets.image_explorer``, chapter 3 and ``benchmarks/bench_svd.py``. k is checked
    once; storage k(m + n + 1), the ratio m·n / storage and the PSNR are the formulas of
    ``storage_cost``, ``compression_ratio`` and ``psnr_from_sse`` (the tests check they agree).
    """
    if not isinstance(svd, ImageSVD):
        raise TypeError(f"svd must be an ImageSVD (from image_svd), got {type(svd).__name__}")
    m, n = svd.shape
    k = check_rank_k(k, (m, n))
    A_k, error = svd._split(k)                        # (m, n), (m, n)
    flat = error.ravel()
    storage = k * (m + n + 1)
    return CompressionStep(
        k=k, A_k=A_k, error=error, storage=storage, ratio=m * n / storage,
        psnr=_psnr(float(np.dot(flat, flat)), flat.size, 1.0),
        energy=float(svd.energy[k - 1]),
    )


def as_image_svd(A: np.ndarray | ImageSVD | None) -> ImageSVD:
    """The photo by default; an image's SVD, computed once; an ``ImageSVD`` as it is."""
    if isinstance(A, ImageSVD):
        return A
    return image_svd(load_photo() if A is None else A)


