"""Chapter 4 checkers: right answers pass, wrong ones fail with a hint, malformed ones never raise.

The right answers are computed here independently of the checkers: the count by multiplying out
the two factors, the break-even rank by a search, the merged weight through LoRALinear.merge(),
the PiSSA residual by building B and A from the SVD.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lowrank_utils import LoRALinear
from lowrank_utils.exercises import ch4
from lowrank_utils.exercises.core import Feedback

MALFORMED = [None, "abc", [1, "x"], {"a": 1}, np.array([np.nan, 1.0]), object(), [[1, 2], [3]],
             float("inf"), "", []]
CHECKERS = [ch4.check_lora_count, ch4.check_break_even_rank, ch4.check_merged_weight,
            ch4.check_pissa_residual]


def test_exercise_data():
    for M in (ch4.W0, ch4.B, ch4.A, ch4.W_PISSA):
        with pytest.raises(ValueError):
            M[0, 0] = 99.0                                  # read-only
    assert ch4.B.shape == (ch4.W0.shape[0], 2) and ch4.A.shape == (2, ch4.W0.shape[1])
    assert np.linalg.matrix_rank(ch4.B @ ch4.A) == 2
    s = np.linalg.svd(ch4.W_PISSA, compute_uv=False)
    assert np.linalg.matrix_rank(ch4.W_PISSA) == 4 and np.all(np.diff(s) < 0)


# Exercise 1 -------------------------------------------------------------------------------------

def test_ex1_count():
    d_out, d_in, r = ch4.LAYER["d_out"], ch4.LAYER["d_in"], ch4.LAYER["r"]
    right = np.zeros((d_out, r)).size + np.zeros((r, d_in)).size       # entries of B and A
    for answer in (right, str(right), f"{right:,}", float(right), np.int64(right)):
        assert ch4.check_lora_count(answer)
    for wrong, hint in [(d_out * d_in, "frozen"), (r * d_out * d_in, "full matrices"),
                        (r * d_out, "one of the two"), (right + 1, "Count")]:
        feedback = ch4.check_lora_count(wrong)
        assert not feedback and hint in feedback.en


# Exercise 2 -------------------------------------------------------------------------------------

def test_ex2_break_even():
    d, k = ch4.BREAK_EVEN["d_out"], ch4.BREAK_EVEN["d_in"]
    right = max(r for r in range(1, min(d, k) + 1) if r * (d + k) < d * k)
    assert ch4.check_break_even_rank(right)
    assert ch4.check_break_even_rank(str(right))
    assert "equals" in ch4.check_break_even_rank(right + 1).en      # 512·1536/2048 is an integer
    assert "more than" in ch4.check_break_even_rank(right + 2).en
    assert "larger r" in ch4.check_break_even_rank(right - 10).en
    assert not ch4.check_break_even_rank(2.5)


# Exercise 3 -------------------------------------------------------------------------------------

def merged_by_the_layer() -> np.ndarray:
    base = nn.Linear(ch4.W0.shape[1], ch4.W0.shape[0], bias=False).double()
    layer = LoRALinear(base, r=ch4.A.shape[0], alpha=ch4.ALPHA)
    with torch.no_grad():
        base.weight.copy_(torch.from_numpy(np.array(ch4.W0)))
        layer.lora_A.copy_(torch.from_numpy(np.array(ch4.A)))
        layer.lora_B.copy_(torch.from_numpy(np.array(ch4.B)))
    layer.merge()
    return base.weight.detach().numpy().copy()


def test_ex3_merged_weight():
    right = merged_by_the_layer()
    assert ch4.check_merged_weight(right)
    assert ch4.check_merged_weight(right.tolist())
    BA = ch4.B @ ch4.A
    for wrong, hint in [(ch4.W0 + BA, "without the scaling"), (ch4.W0 + ch4.ALPHA * BA, "not alpha"),
                        (right - ch4.W0, "scaled update"), (right.T, "transpose"), (ch4.W0, "Compute")]:
        feedback = ch4.check_merged_weight(wrong)
        assert not feedback and hint in feedback.en, (hint, feedback.en)
    assert "shape" in ch4.check_merged_weight(np.ones((2, 2))).en


# Exercise 4 -------------------------------------------------------------------------------------

def test_ex4_pissa_residual():
    U, s, Vh = np.linalg.svd(ch4.W_PISSA, full_matrices=False)
    r = ch4.R_PISSA
    B = U[:, :r] * np.sqrt(s[:r])                      # (m, r)
    A = np.sqrt(s[:r])[:, None] * Vh[:r]               # (r, n)
    right = np.linalg.norm(ch4.W_PISSA - B @ A)
    assert ch4.check_pissa_residual(right)
    assert ch4.check_pissa_residual(f"{right:.6f}")
    for wrong, hint in [(s[r], "spectral"), (s[r:].sum(), "Square"), (right**2, "square root"),
                        (np.linalg.norm(ch4.W_PISSA), "Subtract"), (right * 1.1, "Build")]:
        feedback = ch4.check_pissa_residual(wrong)
        assert not feedback and hint in feedback.en, (hint, feedback.en)


# Malformed answers ------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", MALFORMED, ids=repr)
@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_malformed_answers_get_feedback(check, answer):
    feedback = check(answer)
    assert isinstance(feedback, Feedback) and not feedback
    assert feedback.en and feedback.zh


def test_wrong_call_gets_feedback():
    feedback = ch4.check_lora_count(1, 2)
    assert isinstance(feedback, Feedback) and not feedback
