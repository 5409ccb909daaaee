"""Tests of lowrank_utils.lora: the LoRA layer, apply_lora, saving, and agreement with PEFT."""
from __future__ import annotations

import copy
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # PEFT must never reach the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import peft                                               # a test dependency (requirements.txt)
import pytest
import torch
from torch import nn
from transformers.pytorch_utils import Conv1D

from lowrank_utils import (
    LoRALinear,
    apply_lora,
    count_parameters,
    merge_and_unload,
    merge_lora,
    unmerge_lora,
)
from lowrank_utils.lora import lora_layers

from .lora_models import TOL, Block, linear, randomise_B, toy


# --- the layer ----------------------------------------------------------------------------------

def test_shapes_init_and_frozen_base():
    base = linear(7, 5)
    layer = LoRALinear(base, r=3, alpha=6)
    assert layer.base is base
    assert layer.lora_A.shape == (3, 7) and layer.lora_B.shape == (5, 3)
    assert torch.count_nonzero(layer.lora_B) == 0
    # PEFT's default: Kaiming-uniform with a = sqrt(5), i.e. uniform on ±1/sqrt(in_features).
    assert torch.all(layer.lora_A.abs() <= 1 / math.sqrt(7))
    assert torch.count_nonzero(layer.lora_A) == layer.lora_A.numel()
    assert layer.scaling == 2.0 and layer.merged is False
    assert not base.weight.requires_grad and not base.bias.requires_grad
    assert layer.lora_A.requires_grad and layer.lora_B.requires_grad


def test_alpha_default_and_rslora_scaling():
    assert LoRALinear(linear(), r=4).scaling == 1.0
    assert LoRALinear(linear(), r=4, alpha=8, rslora=True).scaling == pytest.approx(8 / 2)
    assert LoRALinear(linear(), r=9, alpha=3, rslora=True).scaling == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_lora_parameters_follow_base_dtype(dtype):
    layer = LoRALinear(linear(dtype=dtype), r=2)
    assert layer.lora_A.dtype == dtype and layer.lora_B.dtype == dtype
    assert layer.lora_A.device == layer.base.weight.device
    assert layer(torch.randn(4, 7, dtype=dtype)).dtype == dtype


DEVICES = ["meta"] + (["cuda"] if torch.cuda.is_available() else []) + \
    (["mps"] if torch.backends.mps.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_lora_parameters_follow_base_device(device):
    # "meta" tensors have shapes but no data: the check runs on any machine.
    base = nn.Linear(7, 5, device=device)
    layer = LoRALinear(base, r=2)
    assert layer.lora_A.device == base.weight.device == layer.lora_B.device
    assert layer(torch.empty(3, 7, device=device)).device == base.weight.device
    if device != "meta":
        layer.merge()
        assert layer.merged and layer.base.weight.device.type == device


def test_identity_at_initialisation():
    base = linear(9, 4, dtype=torch.float32)
    layer = LoRALinear(base, r=2, alpha=16, dropout=0.5).train()   # dropout on the LoRA path only
    x = torch.randn(3, 6, 9)                                       # any leading dimensions
    assert torch.equal(layer(x), base(x))
    model = toy()
    reference = copy.deepcopy(model)
    apply_lora(model, ["q", "v", "mlp.0"], r=4, alpha=8)
    x = torch.randn(10, 5)
    assert torch.equal(model(x), reference(x))


@pytest.mark.parametrize("rslora", [False, True])
def test_forward_formula(rslora):
    base = linear(7, 5)
    layer = LoRALinear(base, r=3, alpha=5, rslora=rslora)
    randomise_B(layer)
    A, B, W0, b = layer.lora_A, layer.lora_B, base.weight, base.bias
    scaling = 5 / math.sqrt(3) if rslora else 5 / 3
    x = torch.randn(2, 4, 7, dtype=torch.float64)                  # (batch, seq, in)
    expected = x @ W0.T + b + scaling * (x @ A.T @ B.T)
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.delta_weight(), scaling * B @ A, rtol=1e-12, atol=1e-12)
    assert layer.delta_weight().shape == W0.shape
    assert torch.linalg.matrix_rank(layer.delta_weight()) == 3


def test_dropout_only_on_the_lora_path():
    torch.manual_seed(0)
    layer = LoRALinear(linear(), r=3, dropout=0.5)
    randomise_B(layer)
    x = torch.randn(64, 7, dtype=torch.float64)
    layer.eval()
    torch.testing.assert_close(layer(x), layer.base(x) + x @ layer.delta_weight().T)
    layer.train()
    assert not torch.allclose(layer(x), layer(x))        # fresh dropout masks
    assert isinstance(LoRALinear(linear(), r=1, dropout=0.0).lora_dropout, nn.Identity)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_merged_output_equals_unmerged(dtype):
    model = toy(dtype)
    x = torch.randn(16, 5, dtype=dtype)
    base_output = model(x)
    apply_lora(model, ["q", "k", "v", "o", "mlp.0", "mlp.2"], r=3, alpha=6)
    randomise_B(model)
    unmerged = model(x)
    assert not torch.allclose(unmerged, base_output)      # the adapters really act
    merge_lora(model)
    assert all(layer.merged for _, layer in lora_layers(model))
    torch.testing.assert_close(model(x), unmerged, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_merge_adds_delta_once_and_unmerge_restores_W0(dtype):
    base = linear(11, 6, dtype=dtype)
    W0 = base.weight.detach().clone()
    layer = LoRALinear(base, r=2, alpha=4)
    randomise_B(layer)
    delta = layer.delta_weight().detach()
    layer.merge()
    torch.testing.assert_close(base.weight, W0 + delta, **TOL[dtype])
    merged_once = base.weight.detach().clone()
    layer.merge()                                         # a second merge does nothing
    assert torch.equal(base.weight, merged_once) and layer.merged
    x = torch.randn(3, 11, dtype=dtype)
    assert torch.equal(layer(x), base(x))                 # merged: one matmul, no LoRA path
    layer.unmerge()
    assert not layer.merged
    torch.testing.assert_close(base.weight, W0, **TOL[dtype])
    layer.unmerge()                                       # and a second unmerge does nothing
    torch.testing.assert_close(base.weight, W0, **TOL[dtype])
    model = toy(dtype)
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    apply_lora(model, ["q", "mlp.2"], r=2)
    randomise_B(model)
    unmerge_lora(merge_lora(model))
    for name, p in model.named_parameters():
        if "lora_" not in name:
            original = weights[name.replace(".base.", ".")]
            torch.testing.assert_close(p, original, **TOL[dtype])


def test_only_lora_parameters_change_in_training():
    model = toy()
    apply_lora(model, ["q", "v"], r=2, alpha=4, dropout=0.1)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    torch.manual_seed(0)
    x, y = torch.randn(32, 5), torch.randn(32, 3)
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    lora_names = {n for n in before if n.endswith(("lora_A", "lora_B"))}
    assert changed == lora_names and len(lora_names) == 2 * 2 * 2   # 2 blocks × (q, v) × (A, B)
    assert all(not p.requires_grad for n, p in model.named_parameters() if n not in lora_names)


def test_parameter_count_r_times_in_plus_out():
    model = toy()
    total = count_parameters(model)
    assert count_parameters(model, trainable_only=True) == total       # nothing frozen yet
    shapes = {n: (m.in_features, m.out_features) for n, m in model.named_modules()
              if n.endswith((".q", ".o", "mlp.0"))}
    r = 3
    apply_lora(model, ["q", "o", "mlp.0"], r=r, alpha=1)
    expected = sum(r * (k + d) for k, d in shapes.values())
    assert len(shapes) == 6
    assert count_parameters(model, trainable_only=True) == expected
    assert count_parameters(model) == total + expected


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("r, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("4", TypeError)])
def test_bad_rank(r, error):
    with pytest.raises(error, match="r"):
        LoRALinear(linear(), r=r)
    with pytest.raises(error, match="r"):
        apply_lora(toy(), ["q"], r=r)


@pytest.mark.parametrize("alpha, error", [(0, ValueError), (-1.0, ValueError),
                                          (float("nan"), ValueError), (float("inf"), ValueError),
                                          ("8", TypeError), (True, TypeError)])
def test_bad_alpha(alpha, error):
    with pytest.raises(error, match="alpha"):
        LoRALinear(linear(), r=2, alpha=alpha)


@pytest.mark.parametrize("dropout, error", [(1.0, ValueError), (-0.1, ValueError),
                                            (float("nan"), ValueError), ("0.1", TypeError)])
def test_bad_dropout(dropout, error):
    with pytest.raises(error, match="dropout"):
        LoRALinear(linear(), r=2, dropout=dropout)


def test_base_must_be_linear():
    with pytest.raises(TypeError, match="base must be a torch.nn.Linear"):
        LoRALinear(nn.Conv1d(3, 4, 1), r=2)
    with pytest.raises(TypeError, match="base must be a torch.nn.Linear"):
        LoRALinear(LoRALinear(linear(), r=2), r=2)
    with pytest.raises(TypeError, match="model"):
        apply_lora("not a model", ["q"], r=2)
    with pytest.raises(TypeError, match="model"):
        count_parameters([nn.Linear(2, 2)])


# --- apply_lora: which layers are adapted -------------------------------------------------------

def adapted(model: nn.Module) -> set[str]:
    return {name for name, _ in lora_layers(model)}


def test_matching_by_full_name_and_by_suffix():
    assert adapted(apply_lora(toy(), ["blocks.1.attn.q"], r=1)) == {"blocks.1.attn.q"}
    assert adapted(apply_lora(toy(), ["q"], r=1)) == {"blocks.0.attn.q", "blocks.1.attn.q"}
    assert adapted(apply_lora(toy(), ["attn.v", "mlp.2"], r=1)) == {
        "blocks.0.attn.v", "blocks.1.attn.v", "blocks.0.mlp.2", "blocks.1.mlp.2"}
    assert adapted(apply_lora(toy(), "head", r=1)) == {"head"}          # one name, not a regex
    assert adapted(apply_lora(toy(), ("0.attn.o",), r=1)) == {"blocks.0.attn.o"}


def test_suffix_must_start_at_a_dot():
    # "ttn.q" is a suffix of the string "blocks.0.attn.q" but not of its dotted name parts.
    with pytest.raises(ValueError, match=r"\['ttn.q'\]"):
        apply_lora(toy(), ["ttn.q", "v"], r=1)


def test_unmatched_entries_are_named():
    model = toy()
    weights_before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"\['query', 'value'\] match no module"):
        apply_lora(model, ["q", "query", "value"], r=2)
    assert adapted(model) == set()                                      # nothing half-done
    assert all(p.requires_grad for p in model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(weights_before, model.parameters()))
    with pytest.raises(ValueError, match="at least one"):
        apply_lora(model, [], r=2)
    with pytest.raises(TypeError, match="target_modules"):
        apply_lora(model, [3], r=2)
    with pytest.raises(TypeError, match="target_modules"):
        apply_lora(model, 3, r=2)


def test_matching_a_module_that_is_not_linear():
    with pytest.raises(TypeError, match="'blocks.0.attn' .* ModuleDict, not an nn.Linear"):
        apply_lora(toy(), ["blocks.0.attn"], r=2)
    with pytest.raises(TypeError, match="LayerNorm"):
        apply_lora(toy(), ["norm"], r=2)


def test_apply_twice_and_other_parameters_frozen():
    model = apply_lora(toy(), ["q"], r=2)
    with pytest.raises(TypeError, match="already a LoRALinear"):
        apply_lora(model, ["q"], r=2)
    with pytest.raises(TypeError, match="already a LoRALinear"):
        apply_lora(model, ["q.base"], r=2)
    apply_lora(model, ["v"], r=2)                      # a second call on other layers is fine
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {f"blocks.{i}.attn.{m}.lora_{p}" for i in range(2) for m in "qv"
                         for p in "AB"}
    assert not model.embed.weight.requires_grad and not model.blocks[0].norm.weight.requires_grad


# --- the device helper --------------------------------------------------------------------------

def test_repr_names_the_hyperparameters():
    text = repr(LoRALinear(linear(7, 5), r=4, alpha=8))
    assert "r=4" in text and "alpha=8" in text and "scaling=2" in text and "merged=False" in text


# --- agreement with Hugging Face PEFT -----------------------------------------------------------

def peft_twin(model: nn.Module, ours: nn.Module, targets: list[str], r: int, alpha: float,
              rslora: bool = False) -> nn.Module:
    """PEFT's LoRA on a copy of ``model`` with our A and B copied into its lora_A / lora_B."""
    config = peft.LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0,
                             use_rslora=rslora)
    theirs = peft.get_peft_model(copy.deepcopy(model), config)
    with torch.no_grad():
        for name, layer in lora_layers(ours):
            twin = theirs.base_model.model.get_submodule(name)
            assert twin.lora_A["default"].weight.shape == layer.lora_A.shape   # (r, in)
            assert twin.lora_B["default"].weight.shape == layer.lora_B.shape   # (out, r)
            assert twin.scaling["default"] == pytest.approx(layer.scaling)
            twin.lora_A["default"].weight.copy_(layer.lora_A)
            twin.lora_B["default"].weight.copy_(layer.lora_B)
    return theirs


@pytest.mark.parametrize("rslora", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_agrees_with_peft(dtype, rslora):
    targets, r, alpha = ["q", "v", "attn.o", "mlp.0"], 4, 12
    pretrained = toy(dtype)
    ours = apply_lora(copy.deepcopy(pretrained), targets, r=r, alpha=alpha, rslora=rslora)
    randomise_B(ours)
    theirs = peft_twin(pretrained, ours, targets, r, alpha, rslora)
    # The same layers are adapted, with the same number of trainable parameters.
    assert {n.removeprefix("base_model.model.") for n, m in theirs.named_modules()
            if isinstance(m, peft.tuners.lora.LoraLayer)} == adapted(ours)
    assert count_parameters(ours, trainable_only=True) == count_parameters(theirs, True)
    x = torch.randn(16, 5, dtype=dtype)
    expected = theirs(x)
    torch.testing.assert_close(ours(x), expected, **TOL[dtype])
    assert not torch.allclose(expected, pretrained(x))     # the adapters really act
    # Merging: PEFT's merge_and_unload returns plain nn.Linear layers with W₀ + ΔW.
    merged_theirs = theirs.merge_and_unload()
    merge_lora(ours)
    for name, layer in lora_layers(ours):
        twin = merged_theirs.get_submodule(name)
        assert type(twin) is nn.Linear
        torch.testing.assert_close(layer.base.weight, twin.weight, **TOL[dtype])
        assert torch.equal(layer.base.bias, twin.bias)
    torch.testing.assert_close(ours(x), merged_theirs(x), **TOL[dtype])


def test_peft_gradients_agree():
    targets = ["k", "mlp.2"]
    pretrained = toy(torch.float64)
    ours = apply_lora(copy.deepcopy(pretrained), targets, r=2, alpha=4)
    randomise_B(ours)
    theirs = peft_twin(pretrained, ours, targets, 2, 4)
    x, y = torch.randn(8, 5, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    nn.functional.mse_loss(ours(x), y).backward()
    nn.functional.mse_loss(theirs(x), y).backward()
    for name, layer in lora_layers(ours):
        twin = theirs.base_model.model.get_submodule(name)
        torch.testing.assert_close(layer.lora_A.grad, twin.lora_A["default"].weight.grad)
        torch.testing.assert_close(layer.lora_B.grad, twin.lora_B["default"].weight.grad)


def test_pissa_as_built_in_chapter_4_agrees_with_peft():
    """Chapter 4 builds B = U_r Σ_r^½, A = Σ_r^½ Vh_r and freezes W₀ − BA; so does PEFT's 'pissa'."""
    import numpy as np

    from lowrank_utils import approximation_error, best_rank_k

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 9))                            # PEFT's PiSSA needs float32
    W0 = model[0].weight.detach().double().numpy().copy()              # (9, 12)
    r = 3
    config = peft.LoraConfig(r=r, lora_alpha=r, target_modules=["0"], init_lora_weights="pissa")
    theirs = peft.get_peft_model(model, config).base_model.model[0]
    B = theirs.lora_B["default"].weight.detach().double().numpy()     # (9, r)
    A = theirs.lora_A["default"].weight.detach().double().numpy()     # (r, 12)
    W_res = theirs.base_layer.weight.detach().double().numpy()
    assert np.allclose(B @ A, best_rank_k(W0, r), atol=1e-5)           # the top-r SVD part
    assert np.allclose(W_res + B @ A, W0, atol=1e-5)
    assert np.isclose(np.linalg.norm(W_res), approximation_error(W0, r), rtol=1e-5)
    assert np.allclose(B.T @ B, A @ A.T, atol=1e-5)                    # Σ_r^½ on both sides


def test_delta_weight_is_scaled_like_peft_get_delta_weight():
    """delta_weight() includes alpha / r, as PEFT's get_delta_weight does (the paper's ΔW = BA)."""
    pretrained = toy(torch.float64)
    ours = apply_lora(copy.deepcopy(pretrained), ["q"], r=2, alpha=6)
    randomise_B(ours)
    theirs = peft_twin(pretrained, ours, ["q"], 2, 6)
    for name, layer in lora_layers(ours):
        twin = theirs.base_model.model.get_submodule(name)
        torch.testing.assert_close(layer.delta_weight(), twin.get_delta_weight("default"))
        torch.testing.assert_close(layer.delta_weight(), 3.0 * layer.lora_B @ layer.lora_A)


def test_gpt2_conv1d_is_an_x_at_W_layer_and_peft_adapts_it_with_fan_in_fan_out():
    """The crosswalk's `x @ A @ B` column in the wild: Hugging Face GPT-2's Conv1D stores its
    weight as (in, out) and computes x @ W + b; PEFT adapts it with fan_in_fan_out=True."""
    torch.manual_seed(0)
    conv = Conv1D(5, 7).double()                                  # nf = 5 outputs, nx = 7 inputs
    assert tuple(conv.weight.shape) == (7, 5)                      # (in, out): the transpose
    x = torch.randn(4, 7, dtype=torch.float64)
    torch.testing.assert_close(conv(x), x @ conv.weight + conv.bias)

    linear_twin = nn.Linear(7, 5).double()                        # the same map as nn.Linear
    with torch.no_grad():
        linear_twin.weight.copy_(conv.weight.T)
        linear_twin.bias.copy_(conv.bias)
    ours = LoRALinear(linear_twin, r=2, alpha=4)
    with torch.no_grad():
        ours.lora_B.normal_()
    config = peft.LoraConfig(r=2, lora_alpha=4, target_modules=["0"], fan_in_fan_out=True)
    theirs = peft.get_peft_model(nn.Sequential(copy.deepcopy(conv)), config)
    twin = theirs.base_model.model[0]
    assert tuple(twin.lora_A["default"].weight.shape) == (2, 7)   # still (r, in) and (out, r)
    with torch.no_grad():
        twin.lora_A["default"].weight.copy_(ours.lora_A)
        twin.lora_B["default"].weight.copy_(ours.lora_B)
    torch.testing.assert_close(theirs(x), ours(x))
    # Its update is stored in Conv1D's layout, (in, out): the transpose of ours.
    torch.testing.assert_close(twin.get_delta_weight("default"), ours.delta_weight().T)


# --- merge_and_unload ---------------------------------------------------------------------------

def test_merge_and_unload_leaves_plain_linear_layers_with_the_same_outputs():
    torch.manual_seed(0)
    model = Block().double()
    apply_lora(model, ["q", "v", "mlp.0"], r=3, alpha=6)
    for _, layer in lora_layers(model):
        with torch.no_grad():
            layer.lora_B.normal_()                   # a trained-looking update
    x = torch.randn(5, 12, dtype=torch.float64)
    with torch.no_grad():
        expected = model(x)
        W_expected = {name: layer.base.weight + layer.delta_weight()
                      for name, layer in lora_layers(model)}
    out = merge_and_unload(model)
    assert out is model and not list(lora_layers(model))
    for name, W in W_expected.items():
        layer = model.get_submodule(name)
        assert type(layer) is nn.Linear and torch.allclose(layer.weight, W, **TOL[torch.float64])
    with torch.no_grad():
        assert torch.allclose(model(x), expected, **TOL[torch.float64])
    assert count_parameters(model) == count_parameters(Block())   # no LoRA matrices left


def test_merge_and_unload_of_an_already_merged_model_adds_the_update_once():
    torch.manual_seed(1)
    layer = LoRALinear(nn.Linear(6, 4).double(), r=2)
    with torch.no_grad():
        layer.lora_B.normal_()
    W = (layer.base.weight + layer.delta_weight()).detach().clone()
    layer.merge()
    plain = merge_and_unload(layer)                  # a bare LoRALinear: its base comes back
    assert type(plain) is nn.Linear and torch.allclose(plain.weight, W, **TOL[torch.float64])


def test_merge_and_unload_refuses_a_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        merge_and_unload("model")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        merge_lora(None)


@pytest.mark.parametrize("flag", ["False", 0, 1.0, None])
def test_flags_must_be_bool(flag):
    with pytest.raises(TypeError, match="rslora must be True or False"):
        LoRALinear(nn.Linear(3, 2), r=1, rslora=flag)
    with pytest.raises(TypeError, match="trainable_only must be True or False"):
        count_parameters(nn.Linear(3, 2), flag)


# --- nothing adds ΔW twice -----------------------------------------------------------------------

def trained_toy(seed: int = 0) -> nn.Module:
    model = apply_lora(toy(torch.float64, seed), ["q", "v", "mlp.2"], r=2, alpha=4)
    randomise_B(model)
    return model


def test_a_merged_state_dict_loads_as_merged():
    """The example of the issue: a merged model's state_dict into a freshly adapted model."""
    x = torch.randn(6, 5, dtype=torch.float64)
    model = trained_toy()
    with torch.no_grad():
        expected = model(x)
    merge_lora(model)
    state = model.state_dict()
    fresh = apply_lora(toy(torch.float64, seed=3), ["q", "v", "mlp.2"], r=2, alpha=4)
    result = fresh.load_state_dict(state)                  # strict: every key matched
    assert not result.missing_keys and not result.unexpected_keys
    assert all(layer.merged for _, layer in lora_layers(fresh))
    with torch.no_grad():
        assert torch.allclose(fresh(x), expected, **TOL[torch.float64])   # ΔW counted once
    unmerge_lora(fresh)                                   # and unmerge gives W₀ back
    for (name, a), (_, b) in zip(lora_layers(fresh), lora_layers(trained_toy())):
        assert torch.allclose(a.base.weight, b.base.weight, **TOL[torch.float64]), name
    with torch.no_grad():
        assert torch.allclose(fresh(x), expected, **TOL[torch.float64])


def test_an_unmerged_state_dict_unmerges_a_merged_model():
    model, other = trained_toy(), trained_toy()
    merge_lora(other)
    other.load_state_dict(model.state_dict())
    assert not any(layer.merged for _, layer in lora_layers(other))
    x = torch.randn(4, 5, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(other(x), model(x), **TOL[torch.float64])


def test_editing_the_adapter_while_merged_does_not_corrupt_w0():
    layer = LoRALinear(linear(7, 5), r=3, alpha=6)
    with torch.no_grad():
        layer.lora_B.normal_()
    W0 = layer.base.weight.detach().clone()
    layer.merge()
    with torch.no_grad():                                  # what a careless reload would do
        layer.lora_A.mul_(3.0)
        layer.lora_B.add_(1.0)
    layer.unmerge()
    assert torch.allclose(layer.base.weight, W0, **TOL[torch.float64])
    assert (layer.base.weight - W0).abs().max() < 1e-14


def test_training_a_merged_layer_says_unmerge_first():
    layer = LoRALinear(linear(7, 5), r=2)
    layer.merge()
    x = torch.randn(3, 7, dtype=torch.float64)
    y = layer(x)
    with pytest.raises(RuntimeError, match="Unmerge before training"):
        y.sum().backward()
    with torch.no_grad():                                  # inference is untouched
        assert torch.equal(layer(x), layer.base(x))
    layer.unmerge()
    layer(x).sum().backward()
    assert layer.lora_B.grad is not None


def test_apply_lora_refuses_the_output_projection_of_multihead_attention():
    encoder = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    with pytest.raises(TypeError, match="nn.MultiheadAttention"):
        apply_lora(encoder, ["self_attn.out_proj"], r=2)
    apply_lora(encoder, ["linear1", "linear2"], r=2)       # the MLP's layers are fine
    encoder(torch.randn(2, 3, 8)).sum().backward()
    assert encoder.linear1.lora_B.grad is not None

