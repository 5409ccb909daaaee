"""Tests of the chapter 4 calculator view: the widget, its static table and figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lowrank_utils.budget import ModelShape, _gpt, lora_budget
from lowrank_utils.widgets.lora import (
    lora_calculator,
    lora_calculator_table,
    lora_parameters_figure,
)


def test_budget_derived_quantities():
    b = lora_budget("Llama-2-7B", ["W_q", "W_v"], 8)
    assert b.fraction == pytest.approx(b.trainable / b.total)
    assert b.reduction == pytest.approx(1 / b.fraction)
    table = lora_calculator_table([("Llama-2-7B", ["W_q", "W_v"], 8)], ["Llama-2-7B"])
    lora_row, full_row = (list(row.values()) for row in table.rows)
    assert lora_row[-2] == f"{2 * b.trainable / 1e6:,.1f} MB"          # fp16 adapter
    assert full_row[-2] == f"{2 * b.total / 1e9:,.1f} GB"               # fp16 copy of the model
    assert full_row[-1] == f"{8 * b.total / 1e9:,.1f} GB"               # Adam's two fp32 moments
    # The storage column holds the adapter for LoRA and a whole model for full fine-tuning,
    # so its header says what both rows share: the storage one task adds.
    assert "per-task storage (fp16)" in repr(table) and "adapter (fp16)" not in repr(table)


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
