"""lowrank_utils.experiment.config: the frozen configuration, its presets and its checks."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lowrank_utils import experiment as T
from lowrank_utils.experiment import config as config_module
from lowrank_utils.runtime import get_device
from .conftest import tiny_config

def test_default_config_picks_the_small_preset_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device().type == "cpu"
    config = T.default_config()
    assert config == T.small_config() and config.name == "small"
    assert config.torch_device().type == "cpu"

def test_default_config_picks_the_full_preset_on_cuda(monkeypatch):
    monkeypatch.setattr(config_module, "get_device", lambda: torch.device("cuda"))
    config = T.default_config()
    assert config == T.full_config() and config.name == "full"
    assert max(config.ranks) > max(T.small_config().ranks)
    assert config.d_hidden > T.small_config().d_hidden

def test_preset_environment_variable(monkeypatch):
    monkeypatch.setattr(config_module, "get_device", lambda: torch.device("cpu"))
    monkeypatch.setenv(T.PRESET_ENV, "full")
    assert T.default_config() == T.full_config()
    monkeypatch.setenv(T.PRESET_ENV, "small")
    assert T.default_config() == T.small_config()
    monkeypatch.setenv(T.PRESET_ENV, "huge")
    with pytest.raises(ValueError, match=T.PRESET_ENV):
        T.default_config()
    monkeypatch.delenv(T.PRESET_ENV)
    assert T.default_config() == T.small_config()

def test_presets_are_valid_and_differ_only_in_size():
    small, full = T.small_config(), T.full_config()
    assert small.target_modules == full.target_modules
    assert small.true_rank in small.ranks and full.true_rank in full.ranks
    assert any(r < small.true_rank for r in small.ranks)     # the story needs r < r* …
    assert any(r > small.true_rank for r in small.ranks)     # … and r > r*
    assert T.small_config(seed=3).seed == 3

@pytest.mark.parametrize("field, value, error", [
    ("d_in", 0, ValueError), ("d_hidden", 2.5, TypeError), ("n_classes", 1, ValueError),
    ("true_rank", 100, ValueError), ("delta_scale", -1.0, ValueError),
    ("noise", float("nan"), ValueError), ("delta_decay", 1.5, ValueError),
    ("lr_lora", 0, ValueError), ("batch_size", 10**6, ValueError),
    ("ranks", (), ValueError), ("ranks", (1, 0), ValueError), ("ranks", (1, 1000), ValueError),
    ("target_modules", ("fc3",), ValueError), ("target_modules", "fc1", ValueError),
    ("device", "gpu", ValueError), ("warmup_steps", 10**6, ValueError),
    ("lora_alpha", -2.0, ValueError), ("amp", "yes", TypeError), ("seed", -1, ValueError),
    ("cpu_threads", 0, ValueError), ("pretrain_steps", True, TypeError),
    ("ranks", (8, 4, 16), ValueError), ("ranks", (1, 2, 4), ValueError),   # unsorted; no 2r* = 8
    ("live_threshold", -0.1, ValueError),
])
def test_bad_config_values_raise_clear_errors(field, value, error):
    with pytest.raises(error, match=f"config.{field}"):
        T.small_config(**{field: value})


def test_config_is_frozen_and_checked_once(monkeypatch):
    config = tiny_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.d_in = 3                                     # no unchecked edits after the check
    calls = []
    original = T.TrainingConfig._check
    monkeypatch.setattr(T.TrainingConfig, "_check", lambda self: calls.append(1) or original(self))
    changed = config.replace(seed=4)
    assert changed.seed == 4 and config.seed == 0 and len(calls) == 1
    assert T.as_config(changed) is changed and len(calls) == 1   # taking it does not re-check


def test_config_integers_follow_the_one_rule():
    assert T.small_config(seed=np.int64(3)).seed == 3        # NumPy integers are integers
    for bad in (3.0, "3", True):                             # floats, text and bools are not
        with pytest.raises(TypeError, match="config.seed must be an integer"):
            T.small_config(seed=bad)


def test_layer_shapes_are_those_of_the_model():
    config = tiny_config(d_in=24, d_hidden=32, n_classes=10)
    model = T.build_model(config)
    assert config.layer_shapes() == {name: tuple(getattr(model, name).weight.shape)
                                     for name in ("fc1", "fc2", "head")}


def test_a_gpu_the_machine_lacks_is_refused_when_the_config_is_made(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"config.device: device='cuda' was asked for"):
        tiny_config(device="cuda")                           # a valid name, not on this machine
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert tiny_config(device="cuda").device == "cuda"       # where there is one, it is taken
