"""Tests of lowrank_utils.four_subspaces: the four fundamental subspaces from U and the rows of Vh.

Every matrix here is non-symmetric, most are non-square and rank-deficient: a symmetric example
would hide the classic bug of reading right singular vectors from the columns of Vh.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank_utils import four_subspaces, numerical_rank
from lowrank_utils.linalg import FourSubspaces

ATOL = 1e-10


def low_rank(m: int, n: int, r: int, seed: int) -> np.ndarray:
    """An m×n matrix of rank r (product of Gaussian factors), non-symmetric."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))   # (m, n)


SHAPES = [(5, 3, 2), (3, 5, 2), (6, 4, 1), (4, 7, 3), (4, 4, 2), (5, 3, 3), (3, 5, 3), (1, 4, 1)]


def is_orthonormal(Q: np.ndarray) -> bool:
    return np.allclose(Q.T @ Q, np.eye(Q.shape[1]), atol=ATOL)


@pytest.mark.parametrize("m, n, r", SHAPES)
def test_dimensions_are_r_m_minus_r_r_n_minus_r(m, n, r):
    A = low_rank(m, n, r, seed=m * 100 + n * 10 + r)
    sub = four_subspaces(A)
    assert isinstance(sub, FourSubspaces)
    assert sub.rank == r == numerical_rank(A) == np.linalg.matrix_rank(A)
    assert sub.column.shape == (m, r)
    assert sub.left_null.shape == (m, m - r)
    assert sub.row.shape == (n, r)
    assert sub.null.shape == (n, n - r)


@pytest.mark.parametrize("m, n, r", SHAPES)
def test_null_spaces_are_annihilated(m, n, r):
    A = low_rank(m, n, r, seed=m + 7 * n + 31 * r)
    sub = four_subspaces(A)
    scale = np.linalg.norm(A)
    assert np.linalg.norm(A @ sub.null) <= 1e-12 * scale * max(m, n)        # A x = 0
    assert np.linalg.norm(A.T @ sub.left_null) <= 1e-12 * scale * max(m, n)  # Aᵀ y = 0


@pytest.mark.parametrize("m, n, r", SHAPES)
def test_bases_orthonormal_and_complements_orthogonal(m, n, r):
    A = low_rank(m, n, r, seed=3 * m + n + r)
    col, left_null, row, null = four_subspaces(A)
    for Q in (col, left_null, row, null):
        assert is_orthonormal(Q)
    # Complements: together they make an orthogonal basis of R^m and of R^n.
    assert np.allclose(col.T @ left_null, 0, atol=ATOL)
    assert np.allclose(row.T @ null, 0, atol=ATOL)
    assert is_orthonormal(np.hstack([col, left_null])) and col.shape[1] + left_null.shape[1] == m
    assert is_orthonormal(np.hstack([row, null])) and row.shape[1] + null.shape[1] == n


@pytest.mark.parametrize("m, n, r", SHAPES)
def test_column_and_row_spaces_span_A(m, n, r):
    A = low_rank(m, n, r, seed=11 * m + 5 * n + r)
    col, _, row, _ = four_subspaces(A)
    assert np.allclose(col @ (col.T @ A), A, atol=1e-10)     # every column of A lies in C(A)
    assert np.allclose((A @ row) @ row.T, A, atol=1e-10)     # every row of A lies in C(Aᵀ)


@pytest.mark.parametrize("m, n, r", SHAPES)
def test_projectors_agree_with_pseudoinverse(m, n, r):
    """Reference: A⁺A projects onto the row space, A A⁺ onto the column space."""
    A = low_rank(m, n, r, seed=m * n + r)
    col, left_null, row, null = four_subspaces(A)
    A_pinv = np.linalg.pinv(A)                                # (n, m)
    assert np.allclose(row @ row.T, A_pinv @ A, atol=1e-9)
    assert np.allclose(null @ null.T, np.eye(n) - A_pinv @ A, atol=1e-9)
    assert np.allclose(col @ col.T, A @ A_pinv, atol=1e-9)
    assert np.allclose(left_null @ left_null.T, np.eye(m) - A @ A_pinv, atol=1e-9)


def test_columns_of_vh_would_give_a_wrong_null_space():
    """The test matrices catch the V-versus-Vh swap: columns of Vh are not in the null space."""
    A = low_rank(3, 5, 2, seed=2)
    _, _, Vh = np.linalg.svd(A)
    wrong = Vh[:, 2:]                         # columns of Vh: the bug
    right = four_subspaces(A).null
    assert np.linalg.norm(A @ right) < 1e-12 * np.linalg.norm(A)
    assert np.linalg.norm(A @ wrong) > 1e-2 * np.linalg.norm(A)


def test_tolerance_decides_the_rank_of_a_noisy_matrix():
    rng = np.random.default_rng(5)
    A = low_rank(6, 4, 2, seed=4) + 1e-9 * rng.standard_normal((6, 4))
    assert four_subspaces(A).rank == 4                        # noise makes it full rank
    sub = four_subspaces(A, tol=1e-6)
    assert sub.rank == 2 and sub.null.shape == (4, 2) and sub.left_null.shape == (6, 4)
    assert np.linalg.norm(A @ sub.null) < 1e-7                # nearly annihilated: only the noise


def test_zero_matrix_and_full_rank_square():
    zero = four_subspaces(np.zeros((3, 2)))
    assert zero.rank == 0 and zero.column.shape == (3, 0) and zero.row.shape == (2, 0)
    assert is_orthonormal(zero.left_null) and is_orthonormal(zero.null)
    A = np.array([[2.0, 1.0], [-1.0, 3.0]])                   # invertible, non-symmetric
    full = four_subspaces(A)
    assert full.rank == 2 and full.null.shape == (2, 0) and full.left_null.shape == (2, 0)


def test_integer_input_is_accepted():
    A = np.arange(12).reshape(3, 4)                           # rank 2, integers
    sub = four_subspaces(A)
    assert sub.rank == 2
    assert np.allclose(A @ sub.null, 0, atol=1e-12)


@pytest.mark.parametrize(
    "A, tol, error",
    [
        (np.ones(4), None, ValueError),                      # 1-D
        (np.array([[1.0, np.nan]]), None, ValueError),       # NaN
        (np.ones((2, 2)) * 1j, None, TypeError),             # complex
        ("not a matrix", None, TypeError),
        (np.ones((2, 3)), -1.0, ValueError),                 # negative tol
        (np.ones((2, 3)), "small", TypeError),
    ],
)
def test_bad_input_raises_naming_the_argument(A, tol, error):
    with pytest.raises(error, match="A|tol"):
        four_subspaces(A, tol=tol)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 7), n=st.integers(1, 7), data=st.data(), seed=st.integers(0, 10_000))
def test_properties_on_random_low_rank_matrices(m, n, data, seed):
    r = data.draw(st.integers(0, min(m, n)))
    A = low_rank(m, n, r, seed) if r > 0 else np.zeros((m, n))
    col, left_null, row, null = four_subspaces(A)
    assert col.shape[1] == row.shape[1] == r
    assert col.shape[1] + left_null.shape[1] == m and row.shape[1] + null.shape[1] == n
    scale = max(np.linalg.norm(A), 1.0)
    assert np.linalg.norm(A @ null) <= 1e-10 * scale
    assert np.linalg.norm(A.T @ left_null) <= 1e-10 * scale
    assert is_orthonormal(np.hstack([col, left_null])) and is_orthonormal(np.hstack([row, null]))
