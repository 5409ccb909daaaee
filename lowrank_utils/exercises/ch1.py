"""Exercises of chapter 1, "Rank / 矩陣的秩". Each checker computes the right answer itself.

The data of each exercise lives here so that the statement, the checker and the tests agree:
``M`` (exercises 1 and 3), ``LAYER`` (exercise 2), ``RANKS`` (exercise 4), ``noisy_matrix()``
(exercise 5).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..linalg import numerical_rank
from .core import Feedback, checker, read_integer, read_matrix

__all__ = [
    "M", "LAYER", "RANKS", "noisy_matrix",
    "check_rank", "check_factor_count", "check_factorization", "check_rank_bounds",
    "check_signal_rank",
]

#: Exercises 1 and 3: a 3×4 matrix whose third row is the sum of the first two.
M = np.array([[1.0, 2.0, 0.0, 3.0],
              [2.0, 4.0, 1.0, 7.0],
              [3.0, 6.0, 1.0, 10.0]])

#: Exercise 2: a weight matrix of a transformer layer and the rank of its factorised update.
LAYER = {"m": 4096, "n": 4096, "k": 16}

#: Exercise 4: ranks and shapes. A is 6×5 of rank 2, B is 5×4 of rank 3 (for A @ B);
#: C and D are 6×5 of ranks 2 and 3 (for C + D).
RANKS = {"A": (6, 5, 2), "B": (5, 4, 3), "C": (6, 5, 2), "D": (6, 5, 3)}


def noisy_matrix(seed: int = 7) -> np.ndarray:
    """Exercise 5: a 30×20 matrix of hidden rank 4 plus noise of size 1e-6 (seeded)."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((30, 4)) @ rng.standard_normal((4, 20))   # (30, 20), rank 4
    return signal + 1e-6 * rng.standard_normal((30, 20))


@checker
def check_rank(answer: Any) -> Feedback:
    """Exercise 1: the rank of ``M``."""
    r = read_integer(answer, "the rank of M", "M 的秩")
    expected = numerical_rank(M)
    if r == expected:
        return Feedback(True, f"Right: rank(M) = {expected}. Row 3 = row 1 + row 2, and rows 1, 2 "
                              "are independent.",
                        f"正確：rank(M) = {expected}。第 3 列 = 第 1 列 + 第 2 列，而第 1、2 列線性獨立。")
    hint_en = ("Too high: look for a row that is a combination of the others."
               if r > expected else "Too low: are rows 1 and 2 multiples of each other?")
    hint_zh = ("太大了：找找看有沒有某一列是其他列的線性組合。"
               if r > expected else "太小了：第 1 列和第 2 列是彼此的倍數嗎？")
    return Feedback(False, f"Not {r}. {hint_en}", f"不是 {r}。{hint_zh}")


@checker
def check_factor_count(answer: Any) -> Feedback:
    """Exercise 2: numbers stored by L (m×k) and R (k×n) for ``LAYER``: k(m + n)."""
    count = read_integer(answer, "a count of numbers", "數字的個數")
    m, n, k = LAYER["m"], LAYER["n"], LAYER["k"]
    expected = k * (m + n)
    if count == expected:
        return Feedback(True, f"Right: k(m+n) = {expected:,}, which is {m * n / expected:.0f}× fewer "
                              f"than the {m * n:,} entries of the full matrix.",
                        f"正確：k(m+n) = {expected:,}，只有完整矩陣 {m * n:,} 個元素的 "
                        f"1/{m * n / expected:.0f}。")
    if count == m * n:
        return Feedback(False, "That is the size of the full matrix; count the entries of L and R.",
                        "這是完整矩陣的大小；請計算 L 和 R 的元素個數。")
    if count == k * (m + n + 1):
        return Feedback(False, "That counts singular values too (the SVD form); L and R alone hold "
                               "fewer numbers.",
                        "這把奇異值也算進去了（SVD 的形式）；只有 L 和 R 的話數字更少。")
    return Feedback(False, f"Not {count:,}. L has m·k entries and R has k·n.",
                    f"不是 {count:,}。L 有 m·k 個元素，R 有 k·n 個。")


@checker
def check_factorization(L: Any, R: Any) -> Feedback:
    """Exercise 3: any L (3×2) and R (2×4) with L @ R = M."""
    r = numerical_rank(M)
    L = read_matrix(L, "L", (M.shape[0], r))
    R = read_matrix(R, "R", (r, M.shape[1]))
    error = float(np.linalg.norm(L @ R - M))
    if error <= 1e-9 * max(1.0, float(np.linalg.norm(M))):
        return Feedback(True, "Right: L @ R reproduces M exactly, with 14 numbers instead of 12 "
                              "(for a matrix this small, factorising does not save space).",
                        "正確：L @ R 完全重現 M，用了 14 個數字而不是 12 個"
                        "（這麼小的矩陣，分解並不省空間）。")
    return Feedback(False, f"L @ R differs from M (‖L R − M‖_F = {error:.3g}). Hint: let R be two "
                           "rows of M that span the third; L then holds the coefficients.",
                    f"L @ R 與 M 不同（‖L R − M‖_F = {error:.3g}）。提示：讓 R 取 M 中能組合出第三列的"
                    "兩列，L 則放組合係數。")


@checker
def check_rank_bounds(max_rank_product: Any, max_rank_sum: Any) -> Feedback:
    """Exercise 4: the largest possible rank of A @ B and of C + D for the shapes in ``RANKS``."""
    p = read_integer(max_rank_product, "the largest possible rank of A @ B", "A @ B 可能的最大秩")
    s = read_integer(max_rank_sum, "the largest possible rank of C + D", "C + D 可能的最大秩")
    (_, _, rA), (_, _, rB) = RANKS["A"], RANKS["B"]
    (mC, nC, rC), (_, _, rD) = RANKS["C"], RANKS["D"]
    expected_p = min(rA, rB)                    # rank(AB) <= min(rank A, rank B)
    expected_s = min(rC + rD, mC, nC)           # rank(C+D) <= rank C + rank D, and <= min(m, n)
    ok_p, ok_s = p == expected_p, s == expected_s
    if ok_p and ok_s:
        return Feedback(True, f"Right: at most {expected_p} for A @ B and at most {expected_s} for "
                              "C + D, and both bounds are reached by generic matrices.",
                        f"正確：A @ B 的秩最多 {expected_p}，C + D 最多 {expected_s}，"
                        "而一般的隨機矩陣都能達到這兩個上界。")
    en, zh = [], []
    hints = [("A @ B", p, expected_p, "every column of A B is a combination of A's columns.",
              "A B 的每一行都是 A 各行的線性組合。"),
             ("C + D", s, expected_s, "think of the column spaces, and of the shape.",
              "想想兩者的行空間，也別忘了矩陣的形狀。")]
    for name, given, expected, why_en, why_zh in hints:
        if given > expected:
            en.append(f"{name}: {given} is too large; {why_en}")
            zh.append(f"{name}：{given} 太大了；{why_zh}")
        elif given < expected:
            en.append(f"{name}: {given} is not the largest possible rank; random matrices of these "
                      "ranks do better.")
            zh.append(f"{name}：{given} 不是最大可能的秩；隨機取這些秩的矩陣，能達到更大的秩。")
    return Feedback(False, " ".join(en), "".join(zh))


@checker
def check_signal_rank(answer: Any) -> Feedback:
    """Exercise 5: the rank hidden under the noise of ``noisy_matrix()``: the largest gap in σ."""
    r = read_integer(answer, "a rank", "一個秩")
    s = np.linalg.svd(noisy_matrix(), compute_uv=False)
    gaps = s[:-1] / np.maximum(s[1:], np.finfo(float).tiny)
    expected = int(np.argmax(gaps) + 1)          # the cut after the largest ratio σ_i / σ_{i+1}
    if r == expected:
        return Feedback(True, f"Right: {expected} singular values stand far above the rest "
                              f"(σ_{expected} / σ_{expected + 1} ≈ {gaps[expected - 1]:.1e}).",
                        f"正確：有 {expected} 個奇異值遠大於其餘的"
                        f"（σ_{expected} / σ_{expected + 1} ≈ {gaps[expected - 1]:.1e}）。")
    return Feedback(False, f"Not {r}. Plot the singular values on a log scale and look for the cliff.",
                    f"不是 {r}。把奇異值畫在對數座標上，找出斷崖在哪裡。")
