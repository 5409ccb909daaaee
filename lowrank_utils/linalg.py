"""Rank, the SVD and low-rank approximation: the linear algebra of chapters 1-3.

Conventions (as in the book): ``A`` is m×n, ``s`` holds the singular values in descending order,
``Vh`` is what NumPy's ``svd`` returns, that is Vᵀ (its *rows* are the right singular vectors),
``r`` is a rank and ``k`` a truncation rank.

References: Eckart & Young (1936); Mirsky (1960); Halko, Martinsson & Tropp (2011).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import (
    as_matrix,
    as_singular_values,
    check_int,
    check_positive_int,
    check_rank_k,
    check_real,
    check_seed,
)

#: Upper bound on ``randomized_svd``'s power iterations: beyond a few dozen they change nothing
#: (each one squares the decay of the spectrum again) and only cost time.
MAX_POWER_ITERATIONS = 100

__all__ = [
    "numerical_rank",
    "default_tolerance",
    "rank_factorization",
    "truncated_svd",
    "best_rank_k",
    "approximation_error",
    "energy_retained",
    "k_for_energy",
    "storage_cost",
    "compression_ratio",
    "break_even_rank",
    "randomized_svd",
    "FourSubspaces",
    "four_subspaces",
]


def default_tolerance(A: np.ndarray, s: np.ndarray | None = None) -> float:
    """NumPy's rank tolerance σ_max · max(m, n) · eps, for A's dtype.

    Used in chapter 1, section "Numerical rank".
    """
    A = as_matrix(A)
    if s is None:
        s = np.linalg.svd(A, compute_uv=False)
    else:
        s = as_singular_values(s)
        if s.size != min(A.shape):
            raise ValueError(f"s must hold the min(m, n) = {min(A.shape)} singular values of A, "
                             f"got {s.size}")
    eps = np.finfo(A.dtype).eps
    return float(s.max(initial=0.0) * max(A.shape) * eps)


def numerical_rank(A: np.ndarray, tol: float | None = None) -> int:
    """Number of singular values of A above ``tol`` (default: σ_max · max(m, n) · eps).

    Used in chapter 1 ("Numerical rank"). Agrees with ``np.linalg.matrix_rank`` for the default tol.
    """
    A = as_matrix(A)
    s = np.linalg.svd(A, compute_uv=False)
    if tol is None:
        tol = default_tolerance(A, s)
    else:
        tol = check_real(tol, "tol (a number >= 0, or None)", low=0.0)
    return int(np.sum(s > tol))


def rank_factorization(A: np.ndarray, tol: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rank factorisation A = L @ R with L m×r and R r×n, r = numerical_rank(A, tol).

    Built from the SVD: L = U_r Σ_r (scaled left singular vectors), R = Vh_r. Used in chapter 1,
    section "Rank factorisation". A zero matrix has rank 0: L is m×0 and R is 0×n.
    """
    A = as_matrix(A)
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    r = numerical_rank(A, tol)
    L = U[:, :r] * s[:r]          # (m, r): column j scaled by σ_j
    R = Vh[:r, :]                 # (r, n)
    return L, R


def truncated_svd(A: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k leading singular triplets of A: (U_k m×k, s_k of shape (k,), Vh_k k×n), s descending.

    Used in chapters 2-3 and 5. Raises ValueError unless 1 <= k <= min(m, n).
    """
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vh[:k, :]


def best_rank_k(A: np.ndarray, k: int) -> np.ndarray:
    """Best rank-k approximation of A in the Frobenius and spectral norms (Eckart–Young).

    Used in chapter 3, section "Eckart–Young". Raises ValueError unless 1 <= k <= min(A.shape).
    """
    U_k, s_k, Vh_k = truncated_svd(A, k)
    return (U_k * s_k) @ Vh_k     # (m, k) @ (k, n) -> (m, n)


def approximation_error(A: np.ndarray, k: int, norm: str | int = "fro") -> float:
    """‖A − A_k‖ for the best rank-k approximation A_k, from the singular values alone.

    norm="fro": sqrt(Σ_{i>k} σ_i²); norm=2: σ_{k+1} (0 when k = min(m, n)). Used in chapter 3.
    """
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    if norm not in ("fro", 2) or isinstance(norm, bool):
        raise ValueError(f"norm must be 'fro' or 2, got {norm!r}")
    s = np.linalg.svd(A, compute_uv=False)
    tail = s[k:]
    if norm == 2 or not tail.size or tail[0] == 0:
        return float(tail[0]) if tail.size else 0.0
    return float(tail[0] * np.sqrt(np.sum((tail / tail[0]) ** 2)))   # scaled: no overflow in σ²


def energy_retained(s: np.ndarray, k: int) -> float:
    """Share of the energy kept by the first k singular values: Σ_{i≤k} σ_i² / Σ σ_i².

    It equals 1 − ‖A − A_k‖_F² / ‖A‖_F². Used in chapter 3, section "Choosing k".
    """
    s = as_singular_values(s)
    k = check_int(k, "k", low=1, high=s.size)
    s2 = _scaled_squares(s)                  # σ_i² / σ_max², descending: no overflow
    return float(np.sum(s2[:k]) / np.sum(s2))


def k_for_energy(s: np.ndarray, fraction: float) -> int:
    """Smallest k whose retained energy is at least ``fraction`` (0 < fraction <= 1).

    Used in chapter 3 ("Choosing k") and its exercises.
    """
    s = as_singular_values(s)
    fraction = check_real(fraction, "fraction", low=0.0, high=1.0, low_open=True)
    s2 = _scaled_squares(s)
    cumulative = np.cumsum(s2) / np.sum(s2)
    # A tiny slack so that fraction=1.0 is reached despite rounding in the cumulative sum.
    return int(np.searchsorted(cumulative, fraction - 1e-12) + 1)


def _scaled_squares(s: np.ndarray) -> np.ndarray:
    """(σ_i / σ_max)², sorted descending: energies whose ratios do not overflow or underflow."""
    s = np.sort(s)[::-1]
    if s[0] == 0.0:
        raise ValueError("s must not be all zeros: the energy of a zero matrix is 0")
    return (s / s[0]) ** 2


def _check_shape_and_k(m: object, n: object, k: object) -> tuple[int, int, int]:
    m = check_positive_int(m, "m")
    n = check_positive_int(n, "n")
    k = check_rank_k(k, (m, n))
    return m, n, k


def storage_cost(m: int, n: int, k: int) -> int:
    """Numbers stored by a rank-k SVD of an m×n matrix: k(m + n + 1) (U_k, Vh_k and s_k).

    Used in chapter 1 (parameter count) and chapter 3 (image compression).
    """
    m, n, k = _check_shape_and_k(m, n, k)
    return k * (m + n + 1)


def compression_ratio(m: int, n: int, k: int) -> float:
    """m·n / storage_cost(m, n, k): how many times fewer numbers the rank-k SVD stores.

    Above 1 the factors are smaller than the matrix. Used in chapter 3.
    """
    m, n, k = _check_shape_and_k(m, n, k)
    return (m * n) / (k * (m + n + 1))


def break_even_rank(m: int, n: int) -> float:
    """k* = mn / (m + n + 1): below it the rank-k factors are smaller than the m×n matrix.

    Used in chapter 3 ("Image compression").
    """
    m = check_positive_int(m, "m")
    n = check_positive_int(n, "n")
    return m * n / (m + n + 1)


def randomized_svd(
    A: np.ndarray,
    k: int,
    oversample: int = 10,
    n_iter: int = 2,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate truncated SVD by random projection (Halko, Martinsson & Tropp, 2011).

    Returns (U m×k, s (k,), Vh k×n) like ``truncated_svd``. The sketch has k + oversample columns
    (at most min(m, n)); ``n_iter`` power iterations, each re-orthonormalised, sharpen a slowly
    decaying spectrum. Used in chapter 3, section "Randomized SVD".
    """
    A = as_matrix(A)
    m, n = A.shape
    k = check_rank_k(k, A.shape)
    oversample = check_int(oversample, "oversample", low=0)
    n_iter = check_int(n_iter, "n_iter", low=0, high=MAX_POWER_ITERATIONS)
    seed = check_seed(seed, allow_generator=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    scale = float(np.max(np.abs(A)))                # work with A / max|a_ij|: products of
    if scale == 0.0:                                # entries near 1e307 would overflow
        scale = 1.0
    A = A / scale

    ell = min(k + oversample, m, n)                 # sketch width
    Omega = rng.standard_normal((n, ell)).astype(A.dtype, copy=False)   # (n, ell)
    Q, _ = np.linalg.qr(A @ Omega)                  # (m, ell): a basis for A's dominant range
    for _ in range(n_iter):                         # power iterations: (A Aᵀ)^q A Ω
        W, _ = np.linalg.qr(A.T @ Q)                # (n, ell)
        Q, _ = np.linalg.qr(A @ W)                  # (m, ell)
    B = Q.T @ A                                     # (ell, n): A projected on the sketch
    U_B, s, Vh = np.linalg.svd(B, full_matrices=False)
    U = Q @ U_B                                     # (m, ell)
    return U[:, :k], scale * s[:k], Vh[:k, :]


class FourSubspaces(NamedTuple):
    """Orthonormal bases (as columns) of the four fundamental subspaces of an m×n matrix of rank r."""

    column: np.ndarray      # (m, r)     C(A)  = span of u_1 … u_r
    left_null: np.ndarray   # (m, m - r) N(Aᵀ) = span of u_{r+1} … u_m
    row: np.ndarray         # (n, r)     C(Aᵀ) = span of v_1 … v_r
    null: np.ndarray        # (n, n - r) N(A)  = span of v_{r+1} … v_n

    @property
    def rank(self) -> int:
        """r, the number of columns of the column-space basis."""
        return self.column.shape[1]


def four_subspaces(A: np.ndarray, tol: float | None = None) -> FourSubspaces:
    """Orthonormal bases of the column, left null, row and null spaces of A, from its full SVD.

    r = numerical_rank(A, tol). The bases are columns: the column and left null spaces come from
    the columns of U; the row and null spaces from the *rows* of ``Vh`` (NumPy returns Vᵀ, not V),
    transposed into columns. Used in chapter 2, section "The four fundamental subspaces".
    """
    A = as_matrix(A)
    r = numerical_rank(A, tol)
    U, _, Vh = np.linalg.svd(A, full_matrices=True)    # U (m, m), Vh (n, n)
    return FourSubspaces(
        column=U[:, :r],          # (m, r)
        left_null=U[:, r:],       # (m, m - r)
        row=Vh[:r, :].T,          # (n, r): rows of Vh are the right singular vectors
        null=Vh[r:, :].T,         # (n, n - r)
    )
