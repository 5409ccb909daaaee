"""Chapter 5's model and tasks: the MLP, teacher A, and task B with its planted update ΔW*.

Both tasks are classification with ``n_classes`` classes on Gaussian inputs x ∈ ℝ^{d_in}; the
labels are a teacher network's class probabilities (soft labels). Task B's teacher is the
pre-trained model itself with its adapted layers moved by ΔW* = L + N, L of rank r* and N a small
full-rank part, so the change a fine-tuning run should find is known in advance: ΔW*.

ΔW*'s low-rank part L moves only *live* output units (those whose GELU passes a gradient on the
task's inputs): a change to a dead unit's weights is invisible to the loss, so no method could be
asked to find it. Everything is generated from ``config.seed``; nothing is downloaded.
"""
from __future__ import annotations

import contextlib
import copy
import math
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..budget import mlp_shapes
from ..lora import LoRALinear
from .config import LAYERS, TrainingConfig, as_config

__all__ = ["MLP", "Task", "Tasks", "build_model", "make_teacher", "make_task", "make_tasks",
           "unit_sensitivity", "plant_update", "seeded", "base_weight", "make_task_b", "with_update"]


class MLP(nn.Module):
    """x → fc1 → GELU → fc2 → GELU → head: the model of chapter 5 (and its teachers)."""

    def __init__(self, d_in: int, d_hidden: int, n_classes: int):
        super().__init__()
        for name, (d_out, d_in_) in mlp_shapes(d_in, d_hidden, n_classes).items():
            setattr(self, name, nn.Linear(d_in_, d_out))      # fc1, fc2, head, in this order

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.gelu(self.fc1(x))      # (batch, d_hidden)
        h = F.gelu(self.fc2(h))      # (batch, d_hidden)
        return self.head(h)          # (batch, n_classes) logits


@dataclass
class Task:
    """A classification task: inputs and the teacher's class probabilities (soft labels)."""

    name: str
    X_train: torch.Tensor            # (n_train, d_in)
    P_train: torch.Tensor            # (n_train, n_classes), rows sum to 1
    X_eval: torch.Tensor             # (n_eval, d_in)
    P_eval: torch.Tensor             # (n_eval, n_classes)


@dataclass
class Tasks:
    """What ``make_tasks`` draws from the seed: teacher A, task A, and ΔW* for task B."""

    config: TrainingConfig
    teacher_a: nn.Module                       # the network that labels task A
    task_a: Task
    X_b_train: torch.Tensor                    # (n_train, d_in) inputs of task B (unlabelled)
    X_b_eval: torch.Tensor                     # (n_eval, d_in)
    directions: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
    # layer -> (U (out × r*), V (in × r*) orthonormal, N (out × in) with ‖N‖_F = 1): the shape of
    # ΔW*, scaled to the pre-trained weights by ``plant_update``.


@contextlib.contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's RNG (CPU, and ``device`` if CUDA) seeded, then restore it."""
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def build_model(config: TrainingConfig, seed_offset: int = 1) -> MLP:
    """The student MLP, initialised from ``config.seed + seed_offset``, on the config's device."""
    config = as_config(config)
    with seeded(config.seed + seed_offset, torch.device("cpu")):   # global RNG left alone
        model = MLP(config.d_in, config.d_hidden, config.n_classes)
    return model.to(config.torch_device())


def make_teacher(config: TrainingConfig) -> MLP:
    """Teacher A: a random MLP with weights N(0, gain²/fan_in), so its labels are non-linear."""
    config = as_config(config)
    g = torch.Generator().manual_seed(config.seed + 100)
    with seeded(config.seed + 100, torch.device("cpu")):   # global RNG left alone
        teacher = MLP(config.d_in, config.d_hidden, config.n_classes)
    with torch.no_grad():
        for layer in (teacher.fc1, teacher.fc2, teacher.head):
            fan_in = layer.in_features
            gain = config.teacher_logit_gain if layer is teacher.head else config.teacher_gain
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g)
                               * gain / math.sqrt(fan_in))
            layer.bias.copy_(0.1 * torch.randn(layer.bias.shape, generator=g))
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.to(config.torch_device())


@torch.no_grad()
def _label(teacher: nn.Module, X: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    """The teacher's class probabilities for X, computed in float32, batch by batch."""
    teacher.eval()
    parts = [F.softmax(teacher(X[i:i + batch]).float(), dim=1) for i in range(0, len(X), batch)]
    return torch.cat(parts)                                   # (len(X), n_classes)


def make_task(teacher: nn.Module, X_train: torch.Tensor, X_eval: torch.Tensor, name: str) -> Task:
    """Label the inputs with the teacher's class probabilities."""
    return Task(name, X_train, _label(teacher, X_train), X_eval, _label(teacher, X_eval))


def _orthonormal(n: int, k: int, g: torch.Generator) -> torch.Tensor:
    Q, _ = torch.linalg.qr(torch.randn(n, k, generator=g))   # (n, k), QᵀQ = I
    return Q


def make_tasks(config: TrainingConfig) -> Tasks:
    """Teacher A, task A's data, task B's inputs and the directions of ΔW*, all from the seed.

    Deterministic: the same config gives the same tensors (drawn on the CPU, then moved to the
    config's device). Task B is labelled later by ``make_task_b`` once the base model exists.
    """
    config = as_config(config)
    device = config.torch_device()
    g = torch.Generator().manual_seed(config.seed)
    n, m = config.n_train, config.n_eval
    X = torch.randn(2 * (n + m), config.d_in, generator=g)    # (2(n+m), d_in), x ~ N(0, I)
    Xa_train, Xa_eval, Xb_train, Xb_eval = torch.split(X, [n, m, n, m])
    shapes = config.layer_shapes()
    directions = {}
    for name in config.target_modules:
        out, inp = shapes[name]
        U = _orthonormal(out, config.true_rank, g)            # (out, r*)
        V = _orthonormal(inp, config.true_rank, g)            # (in, r*)
        N = torch.randn(out, inp, generator=g)                # (out, in)
        directions[name] = (U.to(device), V.to(device), (N / N.norm()).to(device))
    teacher = make_teacher(config)
    task_a = make_task(teacher, Xa_train.to(device), Xa_eval.to(device), "A")
    return Tasks(config, teacher, task_a, Xb_train.to(device), Xb_eval.to(device), directions)


@torch.no_grad()
def unit_sensitivity(model: nn.Module, X: torch.Tensor,
                     layers: Sequence[str] = LAYERS) -> dict[str, torch.Tensor]:
    """E[GELU'(z_j)²] over the inputs X for every output unit j of each named layer of ``model``.

    z = W h + b is the layer's pre-activation. A unit with sensitivity ≈ 0 is dead or saturated
    on these inputs: a change to its row of W barely changes the output, so the loss cannot see
    it. ``plant_update`` puts ΔW*'s low-rank part on the live units only (chapter 5).
    """
    if isinstance(layers, str):
        layers = [layers]
    modules = dict(model.named_modules())
    captured: dict[str, torch.Tensor] = {}
    hooks = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: captured.__setitem__(name, out.float()))
        for name in layers]
    try:
        model.eval()
        model(X)
    finally:
        for h in hooks:
            h.remove()
    result = {}
    for name in layers:
        z = captured[name].detach().requires_grad_(True)            # (n, out)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(F.gelu(z).sum(), z)       # GELU'(z), (n, out)
        result[name] = (grad ** 2).mean(dim=0)                      # (out,)
    return result


def plant_update(tasks: Tasks, base: nn.Module) -> dict[str, torch.Tensor]:
    """ΔW* = L + N for every adapted layer of ``base``, as float32 tensors of the weight's shape.

    L = U diag(s) Vᵀ has rank r* and singular values s_i ∝ decay^(i-1) scaled so that
    ‖L‖_F = delta_scale · ‖W₀‖_F; U is orthonormal and zero on the rows of units whose
    ``unit_sensitivity`` on task B's inputs is below ``config.live_threshold`` (dead units: the
    loss could not see L there). N has ‖N‖_F = noise · ‖L‖_F. Used in chapter 5.
    """
    config = tasks.config
    r_star = config.true_rank
    s = config.delta_decay ** torch.arange(r_star, dtype=torch.float32)   # (r*,)
    s = s / s.norm()                                                     # ‖diag(s)‖_F = 1
    modules = dict(base.named_modules())
    sensitivity = unit_sensitivity(base, tasks.X_b_train[:4096], list(tasks.directions))
    delta = {}
    for name, (U, V, N) in tasks.directions.items():
        W0 = base_weight(modules[name]).float()                                # (out, in)
        size = config.delta_scale * W0.norm()
        live = (sensitivity[name] > config.live_threshold).to(U.dtype)    # (out,) 1 = live unit
        if int(live.sum()) < r_star:
            raise ValueError(f"layer {name} has fewer than r* = {r_star} live units; lower "
                             f"config.live_threshold (now {config.live_threshold})")
        U, _ = torch.linalg.qr(U * live[:, None])                          # (out, r*), zero on dead rows
        L = (U * (size * s.to(U.device))) @ V.T                            # (out, r*) @ (r*, in)
        delta[name] = L + config.noise * size * N                          # (out, in)
    return delta


def base_weight(module: nn.Module) -> torch.Tensor:
    """The (unmerged) base weight W₀ of an nn.Linear or a LoRALinear, (d_out, d_in)."""
    if isinstance(module, LoRALinear):
        if module.merged:
            return module.base.weight - module.delta_weight()
        return module.base.weight
    return module.weight


@torch.no_grad()
def make_task_b(tasks: Tasks, base: nn.Module) -> tuple[Task, dict[str, torch.Tensor]]:
    """Task B and its planted answer: labels from ``base`` with ΔW* added to the adapted layers.

    Returns ``(task_b, delta_star)``. Fine-tuning ``base`` on task B is solved exactly by
    W₀ + ΔW*, so ΔW* is the weight change we hope to find, of rank r* up to the noise N.
    """
    delta_star = plant_update(tasks, base)
    teacher_b = with_update(base, delta_star)
    task_b = make_task(teacher_b, tasks.X_b_train, tasks.X_b_eval, "B")
    return task_b, delta_star


@torch.no_grad()
def with_update(base: nn.Module, deltas: Mapping[str, torch.Tensor]) -> nn.Module:
    """A copy of ``base`` whose named layers hold W₀ + ΔW (``base`` itself is left alone).

    The one place where a planted update is added: task B's teacher W₀ + ΔW* (``make_task_b``)
    and chapter 5's check that it has loss 0 on task B.
    """
    model = copy.deepcopy(base)
    modules = dict(model.named_modules())
    for name, D in deltas.items():
        if name not in modules or not isinstance(modules[name], nn.Linear):
            raise ValueError(f"deltas names {name!r}, which is not an nn.Linear layer of base")
        W = modules[name].weight                                   # (d_out, d_in)
        if tuple(D.shape) != tuple(W.shape):
            raise ValueError(f"deltas[{name!r}] has shape {tuple(D.shape)}, the layer's weight "
                             f"{tuple(W.shape)}")
        W += D.to(W.dtype)
    return model
