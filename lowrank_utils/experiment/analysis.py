"""Looking at what chapter 5's runs learned: ΔW, its distance to ΔW*, its spectrum, φ, forgetting.

Also the data of the chapter's truncation widget (``TruncationStudy``, drawn by
``widgets.training``), the merge check, and the inference timing of merged and unmerged models.
"""
from __future__ import annotations

import copy
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import as_matrix, check_int
from ..lora import LoRALinear, lora_layers, merge_lora, unmerge_lora
from ..runtime import cpu_threads, interleaved_medians
from .config import LAYERS
from .data import Task, base_weight
from .loop import RunResult, evaluate
from .study import TruncationStudy

__all__ = ["delta_weights", "relative_error", "output_error", "subspace_similarity",
           "subspace_similarity_grid", "forgetting", "update_losses", "truncation_losses",
           "truncation_study", "merge_and_check", "inference_times",
           "summary_rows"]


@torch.no_grad()
def delta_weights(model: nn.Module, base: nn.Module,
                  layers: Sequence[str] = LAYERS) -> dict[str, np.ndarray]:
    """ΔW = W_model − W_base for each named layer, as float64 NumPy arrays (out × in).

    Works for a fully fine-tuned model and for a LoRA model, merged or not (unmerged, the
    difference is scaling · B A). Used in chapter 5 for the spectra of ΔW and the recovery of ΔW*.
    """
    if isinstance(layers, str):
        layers = [layers]
    mods, base_mods = dict(model.named_modules()), dict(base.named_modules())
    out = {}
    for name in layers:
        if name not in mods or name not in base_mods:
            raise ValueError(f"layers entry {name!r} is not a module of both models")
        m = mods[name]
        W_base = base_weight(base_mods[name]).double()
        if isinstance(m, LoRALinear) and not m.merged:
            # W₀ stays frozen, so ΔW = scaling · B A exactly (of rank <= r), computed in float64
            D = m.base.weight.double() - W_base \
                + m.scaling * (m.lora_B.double() @ m.lora_A.double())   # (out, r) @ (r, in)
        else:
            W = m.base.weight if isinstance(m, LoRALinear) else m.weight
            D = W.double() - W_base
        out[name] = D.detach().cpu().numpy()
    return out


def _numpy(M: object, name: str) -> np.ndarray:
    """A tensor or array as a float64 NumPy matrix, checked by ``as_matrix``."""
    if isinstance(M, torch.Tensor):
        M = M.detach().double().cpu().numpy()
    return as_matrix(M, name).astype(np.float64, copy=False)


def relative_error(D: np.ndarray | torch.Tensor, D_star: np.ndarray | torch.Tensor) -> float:
    """‖D − D*‖_F / ‖D*‖_F: how far a learned update D is from the planted one D*."""
    D, D_star = _numpy(D, "D"), _numpy(D_star, "D_star")
    if D.shape != D_star.shape:
        raise ValueError(f"D and D_star must have the same shape, got {D.shape} and {D_star.shape}")
    norm = np.linalg.norm(D_star)
    if norm == 0:
        raise ValueError("D_star must not be the zero matrix")
    return float(np.linalg.norm(D - D_star) / norm)


@torch.no_grad()
def output_error(base: nn.Module, name: str, D: np.ndarray | torch.Tensor,
                 D_star: np.ndarray | torch.Tensor, X: torch.Tensor) -> float:
    """‖G ⊙ ((D − D*) Hᵀ)ᵀ‖_F / ‖G ⊙ (D* Hᵀ)ᵀ‖_F: the error of D as the loss sees it.

    H (n × in) holds the inputs that layer ``name`` of ``base`` receives when ``base`` runs on X,
    and G (n × out) the slopes GELU'(z) of its units there. (D − D*) h is the error in the
    layer's pre-activation; multiplying by GELU'(z) gives, to first order, the error in what
    the layer passes on. Directions the inputs rarely take and dead units count little, unlike
    in ``relative_error``. Used in chapter 5 next to the Frobenius relative error.
    """
    D, D_star = _numpy(D, "D"), _numpy(D_star, "D_star")
    if D.shape != D_star.shape:
        raise ValueError(f"D and D_star must have the same shape, got {D.shape} and {D_star.shape}")
    modules = dict(base.named_modules())
    if name not in modules:
        raise ValueError(f"name must be a layer of base, got {name!r}")
    captured: dict[str, torch.Tensor] = {}
    hook = modules[name].register_forward_hook(
        lambda _m, inputs, out: captured.update(h=inputs[0], z=out))
    try:
        base.eval()
        base(X)
    finally:
        hook.remove()
    H = captured["h"].double().cpu().numpy()                     # (n, in)
    if H.shape[1] != D.shape[1]:
        raise ValueError(f"D must have {H.shape[1]} columns (the inputs of {name}), got {D.shape}")
    z = captured["z"].float().detach().requires_grad_(True)      # (n, out)
    with torch.enable_grad():
        (G,) = torch.autograd.grad(F.gelu(z).sum(), z)           # (n, out) GELU'(z)
    G = G.double().cpu().numpy()
    norm = np.linalg.norm(G * (H @ D_star.T))
    if norm == 0:
        raise ValueError("D_star changes nothing the layer passes on (zero weighted norm)")
    return float(np.linalg.norm(G * (H @ (D - D_star).T)) / norm)


def subspace_similarity(A_small: np.ndarray | torch.Tensor, A_large: np.ndarray | torch.Tensor,
                        i: int, j: int) -> float:
    """φ(A_small, A_large, i, j) = ‖V_iᵀ V_j‖_F² / min(i, j) (Hu et al. 2021, Sec. 7.2).

    V_i (d_in × i) holds the top-i right singular vectors of ``A_small`` (r₁ × d_in), V_j those of
    ``A_large`` (r₂ × d_in): the first rows of NumPy's Vh, transposed. (The paper writes the
    inputs' width as k; the book keeps k for the rank of an approximation.) φ = 1 when one span contains
    the other, 0 when they are orthogonal, and always in [0, 1]. Used in chapter 5's heat map.
    """
    A1, A2 = _numpy(A_small, "A_small"), _numpy(A_large, "A_large")
    if A1.shape[1] != A2.shape[1]:
        raise ValueError(f"A_small and A_large must have the same number of columns d_in, "
                         f"got {A1.shape[1]} and {A2.shape[1]}")
    i = check_int(i, "i", low=1, high=min(A1.shape))
    j = check_int(j, "j", low=1, high=min(A2.shape))
    Vh1 = np.linalg.svd(A1, full_matrices=False)[2]         # (min(r₁, d_in), d_in), orthonormal rows
    Vh2 = np.linalg.svd(A2, full_matrices=False)[2]         # (min(r₂, d_in), d_in)
    overlap = Vh1[:i] @ Vh2[:j].T                           # (i, j) = V_iᵀ V_j
    return float(np.sum(overlap**2) / min(i, j))


def subspace_similarity_grid(A_small: np.ndarray | torch.Tensor,
                             A_large: np.ndarray | torch.Tensor) -> np.ndarray:
    """φ(i, j) for i = 1..min(A_small.shape), j = 1..min(A_large.shape): the heat map's values.

    Row i - 1, column j - 1 holds φ(A_small, A_large, i, j). Computes each SVD once.
    """
    A1, A2 = _numpy(A_small, "A_small"), _numpy(A_large, "A_large")
    if A1.shape[1] != A2.shape[1]:
        raise ValueError(f"A_small and A_large must have the same number of columns d_in, "
                         f"got {A1.shape[1]} and {A2.shape[1]}")
    Vh1 = np.linalg.svd(A1, full_matrices=False)[2]         # (p₁, d_in)
    Vh2 = np.linalg.svd(A2, full_matrices=False)[2]         # (p₂, d_in)
    C = np.cumsum(np.cumsum((Vh1 @ Vh2.T) ** 2, axis=0), axis=1)   # C[i-1, j-1] = ‖V_iᵀ V_j‖_F²
    i = np.arange(1, C.shape[0] + 1)[:, None]
    j = np.arange(1, C.shape[1] + 1)[None, :]
    return C / np.minimum(i, j)


def forgetting(before: nn.Module, after: nn.Module, task_a: Task) -> dict[str, float]:
    """Task-A accuracy of the model before and after fine-tuning, and the drop between them."""
    acc_before = evaluate(before, task_a)["accuracy"]
    acc_after = evaluate(after, task_a)["accuracy"]
    return {"before": acc_before, "after": acc_after, "drop": acc_before - acc_after}


@torch.no_grad()
def update_losses(base: nn.Module, task: Task, deltas: Mapping[str, np.ndarray | torch.Tensor],
                  ks: Sequence[int]) -> np.ndarray:
    """Held-out loss of ``base`` with W₀ + (ΔW)_k in each layer of ``deltas``, for every k in ks.

    (ΔW)_k = U_k Σ_k Vh_k is the best rank-k approximation (Eckart–Young, chapter 3) of the
    layer's ΔW; the other parameters stay those of ``base``. Chapter 5 uses it on the planted
    ΔW* (the "oracle" loss a rank-r update could reach by copying ΔW*'s best rank-r part) and,
    through ``truncation_losses``, on the full fine-tuning update.
    """
    deltas = {name: _numpy(D, f"deltas[{name!r}]") for name, D in deltas.items()}
    if not deltas:
        raise ValueError("deltas must name at least one layer")
    max_k = min(min(D.shape) for D in deltas.values())
    ks = [check_int(k, "ks entries (at most the smallest side of an adapted layer)", low=1,
                    high=max_k) for k in ks]
    model = copy.deepcopy(base)
    modules = dict(model.named_modules())
    for name, D in deltas.items():
        if name not in modules or base_weight(modules[name]).shape != D.shape:
            raise ValueError(f"deltas[{name!r}] must match a layer of base, got shape {D.shape}")
    W0 = {name: base_weight(modules[name]).detach().clone() for name in deltas}
    svds = {name: np.linalg.svd(D, full_matrices=False) for name, D in deltas.items()}
    losses = []
    for k in ks:
        for name, (U, s, Vh) in svds.items():
            Dk = (U[:, :k] * s[:k]) @ Vh[:k]                # (out, in), the best rank-k ΔW
            modules[name].weight.copy_(W0[name] + torch.as_tensor(Dk).to(W0[name]))
        losses.append(evaluate(model, task)["loss"])
    return np.array(losses)


@torch.no_grad()
def truncation_losses(full_model: nn.Module, base: nn.Module, task: Task,
                      ks: Sequence[int], layers: Sequence[str] = LAYERS) -> np.ndarray:
    """Held-out loss of W₀ + (ΔW_full)_k in each adapted layer, for every k in ``ks``.

    (ΔW_full)_k = U_k Σ_k Vh_k is the best rank-k approximation (Eckart–Young, chapter 3) of the
    full fine-tuning update; the
    other parameters stay those of ``base``. Shows how few directions of ΔW the task needs.
    Used by chapter 5's widget and its static twin.
    """
    return update_losses(base, task, delta_weights(full_model, base, layers), ks)


def truncation_study(full: RunResult, base: nn.Module, task: Task, r_star: int,
                     lora: Mapping[int, RunResult] | None = None, max_k: int = 16,
                     layers: Sequence[str] = LAYERS) -> TruncationStudy:
    """The data of chapter 5's widget: ``truncation_losses`` for k = 1..max_k and the spectra."""
    max_k = check_int(max_k, "max_k", low=1)
    deltas = delta_weights(full.model, base, layers)
    return TruncationStudy(
        ks=np.arange(1, max_k + 1),
        losses=truncation_losses(full.model, base, task, range(1, max_k + 1), layers),
        spectra={name: np.linalg.svd(D, compute_uv=False) for name, D in deltas.items()},
        r_star=r_star, base_loss=evaluate(base, task)["loss"], full_loss=full.final["loss"],
        lora_losses={r: run.final["loss"] for r, run in (lora or {}).items()})


@torch.no_grad()
def merge_and_check(model: nn.Module, X: torch.Tensor, atol: float | None = None) -> float:
    """Merge every LoRA layer of ``model`` in place; return max |merged − unmerged| output on X.

    Raises AssertionError when the outputs differ by more than ``atol`` (default: float32
    rounding, 1e-5 times the largest output, at least 1e-5). Used in chapter 5.
    """
    layers = list(lora_layers(model))
    if not layers:
        raise ValueError("model has no LoRA layers to merge")
    model.eval()
    unmerge_lora(model)
    before = model(X).float()                                # (n, n_classes)
    merge_lora(model)
    after = model(X).float()                                 # (n, n_classes)
    diff = float((after - before).abs().max())
    tol = atol if atol is not None else 1e-5 * max(1.0, float(before.abs().max()))
    if diff > tol:
        raise AssertionError(f"merged and unmerged outputs differ by {diff:.3g} > {tol:.3g}")
    return diff


@torch.no_grad()
def inference_times(models: Mapping[str, nn.Module], X: torch.Tensor, rounds: int = 7,
                    repeat: int = 20, threads: int | None = 1) -> dict[str, float]:
    """Median seconds per forward pass on X for each model, in interleaved rounds.

    ``runtime.interleaved_medians`` (the book's one timer) with ``repeat`` passes per block.
    Used in chapter 5: merged versus unmerged versus the base model.
    """
    device = X.device
    for m in models.values():
        m.eval()
    calls = {name: (lambda m=m: m(X)) for name, m in models.items()}
    with cpu_threads(threads if device.type == "cpu" else None):
        return interleaved_medians(calls, rounds, repeat, device=device)


def summary_rows(full: RunResult, lora: Mapping[int, RunResult]) -> list[dict[str, object]]:
    """One row per run (full fine-tuning first, then LoRA by rank) for chapter 5's table."""
    rows = []
    for label, run in [("full", full)] + [(f"LoRA r={r}", lora[r]) for r in sorted(lora)]:
        rows.append({
            "method": label,
            "trainable": run.trainable,
            "loss B": run.final["loss"],
            "accuracy B": run.final["accuracy"],
            "ms / step": 1e3 * run.time_per_step,
            "memory (KiB)": run.memory_bytes / 1024,
        })
    return rows
