"""The one set of input checks of the package: clear errors that name the argument and what was
expected. Every public function checks its arguments here, once, at its boundary.

One rule per kind of argument:

- **integer** (``check_int``): a Python ``int`` or a NumPy integer. Refused: ``bool``, every float
  (also ``3.0``), strings, anything else.
- **real number** (``check_real``): a Python or NumPy ``int``/``float``, finite. Refused: ``bool``,
  complex numbers, strings.
- **flag** (``check_bool``): ``True`` or ``False`` (NumPy's ``bool_`` too). Refused: strings such as
  ``"False"``, numbers.
- **matrix** (``as_matrix``) and **singular values** (``as_singular_values``): real, finite,
  non-empty NumPy data (or lists of numbers). Refused: complex, text and object arrays.
- **floating-point precision** (``check_float_dtype``): None, ``numpy.float32`` or
  ``numpy.float64`` (the type, its ``numpy.dtype`` or its name). Refused: other dtypes, numbers.

(Exercise checkers read a *learner's* answer with a more forgiving reader, ``exercises.core``:
"4,096" and 3.0 are fine answers there, and bad ones get feedback rather than an error.)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_int",
    "check_positive_int",
    "check_real",
    "check_positive_number",
    "check_bool",
    "check_seed",
    "check_float_dtype",
    "as_array",
    "as_matrix",
    "as_singular_values",
    "check_rank_k",
]


def check_int(value: object, name: str, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int if it is a Python or NumPy integer in [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise _out_of_range(name, value, "an integer", low, high, False, False)
    return value


def _out_of_range(name: str, value: float, kind: str, low: float | None, high: float | None,
                  low_open: bool, high_open: bool) -> ValueError:
    """"r must be an integer >= 1, got r=0" / "p must satisfy 0 <= p < 1, got p=1.0"."""
    symbol = name.split(" (")[0]          # "steps" of "steps (more than config.warmup_steps)"
    below, above = ("<" if low_open else "<="), ("<" if high_open else "<=")
    if high is None:
        bound = f"be {kind} {'>' if low_open else '>='} {low:g}"
    elif low is None:
        bound = f"be {kind} {above} {high:g}"
    else:
        bound = f"satisfy {low:g} {below} {symbol} {above} {high:g}"
    return ValueError(f"{name} must {bound}, got {symbol}={value!r}")


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is an integer >= 1 (``check_int(value, name, low=1)``)."""
    return check_int(value, name, low=1)


def check_real(value: object, name: str, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number in the interval given.

    ``low_open`` / ``high_open`` exclude the end points: ``check_real(p, "p", 0, 1, high_open=True)``
    asks for 0 <= p < 1.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating,
                                                                     np.integer)):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {name}={value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        raise _out_of_range(name, value, "a number", low, high, low_open, high_open)
    return value


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite real number > 0."""
    return check_real(value, name, low=0.0, low_open=True)


def check_bool(value: object, name: str) -> bool:
    """Return ``value`` if it is True or False; refuse strings ("False" is text, not false)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_seed(seed: object, name: str = "seed", allow_generator: bool = False) -> object:
    """A seed: None, an integer >= 0 or (when ``allow_generator``) a ``numpy.random.Generator``."""
    if seed is None or (allow_generator and isinstance(seed, np.random.Generator)):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        what = "an integer >= 0, a numpy Generator or None" if allow_generator else \
            "an integer >= 0 or None"
        raise TypeError(f"{name} must be {what}, got {seed!r}")
    return check_int(seed, name, low=0)


def check_float_dtype(value: object, name: str = "dtype") -> np.dtype | None:
    """None, or ``value`` as the native dtype float32 or float64 (a type, a dtype or its name)."""
    if value is None:
        return None
    dtype = None
    if isinstance(value, (type, np.dtype, str)):   # not a number: np.dtype(np.float64(2)) works
        try:
            dtype = np.dtype(value)
        except (TypeError, ValueError):
            dtype = None
    if dtype is not None and dtype.type in (np.float32, np.float64):
        return np.dtype(dtype.type)
    got = dtype.name if dtype is not None else repr(value)
    error = ValueError if dtype is not None else TypeError
    raise error(f"{name} must be numpy.float32 or numpy.float64 (or None), got {name}={got}")


def _real_array(x: object, name: str, what: str) -> np.ndarray:
    """``x`` as a NumPy array of real numbers (bool included), or a TypeError naming ``name``."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:   # ragged lists, objects NumPy cannot hold
        raise TypeError(f"{name} must be an array of real numbers ({what}), got "
                        f"{type(x).__name__} that NumPy cannot read as one") from exc
    if np.iscomplexobj(a):
        raise TypeError(f"{name} must be real; this book works with real numbers, got dtype {a.dtype}")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers ({what}), got dtype {a.dtype}")
    return a


def as_array(x: object, name: str, ndims: tuple[int, ...], what: str) -> np.ndarray:
    """``x`` as a finite, real, non-empty float array (float32 kept) with ``ndim`` in ``ndims``.

    ``what`` names the expected thing in the error ("2-D (a matrix)", "an (m, n, 3) image" …).
    """
    a = _real_array(x, name, what)
    if a.ndim not in ndims:
        raise ValueError(f"{name} must be {what}, got an array with shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    a = a.astype(np.float64, copy=False) if a.dtype not in (np.float32, np.float64) else a
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return a


def as_matrix(A: object, name: str = "A") -> np.ndarray:
    """Return A as a finite, real, 2-D float array (float32 kept), or raise naming ``name``."""
    return as_array(A, name, (2,), "2-D (a matrix)")


def as_singular_values(s: object, name: str = "s") -> np.ndarray:
    """Return s as a 1-D float array of finite, non-negative numbers, in the order given."""
    v = _real_array(s, name, "1-D")
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of singular values, got shape {v.shape}")
    v = v.astype(np.float64, copy=False)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    if np.any(v < 0):
        raise ValueError(f"{name} must be non-negative (singular values are >= 0)")
    return v


def check_rank_k(k: object, shape: tuple[int, ...], name: str = "k") -> int:
    """Return k if it is an integer with 1 <= k <= min(shape), else raise naming ``name``."""
    kmax = min(shape)
    k = check_int(k, name)
    if not 1 <= k <= kmax:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= min(m, n) = {kmax}, got {name}={k}")
    return k
