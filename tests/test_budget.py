"""lowrank_utils.budget: model shapes, LoRA parameter counts and budgets (chapter 4), no torch
needed to compute them; real PyTorch modules check the formulas."""
from __future__ import annotations

import pytest
from torch import nn

from lowrank_utils import apply_lora, count_parameters
from lowrank_utils.budget import (
    MODEL_PRESETS,
    _gpt,
    _llama,
    lora_budget,
    lora_parameter_count,
    mlp_shapes,
)


def test_formula_matches_count_parameters_on_a_real_model():
    shapes = [(6, 10), (10, 6), (7, 7), (3, 12)]            # (d_out, d_in) of each Linear
    for r in (1, 2, 3):
        adapted = apply_lora(nn.Sequential(*[nn.Linear(d_in, d_out) for d_out, d_in in shapes]),
                             [str(i) for i in range(len(shapes))], r=r)
        assert lora_parameter_count(shapes, r) == count_parameters(adapted, trainable_only=True)
    assert lora_parameter_count(shapes, 2) == sum(2 * (a + b) for a, b in shapes)


class TinyGPT(nn.Module):
    """A GPT-2-shaped model, small enough to build, to check the preset's parameter formula."""

    def __init__(self, n_layers: int, d: int, vocab: int, context: int):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList()
        for _ in range(n_layers):
            self.blocks.append(nn.ModuleDict({
                "ln_1": nn.LayerNorm(d), "q": nn.Linear(d, d), "k": nn.Linear(d, d),
                "v": nn.Linear(d, d), "o": nn.Linear(d, d), "ln_2": nn.LayerNorm(d),
                "up": nn.Linear(d, 4 * d), "down": nn.Linear(4 * d, d)}))
        self.ln_f = nn.LayerNorm(d)                           # the head is tied to wte


class TinyLlama(nn.Module):
    def __init__(self, n_layers: int, d: int, d_ff: int, vocab: int):
        super().__init__()
        self.embed, self.head = nn.Embedding(vocab, d), nn.Linear(d, vocab, bias=False)
        self.blocks = nn.ModuleList()
        for _ in range(n_layers):
            self.blocks.append(nn.ModuleDict({
                "norm_1": nn.RMSNorm(d), "norm_2": nn.RMSNorm(d),
                **{m: nn.Linear(d, d, bias=False) for m in "qkvo"},
                "gate": nn.Linear(d, d_ff, bias=False), "up": nn.Linear(d, d_ff, bias=False),
                "down": nn.Linear(d_ff, d, bias=False)}))
        self.norm = nn.RMSNorm(d)


def test_preset_formulas_match_real_modules():
    assert _gpt("tiny", 3, 16, 50, 8, "").total == count_parameters(TinyGPT(3, 16, 50, 8))
    assert _llama("tiny", 2, 16, 40, 30, "").total == count_parameters(TinyLlama(2, 16, 40, 30))
    model = TinyLlama(2, 16, 40, 30)
    apply_lora(model, ["q", "v", "gate", "up", "down"], r=2)
    budget = lora_budget(_llama("tiny", 2, 16, 40, 30, ""), ["W_q", "W_v", "MLP"], 2)
    assert budget.trainable == count_parameters(model, trainable_only=True)


def test_published_model_sizes():
    # Hugging Face reports 124,439,808 parameters for gpt2 and 6,738,415,616 for Llama-2-7b.
    assert MODEL_PRESETS["GPT-2 small (124M)"].total == 124_439_808
    assert MODEL_PRESETS["Llama-2-7B"].total == 6_738_415_616
    assert round(MODEL_PRESETS["GPT-3 175B"].total / 1e9) == 175


def test_budget_is_linear_in_r_and_additive_over_matrices():
    for name in MODEL_PRESETS:
        one = lora_budget(name, ["W_q"], 1).trainable
        assert lora_budget(name, ["W_q"], 8).trainable == 8 * one
        both = lora_budget(name, ["W_q", "W_v"], 4).trainable
        assert both == lora_budget(name, ["W_q"], 4).trainable + lora_budget(name, ["W_v"], 4).trainable
        mlp = lora_budget(name, ["MLP"], 2)
        assert set(mlp.per_layer) == set(MODEL_PRESETS[name].mlp)
        assert lora_budget(name, ["W_q", "W_q"], 2).trainable == lora_budget(name, ["W_q"], 2).trainable


def test_equal_budgets_of_the_lora_paper_table_5():
    configs = [(["W_q"], 8), (["W_k"], 8), (["W_v"], 8), (["W_o"], 8), (["W_q", "W_k"], 4),
               (["W_q", "W_v"], 4), (["W_q", "W_k", "W_v", "W_o"], 2)]
    counts = {lora_budget("GPT-3 175B", t, r).trainable for t, r in configs}
    assert len(counts) == 1


@pytest.mark.parametrize("args, error", [
    (("GPT-3 175B", ["W_q"], 0), ValueError),
    (("GPT-3 175B", ["W_q"], 2.5), TypeError),
    (("GPT-3 175B", ["W_x"], 4), ValueError),
    (("GPT-3 175B", [], 4), ValueError),
    (("GPT-4", ["W_q"], 4), ValueError),
    ((42, ["W_q"], 4), TypeError),
])
def test_budget_bad_input(args, error):
    with pytest.raises(error):
        lora_budget(*args)


def test_parameter_count_bad_input():
    with pytest.raises(ValueError, match="exceeds"):
        lora_parameter_count([(4, 3)], 4)
    with pytest.raises(ValueError, match="pair"):
        lora_parameter_count([(4, 3, 2)], 1)
    with pytest.raises(ValueError, match=">= 1"):
        lora_parameter_count([(0, 3)], 1)


def test_mlp_shapes_are_those_of_the_chapter_5_model():
    from lowrank_utils.experiment import MLP
    model = MLP(12, 20, 7)
    assert mlp_shapes(12, 20, 7) == {name: tuple(getattr(model, name).weight.shape)
                                     for name in ("fc1", "fc2", "head")}
    with pytest.raises(TypeError, match="d_in"):
        mlp_shapes(12.0, 20, 7)
    with pytest.raises(ValueError, match="n_classes"):
        mlp_shapes(12, 20, 0)


def test_budget_needs_no_torch():
    import subprocess
    import sys
    code = ("import sys, lowrank_utils.budget as b; b.lora_budget('GPT-3 175B', ['W_q'], 4); "
            "assert 'torch' not in sys.modules and 'ipywidgets' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_per_rank_memory_counts_what_zero_counts():
    from lowrank_utils.budget import MODEL_PRESETS, per_rank_memory
    shape = MODEL_PRESETS["Llama-2-7B"]
    P = shape.total
    T = lora_budget(shape, ("W_q", "W_v"), 16).trainable
    full = per_rank_memory(shape, "full", "ddp", 8)
    assert (full.weights, full.gradients, full.optimizer) == (2 * P, 2 * P, 12 * P)   # 16 bytes/param
    assert per_rank_memory(shape, "full", "fsdp", 8).total == pytest.approx(16 * P / 8)
    lora = per_rank_memory(shape, "lora", "ddp", 8)
    assert lora.total == pytest.approx(2 * P + 16 * T) and lora.gradients == 2 * T
    qlora = per_rank_memory(shape, "qlora", "ddp", 1)
    assert qlora.weights == pytest.approx((P - shape.other) * 4.127 / 8 + 2 * shape.other + 2 * T)
    assert per_rank_memory(shape, "lora", "fsdp", 4).total == pytest.approx(lora.total / 4)
    assert qlora.total < lora.total < full.total / 7


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="prompt"), "method"), (dict(strategy="zero2"), "strategy"),
    (dict(world_size=0), "world_size"), (dict(world_size=2.5), "world_size"),
])
def test_per_rank_memory_refuses_bad_arguments(kwargs, match):
    from lowrank_utils.budget import per_rank_memory
    args = dict(model="Llama-2-7B", method="lora", strategy="ddp", world_size=8) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        per_rank_memory(**args)
