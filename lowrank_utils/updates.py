"""What a fine-tuning update looks like: its effective rank against a random baseline, and the
*intruder dimensions* it brings into a weight matrix.

Two questions the rebuilt chapter 5 asks of a learned update ΔW = W − W₀ (NumPy only, no torch):

- **Is it low rank?** ``effective_ranks`` counts the singular values that hold 90 % and 99 % of the
  energy (chapter 3's ``k_for_energy``) and compares them with a Gaussian matrix of the same shape
  and Frobenius norm, whose energy is spread over every direction. The low-rank hypothesis holds
  for ΔW when its counts sit far below the random ones.
- **Does it bring in new directions?** Shuttleworth et al. (2024, "LoRA vs full fine-tuning: an
  illusion of equivalence") compare each of the top singular vectors of W = W₀ + ΔW with all the
  singular vectors of W₀: a top vector whose largest |cosine| with them is below a threshold is an
  **intruder dimension**. ``intruder_dimensions`` counts them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_matrix, check_int, check_real, check_seed
from .linalg import k_for_energy

__all__ = ["EffectiveRanks", "effective_ranks", "random_like", "IntruderReport", "intruder_dimensions"]


def random_like(M: np.ndarray, seed: int | np.random.Generator | None = None) -> np.ndarray:
    """A Gaussian matrix with M's shape and Frobenius norm: the baseline of no structure."""
    M = as_matrix(M, "M")
    seed = check_seed(seed, allow_generator=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    G = rng.standard_normal(M.shape)                                # (m, n)
    return G * (np.linalg.norm(M) / np.linalg.norm(G))


@dataclass(frozen=True)
class EffectiveRanks:
    """Singular values needed for each energy fraction, for ΔW and for random matrices like it."""

    fractions: tuple[float, ...]
    update: tuple[int, ...]             # k_for_energy(σ(ΔW), f) for each fraction f
    random: tuple[float, ...]           # the same, averaged over ``n_random`` random_like(ΔW)
    size: int                           # min(m, n): the largest possible count


def effective_ranks(D: np.ndarray, fractions: tuple[float, ...] = (0.9, 0.99), n_random: int = 5,
                    seed: int | None = 0) -> EffectiveRanks:
    """How many singular values hold each fraction of ΔW's energy, next to a random baseline."""
    D = as_matrix(D, "D")
    if not isinstance(fractions, (tuple, list)) or not fractions:
        raise TypeError(f"fractions must be a non-empty tuple of numbers in (0, 1], got {fractions!r}")
    fractions = tuple(check_real(f, "fractions entries", low=0.0, high=1.0, low_open=True)
                      for f in fractions)
    n_random = check_int(n_random, "n_random", low=1, high=1000)
    rng = np.random.default_rng(check_seed(seed))
    s = np.linalg.svd(D, compute_uv=False)
    randoms = [np.linalg.svd(random_like(D, rng), compute_uv=False) for _ in range(n_random)]
    return EffectiveRanks(
        fractions=fractions,
        update=tuple(k_for_energy(s, f) for f in fractions),
        random=tuple(float(np.mean([k_for_energy(r, f) for r in randoms])) for f in fractions),
        size=min(D.shape),
    )


@dataclass(frozen=True)
class IntruderReport:
    """For each of the top singular vectors of W: its largest |cosine| with W₀'s singular vectors."""

    top: int
    threshold: float
    max_cosine: np.ndarray              # (top,) largest |u_i(W) · u_j(W₀)| over j
    count: int                          # how many are below ``threshold``: the intruders


def intruder_dimensions(W0: np.ndarray, W: np.ndarray, top: int = 10,
                        threshold: float = 0.5) -> IntruderReport:
    """Intruder dimensions of W against W₀ (Shuttleworth et al. 2024), on the left singular vectors.

    A top-``top`` left singular vector of W whose largest |cosine| with every left singular vector of
    W₀ is below ``threshold`` points in a direction W₀ did not have. Used by chapter 5 (rebuilt) to
    compare LoRA with full fine-tuning.
    """
    W0, W = as_matrix(W0, "W0"), as_matrix(W, "W")
    if W0.shape != W.shape:
        raise ValueError(f"W0 and W must have the same shape, got {W0.shape} and {W.shape}")
    top = check_int(top, "top", low=1, high=min(W.shape))
    threshold = check_real(threshold, "threshold", low=0.0, high=1.0, low_open=True)
    U0 = np.linalg.svd(W0, full_matrices=False)[0]                  # (m, p): W₀'s directions
    U = np.linalg.svd(W, full_matrices=False)[0][:, :top]           # (m, top)
    max_cosine = np.abs(U.T @ U0).max(axis=1)                       # (top,)
    return IntruderReport(top, threshold, max_cosine, int(np.sum(max_cosine < threshold)))
