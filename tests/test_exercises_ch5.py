"""Chapter 5 checkers: right answers pass, wrong ones fail with a hint, malformed ones never raise.

The right answers are computed here independently of the checkers: parameter counts and bytes
from a real model with LoRA applied, the smallest rank by a loop, the Eckart–Young floor from
best_rank_k.
"""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils import best_rank_k
from lowrank_utils.exercises import ch5
from lowrank_utils.exercises.core import Feedback
from lowrank_utils.lora import apply_lora, count_parameters
from lowrank_utils.experiment import build_model, full_config, small_config, training_memory_bytes

MALFORMED = [None, "abc", [1, "x"], {"a": 1}, np.array([np.nan, 1.0]), object(), [[1, 2], [3]],
             float("inf"), "", []]
CONFIGS = [small_config(device="cpu"), small_config(device="cpu", target_modules=("fc2",)),
           small_config(device="cpu", d_in=48, d_hidden=80, n_classes=10)]


def lora_model(config, r):
    return apply_lora(build_model(config), list(config.target_modules), r=r)


@pytest.mark.parametrize("config", CONFIGS, ids=["small", "fc2-only", "rectangular"])
def test_ex1_lora_parameters(config):
    right = count_parameters(lora_model(config, ch5.RANK_PARAMETERS), trainable_only=True)
    for answer in (right, str(right), f"{right:,}", float(right), np.int64(right)):
        assert ch5.check_lora_parameters(answer, config)
    assert not ch5.check_lora_parameters(right + 1, config)
    everything = count_parameters(build_model(config))
    assert "frozen" in ch5.check_lora_parameters(everything, config).en
    shapes = ch5.layer_shapes(config)
    r = ch5.RANK_PARAMETERS
    full_r = sum(r * shapes[t][0] * shapes[t][1] for t in config.target_modules)
    assert "full matrices" in ch5.check_lora_parameters(full_r, config).en
    if len(config.target_modules) > 1:
        one = r * sum(shapes["fc1"])
        assert "one adapted layer" in ch5.check_lora_parameters(one, config).en


def test_ex1_needs_the_config():
    feedback = ch5.check_lora_parameters(100, None)
    assert isinstance(feedback, Feedback) and not feedback and "configuration" in feedback.en


def test_ex2_smallest_rank():
    losses = {1: 0.07, 2: 0.03, 4: 4.1e-4, 8: 3.7e-4, 16: 2.7e-4}
    full = 0.15                                   # the pre-trained model's loss on task B
    target = ch5.TARGET_FACTOR * full
    right = min(r for r, loss in sorted(losses.items()) if loss <= target)
    assert ch5.check_smallest_rank(right, losses, full)
    assert ch5.check_smallest_rank(str(right), losses, full)
    assert "smaller" in ch5.check_smallest_rank(8, losses, full).en
    assert "above the target" in ch5.check_smallest_rank(2, losses, full).en
    assert "Choose among" in ch5.check_smallest_rank(3, losses, full).en
    assert ch5.check_smallest_rank(0, {1: 1.0, 2: 0.5}, 0.01)          # none reaches the target
    assert not ch5.check_smallest_rank(2, {1: 1.0, 2: 0.5}, 0.01)
    assert not ch5.check_smallest_rank(4, {1: "a"}, full)
    assert not ch5.check_smallest_rank(4, [0.1, 0.2], full)


@pytest.mark.parametrize("config", CONFIGS, ids=["small", "fc2-only", "rectangular"])
def test_ex3_memory_bytes(config):
    right = training_memory_bytes(lora_model(config, ch5.RANK_MEMORY))["total"]
    assert ch5.check_memory_bytes(right, config)
    assert ch5.check_memory_bytes(f"{right:,}", config)
    T = count_parameters(lora_model(config, ch5.RANK_MEMORY), trainable_only=True)
    assert "Adam" in ch5.check_memory_bytes(right - 8 * T, config).en
    assert "gradient" in ch5.check_memory_bytes(right - 4 * T, config).en
    assert "4 bytes" in ch5.check_memory_bytes(right // 4, config).en
    assert not ch5.check_memory_bytes(right + 4, config)


def test_ex3_memory_matches_the_full_preset_too():
    config = full_config(device="cpu")
    P = sum(out * inp + out for out, inp in ch5.layer_shapes(config).values())
    T = ch5.RANK_MEMORY * 2 * (config.d_hidden + config.d_in)   # fc1 and fc2 are square here
    assert config.d_in == config.d_hidden
    assert ch5.check_memory_bytes(4 * (P + T) + 12 * T, config)


def test_ex4_rank_floor():
    rng = np.random.default_rng(3)
    D = rng.standard_normal((20, 4)) @ rng.standard_normal((4, 14)) \
        + 0.05 * rng.standard_normal((20, 14))                          # (20, 14), not square
    k = ch5.RANK_FLOOR
    right = np.linalg.norm(D - best_rank_k(D, k)) / np.linalg.norm(D)
    assert ch5.check_rank_floor(right, D)
    assert ch5.check_rank_floor(round(right, 4), D)                     # four digits are enough
    assert "absolute" in ch5.check_rank_floor(right * np.linalg.norm(D), D).en
    assert "square root" in ch5.check_rank_floor(right**2, D).en
    s = np.linalg.svd(D, compute_uv=False)
    assert "spectral" in ch5.check_rank_floor(s[k] / np.linalg.norm(D), D).en
    assert not ch5.check_rank_floor(0.0, D)
    assert not ch5.check_rank_floor(right, np.ones((1, 5)))             # too small for rank 2


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_answers_never_raise(bad):
    config = small_config(device="cpu")
    D = np.arange(12.0).reshape(3, 4)
    for feedback in (ch5.check_lora_parameters(bad, config), ch5.check_memory_bytes(bad, config),
                     ch5.check_smallest_rank(bad, {1: 0.1}, 0.1),
                     ch5.check_smallest_rank(1, bad, 0.1), ch5.check_rank_floor(bad, D),
                     ch5.check_rank_floor(0.5, bad), ch5.check_lora_parameters(10, bad)):
        assert isinstance(feedback, Feedback) and not feedback
        assert feedback.en and feedback.zh
