"""Eckart–Young–Mirsky, checked against three kinds of rank-k competitors (chapter 3)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank_utils import approximation_error, best_rank_k
from lowrank_utils.competitors import als_rank_k, greedy_rank_k, random_rank_k

SLACK = 1 + 1e-10     # rounding only: a competitor may tie the optimum, never beat it


def make_matrix(m: int, n: int, r: int, seed: int) -> np.ndarray:
    """Non-square, non-symmetric, rank r ≤ min(m, n) (rank-deficient when r < min(m, n))."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ np.diag(0.7 ** np.arange(r)) @ rng.standard_normal((r, n))


@settings(max_examples=40, deadline=None)
@given(m=st.integers(2, 12), n=st.integers(2, 12), seed=st.integers(0, 2**16), data=st.data())
def test_no_competitor_beats_the_truncated_svd(m, n, seed, data):
    r = data.draw(st.integers(1, min(m, n)))
    k = data.draw(st.integers(1, min(m, n)))
    A = make_matrix(m, n, r, seed)
    best_fro = approximation_error(A, k, "fro")
    best_two = approximation_error(A, k, 2)
    for L, R in (random_rank_k(A, k, seed=seed), greedy_rank_k(A, k),
                 als_rank_k(A, k, n_iter=5, seed=seed)):
        assert L.shape == (m, k) and R.shape == (k, n)
        B = L @ R
        assert np.linalg.matrix_rank(B) <= k
        assert np.linalg.norm(A - B, "fro") * SLACK + 1e-12 >= best_fro
        assert np.linalg.norm(A - B, 2) * SLACK + 1e-12 >= best_two


def test_als_reaches_the_optimum():
    A = make_matrix(40, 25, 10, seed=1)
    L, R = als_rank_k(A, 3, n_iter=200, seed=0)
    assert np.allclose(L @ R, best_rank_k(A, 3), atol=1e-6)


def test_greedy_exact_at_the_rank():
    A = make_matrix(15, 9, 4, seed=2)
    L, R = greedy_rank_k(A, 4)
    assert np.allclose(L.T @ L, np.eye(4))
    assert np.allclose(L @ R, A)


def test_greedy_stops_on_a_rank_deficient_matrix():
    A = make_matrix(8, 6, 2, seed=3)
    L, R = greedy_rank_k(A, 5)
    assert np.allclose(L @ R, A)
    assert np.linalg.matrix_rank(L @ R) == 2
    assert np.allclose(L[:, :2].T @ L[:, :2], np.eye(2))
    assert np.all(L[:, 2:] == 0.0)                           # nothing left after the rank


def test_greedy_picks_the_longest_column_first():
    A = np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 4.0]])
    L, _ = greedy_rank_k(A, 1)
    assert np.allclose(np.abs(L[:, 0]), np.array([3.0, 4.0]) / 5.0)


def test_random_is_least_squares_for_its_column_space():
    A = make_matrix(20, 12, 6, seed=4)
    L, R = random_rank_k(A, 3, seed=0)
    residual = A - L @ R
    assert np.allclose(L.T @ residual, 0.0, atol=1e-10)      # normal equations


def test_seeds():
    A = make_matrix(10, 7, 5, seed=5)
    for f in (random_rank_k, als_rank_k):
        first, second = f(A, 2, seed=3), f(A, 2, seed=np.random.default_rng(3))
        assert all(np.array_equal(x, y) for x, y in zip(first, second))
        with pytest.raises(TypeError, match="seed"):
            f(A, 2, seed="3")


@pytest.mark.parametrize("f", [random_rank_k, greedy_rank_k, als_rank_k])
def test_bad_k(f):
    with pytest.raises(ValueError, match="k"):
        f(np.ones((3, 4)), 4)


def test_bad_n_iter():
    with pytest.raises(ValueError, match="n_iter"):
        als_rank_k(np.ones((3, 4)), 1, n_iter=0)
