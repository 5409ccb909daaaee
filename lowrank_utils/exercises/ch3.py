"""Exercises of chapter 3, "Low-rank approximation / 低秩近似". Each checker computes the right
answer itself, from the photograph (``load_photo()``) or from the data defined here.

- exercise 1: ``check_energy_rank``    the smallest k that keeps ``ENERGY`` of the photo's energy
- exercise 2: ``check_break_even``     the largest k whose factors are smaller than a ``FRAME``
- exercise 3: ``check_eckart_young``   ‖A − A_k‖_F and ‖A − A_k‖₂ for ``ey_matrix()`` and ``EY_K``
- exercise 4: ``check_psnr_rank``      the smallest k whose rank-k photo reaches ``PSNR_TARGET`` dB
- exercise 5: ``check_randomized_svd`` a learner's randomized SVD, run on ``rsvd_matrix()``
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..images import load_photo, psnr_from_sse
from ..linalg import break_even_rank, compression_ratio, k_for_energy
from .core import AnswerError, Feedback, checker, close_enough, read_integer, read_matrix, read_number

__all__ = [
    "ENERGY", "FRAME", "EY_K", "PSNR_TARGET", "ey_matrix", "photo_singular_values",
    "check_energy_rank", "check_break_even", "check_eckart_young", "check_psnr_rank",
    "RSVD_SHAPE", "RSVD_K", "RSVD_TOLERANCE", "rsvd_matrix", "check_randomized_svd",
]

#: Exercise 1: the share of the energy Σσ² to keep.
ENERGY = 0.90

#: Exercise 2: (rows, columns) of a Full HD video frame, one greyscale channel.
FRAME = (1080, 1920)

#: Exercise 3: the truncation rank.
EY_K = 2

#: Exercise 4: the PSNR to reach, in dB.
PSNR_TARGET = 30.0


def ey_matrix(seed: int = 3) -> np.ndarray:
    """Exercise 3: a 7×5 matrix of rank 4 (non-square, non-symmetric, rank-deficient), seeded."""
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 4, size=(7, 4)).astype(float) @ rng.integers(-2, 3, size=(4, 5))


@functools.lru_cache(maxsize=1)
def _photo_spectrum() -> tuple[np.ndarray, tuple[int, int]]:
    A = load_photo()
    s = np.linalg.svd(A, compute_uv=False)
    s.flags.writeable = False
    return s, A.shape


def photo_singular_values() -> np.ndarray:
    """The singular values of the greyscale photograph (computed once), descending."""
    return _photo_spectrum()[0].copy()


@checker
def check_energy_rank(answer: Any) -> Feedback:
    """Exercise 1: the smallest k with Σ_{i≤k} σ_i² / Σ σ_i² ≥ ``ENERGY`` for the photo."""
    k = read_integer(answer, "a rank k", "一個秩 k")
    s, _ = _photo_spectrum()
    expected = k_for_energy(s, ENERGY)
    share = np.cumsum(s) / s.sum()
    sigma_k = int(np.searchsorted(share, ENERGY) + 1)      # what the Σσ share would give
    pct = f"{100 * ENERGY:.0f} %"
    if not 1 <= k <= s.size:
        return Feedback(False, f"k must lie between 1 and {s.size}.", f"k 必須介於 1 與 {s.size} 之間。")
    if k == expected:
        return Feedback(True, f"Right: k = {expected} keeps {pct} of the energy Σσ², so the "
                              f"rank-{expected} photo has a relative squared error under "
                              f"{100 * (1 - ENERGY):.0f} %.",
                        f"正確：k = {expected} 保留了 {pct} 的能量 Σσ²，所以秩 {expected} 的影像"
                        f"相對平方誤差低於 {100 * (1 - ENERGY):.0f} %。")
    if k == sigma_k:
        return Feedback(False, f"{k} is where the Σσ share (the seed's \"information\") reaches "
                               f"{pct}. Use the squares σ_i²: the energy.",
                        f"{k} 是 Σσ 比例（原始筆記所說的「資訊」）達到 {pct} 的位置。請改用平方 "
                        "σ_i²，也就是能量。")
    if k == expected - 1:
        return Feedback(False, f"Almost: at k = {k} the energy is still just below {pct}.",
                        f"差一點：k = {k} 時能量還略低於 {pct}。")
    if k > expected:
        return Feedback(False, f"k = {k} keeps {pct}, but a smaller k does too.",
                        f"k = {k} 確實保留了 {pct}，但更小的 k 也可以。")
    return Feedback(False, f"k = {k} keeps less than {pct} of the energy. Use np.cumsum(s**2).",
                    f"k = {k} 保留的能量不到 {pct}。試試 np.cumsum(s**2)。")


@checker
def check_break_even(answer: Any) -> Feedback:
    """Exercise 2: the largest integer k with k(m + n + 1) < mn for an m×n ``FRAME``."""
    k = read_integer(answer, "a rank k", "一個秩 k")
    m, n = FRAME
    k_star = break_even_rank(m, n)
    expected = math.ceil(k_star) - 1                 # largest integer strictly below k*
    if k == expected:
        return Feedback(True, f"Right: k* = mn/(m+n+1) = {k_star:.3f}, so k = {expected} still "
                              f"stores fewer numbers ({expected * (m + n + 1):,} < {m * n:,}).",
                        f"正確：k* = mn/(m+n+1) = {k_star:.3f}，所以 k = {expected} 仍然比較省"
                        f"（{expected * (m + n + 1):,} < {m * n:,}）。")
    if k == expected + 1:
        return Feedback(False, f"At k = {k} the factors need {k * (m + n + 1):,} numbers, more than "
                               f"the {m * n:,} pixels.",
                        f"k = {k} 時因子需要 {k * (m + n + 1):,} 個數字，比 {m * n:,} 個像素還多。")
    return Feedback(False, f"Not {k}. Solve k(m + n + 1) < mn with m = {m}, n = {n}.",
                    f"不是 {k}。請解 k(m + n + 1) < mn，其中 m = {m}、n = {n}。")


@checker
def check_eckart_young(fro: Any, spectral: Any) -> Feedback:
    """Exercise 3: ‖A − A_k‖_F and ‖A − A_k‖₂ for A = ``ey_matrix()`` and k = ``EY_K``."""
    e_fro = read_number(fro, "the Frobenius error", "Frobenius 範數誤差")
    e_two = read_number(spectral, "the spectral error", "譜範數誤差")
    s = np.linalg.svd(ey_matrix(), compute_uv=False)
    k = EY_K
    want_fro, want_two = float(np.sqrt(np.sum(s[k:] ** 2))), float(s[k])
    ok_fro = close_enough(e_fro, want_fro, rel=1e-4)
    ok_two = close_enough(e_two, want_two, rel=1e-4)
    if ok_fro and ok_two:
        return Feedback(True, f"Right: ‖A − A_{k}‖_F = √(Σ_{{i>{k}}} σ_i²) = {want_fro:.4f} and "
                              f"‖A − A_{k}‖₂ = σ_{k + 1} = {want_two:.4f}.",
                        f"正確：‖A − A_{k}‖_F = √(Σ_{{i>{k}}} σ_i²) = {want_fro:.4f}，"
                        f"‖A − A_{k}‖₂ = σ_{k + 1} = {want_two:.4f}。")
    en, zh = [], []
    if close_enough(e_fro, want_two, rel=1e-4) and close_enough(e_two, want_fro, rel=1e-4):
        return Feedback(False, f"The two answers are swapped: the spectral error is the single "
                               f"σ_{k + 1}, the Frobenius error gathers all the σ_i with i > {k}.",
                        f"兩個答案對調了：譜範數誤差是單一的 σ_{k + 1}，Frobenius 誤差則把所有 i > {k} 的 "
                        "σ_i 都算進去。")
    if not ok_fro:
        if close_enough(e_fro, want_fro**2, rel=1e-4):
            en.append("Frobenius: that is the squared error; take the square root.")
            zh.append("Frobenius：這是誤差的平方，請再開根號。")
        else:
            en.append(f"Frobenius: {e_fro:.4g} is not it; sum σ_i² over i > {k}, then sqrt.")
            zh.append(f"Frobenius：{e_fro:.4g} 不對；把 i > {k} 的 σ_i² 加起來再開根號。")
    if not ok_two:
        if close_enough(e_two, float(s[k - 1]), rel=1e-4):
            en.append(f"Spectral: that is σ_{k}, the last one kept; the error is the first one dropped.")
            zh.append(f"譜範數：這是 σ_{k}，也就是最後一個被保留的奇異值；誤差是第一個被捨去的那一個。")
        else:
            en.append(f"Spectral: {e_two:.4g} is not it; which singular value is dropped first?")
            zh.append(f"譜範數：{e_two:.4g} 不對；第一個被捨去的奇異值是哪一個？")
    return Feedback(False, " ".join(en), "".join(zh))


@checker
def check_psnr_rank(answer: Any) -> Feedback:
    """Exercise 4: the smallest k whose best rank-k photo has PSNR ≥ ``PSNR_TARGET`` (peak 1)."""
    k = read_integer(answer, "a rank k", "一個秩 k")
    s, (m, n) = _photo_spectrum()
    if not 1 <= k <= s.size:
        return Feedback(False, f"k must lie between 1 and {s.size}.", f"k 必須介於 1 與 {s.size} 之間。")
    tail = np.cumsum((s**2)[::-1])[::-1]                    # tail[j] = Σ_{i>j} σ_i² (0-based)
    sse = np.append(tail[1:], 0.0)                           # sse[k-1] = ‖A − A_k‖_F²
    values = [psnr_from_sse(float(x), m * n) for x in sse]
    expected = next(j + 1 for j, v in enumerate(values) if v >= PSNR_TARGET)
    got = values[k - 1]
    if k == expected:
        ratio = compression_ratio(m, n, k)
        return Feedback(True, f"Right: k = {k} gives {got:.2f} dB, k = {k - 1} only "
                              f"{values[k - 2]:.2f} dB; the photo needs {ratio:.1f}× as many numbers "
                              "as the factors.",
                        f"正確：k = {k} 得到 {got:.2f} dB，k = {k - 1} 只有 {values[k - 2]:.2f} dB；"
                        f"原圖的數字個數是因子的 {ratio:.1f} 倍。")
    if got < PSNR_TARGET:
        return Feedback(False, f"k = {k} gives {got:.2f} dB, below {PSNR_TARGET:.0f} dB: try a larger k.",
                        f"k = {k} 只有 {got:.2f} dB，低於 {PSNR_TARGET:.0f} dB：要再大一點。")
    return Feedback(False, f"k = {k} gives {got:.2f} dB, enough, but a smaller k reaches "
                           f"{PSNR_TARGET:.0f} dB too.",
                    f"k = {k} 有 {got:.2f} dB，夠了，但更小的 k 也能達到 {PSNR_TARGET:.0f} dB。")


#: Exercise 5: the test matrix's shape, the rank asked for, and the accuracy a correct sketch reaches.
RSVD_SHAPE = (300, 120)
RSVD_K = 10
RSVD_TOLERANCE = 1.05        # error / optimum, with oversample = 10 and n_iter = 2


def rsvd_matrix(seed: int = 5) -> np.ndarray:
    """Exercise 5: a 300×120 matrix with slowly decaying singular values σ_i = 1/i (seeded)."""
    rng = np.random.default_rng(seed)
    m, n = RSVD_SHAPE
    Q1, _ = np.linalg.qr(rng.standard_normal((m, n)))             # (m, n) orthonormal columns
    Q2, _ = np.linalg.qr(rng.standard_normal((n, n)))             # (n, n) orthogonal
    return (Q1 / np.arange(1, n + 1)) @ Q2.T                      # (m, n), σ_i = 1/i


def _orthonormal(M: np.ndarray, tol: float = 1e-6) -> bool:
    return bool(np.allclose(M.T @ M, np.eye(M.shape[1]), atol=tol))


@checker
def check_randomized_svd(func: Any) -> Feedback:
    """Exercise 5: ``func(A, k, oversample=10, n_iter=2, seed=0)`` returns a rank-k SVD of
    ``rsvd_matrix()`` close to the optimum; shapes, order and orthonormality are checked too."""
    if func is None:
        raise AnswerError("No function yet: write my_randomized_svd and pass it.",
                          "還沒有函式：請寫好 my_randomized_svd 再傳進來。")
    if not callable(func):
        raise AnswerError(f"Pass the function itself, not {type(func).__name__}: "
                          "check_randomized_svd(my_randomized_svd).",
                          f"請傳入函式本身，而不是 {type(func).__name__}：check_randomized_svd(my_randomized_svd)。")
    A = rsvd_matrix()
    m, n, k = *A.shape, RSVD_K
    try:
        result = func(A.copy(), k, oversample=10, n_iter=2, seed=0)
    except Exception as exc:
        name = type(exc).__name__
        return Feedback(False, f"Your function raised {name}: {exc}. It is called as "
                               f"func(A, {k}, oversample=10, n_iter=2, seed=0) with A of shape {A.shape}.",
                        f"你的函式拋出了 {name}：{exc}。呼叫方式是 func(A, {k}, oversample=10, n_iter=2, seed=0)，"
                        f"A 的形狀是 {A.shape}。")
    if result is None:
        return Feedback(False, "Your function returns None: write its body and return (U, s, Vh).",
                        "你的函式回傳 None：請寫好函式內容，並回傳 (U, s, Vh)。")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return Feedback(False, "Return three things, (U, s, Vh), like np.linalg.svd.",
                        "請回傳三個東西 (U, s, Vh)，和 np.linalg.svd 一樣。")
    U = read_matrix(result[0], "U")
    Vh = read_matrix(result[2], "Vh")
    s = read_matrix(np.reshape(result[1], (1, -1)), "s").ravel()
    if U.shape == (m, k + 10) or s.size == k + 10:
        return Feedback(False, f"You return all ℓ = k + 10 = {k + 10} triplets; keep the first k = {k}.",
                        f"你回傳了全部 ℓ = k + 10 = {k + 10} 組；只保留前 k = {k} 組。")
    if Vh.shape == (n, k) and U.shape == (m, k):
        return Feedback(False, f"Vh has shape {Vh.shape}, that of V: return Vh = Vᵀ, of shape ({k}, {n}), "
                               "as np.linalg.svd does.",
                        f"Vh 的形狀是 {Vh.shape}，那是 V 的形狀：請回傳 Vh = Vᵀ，形狀為 ({k}, {n})，和 np.linalg.svd 一樣。")
    if U.shape != (m, k) or s.shape != (k,) or Vh.shape != (k, n):
        return Feedback(False, f"Expected shapes U ({m}, {k}), s ({k},), Vh ({k}, {n}); got "
                               f"{U.shape}, {s.shape}, {Vh.shape}.",
                        f"預期的形狀是 U ({m}, {k})、s ({k},)、Vh ({k}, {n})；收到 {U.shape}、{s.shape}、{Vh.shape}。")
    if np.any(np.diff(s) > 1e-12 * max(abs(s[0]), 1.0)):
        return Feedback(False, "s is not in decreasing order: the largest singular value comes first.",
                        "s 沒有由大到小排列：最大的奇異值要排在最前面。")
    if not _orthonormal(U):
        return Feedback(False, "The columns of U are not orthonormal: orthonormalise the sketch (np.linalg.qr) "
                               "and lift with U = Q Ũ.",
                        "U 的各行不是單範正交：請先把隨機投影的結果單範正交化（np.linalg.qr），再用 U = Q Ũ 映回。")
    if not _orthonormal(Vh.T):
        return Feedback(False, "The rows of Vh are not orthonormal: take them from the SVD of QᵀA.",
                        "Vh 的各列不是單範正交：請從 QᵀA 的奇異值分解取得。")
    optimum = float(np.sqrt(np.sum(np.linalg.svd(A, compute_uv=False)[k:] ** 2)))
    ratio = float(np.linalg.norm(A - (U * s) @ Vh) / optimum)
    if ratio > RSVD_TOLERANCE:
        return Feedback(False, f"The shapes are right, but the error is {ratio:.3f} × the optimum "
                               f"(a correct sketch with 2 power iterations stays below {RSVD_TOLERANCE}). "
                               "Are the power iterations there, and is s the SVD of QᵀA?",
                        f"形狀都對，但誤差是最佳值的 {ratio:.3f} 倍（正確的隨機投影加上 2 次冪迭代會低於 "
                        f"{RSVD_TOLERANCE}）。冪迭代有做嗎？s 是 QᵀA 的奇異值嗎？")
    again = func(A.copy(), k, oversample=10, n_iter=2, seed=0)
    if not np.allclose(np.asarray(again[1], dtype=float), s):
        return Feedback(False, "Accurate, but two calls with seed=0 disagree: draw Ω from "
                               "np.random.default_rng(seed).",
                        "夠準確，但兩次以 seed=0 呼叫的結果不同：請用 np.random.default_rng(seed) 產生 Ω。")
    return Feedback(True, f"Right: error {ratio:.4f} × the optimum ‖A − A_k‖_F on a {m}×{n} matrix "
                          f"with σ_i = 1/i; U and Vh orthonormal, s decreasing, reproducible with a seed.",
                    f"正確：在 σ_i = 1/i 的 {m}×{n} 矩陣上，誤差是最佳值 ‖A − A_k‖_F 的 {ratio:.4f} 倍；"
                    "U 與 Vh 單範正交、s 由大到小、給定種子可以重現。")
