"""Chapter 2 checkers: right answers pass, wrong ones fail with a useful hint, malformed ones never raise.

The right answers here are computed independently of the checkers (from AᵀA by eigh, from
four_subspaces, by hand-derived formulas), not copied from a run.
"""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils import four_subspaces
from lowrank_utils.exercises import ch2
from lowrank_utils.exercises.core import Feedback

MALFORMED = [None, "abc", [1, "x"], {"a": 1}, np.array([np.nan, 1.0]), object(), [[1, 2], [3]]]


def test_exercise_data_are_nonsymmetric_and_read_only():
    for M in (ch2.A_HAND, ch2.E, ch2.C, ch2.B, ch2.D):
        assert M.shape[0] != M.shape[1] or not np.allclose(M, M.T)
        with pytest.raises(ValueError):
            M[0, 0] = 99.0                        # a learner cannot change the exercise
    assert np.allclose(ch2.B[2], ch2.B[0] - ch2.B[1])                # the docstring's claim
    assert np.linalg.matrix_rank(ch2.B) == 2 and np.linalg.matrix_rank(ch2.D) == 2
    assert np.linalg.matrix_rank(ch2.C) == 3


# Exercise 1: singular values of A_HAND by hand ---------------------------------------------

def test_ex1_hand_values_accepted_in_any_reasonable_form():
    # AᵀA = [[25, 20], [20, 25]]: eigenvalues 45 and 5, so σ = 3√5 and √5.
    AtA = ch2.A_HAND.T @ ch2.A_HAND
    assert np.allclose(AtA, [[25, 20], [20, 25]])
    for answer in ([3 * np.sqrt(5), np.sqrt(5)], (6.71, 2.24), np.array([6.7082, 2.2361]), "6.71 2.24".split()):
        assert ch2.check_singular_values_by_hand(answer)


@pytest.mark.parametrize(
    "answer, hint",
    [
        ([5, 3], "eigenvalues of A itself"),
        ([45, 5], "σ²"),
        ([np.sqrt(5), 3 * np.sqrt(5)], "order"),
        ([6.7, 2.2], "not the singular values"),     # 2 significant digits: too imprecise
        ([6.71, 2.30], "not the singular values"),
        ([6.708], "Expected 2 values"),
    ],
)
def test_ex1_wrong_answers_get_a_specific_hint(answer, hint):
    feedback = ch2.check_singular_values_by_hand(answer)
    assert not feedback and hint in feedback.en and feedback.zh


# Exercise 2: singular values of E through eigh -------------------------------------------

def test_ex2_eigh_route_accepted_and_ascending_order_flagged():
    lam = np.linalg.eigvalsh(ch2.E @ ch2.E.T)               # ascending, 3 values
    assert ch2.check_singular_values_from_eigh(np.sqrt(lam[::-1]))
    ascending = ch2.check_singular_values_from_eigh(np.sqrt(lam))
    assert not ascending and "order" in ascending.en
    squares = ch2.check_singular_values_from_eigh(lam[::-1])
    assert not squares and "square roots" in squares.en
    assert "E Eᵀ" in squares.en and "AᵀA" not in squares.en     # names this exercise's matrix
    assert "eigvalsh" in ascending.en


def test_ex2_nan_from_a_negative_round_off_eigenvalue_is_explained():
    # The five eigenvalues of EᵀE: three σ², then two zeros that round-off may push below 0.
    lam5 = np.linalg.eigvalsh(ch2.E.T @ ch2.E)[::-1]
    assert np.allclose(lam5[3:], 0, atol=1e-12 * lam5[0])
    with np.errstate(invalid="ignore"):
        answer = np.sqrt(np.array([*lam5[:3], 0.0, -1e-16]))          # what the learner sees
        learner = np.sqrt(lam5)                                       # the learner's own expression
    assert np.isnan(answer[-1])
    feedback = ch2.check_singular_values_from_eigh(answer)
    assert not feedback and "nan" in feedback.en and "np.clip" in feedback.en and "nan" in feedback.zh
    assert "finite" not in feedback.en                                # not the generic message
    if np.any(np.isnan(learner)):                                     # as on the reviewer's machine
        assert "EᵀE" in ch2.check_singular_values_from_eigh(learner).en
    assert "nan" in ch2.check_singular_values_from_eigh([np.nan, 4.1, 2.4]).en
    for not_nan in (None, [None, 4.1, 2.4], "nan"):                   # no answer is not a nan
        feedback = ch2.check_singular_values_from_eigh(not_nan)
        assert not feedback and "nan is the square root" not in feedback.en
    assert "No answer yet" in ch2.check_singular_values_from_eigh(None).en


def test_ex2_the_larger_gram_matrix_gives_two_extra_zeros():
    lam5 = np.linalg.eigvalsh(ch2.E.T @ ch2.E)[::-1]        # 5 values, the last two ≈ 0
    feedback = ch2.check_singular_values_from_eigh(np.sqrt(np.clip(lam5, 0, None)))
    assert not feedback and "extra zeros" in feedback.en
    assert ch2.check_singular_values_from_eigh(np.sqrt(np.clip(lam5[:3], 0, None)))


# Exercise 3: the first outer-product term of C ----------------------------------------------

def first_term_by_power_iteration(M: np.ndarray) -> np.ndarray:
    """σ₁u₁v₁ᵀ without an SVD: power iteration on MᵀM (an independent reference)."""
    v = np.ones(M.shape[1])
    for _ in range(500):
        v = M.T @ (M @ v)
        v /= np.linalg.norm(v)
    Mv = M @ v
    return np.outer(Mv, v)                                    # σ₁u₁v₁ᵀ = (M v₁) v₁ᵀ


def test_ex3_first_term_accepted_with_either_sign_convention():
    X = first_term_by_power_iteration(ch2.C)
    assert ch2.check_rank_one_term(X)
    assert ch2.check_rank_one_term(X.tolist())                # nested lists work too


def test_ex3_common_mistakes_are_named():
    U, s, Vh = np.linalg.svd(ch2.C)
    missing_sigma = ch2.check_rank_one_term(np.outer(U[:, 0], Vh[0]))
    assert not missing_sigma and "σ₁" in missing_sigma.en
    column_of_vh = ch2.check_rank_one_term(s[0] * np.outer(U[:, 0], Vh[:, 0]))
    assert not column_of_vh and "rows" in column_of_vh.en
    second_term = ch2.check_rank_one_term(s[1] * np.outer(U[:, 1], Vh[1]))
    assert not second_term and "not the leading term" in second_term.en
    whole = ch2.check_rank_one_term(ch2.C)
    assert not whole and "rank 1" in whole.en


# Exercise 4: a basis of the null space of B ------------------------------------------------

def test_ex4_any_basis_of_the_null_space_is_accepted():
    N = four_subspaces(ch2.B).null                            # orthonormal, (5, 3)
    assert ch2.check_null_space(N)
    G = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])   # invertible
    other = ch2.check_null_space(N @ G)                       # same space, not orthonormal
    assert other and "Not orthonormal" in other.en


def test_ex4_basis_from_two_rows_is_accepted():
    # Row 3 of B is row 1 − row 2, so B x = 0 is just the first two equations.
    B = ch2.B
    _, _, Vh = np.linalg.svd(B[:2])                           # rows 1, 2 span the row space
    N = Vh[2:].T
    assert np.allclose(B @ N, 0) and ch2.check_null_space(N)


def test_ex4_wrong_answers_rejected():
    _, _, Vh = np.linalg.svd(ch2.B)
    bug = ch2.check_null_space(Vh[:, 2:])                     # columns of Vh (QuantEcon's slip)
    assert not bug and "rows" in bug.en
    transposed = ch2.check_null_space(Vh[2:])
    assert not transposed and "Transpose" in transposed.en
    row_space = ch2.check_null_space(np.hstack([Vh[:2].T, Vh[2:3].T]))
    assert not row_space and "not zero" in row_space.en
    dependent = ch2.check_null_space(np.hstack([Vh[2:4].T, Vh[2:3].T]))
    assert not dependent and "independent" in dependent.en
    wrong_shape = ch2.check_null_space(np.zeros((5, 2)))
    assert not wrong_shape and "(5, 3)" in wrong_shape.en


# Exercise 5: dimensions of the four subspaces of D ----------------------------------------

def test_ex5_dimensions():
    m, n = ch2.D.shape
    r = np.linalg.matrix_rank(ch2.D)
    assert ch2.check_subspace_dimensions(r, m - r, r, n - r)
    assert ch2.check_subspace_dimensions("2", 2.0, np.int64(2), "4")
    swapped = ch2.check_subspace_dimensions(r, n - r, r, m - r)
    assert not swapped and "swapped" in swapped.en
    full_rank_guess = ch2.check_subspace_dimensions(min(m, n), 0, min(m, n), n - min(m, n))
    assert not full_rank_guess and "rank" in full_rank_guess.en
    assert not ch2.check_subspace_dimensions(r, m - r + 1, r, n - r)


# Every checker: malformed input gives feedback, never an exception ------------------------

CHECKERS_ONE_ARG = [ch2.check_singular_values_by_hand, ch2.check_singular_values_from_eigh,
                    ch2.check_rank_one_term, ch2.check_null_space]


@pytest.mark.parametrize("check", CHECKERS_ONE_ARG)
@pytest.mark.parametrize("answer", MALFORMED)
def test_malformed_answers_give_feedback(check, answer):
    feedback = check(answer)
    assert isinstance(feedback, Feedback) and not feedback
    assert feedback.en and feedback.zh


@pytest.mark.parametrize("answer", MALFORMED)
def test_malformed_dimensions_give_feedback(answer):
    feedback = ch2.check_subspace_dimensions(answer, 2, 2, 4)
    assert isinstance(feedback, Feedback) and not feedback
    assert isinstance(ch2.check_subspace_dimensions(2, 2), Feedback)   # too few arguments
    assert isinstance(ch2.check_subspace_dimensions(2.5, 2, 2, 4), Feedback)
