"""Chapter 5 checkers: right answers pass, wrong ones fail with a hint, malformed ones never raise.

The right answers are computed here independently of the checkers: parameter counts and bytes
from a real model with LoRA applied, the smallest rank by a loop, the Eckart–Young floor from
best_rank_k.
"""
from __future__ import annotations

from types import SimpleNamespace

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


def _tiny_run(**changes):
    """A three-step fine-tuning run of the shipped tiny model (seconds)."""
    from lowrank_utils.lm_experiment import finetune_lm, lm_small_config
    from lowrank_utils.tiny_lm import load_tiny_lm

    quick = lm_small_config(steps=3, warmup=1, batch_size=4, eval_windows=4, threads=1)
    return finetune_lm(load_tiny_lm("cpu")[0], quick, **changes)


def test_ex2_gain_share_computes_from_the_runs():
    Run = SimpleNamespace
    full = Run(r=None, targets=(), new_loss=1.9)
    lora = Run(r=ch5.GAIN_RANK, targets=("q", "v"), new_loss=2.3)
    base = 2.5
    right = (base - 2.3) / (base - 1.9)
    assert ch5.check_gain_share(right, lora, full, base)
    assert ch5.check_gain_share(f"{right:.3f}", lora, full, base)
    assert "percentage" in ch5.check_gain_share(100 * right, lora, full, base).en
    assert "misses" in ch5.check_gain_share(1 - right, lora, full, base).en
    assert "losses themselves" in ch5.check_gain_share(1.9 / 2.3, lora, full, base).en
    wrong_rank = Run(r=8, targets=("q", "v"), new_loss=2.3)
    assert f"r = {ch5.GAIN_RANK}" in ch5.check_gain_share(right, wrong_rank, full, base).en
    assert not ch5.check_gain_share(right, "run", full, base)
    run = _tiny_run(r=ch5.GAIN_RANK)                                # a real LMRun is read too
    real = (base - run.new_loss) / (base - 1.0)
    assert ch5.check_gain_share(real, run, Run(r=None, targets=(), new_loss=1.0), base)


def test_ex3_and_ex4_first_step_ratios_hold_for_real_adamw_steps():
    import numpy as np
    from lowrank_utils.lm_experiment import weight_updates
    from lowrank_utils.tiny_lm import load_tiny_lm

    base = load_tiny_lm("cpu")[0]
    # one AdamW step from B = 0 (the claim is about the first step)
    from lowrank_utils.lm_experiment import finetune_lm, lm_small_config
    one = lm_small_config(steps=1, warmup=0, batch_size=4, eval_windows=4, threads=1)
    norm = lambda **kw: sum(np.linalg.norm(D) ** 2 for D in weight_updates(   # noqa: E731
        finetune_lm(base, one, r=8, **kw).model, base).values()) ** 0.5
    plain = norm()
    assert plain > 0
    alpha_ratio = norm(alpha=ch5.ALPHA_LARGE) / plain
    plus_ratio = norm(lr_ratio=ch5.LORA_PLUS_RATIO) / plain
    assert abs(alpha_ratio - ch5.ALPHA_LARGE / one.alpha) < 1e-2 * alpha_ratio
    assert abs(plus_ratio - ch5.LORA_PLUS_RATIO) < 1e-2 * plus_ratio
    assert ch5.check_alpha_first_step(ch5.ALPHA_LARGE / one.alpha, one.alpha)
    assert ch5.check_lora_plus_first_step(ch5.LORA_PLUS_RATIO)
    assert "scale multiplies" in ch5.check_alpha_first_step(1, one.alpha).en
    assert "sign" in ch5.check_alpha_first_step(2, one.alpha).en            # √4
    assert "A does not move" in ch5.check_lora_plus_first_step(1).en
    assert "inverse" in ch5.check_lora_plus_first_step(1 / 16).en
    assert not ch5.check_alpha_first_step(4, 0)


def test_ex5_rslora_factor():
    import math
    from lowrank_utils.lora import LoRALinear
    from torch import nn

    r = ch5.RSLORA_RANK
    factor = LoRALinear(nn.Linear(128, 128), r, alpha=8, rslora=True).scaling \
        / LoRALinear(nn.Linear(128, 128), r, alpha=8).scaling
    assert math.isclose(factor, math.sqrt(r))
    assert ch5.check_rslora_factor(factor)
    assert "inverse" in ch5.check_rslora_factor(1 / factor).en
    assert "r / √r" in ch5.check_rslora_factor(r).en
    assert not ch5.check_rslora_factor(3)
    assert not ch5.check_rslora_factor(8, r=0)


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
    run = SimpleNamespace(r=ch5.GAIN_RANK, targets=("q", "v"), new_loss=2.0)
    for feedback in (ch5.check_lora_parameters(bad, config), ch5.check_memory_bytes(bad, config),
                     ch5.check_gain_share(bad, run, run, 3.0), ch5.check_gain_share(0.5, bad, run, 3.0),
                     ch5.check_gain_share(0.5, run, run, bad), ch5.check_alpha_first_step(bad, 8),
                     ch5.check_alpha_first_step(4, bad), ch5.check_lora_plus_first_step(bad),
                     ch5.check_rslora_factor(bad), ch5.check_rslora_factor(8, bad),
                     ch5.check_rank_floor(bad, D),
                     ch5.check_rank_floor(0.5, bad), ch5.check_lora_parameters(10, bad)):
        assert isinstance(feedback, Feedback) and not feedback
        assert feedback.en and feedback.zh
