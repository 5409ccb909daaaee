"""Chapter 3 checkers: right answers accepted, wrong ones refused with a hint, bad input never raises."""
from __future__ import annotations

import math

import numpy as np
import pytest

from lowrank_utils import approximation_error, best_rank_k, storage_cost
from lowrank_utils.exercises import ch3
from lowrank_utils.exercises.core import Feedback
from lowrank_utils.images import load_photo, psnr


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_photo()


@pytest.fixture(scope="module")
def s(photo) -> np.ndarray:
    return np.linalg.svd(photo, compute_uv=False)


def energy_rank(s: np.ndarray, fraction: float) -> int:
    """Independent of k_for_energy: the first k at which the cumulative σ² reaches the fraction."""
    total = np.sum(s**2)
    running = 0.0
    for k, sigma in enumerate(s, start=1):
        running += sigma**2
        if running >= fraction * total:
            return k
    raise AssertionError("unreachable")


def test_energy_rank(s):
    k = energy_rank(s, ch3.ENERGY)
    assert ch3.check_energy_rank(k)
    assert ch3.check_energy_rank(str(k))
    assert ch3.check_energy_rank(float(k))
    assert not ch3.check_energy_rank(k + 1)
    assert "Almost" in ch3.check_energy_rank(k - 1).en


def test_energy_rank_recognises_the_sigma_share(s):
    share = np.cumsum(s) / np.sum(s)
    k_sigma = int(np.argmax(share >= ch3.ENERGY)) + 1
    assert k_sigma != energy_rank(s, ch3.ENERGY)
    feedback = ch3.check_energy_rank(k_sigma)
    assert not feedback and "Σσ share" in feedback.en and "Σσ 比例" in feedback.zh


def test_break_even():
    m, n = ch3.FRAME
    k = max(k for k in range(1, min(m, n) + 1) if storage_cost(m, n, k) < m * n)
    assert ch3.check_break_even(k)
    over = ch3.check_break_even(k + 1)
    assert not over and f"{storage_cost(m, n, k + 1):,}" in over.en
    below = ch3.check_break_even(k - 1)
    assert not below and f"m = {m}, n = {n}" in below.en and f"m = {m}、n = {n}" in below.zh
    assert not ch3.check_break_even(m * n / (m + n + 1))       # k* itself is not an integer


def test_eckart_young_right_answer():
    A = ch3.ey_matrix()
    k = ch3.EY_K
    A_k = best_rank_k(A, k)
    fro, two = np.linalg.norm(A - A_k, "fro"), np.linalg.norm(A - A_k, 2)
    assert ch3.check_eckart_young(fro, two)
    assert ch3.check_eckart_young(approximation_error(A, k, "fro"), approximation_error(A, k, 2))


def test_eckart_young_data_is_a_fair_example():
    A = ch3.ey_matrix()
    m, n = A.shape
    assert m != n and not np.allclose(A[:n, :n], A[:n, :n].T)
    assert np.linalg.matrix_rank(A) < min(m, n) and np.linalg.matrix_rank(A) > ch3.EY_K


def test_eckart_young_diagnoses_mistakes():
    s = np.linalg.svd(ch3.ey_matrix(), compute_uv=False)
    k = ch3.EY_K
    fro, two = math.sqrt(np.sum(s[k:] ** 2)), s[k]
    swapped = ch3.check_eckart_young(two, fro)
    assert "swapped" in swapped.en
    for text in (swapped.en, swapped.zh):          # k substituted, no template left in the message
        assert f"σ_{k + 1}" in text and f"i > {k}" in text and "{" not in text and "k+1" not in text
    assert "square root" in ch3.check_eckart_young(fro**2, two).en
    kept = ch3.check_eckart_young(fro, s[k - 1])
    assert "last one kept" in kept.en and f"σ_{k}，也就是最後一個被保留的奇異值" in kept.zh
    assert not ch3.check_eckart_young(fro * 1.01, two)


def test_psnr_rank(photo):
    # Bisection on the PSNR of the reconstructed images (PSNR grows with k), not on a formula.
    U, s, Vh = np.linalg.svd(photo, full_matrices=False)

    def photo_psnr(k: int) -> float:
        return psnr(photo, (U[:, :k] * s[:k]) @ Vh[:k])

    lo, hi = 1, s.size
    while lo < hi:
        mid = (lo + hi) // 2
        if photo_psnr(mid) >= ch3.PSNR_TARGET:
            hi = mid
        else:
            lo = mid + 1
    k = lo
    assert photo_psnr(k) >= ch3.PSNR_TARGET > photo_psnr(k - 1)
    assert np.allclose((U[:, :k] * s[:k]) @ Vh[:k], best_rank_k(photo, k))
    right = ch3.check_psnr_rank(k)
    assert right
    m, n = photo.shape
    ratio = m * n / (k * (m + n + 1))               # numbers in the photo ÷ numbers in U_k, σ, V_kᵀ
    assert f"{ratio:.1f}× as many numbers" in right.en and f"因子的 {ratio:.1f} 倍" in right.zh
    assert "try a larger k" in ch3.check_psnr_rank(k - 1).en
    assert "smaller" in ch3.check_psnr_rank(k + 5).en


@pytest.mark.parametrize("bad", [None, "seven", [1, 2], 2.5, math.nan, {"k": 3}, -1, 0, 10**6])
def test_bad_answers_give_feedback(bad):
    for check in (ch3.check_energy_rank, ch3.check_break_even, ch3.check_psnr_rank):
        feedback = check(bad)
        assert isinstance(feedback, Feedback) and not feedback
        assert feedback.en and feedback.zh
    feedback = ch3.check_eckart_young(bad, bad)
    assert isinstance(feedback, Feedback) and not feedback


def test_missing_argument_gives_feedback():
    feedback = ch3.check_eckart_young(1.0)
    assert isinstance(feedback, Feedback) and not feedback


def test_photo_singular_values_are_a_copy(s):
    first = ch3.photo_singular_values()
    assert np.allclose(first, s)
    first[:] = 0
    assert ch3.photo_singular_values()[0] > 0


def _rsvd(A, k, oversample=10, n_iter=2, seed=None, *, power=True, truncate=True, orthonormalise=True):
    """A reference randomized SVD for the checker's tests, with switches that make the usual slips."""
    rng = np.random.default_rng(seed)
    m, n = A.shape
    ell = min(k + oversample, m, n)
    Y = A @ rng.standard_normal((n, ell))                          # (m, ell)
    Q = np.linalg.qr(Y)[0] if orthonormalise else Y / np.linalg.norm(Y, axis=0)
    for _ in range(n_iter if power else 0):
        Q = np.linalg.qr(A @ np.linalg.qr(A.T @ Q)[0])[0]
    U_small, s, Vh = np.linalg.svd(Q.T @ A, full_matrices=False)
    U = Q @ U_small
    return (U[:, :k], s[:k], Vh[:k]) if truncate else (U, s, Vh)


def test_randomized_svd_checker_accepts_a_correct_one():
    from lowrank_utils import randomized_svd
    assert ch3.check_randomized_svd(_rsvd)
    assert ch3.check_randomized_svd(randomized_svd)                 # the package's version too
    A = ch3.rsvd_matrix()
    U, s, Vh = _rsvd(A, ch3.RSVD_K, seed=0)
    optimum = approximation_error(A, ch3.RSVD_K)
    assert np.linalg.norm(A - (U * s) @ Vh) / optimum < ch3.RSVD_TOLERANCE
    assert np.allclose(np.linalg.svd(A, compute_uv=False), 1 / np.arange(1, A.shape[1] + 1))


@pytest.mark.parametrize("slip, needle", [
    (lambda A, k, **kw: _rsvd(A, k, truncate=False, **kw), "keep the first k"),
    (lambda A, k, **kw: (lambda U, s, Vh: (U, s, Vh.T))(*_rsvd(A, k, **kw)), "that of V"),
    (lambda A, k, **kw: (lambda U, s, Vh: (U[:, ::-1], s[::-1], Vh[::-1]))(*_rsvd(A, k, **kw)), "decreasing"),
    (lambda A, k, **kw: _rsvd(A, k, orthonormalise=False, **{**kw, "n_iter": 0}), "orthonormal"),
    (lambda A, k, **kw: _rsvd(A, k, power=False, **{**kw, "oversample": 0}), "× the optimum"),
    (lambda A, k, seed=None, **kw: _rsvd(A, k, seed=None, **kw), "disagree"),
    (lambda A, k, **kw: None, "returns None"),
    (lambda A, k, **kw: (1, 2), "three things"),
    (lambda A, k, **kw: 1 / 0, "ZeroDivisionError"),
    (lambda A, k, **kw: ("U", "s", "Vh"), "matrix of numbers"),
])
def test_randomized_svd_checker_names_the_slip(slip, needle):
    feedback = ch3.check_randomized_svd(slip)
    assert isinstance(feedback, Feedback) and not feedback
    assert needle in feedback.en and feedback.zh


@pytest.mark.parametrize("bad", [None, 3, "my_randomized_svd", np.eye(3)])
def test_randomized_svd_checker_refuses_non_functions(bad):
    feedback = ch3.check_randomized_svd(bad)
    assert not feedback and ("function" in feedback.en)
