"""lowrank_utils.experiment.loop: the one training loop and the runs built on it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lowrank_utils import experiment as T
from .conftest import tiny_config

from lowrank_utils.experiment import loop as loop_module
from lowrank_utils.lora import LoRALinear, count_parameters

def test_pretraining_lowers_the_loss(ex):
    pre = ex["pre"]
    assert pre.eval_loss[-1] < 0.5 * pre.eval_loss[0]
    assert pre.train_loss[-20:].mean() < 0.5 * pre.train_loss[:20].mean()
    assert pre.final["loss"] == pre.eval_loss[-1]
    assert len(pre.train_loss) == ex["config"].pretrain_steps
    assert list(pre.steps) == list(range(0, ex["config"].pretrain_steps, 100)) + [200]

def test_train_on_a_tiny_problem_in_few_steps():
    config = tiny_config(n_train=512, n_eval=256, eval_every=10)
    tasks = T.make_tasks(config)
    model = T.build_model(config, seed_offset=7)
    before = T.evaluate(model, tasks.task_a)["loss"]
    run = T.train(model, tasks.task_a, config, steps=60, lr=1e-2, method="pretrain")
    assert run.final["loss"] < 0.5 * before
    assert run.time_per_step > 0 and run.samples_per_s == pytest.approx(
        config.batch_size / run.time_per_step)

def test_autocast_only_on_cuda():
    assert T.autocast_dtype(torch.device("cpu")) is None
    assert T.autocast_dtype(torch.device("cuda"), amp=False) is None

def test_bf16_training_steps_and_float32_evaluation(monkeypatch):
    """The GPU's autocast branch, exercised on the CPU: bf16 steps still train, and the losses
    the run reports are float32 evaluations, equal to evaluating the trained model afresh."""
    config = tiny_config(n_train=512, n_eval=256, eval_every=10)
    tasks = T.make_tasks(config)
    model = T.build_model(config, seed_offset=7)
    before = T.evaluate(model, tasks.task_a)["loss"]
    monkeypatch.setattr(loop_module, "autocast_dtype", lambda device, amp=True: torch.bfloat16)
    run = T.train(model, tasks.task_a, config, steps=60, lr=1e-2, method="pretrain")
    assert run.final["loss"] < 0.5 * before
    assert run.final == T.evaluate(run.model, tasks.task_a)          # float32, not bf16
    with torch.autocast("cpu", dtype=torch.bfloat16):
        in_bf16 = T.evaluate(run.model, tasks.task_a)["loss"]
    assert in_bf16 != run.final["loss"]          # so the comparison above could have failed

def test_functions_refuse_a_non_config():
    with pytest.raises(TypeError, match="TrainingConfig"):
        T.make_tasks({"d_in": 3})
    config = tiny_config()
    with pytest.raises(ValueError, match="warmup_steps"):
        T.train(T.build_model(config), T.make_tasks(config).task_a, config, steps=3, lr=1e-3,
                method="x")

def test_train_refuses_a_model_without_trainable_parameters():
    config = tiny_config(n_train=512, n_eval=256)
    model = T.build_model(config)
    for p in model.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        T.train(model, T.make_tasks(config).task_a, config, steps=20, lr=1e-3, method="x")

def test_frozen_weights_unchanged_after_training(ex):
    for key, value in ex["base"].state_dict().items():             # the base model itself
        assert torch.equal(value, ex["snapshot"][key]), key
    for r, run in ex["lora"].items():
        modules = dict(run.model.named_modules())
        for name in ex["config"].target_modules:
            layer = modules[name]
            assert isinstance(layer, LoRALinear) and not layer.merged
            assert torch.equal(layer.base.weight, ex["snapshot"][f"{name}.weight"])
            assert torch.equal(layer.base.bias, ex["snapshot"][f"{name}.bias"])
            assert torch.count_nonzero(layer.lora_B) > 0             # B did train
        assert torch.equal(run.model.head.weight, ex["snapshot"]["head.weight"])
    full = ex["full"].model
    assert not torch.equal(full.head.weight, ex["snapshot"]["head.weight"])   # full FT moves all

def test_trainable_counts_and_cpu_memory(ex):
    config = ex["config"]
    shapes = {"fc1": (config.d_hidden, config.d_in), "fc2": (config.d_hidden, config.d_hidden)}
    assert {name: config.layer_shapes()[name] for name in shapes} == shapes
    total = count_parameters(ex["base"])
    assert ex["full"].trainable == total
    for r, run in ex["lora"].items():
        expected = sum(r * (out + inp) for out, inp in shapes.values())
        assert run.trainable == expected == count_parameters(run.model, trainable_only=True)
        memory = T.training_memory_bytes(run.model)
        assert memory == {"weights": 4 * (total + expected), "gradients": 4 * expected,
                          "optimizer": 8 * expected, "total": 4 * total + 16 * expected}
        assert run.memory_bytes == memory["total"]
        assert run.memory_bytes < ex["full"].memory_bytes == 16 * total


def test_the_learning_rate_decays_along_a_cosine():
    """Every step's learning rate is lr · (1 + cos(π t / steps)) / 2: a linear decay would give
    lr / 4 at t = 3·steps/4 where the cosine gives lr · 0.146."""
    config = tiny_config(n_train=512, n_eval=256, eval_every=100)
    tasks = T.make_tasks(config)
    steps, lr = 40, 1e-2
    run = T.train(T.build_model(config), tasks.task_a, config, steps=steps, lr=lr, method="x")
    t = np.arange(steps)
    assert np.allclose(run.learning_rates, lr * (1 + np.cos(np.pi * t / steps)) / 2)
    assert run.learning_rates[30] == pytest.approx(lr * (1 + np.cos(0.75 * np.pi)) / 2)
    assert abs(run.learning_rates[30] - lr * (1 - 30 / steps)) > 0.05 * lr   # not linear
    assert T.cosine_factor(0, steps) == 1.0 and T.cosine_factor(steps, steps) == pytest.approx(0)


def test_evaluate_refuses_bad_batches(ex):
    for batch, error in ((0, ValueError), (-1, ValueError), (2.0, TypeError), ("8", TypeError)):
        with pytest.raises(error, match="batch"):
            T.evaluate(ex["base"], ex["task_b"], batch=batch)
    with pytest.raises(TypeError, match="task must be a Task"):
        T.evaluate(ex["base"], ex["task_b"].X_eval)
    whole = T.evaluate(ex["base"], ex["task_b"])
    in_pieces = T.evaluate(ex["base"], ex["task_b"], batch=100)     # batches do not change it
    assert in_pieces["accuracy"] == whole["accuracy"]
    assert in_pieces["loss"] == pytest.approx(whole["loss"], rel=1e-5)
