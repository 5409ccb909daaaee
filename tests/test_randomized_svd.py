"""randomized_svd (Halko, Martinsson & Tropp 2011): shapes, seeds, accuracy, orthonormality, input checks."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils import approximation_error, randomized_svd, truncated_svd


def low_rank_plus_noise(m: int, n: int, r: int, noise: float, seed: int) -> np.ndarray:
    """A rank-r signal with decaying strengths plus Gaussian noise, m×n (not square, not symmetric)."""
    rng = np.random.default_rng(seed)
    X, _ = np.linalg.qr(rng.standard_normal((m, r)))       # (m, r) orthonormal
    Y, _ = np.linalg.qr(rng.standard_normal((n, r)))       # (n, r) orthonormal
    strengths = 10.0 * 0.8 ** np.arange(r)                 # (r,) decaying
    return (X * strengths) @ Y.T + noise * rng.standard_normal((m, n))


@pytest.fixture(scope="module")
def A() -> np.ndarray:
    return low_rank_plus_noise(300, 200, r=15, noise=0.05, seed=1)


@pytest.mark.parametrize("shape, k", [((300, 200), 10), ((80, 250), 5), ((40, 30), 30), ((50, 7), 1)])
def test_shapes_match_truncated_svd(shape, k):
    A = np.random.default_rng(0).standard_normal(shape)
    U, s, Vh = randomized_svd(A, k, seed=0)
    U_k, s_k, Vh_k = truncated_svd(A, k)
    assert U.shape == U_k.shape == (shape[0], k)
    assert s.shape == s_k.shape == (k,)
    assert Vh.shape == Vh_k.shape == (k, shape[1])


def test_singular_values_descending_and_nonnegative(A):
    _, s, _ = randomized_svd(A, 12, seed=3)
    assert np.all(s >= 0)
    assert np.all(np.diff(s) <= 0)


@pytest.mark.parametrize("k", [1, 5, 15])
def test_orthonormal_columns_and_rows(A, k):
    U, _, Vh = randomized_svd(A, k, seed=2)
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-12)
    assert np.allclose(Vh @ Vh.T, np.eye(k), atol=1e-12)


def test_same_seed_same_result(A):
    first = randomized_svd(A, 8, seed=42)
    second = randomized_svd(A, 8, seed=42)
    for x, y in zip(first, second):
        assert np.array_equal(x, y)


def test_generator_accepted_and_equivalent_to_its_seed(A):
    from_int = randomized_svd(A, 8, oversample=0, n_iter=0, seed=7)
    from_generator = randomized_svd(A, 8, oversample=0, n_iter=0, seed=np.random.default_rng(7))
    for x, y in zip(from_int, from_generator):
        assert np.array_equal(x, y)


def test_different_seeds_draw_different_sketches(A):
    # Without oversampling or power iterations the sketch shows through in the result.
    U1, _, _ = randomized_svd(A, 8, oversample=0, n_iter=0, seed=1)
    U2, _, _ = randomized_svd(A, 8, oversample=0, n_iter=0, seed=2)
    assert not np.allclose(U1, U2)


def test_generator_state_advances(A):
    rng = np.random.default_rng(5)
    U1, _, _ = randomized_svd(A, 8, oversample=0, n_iter=0, seed=rng)
    U2, _, _ = randomized_svd(A, 8, oversample=0, n_iter=0, seed=rng)
    assert not np.allclose(U1, U2)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [5, 10, 15])
def test_within_one_percent_of_optimal_frobenius_error(A, k, seed):
    U, s, Vh = randomized_svd(A, k, seed=seed)
    error = np.linalg.norm(A - (U * s) @ Vh)
    optimal = approximation_error(A, k, norm="fro")
    assert optimal <= error * (1 + 1e-12)          # Eckart–Young: nothing beats the optimum
    assert error <= 1.01 * optimal


def test_wide_matrix_accuracy():
    A = low_rank_plus_noise(120, 400, r=10, noise=0.02, seed=4).astype(np.float64)
    U, s, Vh = randomized_svd(A, 10, seed=0)
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1.01 * approximation_error(A, 10)


def test_singular_values_close_to_exact(A):
    _, s, _ = randomized_svd(A, 10, seed=0)
    _, s_exact, _ = truncated_svd(A, 10)
    assert np.allclose(s[:5], s_exact[:5], rtol=1e-4)   # the leading ones, well above the noise
    assert np.allclose(s, s_exact, rtol=0.05)           # the last ones sit near the noise floor
    assert np.all(s <= s_exact * (1 + 1e-12))      # a projection never increases singular values


def test_exact_when_the_sketch_spans_everything():
    A = np.random.default_rng(3).standard_normal((20, 12))
    U, s, Vh = randomized_svd(A, 12, oversample=5, n_iter=0, seed=0)   # sketch width = 12 = n
    assert np.allclose((U * s) @ Vh, A, atol=1e-10)


def test_rank_deficient_input_recovered_exactly():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((50, 3)) @ rng.standard_normal((3, 40))    # rank 3
    U, s, Vh = randomized_svd(A, 3, seed=0)
    assert np.allclose((U * s) @ Vh, A, atol=1e-10)


def test_float32_input_keeps_float32():
    A = np.random.default_rng(0).standard_normal((60, 40)).astype(np.float32)
    U, s, Vh = randomized_svd(A, 4, seed=0)
    assert U.dtype == s.dtype == Vh.dtype == np.float32


@pytest.mark.parametrize("k", [0, -1, 201])
def test_k_out_of_range(A, k):
    with pytest.raises(ValueError, match="k"):
        randomized_svd(A, k)


@pytest.mark.parametrize("k", [2.5, "3", None])
def test_k_not_an_integer(A, k):
    with pytest.raises(TypeError, match="k"):
        randomized_svd(A, k)


def test_negative_oversample(A):
    with pytest.raises(ValueError, match="oversample"):
        randomized_svd(A, 5, oversample=-1)


def test_negative_n_iter(A):
    with pytest.raises(ValueError, match="n_iter"):
        randomized_svd(A, 5, n_iter=-2)


@pytest.mark.parametrize("seed", ["0", 1.5, True, np.random.RandomState(0)])
def test_bad_seed_type(A, seed):
    with pytest.raises(TypeError, match="seed"):
        randomized_svd(A, 5, seed=seed)


def test_negative_seed(A):
    with pytest.raises(ValueError, match="seed"):
        randomized_svd(A, 5, seed=-1)


@pytest.mark.parametrize("bad", [np.ones(5), np.array([[np.nan, 1.0], [0.0, 1.0]]), [["a", "b"]]])
def test_bad_matrix(bad):
    with pytest.raises((TypeError, ValueError), match="A"):
        randomized_svd(bad, 1)
