"""Saving and loading LoRA adapters, with the configuration that makes their numbers mean something.

An adapter is only its matrices A and B *together with* r, α and the scaling rule (α/r, or
rsLoRA's α/√r): the same B A scaled by 2 or by 8 is another model. So:

- ``lora_state_dict(model)`` returns the LoRA matrices (an ``OrderedDict`` of tensors, ready for
  ``torch.save``) and carries the configuration in its attribute ``lora_config`` (kept by
  ``torch.save`` / ``torch.load``, also with ``weights_only=True``, as PyTorch keeps a state
  dict's ``_metadata``);
- ``load_lora_state_dict(model, state)`` refuses a state whose configuration differs from the
  model's LoRA layers (r, α, rule, targets), or that carries none;
- ``save_peft_adapter`` / ``load_peft_adapter`` write and read Hugging Face PEFT's adapter format
  (``adapter_config.json`` + ``adapter_model.safetensors``), so that PEFT loads our adapter onto
  the same base model with the same outputs, and we load PEFT's.

Used in chapter 4 ("One adapter per task") and chapter 5 (two tasks on one frozen base).
"""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .lora import LoRALinear, apply_lora, lora_layers

__all__ = ["lora_state_dict", "load_lora_state_dict", "adapter_config", "save_peft_adapter",
           "load_peft_adapter", "PEFT_CONFIG_FILE", "PEFT_WEIGHTS_FILE"]

_LORA_PARAMS = ("lora_A", "lora_B")
PEFT_CONFIG_FILE = "adapter_config.json"
PEFT_WEIGHTS_FILE = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."


def _layer_config(layer: LoRALinear) -> dict[str, Any]:
    return {"r": layer.r, "alpha": layer.alpha, "rslora": layer.rslora,
            "scaling_rule": "alpha/sqrt(r)" if layer.rslora else "alpha/r",
            "in_features": layer.in_features, "out_features": layer.out_features}


def adapter_config(model: nn.Module) -> dict[str, dict[str, Any]]:
    """{layer name: r, alpha, rslora, scaling_rule, in_features, out_features} of every LoRA layer."""
    return {name: _layer_config(layer) for name, layer in lora_layers(model)}


def lora_state_dict(model: nn.Module) -> "OrderedDict[str, torch.Tensor]":
    """Only the LoRA matrices of ``model`` (keys ``"<layer>.lora_A"`` / ``"<layer>.lora_B"``),
    with their configuration in ``.lora_config`` (see ``adapter_config``).

    The values are detached copies: the adapter of a task is r·(in + out) numbers per adapted
    layer instead of a copy of the whole model (chapter 4).
    """
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    layers = list(lora_layers(model))
    if not layers:
        raise ValueError("model has no LoRA layers (apply_lora first)")
    for name, layer in layers:
        prefix = f"{name}." if name else ""
        for param_name in _LORA_PARAMS:
            state[prefix + param_name] = getattr(layer, param_name).detach().clone()
    state.lora_config = adapter_config(model)  # type: ignore[attr-defined]
    return state


def _check_same_config(saved: Mapping[str, Mapping[str, Any]], model: nn.Module) -> None:
    own = adapter_config(model)
    if set(saved) != set(own):
        raise ValueError(f"the adapter was saved for the LoRA layers {sorted(saved)}, the model has "
                         f"{sorted(own)}: apply_lora with the saved target_modules first")
    for name, config in saved.items():
        for key in ("r", "alpha", "rslora"):
            if config.get(key) != own[name][key]:
                raise ValueError(
                    f"layer {name!r}: the adapter was saved with r={config.get('r')}, "
                    f"alpha={config.get('alpha')}, rslora={config.get('rslora')} "
                    f"({config.get('scaling_rule')}), the model's layer has r={own[name]['r']}, "
                    f"alpha={own[name]['alpha']}, rslora={own[name]['rslora']}: loading it "
                    "would change the update's scale. Build the LoRA layers with the saved "
                    "configuration (apply_lora(model, targets, r, alpha, rslora=...))")


@torch.no_grad()
def load_lora_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], *,
                         check_config: bool = True) -> nn.Module:
    """Copy LoRA matrices saved by ``lora_state_dict`` into ``model``'s LoRA layers.

    The keys must be exactly the model's LoRA parameter names, the shapes must agree, and (with
    ``check_config``) the saved configuration must equal the model's: same layers, r, α and
    scaling rule (ValueError otherwise, naming what differs). A state without ``lora_config``
    (a plain dict) is refused unless ``check_config=False`` says you know its scale. The layers
    must be unmerged (a merged weight would keep the old ΔW). Returns ``model``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"state must be a mapping name -> tensor, got {type(state).__name__}")
    if not isinstance(check_config, bool):
        raise TypeError(f"check_config must be True or False, got {check_config!r}")
    own = OrderedDict((f"{name}.{p}" if name else p, getattr(layer, p))
                      for name, layer in lora_layers(model) for p in _LORA_PARAMS)
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ValueError(f"state does not fit the model's LoRA layers: missing keys {missing}, "
                         f"unexpected keys {unexpected}")
    if check_config:
        saved = getattr(state, "lora_config", None)
        if saved is None:
            raise ValueError("state carries no LoRA configuration (r, alpha, scaling rule): save "
                             "it with lora_state_dict(model), or pass check_config=False if you "
                             "know it matches")
        _check_same_config(saved, model)
    merged = [name for name, layer in lora_layers(model) if layer.merged]
    if merged:
        raise ValueError(f"unmerge the LoRA layers {merged} before loading new LoRA weights")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"state[{key!r}] must be a torch.Tensor, got {type(value).__name__}")
        if tuple(value.shape) != tuple(own[key].shape):
            raise ValueError(f"state[{key!r}] has shape {tuple(value.shape)}, "
                             f"the model expects {tuple(own[key].shape)}")
    for key, value in state.items():
        own[key].copy_(value)
    return model


def _uniform(config: Mapping[str, Mapping[str, Any]], key: str) -> Any:
    values = {layer[key] for layer in config.values()}
    if len(values) != 1:
        raise ValueError(f"PEFT's format holds one {key} for all layers; this model's LoRA layers "
                         f"use {sorted(values)}")
    return values.pop()


def save_peft_adapter(model: nn.Module, folder: str | Path) -> Path:
    """Write ``model``'s adapter in Hugging Face PEFT's format into ``folder``; return ``folder``.

    ``adapter_config.json`` (r, lora_alpha, use_rslora, target_modules, lora_dropout) and
    ``adapter_model.safetensors`` with keys ``base_model.model.<layer>.lora_A.weight`` (and
    ``lora_B``), as ``PeftModel.save_pretrained`` writes them; ``PeftModel.from_pretrained(base,
    folder)`` loads it onto the same base model. Every LoRA layer must share r, α and the rule.
    """
    from safetensors.torch import save_file

    config = adapter_config(model)
    if not config:
        raise ValueError("model has no LoRA layers (apply_lora first)")
    dropouts = {layer.lora_dropout.p if isinstance(layer.lora_dropout, nn.Dropout) else 0.0
                for _, layer in lora_layers(model)}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    peft_config = {
        "peft_type": "LORA", "task_type": None, "base_model_name_or_path": None,
        "r": _uniform(config, "r"), "lora_alpha": _uniform(config, "alpha"),
        "use_rslora": _uniform(config, "rslora"), "target_modules": sorted(config),
        "lora_dropout": max(dropouts), "bias": "none", "fan_in_fan_out": False,
        "init_lora_weights": True, "modules_to_save": None, "inference_mode": True,
    }
    tensors = {f"{_PEFT_PREFIX}{key}.weight": value.contiguous()
               for key, value in lora_state_dict(model).items()}
    (folder / PEFT_CONFIG_FILE).write_text(json.dumps(peft_config, indent=2) + "\n",
                                           encoding="utf-8")
    save_file(tensors, str(folder / PEFT_WEIGHTS_FILE))
    return folder


def load_peft_adapter(model: nn.Module, folder: str | Path) -> nn.Module:
    """Load an adapter in PEFT's format (ours, or ``PeftModel.save_pretrained``'s) into ``model``.

    A model without LoRA layers gets them first (``apply_lora`` with the saved target_modules, r,
    lora_alpha, lora_dropout and use_rslora); a model that has them must match the saved
    configuration. Settings this book's layer does not implement (bias training, fan_in_fan_out,
    rank or alpha patterns, DoRA) are refused by name. Returns ``model``.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    path = folder / PEFT_CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: folder must hold a PEFT adapter")
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise ValueError(f"the adapter is {config.get('peft_type')!r}, not LoRA")
    for key, harmless in (("bias", "none"), ("fan_in_fan_out", False), ("use_dora", False),
                          ("rank_pattern", {}), ("alpha_pattern", {})):
        if config.get(key) not in (harmless, None):
            raise ValueError(f"the adapter uses {key}={config[key]!r}, which this book's LoRA "
                             "layer does not implement")
    targets = config["target_modules"]
    if isinstance(targets, str):
        raise ValueError("the adapter names its targets by a regular expression; this book "
                         "matches names, not patterns")
    r, alpha, rslora = config["r"], float(config["lora_alpha"]), bool(config.get("use_rslora"))
    if not list(lora_layers(model)):
        apply_lora(model, targets, r=r, alpha=alpha, dropout=float(config.get("lora_dropout", 0)),
                   rslora=rslora)
    tensors = load_file(str(folder / PEFT_WEIGHTS_FILE))
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in tensors.items():
        name = key.removeprefix(_PEFT_PREFIX).replace(".default", "")
        state[name.removesuffix(".weight")] = value
    saved = {name: {"r": r, "alpha": alpha, "rslora": rslora}
             for name in {key.rpartition(".")[0] for key in state}}
    _check_same_config(saved, model)
    return load_lora_state_dict(model, state, check_config=False)
