"""Tests of the chapter 4 calculator: the parameter formula, model presets, widget and twins."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from lowrank_utils import apply_lora, count_parameters
from lowrank_utils.widgets.lora import (
    MODEL_PRESETS,
    ModelShape,
    _gpt,
    _llama,
    lora_budget,
    lora_calculator,
    lora_calculator_table,
    lora_parameter_count,
    lora_parameters_figure,
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


def test_budget_derived_quantities():
    b = lora_budget("Llama-2-7B", ["W_q", "W_v"], 8)
    assert b.fraction == pytest.approx(b.trainable / b.total)
    assert b.reduction == pytest.approx(1 / b.fraction)
    table = lora_calculator_table([("Llama-2-7B", ["W_q", "W_v"], 8)], ["Llama-2-7B"])
    lora_row, full_row = table.rows
    assert lora_row[-2] == f"{2 * b.trainable / 1e6:,.1f} MB"          # fp16 adapter
    assert full_row[-2] == f"{2 * b.total / 1e9:,.1f} GB"               # fp16 copy of the model
    assert full_row[-1] == f"{8 * b.total / 1e9:,.1f} GB"               # Adam's two fp32 moments
    # The storage column holds the adapter for LoRA and a whole model for full fine-tuning,
    # so its header says what both rows share: the storage one task adds.
    assert "per-task storage (fp16)" in repr(table) and "adapter (fp16)" not in repr(table)


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


def test_calculator_widget_updates():
    box = lora_calculator("Llama-2-7B", ("W_q", "W_v"), 8)
    html = box.children[-1].value
    assert f"{lora_budget('Llama-2-7B', ['W_q', 'W_v'], 8).trainable:,}" in html
    box.controls["r"].value = 16
    box.controls["MLP"].value = True
    expected = lora_budget("Llama-2-7B", ["W_q", "W_v", "MLP"], 16).trainable
    assert f"{expected:,}" in box.children[-1].value
    box.controls["model"].value = "GPT-3 175B"
    assert f"{lora_budget('GPT-3 175B', ['W_q', 'W_v', 'MLP'], 16).trainable:,}" in box.children[-1].value
    for name in ("W_q", "W_v", "MLP"):
        box.controls[name].value = False
    assert "at least one" in box.children[-1].value


def test_static_table_and_figure():
    table = lora_calculator_table()
    html = table._repr_html_()
    assert html.count("<tr>") == len(table.rows) + 1
    assert f"{lora_budget('GPT-3 175B', ['W_q', 'W_v'], 8).trainable:,}" in html
    assert "Llama-2-7B" in repr(table)
    fig = lora_parameters_figure()
    ax = fig.axes[0]
    assert len(ax.lines) == 4 and ax.get_yscale() == "log"
    plt.close(fig)


@pytest.mark.parametrize("model, error", [("GPT-4", ValueError), (42, TypeError)])
def test_parameters_figure_bad_model_names_the_argument(model, error):
    with pytest.raises(error, match="model"):
        lora_parameters_figure(model)


def test_parameters_figure_accepts_a_model_shape():
    shape = _gpt("tiny GPT", 2, 64, 100, 16, "")
    fig = lora_parameters_figure(shape, ranks=(1, 2, 4))
    ax = fig.axes[0]
    assert ax.get_title() == "tiny GPT"
    assert list(ax.lines[0].get_ydata()) == [lora_budget(shape, ["W_q", "W_v"], r).trainable
                                             for r in (1, 2, 4)]
    plt.close(fig)


def test_model_shape_is_a_public_type():
    shape = ModelShape("toy", 2, 8, {"W_q": (8, 8)}, {"W_up": (16, 8)}, other=10)
    assert shape.total == 2 * (64 + 128) + 10
    assert lora_budget(shape, ["W_q", "MLP"], 2).trainable == 2 * (2 * 16 + 2 * 24)


def test_lora_update_figure_draws_W0_B_A_and_W():
    from lowrank_utils.plotting import plot_lora_update

    rng = np.random.default_rng(0)
    W0, B, A = rng.standard_normal((6, 9)), rng.standard_normal((6, 2)), rng.standard_normal((2, 9))
    fig = plot_lora_update(W0, B, A, scaling=0.5)
    images = [ax.images[0].get_array() for ax in fig.axes]
    assert [im.shape for im in images] == [(6, 9), (6, 2), (2, 9), (6, 9)]
    assert np.allclose(images[3], W0 + 0.5 * B @ A)
    plt.close(fig)
    with pytest.raises(ValueError, match="B of shape"):
        plot_lora_update(W0, B.T, A)
