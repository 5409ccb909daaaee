"""randomized_svd (Halko, Martinsson & Tropp 2011): shapes, seeds, accuracy, orthonormality, input
checks, float32 and float64, huge and tiny entries, fast-decaying spectra, and its shortcuts."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from lowrank_utils import approximation_error, linalg, randomized_svd, truncated_svd


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


# --- precision: float32 and float64 (the dtype argument) ----------------------------------------

def error_ratio(A: np.ndarray, factors: tuple[np.ndarray, ...], k: int) -> float:
    """‖A − U diag(s) Vh‖_F / ‖A − A_k‖_F, computed in float64."""
    U, s, Vh = (np.asarray(x, dtype=np.float64) for x in factors)
    return float(np.linalg.norm(A - (U * s) @ Vh)) / approximation_error(A, k)


@pytest.mark.parametrize("shape", [(300, 200), (120, 400)])
def test_float32_is_accurate_to_float32(shape):
    A = low_rank_plus_noise(*shape, r=15, noise=0.05, seed=4)
    U, s, Vh = randomized_svd(A, 10, seed=0, dtype=np.float32)
    U_64, s_64, Vh_64 = randomized_svd(A, 10, seed=0)
    assert U.dtype == s.dtype == Vh.dtype == np.float32
    assert np.allclose(U.T @ U, np.eye(10), atol=1e-5)
    assert np.allclose(Vh @ Vh.T, np.eye(10), atol=1e-5)
    ratio = error_ratio(A, (U, s, Vh), 10)
    assert 1 - 1e-6 <= ratio <= 1.01
    assert ratio == pytest.approx(error_ratio(A, (U_64, s_64, Vh_64), 10), abs=1e-5)   # same sketch
    assert s == pytest.approx(s_64, rel=1e-5)


def test_dtype_none_keeps_the_precision_of_the_input():
    A = low_rank_plus_noise(80, 50, r=5, noise=0.01, seed=2)
    assert all(x.dtype == np.float64 for x in randomized_svd(A, 3, seed=0))
    assert all(x.dtype == np.float64 for x in randomized_svd(A.astype(int), 3, seed=0))
    assert all(x.dtype == np.float32 for x in randomized_svd(A.astype(np.float32), 3, seed=0))
    up = randomized_svd(A.astype(np.float32), 3, seed=0, dtype=np.float64)
    assert all(x.dtype == np.float64 for x in up)


@pytest.mark.parametrize("dtype", [np.float32, np.dtype("float32"), "float32"])
def test_the_ways_to_name_float32(A, dtype):
    reference = randomized_svd(A, 4, seed=1, dtype=np.float32)
    for x, y in zip(randomized_svd(A, 4, seed=1, dtype=dtype), reference):
        assert np.array_equal(x, y)


@pytest.mark.parametrize("dtype, error", [
    (np.int64, ValueError), (np.float16, ValueError), ("complex128", ValueError),
    ("single precision", TypeError), (32, TypeError)])
def test_bad_dtype(A, dtype, error):
    with pytest.raises(error, match="dtype must be numpy.float32 or numpy.float64"):
        randomized_svd(A, 3, dtype=dtype)


def test_bad_dtype_message_names_the_dtype(A):
    with pytest.raises(ValueError, match=r"got dtype=int64"):
        randomized_svd(A, 3, dtype=np.int64)


# --- numerical safety: magnitudes, spectra, the shortcuts ---------------------------------------

@pytest.mark.parametrize("dtype, scales", [(np.float64, [1e300, 1e-300, 1e150, 1e-150]),
                                           (np.float32, [1e30, 1e-30, 1e15, 1e-15])])
def test_huge_and_tiny_entries_scale_as_the_mathematics_says(dtype, scales):
    A = low_rank_plus_noise(90, 60, r=6, noise=0.01, seed=3).astype(dtype)
    U, s, Vh = randomized_svd(A, 4, seed=0)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no overflow warning escapes either
        for c in scales:
            U_c, s_c, Vh_c = randomized_svd(A * dtype(c), 4, seed=0)
            assert s_c.dtype == dtype and np.all(np.isfinite(s_c)) and np.all(s_c > 0)
            assert s_c / dtype(c) == pytest.approx(s, rel=tol)
            assert np.allclose(U_c, U, atol=100 * tol) and np.allclose(Vh_c, Vh, atol=100 * tol)


def test_zero_matrix():
    U, s, Vh = randomized_svd(np.zeros((30, 20)), 3, seed=0)
    assert np.array_equal(s, np.zeros(3)) and U.shape == (30, 3) and Vh.shape == (3, 20)
    assert np.all(np.isfinite(U)) and np.all(np.isfinite(Vh))


def graded(m: int, n: int, decades: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An m×n matrix with singular values falling geometrically over ``decades`` powers of ten."""
    rng = np.random.default_rng(seed)
    p = min(m, n)
    X, _ = np.linalg.qr(rng.standard_normal((m, p)))       # (m, p) orthonormal
    Y, _ = np.linalg.qr(rng.standard_normal((n, p)))       # (n, p) orthonormal
    s = 10.0 ** (-decades * np.arange(p) / p)              # (p,) from 1 down to 10^-decades
    return (X * s) @ Y.T, s


@pytest.mark.parametrize("shape", [(300, 60), (60, 300)])
@pytest.mark.parametrize("k", [15, 30, 45])
def test_fast_decaying_spectrum_keeps_full_accuracy(shape, k):
    # σ_{k+1} / σ_1 down to 1e-9: without re-orthonormalisation (scikit-learn's default for
    # n_iter <= 2) the error ratio here reaches 1e5; each power step is normalised, so it stays 1.
    A, s = graded(*shape, decades=12)
    U, s_r, Vh = randomized_svd(A, k, oversample=5, seed=0)
    assert np.linalg.norm(A - (U * s_r) @ Vh) <= (1 + 1e-5) * np.sqrt(np.sum(s[k:] ** 2))
    assert np.allclose(U.T @ U, np.eye(k), atol=1e-12)
    assert np.allclose(Vh @ Vh.T, np.eye(k), atol=1e-12)


def test_wide_matrix_is_the_transpose_of_the_tall_one(A):
    U, s, Vh = randomized_svd(A, 6, seed=9)
    U_t, s_t, Vh_t = randomized_svd(A.T, 6, seed=9)
    assert np.array_equal(s, s_t) and np.array_equal(U, Vh_t.T) and np.array_equal(Vh, U_t.T)


def test_blocked_pass_over_a_matches_whole_products(A, monkeypatch):
    whole = randomized_svd(A, 8, seed=4)
    monkeypatch.setattr(linalg, "_BLOCK_BYTES", 7 * A.shape[1] * A.itemsize)   # 7 rows a block
    W = np.random.default_rng(0).standard_normal((A.shape[1], 5))
    Y, Z = linalg._times_gram(A, W)
    assert np.allclose(Y, A @ W, rtol=1e-13, atol=1e-12)
    assert np.allclose(Z, A.T @ (A @ W), rtol=1e-12, atol=1e-10)
    for x, y in zip(randomized_svd(A, 8, seed=4), whole):
        assert np.allclose(x, y, atol=1e-10)


def test_the_one_pass_shortcut_changes_nothing_but_rounding(A, monkeypatch):
    shortcut = randomized_svd(A, 8, seed=5)
    monkeypatch.setattr(linalg, "_SHORTCUT_ERROR", 0.0)       # always Bᵀ = Aᵀ Q, one more pass
    for x, y in zip(randomized_svd(A, 8, seed=5), shortcut):
        assert np.allclose(x, y, atol=1e-12)


def test_cholesky_qr_and_householder_agree():
    Y = np.random.default_rng(6).standard_normal((200, 12)) * np.logspace(0, -3, 12)  # κ ≈ 1e3
    Q, R = linalg._qr(Y)
    Q_h, R_h = np.linalg.qr(Y)
    signs = np.sign(np.diag(R)) * np.sign(np.diag(R_h))
    assert np.allclose(Q.T @ Q, np.eye(12), atol=1e-14) and np.allclose(Q @ R, Y, atol=1e-14)
    assert np.allclose(Q, Q_h * signs, atol=1e-11)
