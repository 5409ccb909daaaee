"""lowrank_utils.linalg against NumPy, against the identities the book states, and on bad input."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lowrank_utils import (
    approximation_error,
    best_rank_k,
    break_even_rank,
    compression_ratio,
    default_tolerance,
    energy_retained,
    k_for_energy,
    numerical_rank,
    randomized_svd,
    rank_factorization,
    storage_cost,
    truncated_svd,
)

from .conftest import low_rank


# --- agreement with NumPy ------------------------------------------------------------------------

def test_numerical_rank_matches_numpy_and_the_planted_rank(matrix_case):
    A, r = matrix_case
    assert numerical_rank(A) == np.linalg.matrix_rank(A) == r


def test_default_tolerance_is_numpys_rule():
    A = low_rank(9, 5, 3)
    s = np.linalg.svd(A, compute_uv=False)
    assert default_tolerance(A) == pytest.approx(s[0] * 9 * np.finfo(float).eps)


def test_noise_makes_a_matrix_full_rank_and_a_tolerance_recovers_the_rank():
    rng = np.random.default_rng(1)
    A = low_rank(20, 8, 3) + 1e-9 * rng.standard_normal((20, 8))
    assert numerical_rank(A) == 8
    assert numerical_rank(A, tol=1e-5) == 3


def test_float32_uses_float32_epsilon():
    A = low_rank(10, 6, 2).astype(np.float32)
    assert numerical_rank(A) == np.linalg.matrix_rank(A) == 2


def test_truncated_svd_matches_numpy_and_returns_vh_rows(matrix_case):
    A, r = matrix_case
    k = max(1, r - 1)
    U_k, s_k, Vh_k = truncated_svd(A, k)
    m, n = A.shape
    assert U_k.shape == (m, k) and s_k.shape == (k,) and Vh_k.shape == (k, n)
    assert np.allclose(s_k, np.linalg.svd(A, compute_uv=False)[:k])
    assert np.all(np.diff(s_k) <= 0)
    # The rows of Vh are right singular vectors: A v_i = σ_i u_i and Aᵀ u_i = σ_i v_i.
    for i in range(k):
        assert np.allclose(A @ Vh_k[i], s_k[i] * U_k[:, i])
        assert np.allclose(A.T @ U_k[:, i], s_k[i] * Vh_k[i])
    assert np.allclose(U_k.T @ U_k, np.eye(k)) and np.allclose(Vh_k @ Vh_k.T, np.eye(k))


# --- identities ---------------------------------------------------------------------------------

def test_rank_factorization_shapes_and_product(matrix_case):
    A, r = matrix_case
    L, R = rank_factorization(A)
    assert L.shape == (A.shape[0], r) and R.shape == (r, A.shape[1])
    assert np.allclose(L @ R, A)


def test_rank_factorization_of_zero_matrix_is_empty():
    L, R = rank_factorization(np.zeros((3, 5)))
    assert L.shape == (3, 0) and R.shape == (0, 5)
    assert np.allclose(L @ R, 0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_eckart_young_error_formulas(matrix_case, k):
    A, r = matrix_case
    k = min(k, min(A.shape))
    A_k = best_rank_k(A, k)
    s = np.linalg.svd(A, compute_uv=False)
    assert numerical_rank(A_k) == min(k, r)
    # ‖A − A_k‖_F² = Σ_{i>k} σ_i²  and  ‖A − A_k‖₂ = σ_{k+1}
    assert np.linalg.norm(A - A_k, "fro") ** 2 == pytest.approx(np.sum(s[k:] ** 2), abs=1e-9)
    expected_2 = s[k] if k < s.size else 0.0
    assert np.linalg.norm(A - A_k, 2) == pytest.approx(expected_2, abs=1e-9)
    assert approximation_error(A, k, "fro") == pytest.approx(np.linalg.norm(A - A_k, "fro"), abs=1e-9)
    assert approximation_error(A, k, 2) == pytest.approx(np.linalg.norm(A - A_k, 2), abs=1e-9)


def test_best_rank_k_is_exact_at_the_rank(matrix_case):
    A, r = matrix_case
    assert np.allclose(best_rank_k(A, r), A)
    assert approximation_error(A, r) == pytest.approx(0.0, abs=1e-9)


def test_best_rank_k_beats_random_rank_k_competitors():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((15, 9))
    for k in (1, 3, 5):
        best = np.linalg.norm(A - best_rank_k(A, k))
        for _ in range(50):
            # least-squares fit of A in a random k-dimensional column space
            Q, _ = np.linalg.qr(rng.standard_normal((15, k)))
            assert np.linalg.norm(A - Q @ (Q.T @ A)) >= best - 1e-12


def test_energy_retained_is_one_minus_relative_squared_error():
    A = np.random.default_rng(4).standard_normal((10, 6))
    s = np.linalg.svd(A, compute_uv=False)
    for k in range(1, 7):
        rel = approximation_error(A, k, "fro") ** 2 / np.linalg.norm(A) ** 2
        assert energy_retained(s, k) == pytest.approx(1 - rel)
    assert energy_retained(s, 6) == pytest.approx(1.0)


def test_k_for_energy_is_the_smallest_sufficient_k():
    s = np.array([10.0, 5.0, 2.0, 1.0, 0.5])
    for fraction in (0.1, 0.5, 0.8, 0.9, 0.99, 0.999, 1.0):
        k = k_for_energy(s, fraction)
        assert energy_retained(s, k) >= fraction - 1e-12
        if k > 1:
            assert energy_retained(s, k - 1) < fraction
    assert k_for_energy(s, 1.0) == 5


def test_energy_functions_accept_unsorted_singular_values():
    s = np.array([1.0, 10.0, 5.0])
    assert energy_retained(s, 1) == pytest.approx(100 / 126)
    assert k_for_energy(s, 0.7) == 1


def test_storage_and_compression():
    # The Clever Machine's 128×128 example: break-even k* = 128²/257 = 63.75…, 1 − k(m+n+1)/mn.
    m = n = 128
    assert break_even_rank(m, n) == pytest.approx(m * n / (m + n + 1))
    for k in (4, 8, 16, 32, 64):
        assert storage_cost(m, n, k) == k * (m + n + 1)
        assert compression_ratio(m, n, k) == pytest.approx(m * n / (k * (m + n + 1)))
    assert compression_ratio(m, n, 63) > 1 > compression_ratio(m, n, 64)
    assert storage_cost(600, 512, 1) == 1113


# --- property-based ---------------------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 8)), elements=finite))
def test_properties_on_arbitrary_matrices(A):
    r = numerical_rank(A)
    assert 0 <= r <= min(A.shape)
    assert r == numerical_rank(A.T)
    L, R = rank_factorization(A)
    assert np.allclose(L @ R, A, atol=1e-8 * max(1.0, np.abs(A).max()))
    s = np.linalg.svd(A, compute_uv=False)
    for k in range(1, min(A.shape) + 1):
        err = approximation_error(A, k)
        assert err == pytest.approx(np.sqrt(np.sum(s[k:] ** 2)), abs=1e-9 * max(1.0, s[0]))
        if k > 1:
            assert err <= approximation_error(A, k - 1) + 1e-12


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: numerical_rank(np.ones(3)), ValueError, "A must be 2-D"),
        (lambda: numerical_rank(np.ones((2, 2, 2))), ValueError, "A must be 2-D"),
        (lambda: numerical_rank(np.array([[1.0, np.nan]])), ValueError, "finite"),
        (lambda: numerical_rank(np.array([[1.0, np.inf]])), ValueError, "finite"),
        (lambda: numerical_rank(np.zeros((0, 3))), ValueError, "empty"),
        (lambda: numerical_rank([["a", "b"]]), TypeError, "numbers"),
        (lambda: numerical_rank(np.eye(2) * 1j), TypeError, "real"),
        (lambda: numerical_rank(np.eye(2), tol=-1.0), ValueError, "tol"),
        (lambda: numerical_rank(np.eye(2), tol="big"), TypeError, "tol"),
        (lambda: truncated_svd(np.eye(3), 0), ValueError, "1 <= k <= min(m, n) = 3"),
        (lambda: truncated_svd(np.eye(3), 4), ValueError, "got k=4"),
        (lambda: best_rank_k(np.ones((2, 5)), 3), ValueError, "min(m, n) = 2"),
        (lambda: best_rank_k(np.eye(3), 1.5), TypeError, "k must be an integer"),
        (lambda: best_rank_k(np.eye(3), True), TypeError, "k must be an integer"),
        (lambda: approximation_error(np.eye(3), 1, norm="nuc"), ValueError, "norm must be 'fro' or 2"),
        (lambda: energy_retained([3.0, 1.0], 3), ValueError, "k must satisfy 1 <= k <= 2"),
        (lambda: energy_retained([0.0, 0.0], 1), ValueError, "all zeros"),
        (lambda: energy_retained([-1.0, 1.0], 1), ValueError, "non-negative"),
        (lambda: k_for_energy([3.0, 1.0], 0.0), ValueError, "fraction must satisfy 0 < fraction <= 1"),
        (lambda: k_for_energy([3.0, 1.0], 1.5), ValueError, "fraction must satisfy 0 < fraction <= 1"),
        (lambda: k_for_energy([3.0, 1.0], "90%"), TypeError, "fraction"),
        (lambda: k_for_energy([[3.0, 1.0]], 0.5), ValueError, "1-D"),
        (lambda: storage_cost(0, 5, 1), ValueError, "m must be an integer >= 1"),
        (lambda: storage_cost(5, 5, 6), ValueError, "k must satisfy"),
        (lambda: compression_ratio(5, -1, 1), ValueError, "n must be an integer >= 1"),
    ],
)
def test_bad_input_gets_a_clear_error(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_ranks_are_integers_not_floats():
    """One rule for integers (``_validate``): NumPy integers are accepted, floats such as 2.0 are
    not (a float rank usually means a computation went wrong upstream)."""
    A = low_rank(6, 4, 2)
    assert np.allclose(best_rank_k(A, np.int64(2)), best_rank_k(A, 2))
    with pytest.raises(TypeError, match="k must be an integer, got 2.0"):
        best_rank_k(A, 2.0)


def test_the_reported_silent_failures_are_gone():
    """The examples of the reliability review, each now right or refused by name."""
    A = low_rank(9, 6, 4)
    with pytest.raises(TypeError, match="s must be real"):
        energy_retained(np.array([3 + 4j, 1]), 1)                  # was 0.9
    with pytest.raises(TypeError, match="s must be an array of real numbers"):
        energy_retained(["4", "3", "2"], 1)                        # text was read as numbers
    assert approximation_error(1e200 * A, 2) == pytest.approx(1e200 * approximation_error(A, 2))
    assert energy_retained(1e200 * np.array([3.0, 2.0, 1.0]), 2) == pytest.approx(13 / 14)
    with pytest.raises(ValueError, match="n_iter"):
        randomized_svd(A, 2, n_iter=10**7)                         # was: runs for ever
    with pytest.raises(ValueError, match="s must hold the min"):
        default_tolerance(A, s=[3, 2, 1])                          # was an AttributeError


def test_randomized_svd_of_a_matrix_near_the_float_limit():
    A = low_rank(60, 40, 5)
    A = A / np.abs(A).max() * 1e307                                # finite, entries up to 1e307
    U, s, Vh = randomized_svd(A, 3, seed=0)                        # was "SVD did not converge"
    assert np.all(np.isfinite(s))
    assert s == pytest.approx(np.linalg.svd(A / 1e307, compute_uv=False)[:3] * 1e307, rel=1e-8)
