"""Images as matrices: the photograph the book ships, PSNR, and colour images channel by channel.

The photograph is Grace Hopper's portrait that matplotlib bundles in its sample data
(``grace_hopper.jpg``, 600 rows × 512 columns): nothing is downloaded. Pixel values are floats
in [0, 1]. Greyscale uses the ITU-R BT.601 luminance weights (0.299, 0.587, 0.114), the same
as Pillow's ``convert("L")``. Used in chapter 3 ("Choosing k", "Image compression").
"""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ._validate import as_int, check_positive_number
from .linalg import best_rank_k

__all__ = [
    "PHOTO",
    "LUMINANCE",
    "load_photo",
    "to_grayscale",
    "psnr",
    "psnr_from_sse",
    "reconstruct_color",
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
    except (FileNotFoundError, ValueError) as exc:
        raise ValueError(f"name must be an image in matplotlib's sample data, got {name!r}") from exc
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))     # (height, width, 3) uint8
    pixels.flags.writeable = False
    return pixels


def load_photo(color: bool = False, name: str = PHOTO) -> np.ndarray:
    """The shipped photograph as floats in [0, 1]: (600, 512) greyscale, or (600, 512, 3) colour.

    Greyscale is the luminance ``rgb @ LUMINANCE``. Returns a fresh array on every call (the file
    is read once). Used in chapter 3.
    """
    if not isinstance(color, (bool, np.bool_)):
        raise TypeError(f"color must be True or False, got {color!r}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a file name (str), got {name!r}")
    rgb = _read_sample(name).astype(np.float64) / 255.0   # (m, n, 3) in [0, 1]
    return rgb if color else to_grayscale(rgb)


def to_grayscale(rgb: np.ndarray) -> np.ndarray:
    """Luminance of an (m, n, 3) colour image: ``rgb @ LUMINANCE`` (ITU-R BT.601), shape (m, n)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must have shape (m, n, 3), got {rgb.shape}")
    if not np.issubdtype(rgb.dtype, np.number) or np.iscomplexobj(rgb):
        raise TypeError(f"rgb must hold real numbers, got dtype {rgb.dtype}")
    return rgb.astype(np.float64, copy=False) @ LUMINANCE       # (m, n)


def _as_image(x: object, name: str) -> np.ndarray:
    """A real, finite 2-D (greyscale) or 3-D (colour) float array."""
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) \
            or np.iscomplexobj(a):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3) or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D (greyscale) or 3-D (colour) image, "
                         f"got shape {a.shape}")
    a = a.astype(np.float64, copy=False)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return a


def psnr_from_sse(sse: float, size: int, peak: float = 1.0) -> float:
    """PSNR from a sum of squared errors over ``size`` pixel values: 10 log₁₀(peak² · size / sse).

    ``sse = 0`` gives ``inf``. Lets the chapter-3 widget and the Eckart–Young identity
    (sse = Σ_{i>k} σ_i²) share one formula with ``psnr``.
    """
    peak = check_positive_number(peak, "peak")
    size = as_int(size, "size")
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    if isinstance(sse, bool) or not isinstance(sse, numbers.Real) or not math.isfinite(sse) \
            or sse < 0:
        raise ValueError(f"sse must be a finite number >= 0, got {sse!r}")
    if sse == 0:
        return math.inf
    return 10.0 * math.log10(peak * peak * size / float(sse))


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
