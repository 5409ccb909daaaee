"""lowrank_utils.training (chapter 5): the experiment with a planted low-rank answer.

One tiny experiment (32-wide layers, r* = 2, a few hundred steps: a few seconds) is shared by
the tests through a module fixture. Bounds are stated where they are used.
"""
from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lowrank_utils import approximation_error, energy_retained, numerical_rank
from lowrank_utils.lora import LoRALinear, count_parameters
from lowrank_utils import training as T

ROOT = Path(__file__).resolve().parents[1]

# Relative error allowed between a learned LoRA update at r >= r* and the planted ΔW* = L + N.
# The full-rank noise N has ‖N‖_F = 0.05 ‖L‖_F, so by Eckart–Young no rank-r update gets closer
# than about 0.05 (the floor is computed below, never assumed); we allow as much again twice
# over for the finite number of Adam steps. r < r* must stay above its Eckart–Young floor,
# which for r = 1 is sqrt(σ₂²)/‖ΔW*‖_F ≈ 0.57 here: far above this bound.
RECOVERY_BOUND = 0.15


def tiny_config(**changes) -> T.TrainingConfig:
    settings = dict(name="tiny", d_in=32, d_hidden=32, n_classes=32, true_rank=2, n_train=4096,
                    n_eval=1024, pretrain_steps=200, finetune_steps=300, eval_every=100,
                    ranks=(1, 2, 4), device="cpu")
    settings.update(changes)
    return T.small_config(**settings)


@pytest.fixture(scope="module")
def ex():
    """Pre-train, plant ΔW*, fine-tune fully and with LoRA at r = 1 < r*, r = 2 = r*, r = 4."""
    config = tiny_config()
    tasks = T.make_tasks(config)
    base = T.build_model(config)
    pre = T.pretrain(base, tasks.task_a, config)
    snapshot = copy.deepcopy(base.state_dict())
    task_b, delta_star = T.make_task_b(tasks, base)
    full = T.finetune_full(base, task_b, config)
    lora = {r: T.finetune_lora(base, task_b, config, r) for r in config.ranks}
    return dict(config=config, tasks=tasks, base=base, pre=pre, snapshot=snapshot, task_b=task_b,
                delta_star=delta_star, full=full, lora=lora)


# --- the training loop --------------------------------------------------------------------

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


def test_evaluate_is_zero_loss_and_full_accuracy_for_the_teacher(ex):
    result = T.evaluate(ex["tasks"].teacher_a, ex["tasks"].task_a)
    assert result["accuracy"] == 1.0
    assert abs(result["loss"]) < 1e-5


def test_task_labels_are_probabilities(ex):
    for task in (ex["tasks"].task_a, ex["task_b"]):
        for P in (task.P_train, task.P_eval):
            assert torch.all(P >= 0)
            assert torch.allclose(P.sum(dim=1), torch.ones(len(P)), atol=1e-5)


# --- the planted update ---------------------------------------------------------------------

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


def test_update_losses_oracle(ex):
    """W₀ plus the full ΔW* solves task B; its best rank-r* part leaves only the noise's loss."""
    D_star = {name: D.double().numpy() for name, D in ex["delta_star"].items()}
    r_star = ex["config"].true_rank
    full_rank = min(D.shape[0] for D in D_star.values())
    losses = T.update_losses(ex["base"], ex["task_b"], D_star, [1, r_star, full_rank])
    assert losses[2] < 1e-5
    assert losses[0] > losses[1] > losses[2]
    with pytest.raises(ValueError, match="ks entries"):
        T.update_losses(ex["base"], ex["task_b"], D_star, [full_rank + 1])
    with pytest.raises(ValueError, match="deltas"):
        T.update_losses(ex["base"], ex["task_b"], {"fc1": np.ones((3, 3))}, [1])


def test_task_b_is_solved_by_the_planted_update(ex):
    teacher_b = copy.deepcopy(ex["base"])
    with torch.no_grad():
        for name, D in ex["delta_star"].items():
            getattr(teacher_b, name).weight += D
    assert T.evaluate(teacher_b, ex["task_b"])["loss"] < 1e-5
    assert T.evaluate(ex["base"], ex["task_b"])["loss"] > 0.01      # and W₀ alone does not solve it


@pytest.mark.parametrize("r", [2, 4])
def test_lora_at_or_above_true_rank_recovers_the_planted_update(ex, r):
    D = T.delta_weights(ex["lora"][r].model, ex["base"])
    for name, D_star in ex["delta_star"].items():
        error = T.relative_error(D[name], D_star)
        floor = approximation_error(D_star.double().numpy(), r) / float(D_star.norm())
        assert floor - 1e-6 <= error < RECOVERY_BOUND, (name, error, floor)
        assert numerical_rank(D[name]) <= r


def test_lora_below_true_rank_cannot(ex):
    r = 1
    D = T.delta_weights(ex["lora"][r].model, ex["base"])
    for name, D_star in ex["delta_star"].items():
        floor = approximation_error(D_star.double().numpy(), r) / float(D_star.norm())
        assert floor > 2 * RECOVERY_BOUND                             # Eckart–Young tail
        assert T.relative_error(D[name], D_star) >= floor - 1e-6
        assert numerical_rank(D[name]) <= r
    losses = {r: run.final["loss"] for r, run in ex["lora"].items()}
    assert losses[1] > 10 * losses[2]
    assert losses[2] < 3 * ex["full"].final["loss"] + 1e-3   # r = r* gets close to full fine-tuning


def test_full_finetuning_update_is_low_rank(ex):
    r_star = ex["config"].true_rank
    for name, D in T.delta_weights(ex["full"].model, ex["base"]).items():
        s = np.linalg.svd(D, compute_uv=False)
        # "most of its energy in r* directions", the chapter's bound; a full-rank update of
        # this 32 × 32 layer would put about r*/32 = 6 % there
        assert energy_retained(s, r_star) > 0.8


# --- what is frozen, what trains ---------------------------------------------------------------

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


def test_forgetting_reports_before_and_after(ex):
    result = T.forgetting(ex["base"], ex["full"].model, ex["tasks"].task_a)
    assert result["before"] == T.evaluate(ex["base"], ex["tasks"].task_a)["accuracy"]
    assert result["drop"] == pytest.approx(result["before"] - result["after"])
    assert result["after"] < result["before"]      # task B moved the model away from task A


# --- merging ----------------------------------------------------------------------------------

def test_merge_and_check(ex):
    model = copy.deepcopy(ex["lora"][2].model)
    X = ex["task_b"].X_eval[:256]
    with torch.no_grad():
        unmerged = model(X)
    diff = T.merge_and_check(model, X)
    assert diff < 1e-4
    assert all(layer.merged for layer in model.modules() if isinstance(layer, LoRALinear))
    D_merged = T.delta_weights(model, ex["base"])
    D_unmerged = T.delta_weights(ex["lora"][2].model, ex["base"])
    for name in D_merged:
        assert np.allclose(D_merged[name], D_unmerged[name], atol=1e-5)
    with torch.no_grad():
        assert torch.allclose(model(X), unmerged, atol=1e-4)
    with pytest.raises(ValueError, match="no LoRA layers"):
        T.merge_and_check(copy.deepcopy(ex["base"]), X)


def test_inference_times_returns_one_median_per_model(ex):
    times = T.inference_times({"a": ex["base"], "b": ex["full"].model},
                              ex["task_b"].X_eval[:64], rounds=3, repeat=2)
    assert set(times) == {"a", "b"} and all(t > 0 for t in times.values())
    with pytest.raises(ValueError, match="rounds"):
        T.inference_times({"a": ex["base"]}, ex["task_b"].X_eval[:4], rounds=0)


def test_truncation_losses_match_the_full_update(ex):
    config = ex["config"]
    k_max = min(config.d_in, config.d_hidden)
    losses = T.truncation_losses(ex["full"].model, ex["base"], ex["task_b"], [1, 2, k_max])
    model = copy.deepcopy(ex["base"])
    with torch.no_grad():
        for name, D in T.delta_weights(ex["full"].model, ex["base"]).items():
            getattr(model, name).weight += torch.as_tensor(D, dtype=torch.float32)
    assert losses[2] == pytest.approx(T.evaluate(model, ex["task_b"])["loss"], rel=1e-4, abs=1e-7)
    assert losses[1] < 0.2 * losses[0]       # r* = 2 directions do what one cannot
    with pytest.raises(ValueError, match="ks entries"):
        T.truncation_losses(ex["full"].model, ex["base"], ex["task_b"], [k_max + 1])


def test_truncation_study_feeds_the_widget(ex):
    study = T.truncation_study(ex["full"], ex["base"], ex["task_b"], ex["config"].true_rank,
                               ex["lora"], max_k=6)
    assert list(study.ks) == [1, 2, 3, 4, 5, 6]
    assert set(study.spectra) == {"fc1", "fc2"}
    assert study.lora_losses == {r: run.final["loss"] for r, run in ex["lora"].items()}


# --- subspace similarity φ ---------------------------------------------------------------------

def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def test_subspace_similarity_identity_is_one():
    A = _random((6, 20), 0)
    for i in range(1, 7):
        assert T.subspace_similarity(A, A, i, i) == pytest.approx(1.0)
    # nested spans: the top-i directions of A lie inside its top-j directions for i <= j
    assert T.subspace_similarity(A, A, 2, 5) == pytest.approx(1.0)


def test_subspace_similarity_orthogonal_is_zero():
    A1 = np.zeros((3, 10))
    A1[:, :3] = _random((3, 3), 1)            # rows in span(e1, e2, e3)
    A2 = np.zeros((5, 10))
    A2[:, 3:8] = _random((5, 5), 2)           # rows in span(e4 … e8)
    for i in range(1, 4):
        for j in range(1, 6):
            assert T.subspace_similarity(A1, A2, i, j) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_subspace_similarity_range_symmetry_and_grid(seed):
    A1, A2 = _random((4, 15), seed), _random((9, 15), seed + 10)
    G = T.subspace_similarity_grid(A1, A2)
    assert G.shape == (4, 9)
    assert np.all(G >= -1e-12) and np.all(G <= 1 + 1e-12)
    for i in range(1, 5):
        for j in range(1, 10):
            phi = T.subspace_similarity(A1, A2, i, j)
            assert G[i - 1, j - 1] == pytest.approx(phi)
            assert T.subspace_similarity(A2, A1, j, i) == pytest.approx(phi)
    # the whole row space is unchanged by an invertible mix of the rows: φ at full rank too
    M = _random((4, 4), seed + 20)
    assert T.subspace_similarity(M @ A1, A2, 4, 9) == pytest.approx(
        T.subspace_similarity(A1, A2, 4, 9))
    # the whole space: φ = 1 when the larger span is all of ℝᵏ
    assert T.subspace_similarity(A1, _random((15, 15), seed), 4, 15) == pytest.approx(1.0)


def test_subspace_similarity_bad_input():
    A = _random((3, 8), 0)
    with pytest.raises(ValueError, match="i must satisfy"):
        T.subspace_similarity(A, A, 0, 1)
    with pytest.raises(ValueError, match="j must satisfy"):
        T.subspace_similarity(A, A, 1, 4)
    with pytest.raises(ValueError, match="same number of columns"):
        T.subspace_similarity(A, _random((3, 7), 1), 1, 1)
    with pytest.raises(ValueError, match="A_large"):
        T.subspace_similarity(A, np.full((3, 8), np.nan), 1, 1)
    with pytest.raises(TypeError, match="i must be an integer"):
        T.subspace_similarity(A, A, 1.5, 1)


def test_relative_error_checks_shapes():
    with pytest.raises(ValueError, match="same shape"):
        T.relative_error(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="zero matrix"):
        T.relative_error(np.ones((2, 3)), np.zeros((2, 3)))
    assert T.relative_error(torch.ones(2, 3), 2 * np.ones((2, 3))) == pytest.approx(0.5)


# --- configuration, seeds, devices ------------------------------------------------------------

def test_default_config_picks_the_small_preset_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert T.get_device().type == "cpu"
    config = T.default_config()
    assert config == T.small_config() and config.name == "small"
    assert config.torch_device().type == "cpu"


def test_default_config_picks_the_full_preset_on_cuda(monkeypatch):
    monkeypatch.setattr(T, "get_device", lambda: torch.device("cuda"))
    config = T.default_config()
    assert config == T.full_config() and config.name == "full"
    assert max(config.ranks) > max(T.small_config().ranks)
    assert config.d_hidden > T.small_config().d_hidden


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
    monkeypatch.setattr(T, "autocast_dtype", lambda device, amp=True: torch.bfloat16)
    run = T.train(model, tasks.task_a, config, steps=60, lr=1e-2, method="pretrain")
    assert run.final["loss"] < 0.5 * before
    assert run.final == T.evaluate(run.model, tasks.task_a)          # float32, not bf16
    with torch.autocast("cpu", dtype=torch.bfloat16):
        in_bf16 = T.evaluate(run.model, tasks.task_a)["loss"]
    assert in_bf16 != run.final["loss"]          # so the comparison above could have failed


def test_preset_environment_variable(monkeypatch):
    monkeypatch.setattr(T, "get_device", lambda: torch.device("cpu"))
    monkeypatch.setenv(T.PRESET_ENV, "full")
    assert T.default_config() == T.full_config()
    monkeypatch.setenv(T.PRESET_ENV, "small")
    assert T.default_config() == T.small_config()
    monkeypatch.setenv(T.PRESET_ENV, "huge")
    with pytest.raises(ValueError, match=T.PRESET_ENV):
        T.default_config()
    monkeypatch.delenv(T.PRESET_ENV)
    assert T.default_config() == T.small_config()


def test_the_learning_rate_decays_along_a_cosine():
    """Two runs that differ only in length: the longer one's first steps take larger steps
    (its learning rate decays more slowly), so their parameters part after step 1."""
    config = tiny_config(n_train=512, n_eval=256, eval_every=100)
    tasks = T.make_tasks(config)
    short = T.train(T.build_model(config), tasks.task_a, config, steps=20, lr=1e-2, method="x")
    long = T.train(T.build_model(config), tasks.task_a, config, steps=200, lr=1e-2, method="x")
    assert short.train_loss[0] == long.train_loss[0]                 # same start, same batch
    assert short.train_loss[19] != long.train_loss[19]

def test_presets_are_valid_and_differ_only_in_size():
    small, full = T.small_config(), T.full_config()
    assert small.target_modules == full.target_modules
    assert small.true_rank in small.ranks and full.true_rank in full.ranks
    assert any(r < small.true_rank for r in small.ranks)     # the story needs r < r* …
    assert any(r > small.true_rank for r in small.ranks)     # … and r > r*
    assert T.small_config(seed=3).seed == 3


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
    g = T.seed_everything(5)
    a = torch.rand(3, generator=g)
    assert torch.equal(a, torch.rand(3, generator=T.seed_everything(5)))
    with pytest.raises(ValueError, match="seed"):
        T.seed_everything(-1)

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


def test_cpu_threads_restores_the_setting():
    before = torch.get_num_threads()
    with T.cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# --- tables and the GPU script -----------------------------------------------------------------

def test_summary_rows_and_markdown_table(ex):
    rows = T.summary_rows(ex["full"], ex["lora"])
    assert [row["method"] for row in rows] == ["full", "LoRA r=1", "LoRA r=2", "LoRA r=4"]
    assert rows[1]["trainable"] == ex["lora"][1].trainable
    table = T.markdown_table(rows, {"loss B": ".2e"})
    lines = table.splitlines()
    assert len(lines) == 2 + len(rows) and lines[0].startswith("| method / 方法 |")
    assert f"{ex['full'].trainable:,}" in lines[2]
    assert format(ex["full"].final["loss"], ".2e") in lines[2]
    with pytest.raises(ValueError):
        T.markdown_table([])
    shown = T.Table(rows, {"loss B": ".2e"})
    assert str(shown) == table and shown._repr_markdown_() == table
    page = shown._repr_html_()
    assert page.count("<tr>") == 1 + len(rows) and "<th>method / 方法</th>" in page
    assert format(ex["full"].final["loss"], ".2e") in page
    assert "&lt;b&gt;" in T.Table([{"x": "<b>"}])._repr_html_()      # text is escaped
    with pytest.raises(ValueError):
        T.Table([])


def _load_gpu_run():
    spec = importlib.util.spec_from_file_location("gpu_run", ROOT / "benchmarks" / "gpu_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_script_dry_run_on_cpu(tmp_path):
    path = _load_gpu_run().main(["--dry-run", "--out", str(tmp_path)])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == tmp_path and path.name.startswith("gpu_") and data["dry_run"] is True
    assert {"date", "hardware", "software", "config", "runs", "speedup_small",
            "speedup_full_size"} <= set(data)
    assert [(run["method"], run["r"]) for run in data["runs"]] == [("full", None), ("lora", 1),
                                                                   ("lora", 4), ("lora", 8)]
    assert "bf16" in data["speedup_small"]["note"] and "float32" in data["speedup_small"]["note"]
    for run in data["runs"]:
        assert run["samples_per_s"] == pytest.approx(
            data["config"]["batch_size"] / (run["time_per_step_ms"] / 1e3))
        assert run["memory_mib"] > 0 and run["device"] == "cpu"
    for part in ("speedup_small", "speedup_full_size"):
        ratios = data[part]["speedup"]
        for method in ("full", "lora"):
            cpu, gpu = data[part]["cpu"][method], data[part]["gpu"][method]
            ratio = cpu["time_per_step_ms"] / gpu["time_per_step_ms"]
            assert ratios[method] == pytest.approx(ratio)
    assert T.load_gpu_results(tmp_path) == []          # a dry run is never shown as a GPU result
    # the chapter's report of a real run: label, one row per run, both speed-ups
    data.update(dry_run=False, file=path.name)
    page = T.gpu_report_html(data)
    assert 'class="lang-en"><b>Measured on cpu' in page and 'class="lang-zh"' in page
    assert page.count("<tr>") == (1 + len(data["runs"])) + (1 + 2)
    assert format(data["speedup_small"]["speedup"]["lora"], ".1f") in page
    assert "No GPU measurement" in T.no_gpu_result_html()
    # a second run the same day does not overwrite the first
    assert _load_gpu_run()._output_path(tmp_path, data["date"][:10]) != path


def test_load_gpu_results_reads_real_runs(tmp_path):
    for date in ("2026-01-02", "2025-12-31"):
        (tmp_path / f"gpu_{date}.json").write_text(json.dumps(
            {"date": f"{date}T10:00:00+00:00", "dry_run": False, "hardware": {"gpu": "X"}}))
    (tmp_path / "other.json").write_text("{}")
    results = T.load_gpu_results(tmp_path)
    assert [r["file"] for r in results] == ["gpu_2025-12-31.json", "gpu_2026-01-02.json"]
    assert T.load_gpu_results(tmp_path / "missing") == []
