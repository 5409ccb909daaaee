"""lowrank_utils.adapters: adapters saved with their configuration, and PEFT's format both ways."""
from __future__ import annotations

import copy
import io
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # PEFT must never reach the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import peft                                               # noqa: E402  a test dependency
import pytest                                             # noqa: E402
import torch                                              # noqa: E402
from torch import nn                                      # noqa: E402

from lowrank_utils import (apply_lora, count_parameters, load_lora_state_dict,  # noqa: E402
                           load_peft_adapter, lora_state_dict, merge_lora, save_peft_adapter)
from lowrank_utils.adapters import PEFT_CONFIG_FILE, adapter_config  # noqa: E402

from .lora_models import TOL, randomise_B, toy  # noqa: E402


def test_save_and_load_round_trip():
    torch.manual_seed(0)
    pretrained = toy()
    trained = apply_lora(copy.deepcopy(pretrained), ["k", "mlp.2"], r=2, alpha=3)
    randomise_B(trained)
    state = lora_state_dict(trained)
    assert set(state) == {f"blocks.{i}.{m}.{p}" for i in range(2) for m in ("attn.k", "mlp.2")
                          for p in ("lora_A", "lora_B")}
    assert sum(t.numel() for t in state.values()) == count_parameters(trained, trainable_only=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    fresh = apply_lora(copy.deepcopy(pretrained), ["k", "mlp.2"], r=2, alpha=3)
    x = torch.randn(8, 5)
    assert not torch.allclose(fresh(x), trained(x))
    load_lora_state_dict(fresh, torch.load(buffer))
    assert torch.equal(fresh(x), trained(x))
    state["blocks.0.attn.k.lora_A"].zero_()                # the saved copy is detached
    assert torch.count_nonzero(trained.blocks[0].attn["k"].lora_A) > 0


def test_load_refuses_a_state_that_does_not_fit():
    model = apply_lora(toy(), ["q"], r=2)
    state = lora_state_dict(model)
    with pytest.raises(ValueError, match="missing keys"):
        load_lora_state_dict(model, {k: v for k, v in state.items() if "blocks.0" in k})
    with pytest.raises(ValueError, match="unexpected keys"):
        load_lora_state_dict(model, {**state, "head.lora_A": torch.zeros(2, 12)})
    other = lora_state_dict(apply_lora(toy(), ["q"], r=3))
    with pytest.raises(ValueError, match="saved with r=3"):
        load_lora_state_dict(model, other)
    with pytest.raises(ValueError, match="shape"):
        load_lora_state_dict(model, other, check_config=False)
    with pytest.raises(TypeError, match="state"):
        load_lora_state_dict(model, [1, 2])
    merge_lora(model)
    with pytest.raises(ValueError, match="unmerge"):
        load_lora_state_dict(model, state)


def test_the_adapter_carries_its_configuration_through_torch_save():
    model = apply_lora(toy(), ["q", "v"], r=2, alpha=8, rslora=True)
    state = lora_state_dict(model)
    assert state.lora_config == adapter_config(model)
    assert state.lora_config["blocks.0.attn.q"] == {
        "r": 2, "alpha": 8.0, "rslora": True, "scaling_rule": "alpha/sqrt(r)",
        "in_features": 12, "out_features": 8}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert loaded.lora_config == state.lora_config


@pytest.mark.parametrize("other", [dict(r=2, alpha=8.0), dict(r=2, alpha=2.0, rslora=True),
                                   dict(r=2, alpha=2.0, targets=["q"])])
def test_an_adapter_refuses_another_configuration(other):
    """The example of the issue: saved at alpha = r, loaded into a model built with alpha = 8."""
    saved = lora_state_dict(apply_lora(toy(), ["q", "v"], r=2, alpha=2.0))
    targets = other.pop("targets", ["q", "v"])
    model = apply_lora(toy(), targets, **other)
    with pytest.raises(ValueError, match="saved|unexpected keys"):
        load_lora_state_dict(model, saved)


def test_a_state_without_configuration_is_refused_unless_told():
    model = apply_lora(toy(), ["q"], r=2)
    plain = dict(lora_state_dict(model))                  # a dict: the configuration is gone
    with pytest.raises(ValueError, match="carries no LoRA configuration"):
        load_lora_state_dict(model, plain)
    load_lora_state_dict(model, plain, check_config=False)
    with pytest.raises(TypeError, match="check_config"):
        load_lora_state_dict(model, plain, check_config="no")
    with pytest.raises(ValueError, match="no LoRA layers"):
        lora_state_dict(toy())


def peft_model(base: nn.Module, folder) -> nn.Module:
    return peft.PeftModel.from_pretrained(base, str(folder))


@pytest.mark.parametrize("rslora", [False, True])
def test_peft_loads_our_adapter_with_identical_outputs(tmp_path, rslora):
    torch.manual_seed(0)
    ours = apply_lora(toy(torch.float64), ["q", "v", "mlp.2"], r=3, alpha=6, rslora=rslora)
    randomise_B(ours)
    save_peft_adapter(ours, tmp_path)
    config = json.loads((tmp_path / PEFT_CONFIG_FILE).read_text())
    assert (config["r"], config["lora_alpha"], config["use_rslora"]) == (3, 6.0, rslora)
    theirs = peft_model(toy(torch.float64), tmp_path)
    x = torch.randn(7, 5, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(theirs(x), ours(x), **TOL[torch.float64])
    # and back: PEFT's own save_pretrained, read by load_peft_adapter into a bare model
    theirs.save_pretrained(str(tmp_path / "peft"))
    again = load_peft_adapter(toy(torch.float64), tmp_path / "peft")
    assert count_parameters(again, trainable_only=True) == count_parameters(ours, True)
    with torch.no_grad():
        assert torch.allclose(again(x), ours(x), **TOL[torch.float64])


def test_load_peft_adapter_refuses_what_it_cannot_honour(tmp_path):
    ours = apply_lora(toy(), ["q"], r=2, alpha=4)
    save_peft_adapter(ours, tmp_path)
    with pytest.raises(ValueError, match="saved"):      # a model already adapted differently
        load_peft_adapter(apply_lora(toy(), ["q"], r=2, alpha=8), tmp_path)
    config = json.loads((tmp_path / PEFT_CONFIG_FILE).read_text())
    for key, value in (("use_dora", True), ("bias", "all"), ("fan_in_fan_out", True),
                       ("target_modules", ".*q")):
        (tmp_path / PEFT_CONFIG_FILE).write_text(json.dumps({**config, key: value}))
        with pytest.raises(ValueError):
            load_peft_adapter(toy(), tmp_path)
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        load_peft_adapter(toy(), tmp_path / "nowhere")
    mixed = apply_lora(toy(), ["q"], r=2)
    apply_lora(mixed, ["v"], r=3)
    with pytest.raises(ValueError, match="one r for all layers"):
        save_peft_adapter(mixed, tmp_path / "mixed")

