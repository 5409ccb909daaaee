"""Chapter 1 checkers: right answers accepted, wrong ones rejected with a hint, malformed ones
answered with feedback (never an exception), in both languages."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils import numerical_rank
from lowrank_utils.exercises import Feedback, ch1


def assert_feedback(result, correct: bool):
    assert isinstance(result, Feedback)
    assert bool(result) is correct
    assert result.en and result.zh and result.en != result.zh
    html = result._repr_html_()
    assert 'class="lang-en"' in html and 'class="lang-zh"' in html


def test_rank_of_M():
    right = numerical_rank(ch1.M)
    assert right == 2                                     # the statement's matrix has a dependent row
    for answer in (right, float(right), np.int64(right), str(right), np.array(right)):
        assert_feedback(ch1.check_rank(answer), True)
    assert_feedback(ch1.check_rank(3), False)
    assert_feedback(ch1.check_rank(1), False)


@pytest.mark.parametrize("bad", [None, "two", 2.5, [1, 2], {"r": 2}, float("nan"), True])
def test_malformed_answers_get_feedback_not_exceptions(bad):
    for check in (ch1.check_rank, ch1.check_factor_count, ch1.check_signal_rank):
        assert_feedback(check(bad), False)
    assert_feedback(ch1.check_factorization(bad, bad), False)
    assert_feedback(ch1.check_rank_bounds(bad, 5), False)


def test_missing_arguments_get_feedback():
    assert_feedback(ch1.check_rank(), False)
    assert_feedback(ch1.check_factorization(np.eye(3)), False)


def test_factor_count_and_its_typical_mistakes():
    m, n, k = ch1.LAYER["m"], ch1.LAYER["n"], ch1.LAYER["k"]
    assert_feedback(ch1.check_factor_count(k * (m + n)), True)
    assert_feedback(ch1.check_factor_count(f"{k * (m + n):,}"), True)   # "131,072"
    full = ch1.check_factor_count(m * n)
    svd_form = ch1.check_factor_count(k * (m + n + 1))
    assert_feedback(full, False) and assert_feedback(svd_form, False)
    assert "full matrix" in full.en and "singular values" in svd_form.en


def test_factorization_accepts_any_exact_factorization():
    L, R = np.array([[1, 0], [0, 1], [1, 1]]), ch1.M[:2]
    assert_feedback(ch1.check_factorization(L, R), True)
    G = np.array([[3.0, 1.0], [1.0, 2.0]])
    assert_feedback(ch1.check_factorization(L @ G, np.linalg.solve(G, R)), True)
    assert_feedback(ch1.check_factorization(L.tolist(), R.tolist()), True)
    assert_feedback(ch1.check_factorization(L + 0.1, R), False)
    assert_feedback(ch1.check_factorization(np.ones((3, 3)), np.ones((3, 4))), False)   # wrong shape


def test_rank_bounds_are_computed_from_the_shapes():
    (_, _, rA), (_, _, rB) = ch1.RANKS["A"], ch1.RANKS["B"]
    (mC, nC, rC), (_, _, rD) = ch1.RANKS["C"], ch1.RANKS["D"]
    assert_feedback(ch1.check_rank_bounds(min(rA, rB), min(rC + rD, mC, nC)), True)
    assert_feedback(ch1.check_rank_bounds(max(rA, rB), min(rC + rD, mC, nC)), False)
    assert_feedback(ch1.check_rank_bounds(min(rA, rB), rC + rD + 1), False)


def test_signal_rank_is_the_planted_rank():
    N = ch1.noisy_matrix()
    assert np.linalg.matrix_rank(N) == min(N.shape)          # noise: full rank
    assert_feedback(ch1.check_signal_rank(numerical_rank(N, tol=1e-3)), True)
    assert_feedback(ch1.check_signal_rank(min(N.shape)), False)
