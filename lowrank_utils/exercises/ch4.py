"""Exercises of chapter 4, "LoRA / 低秩適配". Each checker computes the right answer itself.

The data of each exercise lives here so that the statement, the checker and the tests agree:
``LAYER`` (exercise 1), ``BREAK_EVEN`` (exercise 2), ``W0``, ``B``, ``A``, ``ALPHA`` (exercise 3),
``W_PISSA`` and ``R_PISSA`` (exercise 4). No torch is needed: the matrices are NumPy arrays in
the book's convention (B is d_out×r, A is r×d_in, W₀ is d_out×d_in like ``nn.Linear.weight``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..linalg import approximation_error
from .core import Feedback, checker, read_integer, read_matrix, read_number

__all__ = [
    "LAYER", "BREAK_EVEN", "W0", "B", "A", "ALPHA", "W_PISSA", "R_PISSA",
    "check_lora_count", "check_break_even_rank", "check_merged_weight", "check_pissa_residual",
]


def _frozen(rows: list[list[float]]) -> np.ndarray:
    M = np.array(rows, dtype=float)
    M.setflags(write=False)           # a learner's in-place edit cannot change the exercise
    return M


#: Exercise 1: GPT-2 small's MLP down-projection, d_out × d_in = 768 × 3072, adapted with r = 8.
LAYER = {"d_out": 768, "d_in": 3072, "r": 8}

#: Exercise 2: a 512 × 1536 weight matrix. For which r does LoRA still train fewer numbers?
BREAK_EVEN = {"d_out": 512, "d_in": 1536}

#: Exercise 3: a 3×4 frozen weight, a rank-2 update B (3×2) A (2×4) and alpha = 4.
W0 = _frozen([[1, 0, 2, -1],
              [0, 3, 1, 2],
              [2, -1, 0, 1]])
B = _frozen([[1, 0],
             [0, 2],
             [-1, 1]])
A = _frozen([[0.5, 1, 0, -0.5],
             [0, -1, 1, 0.5]])
ALPHA = 4.0

#: Exercise 4: a 5×4 weight (non-symmetric, rank 4) for a PiSSA initialisation of rank R_PISSA.
W_PISSA = _frozen([[4, 1, 0, 2],
                   [1, 3, 1, 0],
                   [0, 2, 5, 1],
                   [2, 0, 1, 3],
                   [1, 1, 0, 1]])
R_PISSA = 2


@checker
def check_lora_count(answer: Any) -> Feedback:
    """Exercise 1: trainable numbers of LoRA on ``LAYER``: r·(d_out + d_in)."""
    n = read_integer(answer, "a number of parameters", "參數的個數")
    d_out, d_in, r = LAYER["d_out"], LAYER["d_in"], LAYER["r"]
    expected = r * (d_out + d_in)
    full = d_out * d_in
    if n == expected:
        return Feedback(True, f"Right: B has {d_out}×{r} and A has {r}×{d_in} entries, "
                              f"{expected:,} in all, {full / expected:.3g}× fewer than the "
                              f"{full:,} of W₀.",
                        f"正確：B 有 {d_out}×{r} 個、A 有 {r}×{d_in} 個元素，共 {expected:,} 個，"
                        f"是 W₀ 的 {full:,} 個的 {full / expected:.3g} 分之一。")
    if n in (full, full + expected):
        return Feedback(False, "That counts W₀, which stays frozen. Count only B (d_out×r) and "
                               "A (r×d_in).",
                        "這把凍結不動的 W₀ 也算進去了。只要數 B（d_out×r）和 A（r×d_in）。")
    if n == r * d_out * d_in:
        return Feedback(False, "r·d_out·d_in would be r full matrices. B is d_out×r and A is "
                               "r×d_in: add their sizes.",
                        "r·d_out·d_in 等於 r 個完整矩陣。B 是 d_out×r、A 是 r×d_in：把兩者的大小相加。")
    if n in (r * d_out, r * d_in):
        return Feedback(False, "That is one of the two factors. Add the other one.",
                        "這只是其中一個因子，還要加上另一個。")
    return Feedback(False, "Count the entries of B (d_out×r) and of A (r×d_in) and add them.",
                    "數一數 B（d_out×r）與 A（r×d_in）的元素個數，再相加。")


@checker
def check_break_even_rank(answer: Any) -> Feedback:
    """Exercise 2: the largest r with r·(d_out + d_in) < d_out·d_in for ``BREAK_EVEN``."""
    r = read_integer(answer, "a rank r", "秩 r")
    d, k = BREAK_EVEN["d_out"], BREAK_EVEN["d_in"]
    full = d * k
    expected = (full - 1) // (d + k)                 # largest r with r(d + k) < dk (exact)
    if r == expected:
        return Feedback(True, f"Right: r = {r} trains {r * (d + k):,} numbers, fewer than "
                              f"{full:,}; from r = {r + 1} on LoRA stores at least as many as W₀ "
                              f"(r* = dk/(d + k) = {full / (d + k):g}).",
                        f"正確：r = {r} 要訓練 {r * (d + k):,} 個數字，少於 {full:,} 個；從 r = {r + 1} "
                        f"起，LoRA 要儲存的數字就不少於 W₀ 了（r* = dk/(d + k) = {full / (d + k):g}）。")
    if r * (d + k) == full:
        return Feedback(False, f"At r = {r}, r·(d + k) = {full:,} equals d·k: no saving at all. "
                               "The question asks for strictly fewer.",
                        f"在 r = {r} 時 r·(d + k) = {full:,} 正好等於 d·k：完全沒有節省。"
                        "題目要求的是「嚴格少於」。")
    if r > expected:
        return Feedback(False, f"At r = {r}, LoRA trains {r * (d + k):,} numbers, more than the "
                               f"{full:,} of W₀. Solve r·(d + k) < d·k.",
                        f"在 r = {r} 時 LoRA 要訓練 {r * (d + k):,} 個數字，比 W₀ 的 {full:,} 個還多。"
                        "請解 r·(d + k) < d·k。")
    return Feedback(False, f"At r = {r} LoRA is cheaper, but a larger r is too. Solve "
                           "r·(d + k) < d·k for the largest integer r.",
                    f"r = {r} 時 LoRA 確實比較省，但更大的 r 也還是比較省。請求出滿足 "
                    "r·(d + k) < d·k 的最大整數 r。")


@checker
def check_merged_weight(answer: Any) -> Feedback:
    """Exercise 3: the merged weight W = W₀ + (alpha / r) · B A, with r = 2."""
    r = A.shape[0]
    try:
        shape = np.shape(answer)
    except ValueError:                                   # ragged nested lists
        shape = None
    if shape == (W0.shape[1], W0.shape[0]):
        return Feedback(False, f"Shape {shape} is the transpose: W has the shape of W₀, "
                               f"{W0.shape} (d_out×d_in, like nn.Linear.weight). Did you compute "
                               "Aᵀ Bᵀ?",
                        f"形狀 {shape} 是轉置後的結果：W 的形狀和 W₀ 一樣是 {W0.shape}"
                        "（d_out×d_in，和 nn.Linear.weight 相同）。你是不是算成了 Aᵀ Bᵀ？")
    W = read_matrix(answer, "W", W0.shape)
    expected = W0 + (ALPHA / r) * (B @ A)
    if np.allclose(W, expected, atol=1e-9):
        return Feedback(True, f"Right: the scaling is alpha/r = {ALPHA / r:g}, and W has rank "
                              f"{np.linalg.matrix_rank(W)} although ΔW has rank "
                              f"{np.linalg.matrix_rank(B @ A)}.",
                        f"正確：縮放係數是 alpha/r = {ALPHA / r:g}；ΔW 的秩是 "
                        f"{np.linalg.matrix_rank(B @ A)}，W 的秩則是 {np.linalg.matrix_rank(W)}。")
    if np.allclose(W, W0 + B @ A, atol=1e-9):
        return Feedback(False, f"You added B A without the scaling alpha/r = {ALPHA / r:g}.",
                        f"你加上了 B A，但少了縮放係數 alpha/r = {ALPHA / r:g}。")
    if np.allclose(W, W0 + ALPHA * (B @ A), atol=1e-9):
        return Feedback(False, "The scaling is alpha / r, not alpha.",
                        "縮放係數是 alpha / r，不是 alpha。")
    if np.allclose(W, (ALPHA / r) * (B @ A), atol=1e-9):
        return Feedback(False, "That is the scaled update (alpha/r)·B A alone: add it to W₀.",
                        "這只是縮放後的更新量 (alpha/r)·B A：還要加上 W₀。")
    return Feedback(False, "Compute B @ A (3×4), scale it by alpha/r, and add W₀.",
                    "先算 B @ A（3×4），乘上 alpha/r，再加上 W₀。")


@checker
def check_pissa_residual(answer: Any) -> Feedback:
    """Exercise 4: ‖W_res‖_F after PiSSA moves the top-R_PISSA singular part into B A."""
    value = read_number(answer, "a norm (a number)", "一個範數（數字）")
    s = np.linalg.svd(W_PISSA, compute_uv=False)
    expected = approximation_error(W_PISSA, R_PISSA, "fro")     # sqrt(Σ_{i>r} σ_i²)
    k = R_PISSA
    if abs(value - expected) <= 1e-4 * expected:
        return Feedback(True, f"Right: ‖W_res‖_F = sqrt(σ₃² + σ₄²) = {expected:.6g}, the "
                              "Eckart–Young error of chapter 3: PiSSA freezes exactly what the best "
                              "rank-2 approximation leaves out.",
                        f"正確：‖W_res‖_F = sqrt(σ₃² + σ₄²) = {expected:.6g}，就是第 3 章的 "
                        "Eckart–Young 誤差：PiSSA 凍結的正是最佳秩 2 近似所捨棄的部分。")
    if abs(value - s[k]) <= 1e-4 * s[k]:
        return Feedback(False, f"σ₃ = {s[k]:.4g} is the spectral norm of W_res. The Frobenius "
                               "norm adds all the discarded σ² under the square root.",
                        f"σ₃ = {s[k]:.4g} 是 W_res 的譜範數。Frobenius 範數要把捨棄的 σ² 全部加起來再開根號。")
    if abs(value - s[k:].sum()) <= 1e-4 * s[k:].sum():
        return Feedback(False, "That is σ₃ + σ₄. Square, add, then take the square root.",
                        "這是 σ₃ + σ₄。要先平方、相加，再開根號。")
    if abs(value - np.sum(s[k:] ** 2)) <= 1e-4 * np.sum(s[k:] ** 2):
        return Feedback(False, "That is ‖W_res‖_F²: take the square root.",
                        "這是 ‖W_res‖_F²：還要開根號。")
    if abs(value - np.linalg.norm(W_PISSA)) <= 1e-4 * np.linalg.norm(W_PISSA):
        return Feedback(False, "That is ‖W₀‖_F. Subtract B A = U_r Σ_r Vh_r first.",
                        "這是 ‖W₀‖_F。請先減去 B A = U_r Σ_r Vh_r。")
    return Feedback(False, "Build B = U_r √Σ_r and A = √Σ_r Vh_r from the SVD, then take "
                           "‖W₀ − B A‖_F.",
                    "由 SVD 建立 B = U_r √Σ_r 與 A = √Σ_r Vh_r，再計算 ‖W₀ − B A‖_F。")
