"""Exercises of chapter 2, "SVD / 奇異值分解". Each checker computes the right answer itself.

The data of each exercise lives here (read-only arrays) so that the statement, the checker and
the tests agree: ``A_HAND`` (exercise 1), ``E`` (exercise 2), ``C`` (exercise 3), ``B``
(exercise 4), ``D`` (exercise 5). None of them is symmetric, and B, C, D are not square.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..linalg import best_rank_k, numerical_rank
from .core import AnswerError, Feedback, checker, read_integer, read_matrix

__all__ = [
    "A_HAND", "E", "C", "B", "D",
    "check_singular_values_by_hand", "check_singular_values_from_eigh", "check_rank_one_term",
    "check_null_space", "check_subspace_dimensions",
]


def _frozen(rows: list[list[float]]) -> np.ndarray:
    M = np.array(rows, dtype=float)
    M.setflags(write=False)           # a learner's in-place edit cannot change the exercise
    return M


#: Exercise 1: a non-symmetric 2×2 matrix whose singular values follow from AᵀA by hand.
A_HAND = _frozen([[3, 0],
                  [4, 5]])

#: Exercise 2: a 3×5 matrix (singular values through the eigenvalues of E Eᵀ or EᵀE).
E = _frozen([[2, 1, 0, -1, 3],
             [0, 1, 4, 2, -1],
             [1, -2, 1, 0, 2]])

#: Exercise 3: a 4×3 matrix of rank 3 (its best rank-1 term σ₁u₁v₁ᵀ).
C = _frozen([[4, 1, 2],
             [2, 3, 0],
             [1, 0, 5],
             [3, 2, 1]])

#: Exercise 4: a 3×5 matrix of rank 2 (row 3 = row 1 − row 2): its null space has dimension 3.
B = _frozen([[1, 2, 0, 1, 3],
             [2, 1, 1, 0, 1],
             [-1, 1, -1, 1, 2]])

#: Exercise 5: a 4×6 matrix of rank 2 (rows 3 and 4 are combinations of rows 1 and 2).
D = _frozen([[1, 0, 2, -1, 3, 1],
             [0, 1, 1, 2, -1, 4],
             [2, 1, 5, 0, 5, 6],
             [1, -1, 1, -3, 4, -3]])

_SINGULAR_VALUES_EN = "the singular values (a list or array of numbers)"
_SINGULAR_VALUES_ZH = "奇異值（由數字組成的串列或陣列）"


def _read_values(answer: Any) -> np.ndarray:
    """A 1-D array of finite numbers from a list, tuple or array; feedback otherwise."""
    if answer is None:
        raise AnswerError("No answer yet: replace None with your answer and run the cell again.",
                          "還沒有作答：請把 None 換成你的答案，再執行一次這個儲存格。")
    try:
        values = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        raise AnswerError(f"Expected {_SINGULAR_VALUES_EN}, got {answer!r}.",
                          f"這裡需要{_SINGULAR_VALUES_ZH}，但收到 {answer!r}。") from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise AnswerError(f"Expected {_SINGULAR_VALUES_EN}: finite numbers, got {answer!r}.",
                          f"這裡需要{_SINGULAR_VALUES_ZH}：有限的數字，但收到 {answer!r}。")
    return values


def _has_nan(answer: Any) -> bool:
    """Whether the answer is an array of floats holding a nan (never raises; None is no nan)."""
    try:
        values = np.asarray(answer)
    except (TypeError, ValueError):
        return False
    return values.dtype.kind == "f" and bool(np.any(np.isnan(values)))


def _compare_singular_values(values: np.ndarray, s: np.ndarray, rel: float, gram: str,
                             what_en: str, what_zh: str) -> Feedback:
    """Shared verdict of exercises 1 and 2: values against the true s (descending).

    ``gram`` names the Gram matrix of the exercise in the hints ("AᵀA", "E Eᵀ or EᵀE").
    """
    def close(x: np.ndarray, y: np.ndarray) -> bool:
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=rel, atol=1e-9 * y.max()))

    shown = ", ".join(f"{x:.4g}" for x in s)
    if close(values, s):
        return Feedback(True, f"Right: σ = {shown}. {what_en}", f"正確：σ = {shown}。{what_zh}")
    if close(values, s[::-1]):
        return Feedback(False, "Right values, wrong order: singular values are listed from the "
                               "largest down (np.linalg.eigvalsh, like eigh, returns eigenvalues in "
                               "ascending order).",
                        "數值正確，但順序錯了：奇異值由大到小排列（np.linalg.eigvalsh 和 eigh 一樣，"
                        "回傳的特徵值是由小到大）。")
    if close(np.sort(values)[::-1], s**2):
        return Feedback(False, f"Those are σ², the eigenvalues of {gram}: take square roots.",
                        f"這些是 σ²，也就是 {gram} 的特徵值：還要開根號。")
    if values.size > s.size and close(np.sort(values)[::-1][: s.size], s) \
            and np.allclose(values[np.argsort(values)[::-1][s.size:]], 0, atol=rel * s.max()):
        return Feedback(False, f"The first {s.size} are right; the extra zeros come from the larger "
                               f"Gram matrix. Keep min(m, n) = {s.size} values.",
                        f"前 {s.size} 個正確；多出來的 0 來自較大的那個格拉姆矩陣（Gram matrix），"
                        f"只保留 min(m, n) = {s.size} 個值。")
    if values.size != s.size:
        return Feedback(False, f"Expected {s.size} values (min(m, n)), got {values.size}.",
                        f"需要 {s.size} 個值（min(m, n)），但收到 {values.size} 個。")
    return Feedback(False, f"These are not the singular values. Build {gram}, find its eigenvalues λ, "
                           "then σ = √λ.",
                    f"這些不是奇異值。先算 {gram}，求出特徵值 λ，再取 σ = √λ。")


@checker
def check_singular_values_by_hand(answer: Any) -> Feedback:
    """Exercise 1: σ₁ ≥ σ₂ of ``A_HAND`` (3 significant digits suffice; expressions welcome)."""
    values = _read_values(answer)
    s = np.linalg.svd(A_HAND, compute_uv=False)
    eigenvalues = np.sort(np.linalg.eigvals(A_HAND).real)[::-1]     # 5 and 3: a classic mix-up
    if values.shape == s.shape and np.allclose(np.sort(values)[::-1], eigenvalues, rtol=5e-3):
        return Feedback(False, "Those are the eigenvalues of A itself (its diagonal, A being "
                               "triangular). Here they differ from the singular values: use AᵀA.",
                        "這些是 A 本身的特徵值（A 是三角矩陣，特徵值就在對角線上），在這裡和奇異值不同："
                        "請改用 AᵀA。")
    return _compare_singular_values(values, s, 5e-3, "AᵀA",     # 3 significant digits
                                    "σ₁σ₂ = |det A| and σ₁² + σ₂² = ‖A‖_F² are two quick checks.",
                                    "σ₁σ₂ = |det A| 與 σ₁² + σ₂² = ‖A‖_F² 是兩個快速的驗算方法。")


@checker
def check_singular_values_from_eigh(answer: Any) -> Feedback:
    """Exercise 2: the min(m, n) singular values of ``E``, descending, computed without an SVD."""
    if _has_nan(answer):                     # √ of a round-off negative eigenvalue of EᵀE
        return Feedback(False, "nan is the square root of a negative number: round-off can turn a "
                               "zero eigenvalue of the larger Gram matrix EᵀE (5×5) into a tiny "
                               "negative one, about −10⁻¹⁶. Use E Eᵀ (3×3), or clip first: "
                               "np.sqrt(np.clip(λ, 0, None)).",
                        "nan 來自對負數開根號：較大的格拉姆矩陣 EᵀE（5×5）的零特徵值可能因捨入誤差變成"
                        "極小的負數，約 −10⁻¹⁶。請改用 E Eᵀ（3×3），或先用 np.clip(λ, 0, None) 截掉負值"
                        "再開根號。")
    values = _read_values(answer)
    s = np.linalg.svd(E, compute_uv=False)
    return _compare_singular_values(values, s, 1e-6, "E Eᵀ (or EᵀE)",
                                    "E Eᵀ (3×3) is the cheaper Gram matrix here; EᵀE (5×5) has the "
                                    "same non-zero eigenvalues plus two zeros.",
                                    "這裡 E Eᵀ（3×3）是比較小的格拉姆矩陣；EᵀE（5×5）有相同的非零特徵值，"
                                    "另外多兩個 0。")


@checker
def check_rank_one_term(answer: Any) -> Feedback:
    """Exercise 3: the first term σ₁u₁v₁ᵀ of the outer-product expansion of ``C``."""
    X = read_matrix(answer, "answer", C.shape)
    U, s, Vh = np.linalg.svd(C, full_matrices=False)
    expected = best_rank_k(C, 1)                                 # σ₁ u₁ v₁ᵀ, sign-free
    scale = float(s[0])
    if np.allclose(X, expected, atol=1e-6 * scale):
        rel = np.linalg.norm(C - X) / np.linalg.norm(C)
        return Feedback(True, f"Right: σ₁u₁v₁ᵀ with σ₁ = {s[0]:.4g}; it leaves "
                              f"‖C − σ₁u₁v₁ᵀ‖_F / ‖C‖_F = {rel:.3f}.",
                        f"正確：σ₁u₁v₁ᵀ，其中 σ₁ = {s[0]:.4g}；剩下的相對誤差 "
                        f"‖C − σ₁u₁v₁ᵀ‖_F / ‖C‖_F = {rel:.3f}。")
    if np.allclose(X, np.outer(U[:, 0], Vh[0]), atol=1e-6) or \
            np.allclose(X, -np.outer(U[:, 0], Vh[0]), atol=1e-6):
        return Feedback(False, "That is u₁v₁ᵀ: multiply by σ₁.", "這是 u₁v₁ᵀ：還要乘上 σ₁。")
    wrong_v1 = Vh[:, 0]                                          # a column of Vh: the classic bug
    if np.allclose(np.abs(X), np.abs(s[0] * np.outer(U[:, 0], wrong_v1)), atol=1e-6 * scale):
        return Feedback(False, "You took v₁ from the first column of Vh. NumPy returns Vh = Vᵀ: the "
                               "right singular vectors are its rows, v₁ = Vh[0].",
                        "你把 Vh 的第一行當成 v₁。NumPy 回傳的是 Vh = Vᵀ：右奇異向量是它的列，v₁ = Vh[0]。")
    if numerical_rank(X, tol=1e-9 * scale) != 1:
        return Feedback(False, "Your matrix does not have rank 1; one term σ₁u₁v₁ᵀ is an outer product.",
                        "你的矩陣秩不是 1；單一項 σ₁u₁v₁ᵀ 是一個外積，秩為 1。")
    error = np.linalg.norm(C - X)
    return Feedback(False, f"Rank 1, but not the leading term: ‖C − X‖_F = {error:.4g}, while "
                           f"σ₁u₁v₁ᵀ leaves only {np.linalg.norm(C - expected):.4g}.",
                    f"秩為 1，但不是第一項：‖C − X‖_F = {error:.4g}，而 σ₁u₁v₁ᵀ 的誤差只有 "
                    f"{np.linalg.norm(C - expected):.4g}。")


@checker
def check_null_space(answer: Any) -> Feedback:
    """Exercise 4: a basis of the null space of ``B``, as the columns of an n×(n − r) matrix."""
    m, n = B.shape
    r = numerical_rank(B)
    N = read_matrix(answer, "N", None)
    if N.shape == (n - r, n):
        return Feedback(False, f"Shape {N.shape}: the basis vectors should be the columns, shape "
                               f"{(n, n - r)}. Transpose it (Vh[r:].T).",
                        f"形狀是 {N.shape}：基底向量應該放在各行，形狀為 {(n, n - r)}。請轉置（Vh[r:].T）。")
    if N.shape != (n, n - r):
        return Feedback(False, f"N should have shape {(n, n - r)}: n = {n} entries per vector and "
                               f"n − r = {n - r} vectors. Got {N.shape}.",
                        f"N 的形狀應為 {(n, n - r)}：每個向量有 n = {n} 個分量，共 n − r = {n - r} 個向量。"
                        f"收到的是 {N.shape}。")
    residual = float(np.linalg.norm(B @ N))
    _, _, Vh = np.linalg.svd(B)
    if np.allclose(N, Vh[:, r:], atol=1e-8):
        return Feedback(False, f"These are columns of Vh, and ‖B N‖ = {residual:.3g}, not 0. NumPy "
                               "returns Vh = Vᵀ, whose rows are the right singular vectors: use Vh[r:].T.",
                        f"這些是 Vh 的行，而 ‖B N‖ = {residual:.3g}，不是 0。NumPy 回傳的是 Vh = Vᵀ，"
                        "右奇異向量是它的列：請用 Vh[r:].T。")
    if residual > 1e-8 * np.linalg.norm(B) * max(1.0, float(np.linalg.norm(N))):
        return Feedback(False, f"B N is not zero (‖B N‖ = {residual:.3g}): these vectors are not "
                               "all in the null space.",
                        f"B N 不是零（‖B N‖ = {residual:.3g}）：這些向量並非都在零空間裡。")
    if numerical_rank(N, tol=1e-8 * max(1.0, float(np.abs(N).max()))) < n - r:
        return Feedback(False, "B N = 0, but the columns are not independent: a basis needs "
                               f"{n - r} independent vectors.",
                        f"B N = 0，但各行並非線性獨立：基底需要 {n - r} 個線性獨立的向量。")
    orthonormal = np.allclose(N.T @ N, np.eye(n - r), atol=1e-8)
    note_en = " It is orthonormal, like the one the SVD gives." if orthonormal else \
        " (Not orthonormal, but any basis spans the same space; the SVD's is orthonormal.)"
    note_zh = "這組基底還是單範正交的，和 SVD 給的一樣。" if orthonormal else \
        "（不是單範正交，但任何基底都生成同一個空間；SVD 給的是單範正交基底。）"
    return Feedback(True, f"Right: B N = 0 and the {n - r} columns are independent.{note_en}",
                    f"正確：B N = 0，而且這 {n - r} 個行向量線性獨立。{note_zh}")


@checker
def check_subspace_dimensions(col: Any, left_null: Any, row: Any, null: Any) -> Feedback:
    """Exercise 5: dimensions of C(D), N(Dᵀ), C(Dᵀ), N(D): r, m − r, r, n − r."""
    got = [read_integer(x, f"the dimension of {name}", f"{name} 的維度")
           for x, name in ((col, "C(D)"), (left_null, "N(Dᵀ)"), (row, "C(Dᵀ)"), (null, "N(D)"))]
    m, n = D.shape
    r = numerical_rank(D)
    expected = [r, m - r, r, n - r]
    if got == expected:
        return Feedback(True, f"Right: rank r = {r}; dimensions r, m − r, r, n − r = "
                              f"{r}, {m - r}, {r}, {n - r}, which add up to m = {m} and n = {n}.",
                        f"正確：秩 r = {r}；維度依序為 r、m − r、r、n − r = {r}、{m - r}、{r}、{n - r}，"
                        f"前兩個相加為 m = {m}，後兩個相加為 n = {n}。")
    if got == [r, n - r, r, m - r]:
        return Feedback(False, f"The two null spaces are swapped: N(D) lives in ℝⁿ (n = {n}), "
                               f"N(Dᵀ) in ℝᵐ (m = {m}).",
                        f"兩個零空間對調了：N(D) 在 ℝⁿ 裡（n = {n}），N(Dᵀ) 在 ℝᵐ 裡（m = {m}）。")
    if got[0] != r or got[2] != r:
        return Feedback(False, "Find the rank first: the column and row spaces both have "
                               "dimension r. Are some rows combinations of others?",
                        "先求出秩：行空間與列空間的維度都是 r。有沒有哪幾列是其他列的線性組合？")
    return Feedback(False, "Column space + left null space fill ℝᵐ; row space + null space fill ℝⁿ.",
                    "行空間加上左零空間填滿 ℝᵐ；列空間加上零空間填滿 ℝⁿ。")
