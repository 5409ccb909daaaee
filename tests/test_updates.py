"""lowrank_utils.updates: effective rank against a random baseline, and intruder dimensions, on
matrices whose answer is known by construction (non-square, rank-deficient where it matters)."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils.updates import effective_ranks, intruder_dimensions, random_like


def _low_rank(m: int, n: int, r: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))      # (m, n), rank r


def test_random_like_keeps_shape_and_norm_and_is_seeded():
    M = _low_rank(30, 20, 3, 0)
    G = random_like(M, seed=1)
    assert G.shape == M.shape and np.isclose(np.linalg.norm(G), np.linalg.norm(M))
    assert np.array_equal(G, random_like(M, seed=1)) and not np.array_equal(G, random_like(M, seed=2))
    assert np.linalg.matrix_rank(G) == 20                                 # full rank, unlike M


def test_a_low_rank_update_counts_far_below_a_random_one():
    D = _low_rank(64, 48, 4, 3) + 1e-3 * np.random.default_rng(4).standard_normal((64, 48))
    result = effective_ranks(D, fractions=(0.9, 0.99), n_random=3, seed=0)
    assert result.size == 48 and all(k <= 4 for k in result.update)       # the energy sits in 4 directions
    assert all(r > 20 for r in result.random)                             # random: spread out
    s = np.linalg.svd(D, compute_uv=False)
    k90 = int(np.argmax(np.cumsum(s**2) / np.sum(s**2) >= 0.9)) + 1      # computed independently
    assert result.update[0] == k90


def test_no_update_means_no_intruders_and_a_new_direction_is_one():
    rng = np.random.default_rng(5)
    W0 = rng.standard_normal((40, 30))                                    # (40, 30), full rank
    assert intruder_dimensions(W0, W0.copy(), top=10).count == 0
    small = W0 + 1e-3 * rng.standard_normal(W0.shape)                     # a tiny change: none
    assert intruder_dimensions(W0, small, top=10).count == 0
    v = rng.standard_normal(30); v /= np.linalg.norm(v)
    U0 = np.linalg.svd(W0, full_matrices=False)[0]                        # (40, 30)
    new = np.linalg.svd(np.eye(40) - U0 @ U0.T)[0][:, 0]                  # a direction outside W₀'s span
    W = W0 + 100 * np.outer(new, v)                                       # a big rank-1 update along it
    report = intruder_dimensions(W0, W, top=5, threshold=0.5)
    assert report.count == 1 and report.max_cosine[0] < 0.1              # the new top direction
    assert np.all(report.max_cosine[1:] > 0.5)                            # the others are W₀'s


@pytest.mark.parametrize("call, match", [
    (lambda: intruder_dimensions(np.eye(3), np.eye(4)), "same shape"),
    (lambda: intruder_dimensions(np.eye(3), np.eye(3), top=4), "top"),
    (lambda: intruder_dimensions(np.eye(3), np.eye(3), top=2, threshold=0), "threshold"),
    (lambda: effective_ranks(np.eye(3), fractions=(1.5,)), "fractions"),
    (lambda: effective_ranks(np.eye(3), fractions=()), "fractions"),
    (lambda: effective_ranks(np.eye(3), n_random=0), "n_random"),
    (lambda: random_like("matrix"), "M"),
])
def test_bad_arguments_are_refused_by_name(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
