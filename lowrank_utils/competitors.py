"""Rank-k competitors of the truncated SVD, for the Eckart–Young experiment of chapter 3.

Each returns factors (L m×k, R k×n) whose product L @ R has rank at most k; none can beat
``best_rank_k`` in the Frobenius or the spectral norm (Eckart–Young–Mirsky), and the chapter
asserts that none does.

- ``random_rank_k``: a random k-dimensional column space, then the best R for it (least squares).
- ``greedy_rank_k``: greedy column selection (Gram–Schmidt with pivoting): at each step keep the
  column of the residual with the largest norm.
- ``als_rank_k``: alternating least squares on A ≈ L R from a random start, an optimiser that
  tries hard.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_matrix, check_int, check_rank_k, check_seed

__all__ = ["random_rank_k", "greedy_rank_k", "als_rank_k"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    seed = check_seed(seed, allow_generator=True)
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def random_rank_k(A: np.ndarray, k: int,
                  seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """L: k random Gaussian columns (m×k); R = argmin ‖A − L R‖_F, by least squares (k×n)."""
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    L = _rng(seed).standard_normal((A.shape[0], k))          # (m, k)
    R = np.linalg.lstsq(L, A, rcond=None)[0]                 # (k, n)
    return L, R


def greedy_rank_k(A: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep k columns of A chosen greedily; L = an orthonormal basis of them, R = Lᵀ A.

    Step j picks the column of the residual (A minus its projection on the columns kept so far)
    with the largest norm. This is QR with column pivoting, a classic cheap competitor. If A has
    rank j < k, the last k − j columns of L are zero.
    """
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    residual = A.astype(np.float64, copy=True)               # (m, n)
    L = np.zeros((A.shape[0], k))                            # (m, k) orthonormal columns
    tol = max(A.shape) * np.finfo(np.float64).eps * np.linalg.norm(A)   # below: rounding noise
    for j in range(k):
        norms = np.linalg.norm(residual, axis=0)             # (n,)
        best = int(np.argmax(norms))
        if norms[best] <= tol:                               # rank(A) = j < k: nothing left;
            break                                            # the other columns of L stay 0
        q = residual[:, best] / norms[best]                  # (m,)
        q -= L[:, :j] @ (L[:, :j].T @ q)                     # re-orthogonalise (rounding)
        q /= np.linalg.norm(q)
        L[:, j] = q
        residual -= np.outer(q, q @ residual)                # remove the new direction
    return L, L.T @ A                                        # (m, k), (k, n)


def als_rank_k(A: np.ndarray, k: int, n_iter: int = 30,
               seed: int | np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Alternating least squares: from a random L, repeat R = argmin_R ‖A − L R‖_F, then
    L = argmin_L ‖A − L R‖_F, ``n_iter`` times. Each half-step can only lower the error.
    """
    A = as_matrix(A)
    k = check_rank_k(k, A.shape)
    n_iter = check_int(n_iter, "n_iter", low=1, high=10_000)
    L = _rng(seed).standard_normal((A.shape[0], k))          # (m, k)
    for _ in range(n_iter):
        R = np.linalg.lstsq(L, A, rcond=None)[0]             # (k, n)
        L = np.linalg.lstsq(R.T, A.T, rcond=None)[0].T       # (m, k)
    R = np.linalg.lstsq(L, A, rcond=None)[0]
    return L, R
