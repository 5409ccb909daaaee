"""lowrank_utils.experiment.data: the MLP, the tasks, and the planted update ΔW*."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lowrank_utils import experiment as T
from .conftest import tiny_config

from lowrank_utils import approximation_error, numerical_rank
from lowrank_utils.runtime import seed_everything

def test_evaluate_is_zero_loss_and_full_accuracy_for_the_teacher(ex):
    result = T.evaluate(ex["tasks"].teacher_a, ex["tasks"].task_a)
    assert result["accuracy"] == 1.0
    assert abs(result["loss"]) < 1e-5

def test_task_labels_are_probabilities(ex):
    for task in (ex["tasks"].task_a, ex["task_b"]):
        for P in (task.P_train, task.P_eval):
            assert torch.all(P >= 0)
            assert torch.allclose(P.sum(dim=1), torch.ones(len(P)), atol=1e-5)

def test_planted_update_has_the_stated_structure(ex):
    config = ex["config"]
    for name, D in ex["delta_star"].items():
        s = np.linalg.svd(D.double().numpy(), compute_uv=False)
        W0 = ex["snapshot"][f"{name}.weight"].double()
        # ‖L + N‖_F² ≈ (1 + noise²)‖L‖_F² with ‖L‖_F = delta_scale ‖W₀‖_F (L ⟂ N only on average)
        expected = config.delta_scale * float(W0.norm()) * np.sqrt(1 + config.noise**2)
        assert np.linalg.norm(s) == pytest.approx(expected, rel=0.02)
        tail = approximation_error(D.double().numpy(), config.true_rank) / np.linalg.norm(s)
        assert tail < 1.2 * config.noise                      # rank r* up to the noise
        assert s[config.true_rank - 1] > 5 * s[config.true_rank]
        assert numerical_rank(D.double().numpy()) == min(D.shape)   # the noise is full rank

def test_planted_low_rank_part_lives_on_live_units(ex):
    config = ex["config"]
    sensitivity = T.unit_sensitivity(ex["base"], ex["tasks"].X_b_train[:4096])
    for name, D in ex["delta_star"].items():
        sens = sensitivity[name]
        assert sens.shape == (D.shape[0],) and torch.all(sens >= 0)
        dead = sens <= config.live_threshold
        # on a dead unit's row only the noise N is left: far smaller than L's rows
        noise_rows = D[dead].norm(dim=1)
        assert torch.all(noise_rows < 3 * config.noise * D.norm() / np.sqrt(D.shape[0]))
    # a unit whose pre-activation is always very negative has sensitivity ≈ 0
    model = copy.deepcopy(ex["base"])
    with torch.no_grad():
        model.fc1.bias[0] = -50.0
    assert T.unit_sensitivity(model, ex["tasks"].X_b_train[:512], ["fc1"])["fc1"][0] < 1e-6

def test_task_b_is_solved_by_the_planted_update(ex):
    teacher_b = copy.deepcopy(ex["base"])
    with torch.no_grad():                                 # W₀ + ΔW*, added here by hand
        for name, D in ex["delta_star"].items():
            getattr(teacher_b, name).weight += D
    assert T.evaluate(teacher_b, ex["task_b"])["loss"] < 1e-5
    assert T.evaluate(ex["base"], ex["task_b"])["loss"] > 0.01      # and W₀ alone does not solve it

def test_library_leaves_the_global_rng_alone():
    config = tiny_config(n_train=512, n_eval=256)
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    base = T.build_model(config)
    T.finetune_lora(base, T.make_task_b(T.make_tasks(config), base)[0],
                    config.replace(finetune_steps=10, warmup_steps=2), 2)
    assert torch.equal(torch.rand(4), expected)

def test_seed_everything_and_determinism():
    g = seed_everything(5)
    a = torch.rand(3, generator=g)
    assert torch.equal(a, torch.rand(3, generator=seed_everything(5)))
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)

    config = tiny_config(n_train=512, n_eval=256, pretrain_steps=30, finetune_steps=20,
                         eval_every=10)
    runs = []
    for _ in range(2):
        tasks = T.make_tasks(config)
        base = T.build_model(config)
        T.pretrain(base, tasks.task_a, config)
        task_b, _ = T.make_task_b(tasks, base)
        runs.append((tasks, T.finetune_lora(base, task_b, config, 2)))
    (t1, r1), (t2, r2) = runs
    assert torch.equal(t1.task_a.X_train, t2.task_a.X_train)
    assert np.array_equal(r1.train_loss, r2.train_loss)
    for p1, p2 in zip(r1.model.parameters(), r2.model.parameters()):
        assert torch.equal(p1, p2)
    other = T.make_tasks(config.replace(seed=1))
    assert not torch.equal(other.task_a.X_train, t1.task_a.X_train)


def test_with_update_adds_the_update_to_a_copy(ex):
    base, delta_star = ex["base"], ex["delta_star"]
    moved = T.with_update(base, delta_star)
    for name, D in delta_star.items():
        assert torch.allclose(getattr(moved, name).weight,
                              ex["snapshot"][f"{name}.weight"] + D, atol=1e-7)
        assert torch.equal(getattr(base, name).weight, ex["snapshot"][f"{name}.weight"])
    with pytest.raises(ValueError, match="shape"):
        T.with_update(base, {"fc1": torch.zeros(3, 3)})
    with pytest.raises(ValueError, match="nn.Linear"):
        T.with_update(base, {"nowhere": torch.zeros(3, 3)})


def test_base_weight_of_a_merged_lora_layer_is_w0(ex):
    from lowrank_utils.lora import merge_lora
    model = copy.deepcopy(ex["lora"][2].model)
    merge_lora(model)
    assert torch.allclose(T.base_weight(model.fc1), ex["snapshot"]["fc1.weight"], atol=1e-6)
    assert torch.equal(T.base_weight(ex["base"].fc1), ex["snapshot"]["fc1.weight"])
