"""Input checks shared by the package: clear errors that name the argument and what was expected."""
from __future__ import annotations

import numbers

import numpy as np


def as_matrix(A: object, name: str = "A") -> np.ndarray:
    """Return A as a finite, real, 2-D float array, or raise a TypeError / ValueError naming `name`."""
    try:
        M = np.asarray(A)
    except Exception as exc:  # pragma: no cover - numpy rarely refuses
        raise TypeError(f"{name} must be a 2-D array of numbers, got {type(A).__name__}") from exc
    if M.dtype == object or not (np.issubdtype(M.dtype, np.number) or M.dtype == bool):
        raise TypeError(f"{name} must be a 2-D array of numbers, got dtype {M.dtype}")
    if np.iscomplexobj(M):
        raise TypeError(f"{name} must be real; this book works with real matrices, got dtype {M.dtype}")
    if M.ndim != 2:
        raise ValueError(f"{name} must be 2-D (a matrix), got an array with shape {M.shape}")
    if M.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {M.shape}")
    M = M.astype(np.float64, copy=False) if M.dtype not in (np.float32, np.float64) else M
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return M


def as_int(value: object, name: str) -> int:
    """Return value as a Python int, refusing bools, floats with a fraction, and non-numbers."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_rank_k(k: object, shape: tuple[int, ...], name: str = "k") -> int:
    """Return k if 1 <= k <= min(shape), else raise a ValueError naming `name` and the valid range."""
    k = as_int(k, name)
    kmax = min(shape)
    if not 1 <= k <= kmax:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= min(m, n) = {kmax}, got {name}={k}")
    return k


def check_positive_int(value: object, name: str) -> int:
    """Return value if it is an integer >= 1, else raise naming `name`."""
    value = as_int(value, name)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}")
    return value


def as_singular_values(s: object, name: str = "s") -> np.ndarray:
    """Return s as a 1-D array of finite, non-negative numbers, in the order given."""
    try:
        v = np.asarray(s, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of singular values (numbers)") from exc
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of singular values, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    if np.any(v < 0):
        raise ValueError(f"{name} must be non-negative (singular values are >= 0)")
    return v


def check_positive_number(value: object, name: str) -> float:
    """Return value as a float if it is a finite real number > 0, else raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
    return float(value)
