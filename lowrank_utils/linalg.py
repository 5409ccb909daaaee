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
    check_float_dtype,
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
    *,
    dtype: type | np.dtype | str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Approximate truncated SVD by random projection (Halko, Martinsson & Tropp, 2011).

    Returns (U m×k, s (k,), Vh k×n) like ``truncated_svd``. The sketch has k + oversample columns
    (at most min(m, n)); ``n_iter`` power iterations sharpen a slowly decaying spectrum, each
    re-orthonormalised once, on the short side of A (W ← orth(AᵀA W) for m >= n). Used in
    chapter 3, section "Randomized SVD", and ``benchmarks/bench_svd.py``.

    ``dtype``: None computes in A's precision (float32 input stays float32, anything else is
    float64); ``numpy.float32`` or ``numpy.float64`` (or its dtype or name) asks for one. U, s and
    Vh come in that precision; float32 is about 1.6× faster and accurate to about 1e-6 of σ_1.
    Both precisions draw the same sketch for the same seed. Entries near the float limits (1e307,
    1e-300) are safe: a product that over- or underflows makes it redo the work on A / max|a_ij|.
    """
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    oversample = check_int(oversample, "oversample", low=0)
    n_iter = check_int(n_iter, "n_iter", low=0, high=MAX_POWER_ITERATIONS)
    seed = check_seed(seed, allow_generator=True)
    work = check_float_dtype(dtype, "dtype") or A.dtype
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    A = A.astype(work, copy=False)
    m, n = A.shape
    G = A if m >= n else A.T                        # (M, N), M >= N: a view, never a copy
    ell = min(k + oversample, m, n)                 # sketch width
    Omega = rng.standard_normal((G.shape[1], ell)).astype(work, copy=False)   # (N, ell)
    scale = 1.0
    basis = _range_basis(G, Omega, n_iter, guarded=True)
    if basis is None:                               # a product over- or underflowed (entries
        scale = float(np.max(np.abs(G))) or 1.0     # near 1e307 or 1e-300): redo it on
        G = G / scale                               # A / max|a_ij|, the one copy of A
        basis = _range_basis(G, Omega, n_iter, guarded=False)
    Q, Bt = basis                                   # (M, ell) orthonormal; Bᵀ = Gᵀ Q (N, ell)
    Q_B, R_B = _qr(Bt)                              # (N, ell), (ell, ell)
    U_R, s, Vh_R = np.linalg.svd(R_B)               # B = Qᵀ G = Vh_Rᵀ diag(s) U_Rᵀ Q_Bᵀ
    left = Q @ Vh_R[:k].T                           # (M, k)
    right = (Q_B @ U_R[:, :k]).T                    # (k, N)
    s = scale * s[:k]
    return (left, s, right) if m >= n else (right.T, s, left.T)


#: Bytes of a block of rows of A in ``_times_gram``: small enough to stay in the cache between
#: its two products (2 MiB; 1 and 4 MiB measured the same in ``benchmarks/bench_svd.py``).
_BLOCK_BYTES = 2**21
#: CholeskyQR2 is trusted while its first pass loses at most this much orthogonality,
#: ‖Q₁ᵀQ₁ − I‖_F (about κ(Y)² · eps), so that κ(Q₁) <= 1.11; beyond it Householder QR takes over.
_CHOLESKY_QR_LOSS = 0.1
#: Bᵀ = (Gᵀ Y) R⁻¹ instead of Gᵀ Q adds a rounding error of about κ(Y) · eps · σ_1; it is used
#: while that stays below this fraction of σ_1 (float64 with κ(Y) <= 450; never in float32).
_SHORTCUT_ERROR = 1e-13


def _range_basis(G: np.ndarray, Omega: np.ndarray, n_iter: int,
                 guarded: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """(Q, Bᵀ): an orthonormal basis Q (M, ell) of the range of G (GᵀG)^q Ω, q = n_iter, and
    Bᵀ = Gᵀ Q (N, ell).

    A power iteration is W ← orth(Gᵀ G W) (N, ell), re-orthonormalised once, on the short side.
    The last pass computes Y = G W and Gᵀ Y together, so that Bᵀ = Gᵀ Y R⁻¹ (Y = QR) needs no
    further pass over A when Y is well conditioned. ``guarded``: None as soon as a product has
    overflowed (inf or NaN) or is too small to round safely, instead of checking A beforehand.
    """
    finfo = np.finfo(G.dtype)
    floor = float(finfo.tiny / finfo.eps) if guarded else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        W = Omega                                   # (N, ell)
        for _ in range(n_iter):
            W = _qr(_times_gram(G, W)[1], floor, orthonormal=False)[0]   # (N, ell)
            if W is None:
                return None
        Y, Z = _times_gram(G, W)                    # (M, ell) G W, (N, ell) Gᵀ G W
        Q, R = _qr(Y, floor)
        if Q is None or (guarded and not floor <= float(np.max(np.abs(Z))) < np.inf):
            return None
        if np.linalg.cond(R) * finfo.eps <= _SHORTCUT_ERROR:
            return Q, Z @ np.linalg.inv(R)          # Gᵀ Q = Gᵀ Y R⁻¹
    return Q, G.T @ Q


def _times_gram(G: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G W, Gᵀ G W), (M, ell) and (N, ell), in one pass over G: each block of rows meets W and
    then, still in the cache, its own transpose (a power iteration's two products, one read)."""
    rows = max(1, _BLOCK_BYTES // (G.shape[1] * G.itemsize))
    if rows >= G.shape[0]:
        Y = G @ W
        return Y, G.T @ Y
    Y = np.empty((G.shape[0], W.shape[1]), dtype=G.dtype)      # (M, ell)
    Z = np.zeros((G.shape[1], W.shape[1]), dtype=G.dtype)      # (N, ell)
    for start in range(0, G.shape[0], rows):
        block = G[start:start + rows]               # (rows, N)
        Y_block = np.matmul(block, W, out=Y[start:start + rows])   # (rows, ell)
        Z += block.T @ Y_block                      # (N, rows) @ (rows, ell)
    return Y, Z


def _qr(Y: np.ndarray, floor: float | None = None, orthonormal: bool = True
        ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Thin QR of Y (M, ell), M >= ell: CholeskyQR2 (products only) while Y is well conditioned,
    else Householder (``np.linalg.qr``). Y is divided by its largest entry first, so that YᵀY
    cannot overflow. With ``floor``: (None, None) if that entry is not finite or below floor.
    ``orthonormal=False`` may stop after CholeskyQR's first pass: Q then has the span of Y and
    κ(Q) <= 1.11, but is orthonormal only to about 0.1.
    """
    top = float(np.max(np.abs(Y)))
    if floor is not None and not floor <= top < np.inf:
        return None, None
    if top == 0.0:
        return np.linalg.qr(Y)
    Y = Y / top                                     # (M, ell), entries in [-1, 1]
    eye = np.eye(Y.shape[1], dtype=Y.dtype)
    try:
        with np.errstate(all="ignore"):
            R_1 = np.linalg.cholesky(Y.T @ Y).T     # (ell, ell) upper triangular: YᵀY = R₁ᵀR₁
            Q_1 = Y @ np.linalg.inv(R_1)            # (M, ell), nearly orthonormal
            gram = Q_1.T @ Q_1                      # (ell, ell)
            loss = float(np.linalg.norm(gram - eye))   # Frobenius >= spectral norm
        if loss <= _CHOLESKY_QR_LOSS:               # False for NaN too
            if not orthonormal:                     # well conditioned: all a power step needs
                return Q_1, top * R_1
            R_2 = np.linalg.cholesky(gram).T        # the second pass restores orthogonality
            return Q_1 @ np.linalg.inv(R_2), top * (R_2 @ R_1)
    except np.linalg.LinAlgError:                   # YᵀY not numerically positive definite
        pass
    Q, R = np.linalg.qr(Y)
    return Q, top * R


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
