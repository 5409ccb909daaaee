"""lowrank_utils.exercises.core: the answer readers and the checker wrapper every chapter uses."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils.exercises.core import (AnswerError, Feedback, checker, close_enough,
                                          read_integer, read_matrix, read_number)


@pytest.mark.parametrize("answer, value", [
    (4096, 4096.0), ("4,096", 4096.0), (" 1e3 ", 1000.0), (np.float32(0.5), 0.5),
    (np.array(7), 7.0), (np.array([[2.5]]), 2.5),
])
def test_read_number_accepts_what_a_learner_types(answer, value):
    assert read_number(answer) == value


@pytest.mark.parametrize("answer", [None, "four", True, [1, 2], float("nan"), 1 + 2j])
def test_read_number_refuses_with_bilingual_feedback(answer):
    with pytest.raises(AnswerError) as info:
        read_number(answer)
    assert info.value.en and info.value.zh


def test_read_integer_and_matrix():
    assert read_integer(3.0) == 3 and read_integer("12") == 12
    with pytest.raises(AnswerError, match="integer"):
        read_integer(2.5)
    M = read_matrix([[1, 2], [3, 4]], "M", shape=(2, 2))
    assert M.dtype == float and np.array_equal(M, [[1, 2], [3, 4]])
    for bad in ([[1, 2], [3]], [1, 2], [[np.inf, 1]]):
        with pytest.raises(AnswerError):
            read_matrix(bad, "M")
    with pytest.raises(AnswerError, match=r"shape \(3, 2\)"):
        read_matrix(np.ones((2, 2)), "M", shape=(3, 2))


def test_close_enough():
    assert close_enough(1.0 + 1e-9, 1.0) and not close_enough(1.01, 1.0)
    assert close_enough(1e-12, 0.0) and not close_enough(1e-6, 0.0)


def test_checker_turns_every_failure_into_feedback():
    @checker
    def check(answer):
        if answer == "type":
            raise TypeError("bad call")
        if answer == "boom":
            raise RuntimeError("inside")
        n = read_integer(answer)
        return Feedback(n == 2, f"got {n}", f"收到 {n}")

    right, wrong = check(2), check(3)
    assert right and not wrong and isinstance(right, Feedback)
    assert "✔" in str(right) and "✘" in str(wrong) and "收到 3" in str(wrong)
    for answer, words in ((None, "No answer yet"), ("type", "does not expect"),
                          ("boom", "RuntimeError: inside"), ("x", "Expected")):
        verdict = check(answer)
        assert not verdict and words in verdict.en and verdict.zh
    page = check("<b>")._repr_html_()
    assert "&lt;b&gt;" in page and 'class="lang-en"' in page and 'class="lang-zh"' in page


@pytest.mark.parametrize("text", ["1,5", "12,34", "1,2345", ",5"])
def test_a_comma_is_a_thousands_separator_or_an_error(text):
    with pytest.raises(AnswerError, match="comma may only separate thousands") as info:
        read_number(text)
    assert "逗號" in info.value.zh


def test_what_chapters_4_and_5_learners_produce_is_read():
    import torch
    assert read_number(torch.tensor(3.5)) == 3.5                       # a 0-d tensor
    assert read_integer(torch.tensor([7])) == 7
    assert np.array_equal(read_matrix(torch.ones(2, 3), "M"), np.ones((2, 3)))
    with pytest.raises(AnswerError):
        read_number(torch.ones(2))


@pytest.mark.parametrize("answer", [3 + 0j, np.complex128(2)])
def test_complex_numbers_are_refused(answer):
    with pytest.raises(AnswerError, match="complex"):
        read_number(answer)


def test_complex_matrices_are_refused():
    with pytest.raises(AnswerError, match="complex"):
        read_matrix([[1 + 1j, 2.0]], "M")
    with pytest.raises(AnswerError, match="complex"):
        read_matrix(np.eye(2, dtype=complex), "M")


def test_feedback_survives_an_exception_whose_str_raises():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    @checker
    def check(answer):
        raise Unprintable()

    verdict = check(1)
    assert not verdict and "cannot be printed" in verdict.en and verdict.zh
