"""Tests of lowrank_utils.lm_experiment: chapter 5's fine-tuning runs of the pre-trained tiny
model (full, LoRA, LoRA+, rsLoRA), its presets and the weight updates it compares."""
from __future__ import annotations

import pytest
import torch

from lowrank_utils.lm_experiment import (FINETUNING, LMConfig, finetune_lm,
                                         lm_full_config, lm_small_config, weight_matrices,
                                         weight_updates)
from lowrank_utils.lora import apply_lora, lora_layers, merge_lora
from lowrank_utils.text_data import load_corpus
from lowrank_utils.tiny_lm import LORA_TARGETS_ALL, evaluate_lm, load_tiny_lm

QUICK = lm_small_config(steps=3, warmup=1, batch_size=4, eval_windows=4, threads=1)


@pytest.fixture(scope="module")
def base():
    return load_tiny_lm("cpu")[0]


def test_presets():
    small, full = lm_small_config(), lm_full_config()
    assert small.name == "small" and full.name == "full"
    assert full.steps > small.steps and full.batch_size > small.batch_size
    assert set(small.ranks) <= set(full.ranks) and small.targets == ("q", "v")
    assert 8 in small.ranks and 8 in full.ranks            # the chapter compares r = 8 and the largest


@pytest.mark.parametrize("field, value, error", [
    ("steps", 0, ValueError), ("warmup", 120, ValueError), ("lr_lora", -1.0, ValueError),
    ("alpha", "8", TypeError), ("ranks", (), TypeError), ("ranks", (4, 0), ValueError),
    ("targets", "q", TypeError), ("eval_windows", 0, ValueError), ("seed", -1, ValueError),
])
def test_config_refuses_bad_values_naming_them(field, value, error):
    with pytest.raises(error, match=field.rstrip("s") if field == "ranks" else field):
        LMConfig(**{field: value})


def test_full_fine_tuning_trains_every_parameter_and_leaves_base_alone(base):
    before = {k: v.clone() for k, v in base.state_dict().items()}
    run = finetune_lm(base, QUICK)
    assert run.method == "full" and run.r is None and run.targets == ()
    assert run.trainable == sum(p.numel() for p in base.parameters())
    assert run.train_losses.shape == (QUICK.steps,)
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())
    held_out = load_corpus(FINETUNING).held_out
    assert run.new_loss == pytest.approx(evaluate_lm(run.model, held_out, max_windows=4))
    assert run.old_loss == pytest.approx(
        evaluate_lm(run.model, load_corpus("pydoc").held_out, max_windows=4))
    assert run.memory_bytes == 16 * run.trainable          # CPU: weights, grads, 2 moments, fp32
    updates = weight_updates(run.model, base)
    assert all(abs(D).max() > 0 for D in updates.values())  # every matrix moved


@pytest.mark.parametrize("targets", [("q", "v"), LORA_TARGETS_ALL])
def test_lora_counts_and_only_adapts_its_targets(base, targets):
    r = 4
    run = finetune_lm(base, QUICK, r=r, targets=targets)
    shapes = [(m.out_features, m.in_features) for _, m in lora_layers(run.model)]
    assert len(shapes) == len(targets) * base.config.n_layers
    assert run.trainable == sum(r * (o + i) for o, i in shapes)
    assert run.memory_bytes == 4 * sum(p.numel() for p in run.model.parameters()) \
        + 12 * run.trainable
    updates = weight_updates(run.model, base)
    for name, D in updates.items():
        adapted = name.rsplit(".", 1)[-1] in targets
        assert (abs(D).max() > 0) == adapted, name
        assert torch.linalg.matrix_rank(torch.from_numpy(D)) <= (r if adapted else 0)


def test_full_settings_are_refused_on_lora_arguments(base):
    with pytest.raises(ValueError, match="give r"):
        finetune_lm(base, QUICK, lr_ratio=4.0)
    with pytest.raises(TypeError, match="config"):
        finetune_lm(base, {"steps": 3})
    with pytest.raises(ValueError, match="corpus"):
        finetune_lm(base, QUICK, r=2, corpus="wiki")
    with pytest.raises(ValueError, match="base"):
        finetune_lm(apply_lora(load_tiny_lm("cpu")[0], ["q"], r=2), QUICK, r=2)


def test_lora_plus_ratio_scales_the_first_step_of_B(base):
    # Step 1 from B = 0: A gets no gradient, and AdamW's first step moves each entry of B by
    # lr · g / |g|, so B after one step at ratio λ is λ times B at ratio 1; A is only decayed.
    one = QUICK.replace(steps=1, warmup=0)
    plain = finetune_lm(base, one, r=4, lr_ratio=1.0).model
    plus = finetune_lm(base, one, r=4, lr_ratio=4.0).model
    for (_, a), (_, b) in zip(lora_layers(plain), lora_layers(plus)):
        assert a.lora_B.abs().max() > 0
        torch.testing.assert_close(b.lora_B, 4.0 * a.lora_B, rtol=1e-4, atol=1e-9)
        torch.testing.assert_close(b.lora_A, a.lora_A)


def test_the_start_of_A_depends_on_the_rank_not_on_what_ran_before(base):
    first = finetune_lm(base, QUICK.replace(steps=1, warmup=0), r=8, lr=1e-12).model
    torch.manual_seed(123)                                         # the global RNG is not used
    again = finetune_lm(base, QUICK.replace(steps=1, warmup=0), r=8, lr=1e-12).model
    wide = finetune_lm(base, QUICK.replace(steps=1, warmup=0), r=64, lr=1e-12).model
    for (_, a), (_, b), (_, w) in zip(lora_layers(first), lora_layers(again), lora_layers(wide)):
        assert torch.equal(a.lora_A, b.lora_A)
        assert not torch.allclose(a.lora_A, w.lora_A[:8])           # r = 8 is not r = 64's top rows


def test_rslora_and_alpha_set_the_scale(base):
    run = finetune_lm(base, QUICK, r=16, alpha=8.0, rslora=True)
    assert all(layer.scaling == pytest.approx(8.0 / 4.0) for _, layer in lora_layers(run.model))
    run = finetune_lm(base, QUICK, r=16, alpha=32.0)
    assert all(layer.scaling == pytest.approx(2.0) for _, layer in lora_layers(run.model))


def test_weight_matrices_are_the_same_merged_or_not(base):
    run = finetune_lm(base, QUICK, r=2)
    unmerged = weight_matrices(run.model)
    merged = weight_matrices(merge_lora(run.model))
    assert unmerged.keys() == merged.keys() == weight_matrices(base).keys()
    for name in unmerged:
        assert abs(unmerged[name] - merged[name]).max() < 1e-6
    fresh = apply_lora(load_tiny_lm("cpu")[0], ["q", "v"], r=2)     # B = 0: no update yet
    assert all(abs(D).max() == 0 for D in weight_updates(fresh, base).values())
    with pytest.raises(ValueError, match="names"):
        weight_updates(fresh, base, ["blocks.0.attn"])
