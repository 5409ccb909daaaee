"""lowrank_utils.experiment.analysis: what the runs learned (ΔW, φ, forgetting, merging)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from lowrank_utils import experiment as T

from lowrank_utils import approximation_error, energy_retained, numerical_rank
from lowrank_utils.lora import LoRALinear

# Relative error allowed between a learned LoRA update at r >= r* and the planted ΔW* = L + N.
# The full-rank noise N has ‖N‖_F = 0.05 ‖L‖_F, so by Eckart–Young no rank-r update gets closer
# than about 0.05 (the floor is computed below, never assumed); we allow as much again twice
# over for the finite number of Adam steps. r < r* must stay above its Eckart–Young floor,
# which for r = 1 is sqrt(σ₂²)/‖ΔW*‖_F ≈ 0.57 here: far above this bound.
RECOVERY_BOUND = 0.15


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

def test_forgetting_reports_before_and_after(ex):
    result = T.forgetting(ex["base"], ex["full"].model, ex["tasks"].task_a)
    assert result["before"] == T.evaluate(ex["base"], ex["tasks"].task_a)["accuracy"]
    assert result["drop"] == pytest.approx(result["before"] - result["after"])
    assert result["after"] < result["before"]      # task B moved the model away from task A

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
    with pytest.raises(ValueError, match="i must satisfy 1 <= i <= 3"):
        T.subspace_similarity(A, A, 0, 1)
    with pytest.raises(ValueError, match="j must satisfy 1 <= j <= 3"):
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


def test_summary_rows(ex):
    rows = T.summary_rows(ex["full"], ex["lora"])
    assert [row["method"] for row in rows] == ["full", "LoRA r=1", "LoRA r=2", "LoRA r=4"]
    for row, run in zip(rows, [ex["full"]] + [ex["lora"][r] for r in (1, 2, 4)]):
        assert row["trainable"] == run.trainable and row["loss B"] == run.final["loss"]
        assert row["ms / step"] == 1e3 * run.time_per_step
        assert row["memory (KiB)"] == run.memory_bytes / 1024


def _output_error_by_hand(base, name, D, D_star, X):
    """The same quantity with the layer's input and pre-activation computed without hooks."""
    with torch.no_grad():
        h = X if name == "fc1" else torch.nn.functional.gelu(base.fc1(X))     # (n, d_in)
        z = getattr(base, name)(h)                                           # (n, d_out)
    z = z.double().requires_grad_(True)
    (G,) = torch.autograd.grad(torch.nn.functional.gelu(z).sum(), z)         # GELU'(z)
    G, H = G.numpy(), h.double().numpy()
    return np.linalg.norm(G * (H @ (D - D_star).T)) / np.linalg.norm(G * (H @ D_star.T))


@pytest.mark.parametrize("name", ["fc1", "fc2"])
def test_output_error_weights_the_error_by_what_the_layer_passes_on(ex, name):
    base, X = ex["base"], ex["task_b"].X_eval[:512]
    D_star = ex["delta_star"][name].double().numpy()
    D = T.delta_weights(ex["lora"][1].model, base)[name]
    error = T.output_error(base, name, D, D_star, X)
    assert error == pytest.approx(_output_error_by_hand(base, name, D, D_star, X), rel=1e-4)
    assert T.output_error(base, name, D_star, D_star, X) == 0.0              # D = D*: no error
    assert T.output_error(base, name, 2 * D_star, D_star, X) == pytest.approx(1.0, rel=1e-9)
    # an error only on dead units is invisible to the loss, not to the Frobenius norm
    sens = T.unit_sensitivity(base, X, [name])[name].numpy()
    dead = sens < 1e-6
    if dead.any():
        E = np.zeros_like(D_star)
        E[dead] = 1.0
        assert T.output_error(base, name, D_star + E, D_star, X) < 1e-3
        assert T.relative_error(D_star + E, D_star) > 0.1
    with pytest.raises(ValueError, match="name must be a layer"):
        T.output_error(base, "fc9", D, D_star, X)
    with pytest.raises(ValueError, match="same shape"):
        T.output_error(base, name, D[:, :3], D_star, X)
