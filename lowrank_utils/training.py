"""Chapter 5: a small training experiment whose ideal weight change has a known low rank.

The experiment, in the order the chapter runs it::

    config = default_config()                    # small on a CPU, full on a GPU, same code path
    tasks = make_tasks(config)                   # teacher A, task A data, the planted update ΔW*
    base = build_model(config)
    pretrain(base, tasks.task_a, config)         # the "pre-trained model" W₀
    task_b, delta_star = make_task_b(tasks, base)   # labelled by W₀ + ΔW*, rank r* + noise
    full = finetune_full(base, task_b, config)   # every parameter trains
    lora = finetune_lora(base, task_b, config, r=4)   # W₀ frozen, only B and A train

``run_experiment(config)`` does all of it in one call (the benchmark script and the tests).

Both tasks are classification with ``n_classes`` classes on Gaussian inputs x ∈ ℝ^{d_in}; the
labels are a teacher network's class probabilities (soft labels), and the loss is the
Kullback–Leibler divergence KL(teacher ‖ model), which is 0 exactly when the model's
probabilities equal the teacher's. Task B's teacher is the pre-trained model itself with its
adapted layers moved by ΔW* = L + N, L of rank r* and N a small full-rank part, so the change a
fine-tuning run should find is known in advance: ΔW*.

ΔW*'s low-rank part L moves only *live* output units (those whose GELU passes a gradient on the
task's inputs): a change to a dead unit's weights is invisible to the loss, so no method could be
asked to find it. Every training run uses Adam with a cosine learning-rate decay to zero.

Everything is generated from ``config.seed``; nothing is downloaded. On a GPU the same functions
run their training steps with bf16 autocast (where the GPU supports it) and report the peak GPU
memory; on a CPU they report the bytes of weights, gradients and optimizer state instead
(activations excluded). Losses are always evaluated in float32.

The environment variable ``LOWRANK_CH5_PRESET`` (``small`` or ``full``) makes ``default_config``
return that preset whatever the device: ``LOWRANK_CH5_PRESET=full`` runs the GPU preset on a CPU
(in float32, several minutes), which is how the chapter's CUDA path is checked without a GPU.

References:
    Hu et al. (2021), "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685
    (Sec. 7.2 defines the subspace similarity φ implemented in ``subspace_similarity``).
    Biderman et al. (2024), "LoRA Learns Less and Forgets Less", arXiv:2405.09673.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import json
import math
import numbers
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validate import as_int
from .results import RESULTS_DIR
from .lora import LoRALinear, apply_lora, get_device, lora_layers, merge_lora, unmerge_lora
from .widgets.training import TruncationStudy

__all__ = [
    "LAYERS",
    "RESULTS_DIR",
    "TrainingConfig",
    "small_config",
    "full_config",
    "default_config",
    "PRESET_ENV",
    "seed_everything",
    "cpu_threads",
    "MLP",
    "Task",
    "Tasks",
    "build_model",
    "make_teacher",
    "make_task",
    "make_tasks",
    "plant_update",
    "unit_sensitivity",
    "make_task_b",
    "autocast_dtype",
    "evaluate",
    "training_memory_bytes",
    "RunResult",
    "train",
    "pretrain",
    "finetune_full",
    "finetune_lora",
    "Experiment",
    "run_experiment",
    "delta_weights",
    "relative_error",
    "output_error",
    "subspace_similarity",
    "subspace_similarity_grid",
    "forgetting",
    "truncation_losses",
    "update_losses",
    "truncation_study",
    "merge_and_check",
    "inference_times",
    "summary_rows",
    "markdown_table",
    "Table",
    "load_gpu_results",
    "gpu_report_html",
    "no_gpu_result_html",
]


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

LAYERS = ("fc1", "fc2")   # the hidden layers of ``MLP`` that LoRA may adapt

@dataclass
class TrainingConfig:
    """Everything that defines one run of the chapter's experiment (see ``small_config``).

    Fields are checked when the object is made and again by every function that takes it:
    a value that makes no sense raises ValueError / TypeError naming the field.
    """

    name: str = "small"                 # preset name, shown in tables and benchmark files
    d_in: int = 64                      # input features: x ∈ ℝ^{d_in}, x ~ N(0, I)
    d_hidden: int = 64                  # width: fc1 is d_hidden × d_in, fc2 d_hidden × d_hidden
    n_classes: int = 64                 # classes of both tasks (= d_hidden, so the head is square
    #                                     and does not squeeze the hidden layer's output)
    target_modules: tuple[str, ...] = ("fc1", "fc2")  # layers LoRA adapts and ΔW* moves
    true_rank: int = 4                  # r*: rank of the low-rank part L of the planted update ΔW*
    delta_scale: float = 0.3            # ‖L‖_F / ‖W₀‖_F per adapted layer: how far task B moves
    delta_decay: float = 0.7            # σ_{i+1} / σ_i of L: geometric decay of its r* values
    noise: float = 0.05                 # ‖N‖_F / ‖L‖_F: the small full-rank part of ΔW* = L + N
    live_threshold: float = 0.1         # L moves only output units with E[GELU'(z)²] above this
    teacher_gain: float = 1.0           # teacher A's hidden weights ~ N(0, gain² / fan_in)
    teacher_logit_gain: float = 4.0     # the same for its head: larger means sharper labels
    n_train: int = 8192                 # training inputs per task (in memory, drawn in batches)
    n_eval: int = 2048                  # held-out inputs per task, used by ``evaluate``
    batch_size: int = 256               # examples per optimizer step
    pretrain_steps: int = 2000          # Adam steps on task A
    finetune_steps: int = 300           # Adam steps on task B, the same for every method
    lr_pretrain: float = 1e-2           # Adam learning rate for pre-training
    lr_full: float = 3e-3               # Adam learning rate for full fine-tuning
    lr_lora: float = 1e-2               # Adam learning rate for LoRA (A and B)
    lora_alpha: float | None = None     # LoRA α; None means α = r, so scaling α/r = 1 at every r
    ranks: tuple[int, ...] = (1, 2, 4, 8, 16)  # LoRA ranks compared with full fine-tuning:
    #                                     increasing, with r* and 2r* among them (chapter 5 uses both)
    eval_every: int = 25                # steps between two evaluations on the held-out inputs
    warmup_steps: int = 5               # first steps left out of the time per step
    seed: int = 0                       # seeds the data, the teacher, ΔW* and every initialisation
    device: str | None = None           # "cpu", "cuda" or "mps"; None means get_device()
    amp: bool = True                    # bf16 autocast on a CUDA GPU that supports it
    cpu_threads: int | None = 1         # torch threads on a CPU (None: torch's choice); one is
    #                                     the fastest for 64-wide layers on 2 shared cores

    def __post_init__(self) -> None:
        self.ranks = tuple(self.ranks)
        self.target_modules = (self.target_modules if isinstance(self.target_modules, str)
                               else tuple(self.target_modules))
        self.validate()

    def validate(self) -> "TrainingConfig":
        """Raise ValueError / TypeError naming the first field that makes no sense."""
        for name in ("d_in", "d_hidden", "n_classes", "true_rank", "n_train", "n_eval",
                     "batch_size", "pretrain_steps", "finetune_steps", "eval_every"):
            _check_int(getattr(self, name), f"config.{name}", low=1)
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"config.name must be a non-empty string, got {self.name!r}")
        if self.n_classes < 2:
            raise ValueError(f"config.n_classes must be >= 2 (a classification task), "
                             f"got {self.n_classes}")
        _check_int(self.seed, "config.seed", low=0)
        _check_int(self.warmup_steps, "config.warmup_steps", low=0)
        if self.warmup_steps >= min(self.pretrain_steps, self.finetune_steps):
            raise ValueError("config.warmup_steps must be smaller than pretrain_steps and "
                             f"finetune_steps, got warmup_steps={self.warmup_steps}")
        if self.batch_size > self.n_train:
            raise ValueError(f"config.batch_size must not exceed config.n_train = {self.n_train}, "
                             f"got {self.batch_size}")
        max_rank = min(self.d_in, self.d_hidden)
        if self.true_rank > max_rank:
            raise ValueError(f"config.true_rank must satisfy 1 <= true_rank <= min(d_in, "
                             f"d_hidden) = {max_rank}, got {self.true_rank}")
        for name in ("delta_scale", "teacher_gain", "teacher_logit_gain", "lr_pretrain",
                     "lr_full", "lr_lora"):
            _check_real(getattr(self, name), f"config.{name}", positive=True)
        _check_real(self.noise, "config.noise", positive=False)
        _check_real(self.live_threshold, "config.live_threshold", positive=False)
        _check_real(self.delta_decay, "config.delta_decay", positive=True)
        if self.delta_decay > 1:
            raise ValueError(f"config.delta_decay must satisfy 0 < delta_decay <= 1, "
                             f"got {self.delta_decay}")
        if self.lora_alpha is not None:
            _check_real(self.lora_alpha, "config.lora_alpha (or None)", positive=True)
        if (isinstance(self.target_modules, str) or not self.target_modules
                or any(m not in LAYERS for m in self.target_modules)
                or len(set(self.target_modules)) != len(self.target_modules)):
            raise ValueError("config.target_modules must be a non-empty tuple of distinct names "
                             f"from {LAYERS}, got {self.target_modules!r}")
        if not self.ranks:
            raise ValueError("config.ranks must list at least one LoRA rank")
        for r in self.ranks:
            _check_int(r, "config.ranks entries", low=1)
            if r > max_rank:
                raise ValueError(f"config.ranks entries must be <= min(d_in, d_hidden) = "
                                 f"{max_rank}, got {r}")
        if (list(self.ranks) != sorted(set(self.ranks)) or self.true_rank not in self.ranks
                or 2 * self.true_rank not in self.ranks):
            raise ValueError(f"config.ranks must be strictly increasing and contain true_rank = "
                             f"{self.true_rank} and 2 * true_rank, got {self.ranks!r}")
        if self.device not in (None, "cpu", "cuda", "mps"):
            raise ValueError(f"config.device must be None, 'cpu', 'cuda' or 'mps', "
                             f"got {self.device!r}")
        if not isinstance(self.amp, bool):
            raise TypeError(f"config.amp must be True or False, got {self.amp!r}")
        if self.cpu_threads is not None:
            _check_int(self.cpu_threads, "config.cpu_threads (or None)", low=1)
        return self

    def torch_device(self) -> torch.device:
        """The device this run uses: ``config.device`` if set, else ``get_device()``."""
        return torch.device(self.device) if self.device is not None else get_device()

    def replace(self, **changes: object) -> "TrainingConfig":
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_real(value: object, name: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or (value <= 0 if positive else value < 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, "
                         f"got {value!r}")
    return float(value)


def small_config(**changes: object) -> TrainingConfig:
    """The CPU preset: the whole chapter runs in about a minute on 2 cores. Used in chapter 5."""
    return TrainingConfig(**changes)


def full_config(**changes: object) -> TrainingConfig:
    """The GPU preset: 4× wider layers, 16× more data, batches of 1024, ranks up to 64, r* = 8.

    Used by ``benchmarks/gpu_run.py`` and by chapter 5 when ``get_device()`` finds CUDA (or
    ``LOWRANK_CH5_PRESET=full``). Chapter 5 with exactly this preset was run to the end on a CPU
    in float32 (``LOWRANK_CH5_PRESET=full``), and all its asserts held.
    """
    settings: dict[str, object] = dict(
        name="full", d_in=256, d_hidden=256, n_classes=256, true_rank=8, teacher_logit_gain=5.0,
        n_train=131_072, n_eval=16_384, batch_size=1024, pretrain_steps=4000,
        finetune_steps=3000, lr_pretrain=3e-3, lr_full=1e-3, lr_lora=5e-3,
        ranks=(1, 2, 4, 8, 16, 32, 64), eval_every=100, warmup_steps=20, cpu_threads=None)
    settings.update(changes)
    return TrainingConfig(**settings)  # type: ignore[arg-type]


PRESET_ENV = "LOWRANK_CH5_PRESET"   # "small" or "full": overrides default_config's choice


def default_config() -> TrainingConfig:
    """``full_config()`` when ``get_device()`` finds CUDA, else ``small_config()``.

    The environment variable ``LOWRANK_CH5_PRESET`` set to ``small`` or ``full`` forces that
    preset on any device (how chapter 5's GPU path is checked on a CPU).
    """
    preset = os.environ.get(PRESET_ENV, "").strip().lower()
    if preset not in ("", "small", "full"):
        raise ValueError(f"{PRESET_ENV} must be 'small', 'full' or unset, got {preset!r}")
    if not preset:
        preset = "full" if get_device().type == "cuda" else "small"
    return full_config() if preset == "full" else small_config()


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every GPU); return a fresh seeded CPU generator.

    Used at the top of chapter 5. The functions of this module do not rely on it and do not
    change the global RNG: each draws from its own generator (or a forked RNG) seeded by
    ``config.seed``, so a run is reproducible on its own.
    """
    seed = as_int(seed, "seed")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)   # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------
# Model and tasks
# --------------------------------------------------------------------------------------------

class MLP(nn.Module):
    """x → fc1 → GELU → fc2 → GELU → head: the model of chapter 5 (and its teachers)."""

    def __init__(self, d_in: int, d_hidden: int, n_classes: int):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.head = nn.Linear(d_hidden, n_classes)

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
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's RNG (CPU, and ``device`` if CUDA) seeded, then restore it."""
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] \
        if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def _as_config(config: object) -> TrainingConfig:
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig (see small_config()), "
                        f"got {type(config).__name__}")
    return config.validate()


def build_model(config: TrainingConfig, seed_offset: int = 1) -> MLP:
    """The student MLP, initialised from ``config.seed + seed_offset``, on the config's device."""
    config = _as_config(config)
    with _seeded(config.seed + seed_offset, torch.device("cpu")):   # global RNG left alone
        model = MLP(config.d_in, config.d_hidden, config.n_classes)
    return model.to(config.torch_device())


def make_teacher(config: TrainingConfig) -> MLP:
    """Teacher A: a random MLP with weights N(0, gain²/fan_in), so its labels are non-linear."""
    config = _as_config(config)
    g = torch.Generator().manual_seed(config.seed + 100)
    with _seeded(config.seed + 100, torch.device("cpu")):   # global RNG left alone
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
    config = _as_config(config)
    device = config.torch_device()
    g = torch.Generator().manual_seed(config.seed)
    n, m = config.n_train, config.n_eval
    X = torch.randn(2 * (n + m), config.d_in, generator=g)    # (2(n+m), d_in), x ~ N(0, I)
    Xa_train, Xa_eval, Xb_train, Xb_eval = torch.split(X, [n, m, n, m])
    shapes = {"fc1": (config.d_hidden, config.d_in), "fc2": (config.d_hidden, config.d_hidden)}
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
        W0 = _weight(modules[name]).float()                                # (out, in)
        size = config.delta_scale * W0.norm()
        live = (sensitivity[name] > config.live_threshold).to(U.dtype)    # (out,) 1 = live unit
        if int(live.sum()) < r_star:
            raise ValueError(f"layer {name} has fewer than r* = {r_star} live units; lower "
                             f"config.live_threshold (now {config.live_threshold})")
        U, _ = torch.linalg.qr(U * live[:, None])                          # (out, r*), zero on dead rows
        L = (U * (size * s.to(U.device))) @ V.T                            # (out, r*) @ (r*, in)
        delta[name] = L + config.noise * size * N                          # (out, in)
    return delta


def _weight(module: nn.Module) -> torch.Tensor:
    """The (unmerged) base weight of an nn.Linear or a LoRALinear."""
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
    teacher_b = copy.deepcopy(base)
    modules = dict(teacher_b.named_modules())
    for name, D in delta_star.items():
        modules[name].weight += D.to(modules[name].weight.dtype)
    task_b = make_task(teacher_b, tasks.X_b_train, tasks.X_b_eval, "B")
    return task_b, delta_star


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------

def autocast_dtype(device: torch.device, amp: bool = True) -> torch.dtype | None:
    """bf16 on a CUDA GPU that supports it (when ``amp``), else None (plain float32)."""
    if amp and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def _kl(logits: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """Mean KL(P ‖ softmax(logits)) over the batch, in float32."""
    log_q = F.log_softmax(logits.float(), dim=1)                   # (batch, n_classes)
    return F.kl_div(log_q, P, reduction="batchmean")


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, batch: int = 8192,
             threads: int | None = 1) -> dict[str, float]:
    """Loss KL(teacher ‖ model) and accuracy (agreement with the teacher's most likely class)
    on the task's held-out inputs, always in float32 (no autocast, also on a GPU).
    ``threads`` as in ``cpu_threads`` (CPU only; ``train`` passes None to keep the config's)."""
    was_training = model.training
    model.eval()
    device = task.X_eval.device
    loss_sum, correct = 0.0, 0
    with cpu_threads(threads if device.type == "cpu" else None):
        for i in range(0, len(task.X_eval), batch):
            X, P = task.X_eval[i:i + batch], task.P_eval[i:i + batch]   # (b, d_in), (b, classes)
            logits = model(X)                                         # (b, n_classes), float32
            loss_sum += float(_kl(logits, P)) * len(X)
            correct += int((logits.argmax(dim=1) == P.argmax(dim=1)).sum())
    model.train(was_training)
    n = len(task.X_eval)
    return {"loss": loss_sum / n, "accuracy": correct / n}


def training_memory_bytes(model: nn.Module, optimizer_slots: int = 2) -> dict[str, int]:
    """Bytes of weights (all parameters), gradients and optimizer state (trainable ones only).

    Adam keeps ``optimizer_slots = 2`` numbers per trainable parameter (first and second moment).
    Activations are not counted. This is the CPU stand-in for the peak GPU memory (chapter 5).
    """
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = [p for p in model.parameters() if p.requires_grad]
    grads = sum(p.numel() * p.element_size() for p in trainable)
    state = optimizer_slots * grads
    return {"weights": weights, "gradients": grads, "optimizer": state,
            "total": weights + grads + state}


@dataclass
class RunResult:
    """What one training run records."""

    method: str                          # "pretrain", "full" or "lora"
    r: int | None                        # LoRA rank (None for full fine-tuning / pre-training)
    model: nn.Module                     # the trained model
    trainable: int                       # trainable parameters
    steps: np.ndarray                    # (n_evals,) step numbers of the evaluations
    eval_loss: np.ndarray                # (n_evals,) held-out loss at those steps
    train_loss: np.ndarray               # (steps,) loss of every minibatch
    final: dict[str, float]              # held-out loss and accuracy at the end
    time_per_step: float                 # seconds, mean over the steps after the warm-up
    samples_per_s: float                 # batch_size / time_per_step
    memory_bytes: int                    # CUDA: peak allocated during the training steps minus
    #                                      what was allocated before, plus the weights; CPU: the
    #                                      bytes of weights + gradients + Adam (no activations)
    memory_kind: str                     # which of the two ``memory_bytes`` is
    device: str                          # where it ran
    extra: dict[str, object] = field(default_factory=dict)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: leave torch's setting), then restore it.

    On 2 shared cores, one thread was 4× faster than two for this chapter's 64-wide layers:
    a second thread spins and waits more than it computes.
    """
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(_check_int(n, "n", low=1))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def train(model: nn.Module, task: Task, config: TrainingConfig, *, steps: int, lr: float,
          method: str, r: int | None = None, seed_offset: int = 0) -> RunResult:
    """Adam on the trainable parameters of ``model`` for ``steps`` minibatches of ``task``.

    The one training loop of chapter 5: pre-training, full fine-tuning and LoRA all use it, on
    any device. The learning rate decays from ``lr`` to 0 along a cosine,
    lr_t = lr · (1 + cos(π t / steps)) / 2, so every run ends settled rather than jittering
    around its minimum. The forward pass runs under bf16 autocast where ``autocast_dtype`` says
    so; evaluations are always float32. Records the loss of every minibatch, the held-out loss every
    ``config.eval_every`` steps, the mean time per step after ``config.warmup_steps`` steps
    (evaluations excluded) and the memory (see ``RunResult.memory_bytes``).
    """
    config = _as_config(config)
    steps = _check_int(steps, "steps", low=1)
    if steps <= config.warmup_steps:
        raise ValueError(f"steps must be > config.warmup_steps = {config.warmup_steps}, "
                         f"got {steps}")
    lr = _check_real(lr, "lr", positive=True)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters (requires_grad is False everywhere)")
    device = task.X_train.device
    if params[0].device != device:
        raise ValueError(f"model is on {params[0].device} but the task's data is on {device}; "
                         "move one of them")
    dtype = autocast_dtype(device, config.amp)
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / steps)))   # cosine decay to 0
    g = torch.Generator(device=device).manual_seed(config.seed + 1000 + seed_offset)
    n = len(task.X_train)
    losses: list[torch.Tensor] = []
    eval_steps: list[int] = []
    eval_losses: list[float] = []
    cuda = device.type == "cuda"
    peak = 0                                           # CUDA: peak over the training steps only
    if cuda:
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        memory_before = torch.cuda.memory_allocated(device)
    timed, start = 0.0, None
    model.train()
    with cpu_threads(config.cpu_threads if device.type == "cpu" else None):
        for step in range(steps):
            if step == config.warmup_steps:
                _sync(device)
                start = time.perf_counter()
            if step % config.eval_every == 0:
                # Evaluations are not part of a step: neither their time nor their memory counts.
                if start is not None:
                    _sync(device)
                    timed += time.perf_counter() - start
                if cuda:
                    peak = max(peak, torch.cuda.max_memory_allocated(device))
                eval_steps.append(step)
                eval_losses.append(evaluate(model, task, threads=None)["loss"])
                model.train()
                if cuda:
                    torch.cuda.reset_peak_memory_stats(device)
                if start is not None:
                    start = time.perf_counter()
            idx = torch.randint(0, n, (config.batch_size,), device=device, generator=g)  # (batch,)
            X, P = task.X_train[idx], task.P_train[idx]   # (batch, d_in), (batch, n_classes)
            with torch.autocast(device.type, dtype=dtype or torch.float32,
                                enabled=dtype is not None):
                logits = model(X)                         # (batch, n_classes)
            loss = _kl(logits, P)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.detach())
        _sync(device)
        timed += time.perf_counter() - start
        if cuda:
            peak = max(peak, torch.cuda.max_memory_allocated(device))
        final = evaluate(model, task, threads=None)
    eval_steps.append(steps)
    eval_losses.append(final["loss"])
    time_per_step = timed / (steps - config.warmup_steps)
    weights = training_memory_bytes(model)["weights"]
    if cuda:
        # What the training steps added on top of what was there (data, other models), plus
        # this model's weights.
        memory = peak - memory_before + weights
        kind = "CUDA peak: weights + gradients + Adam + activations"
    else:
        memory, kind = training_memory_bytes(model)["total"], "weights + gradients + Adam"
    model.eval()
    return RunResult(method=method, r=r, model=model, trainable=sum(p.numel() for p in params),
                     steps=np.array(eval_steps), eval_loss=np.array(eval_losses),
                     train_loss=torch.stack(losses).float().cpu().numpy(), final=final,
                     time_per_step=time_per_step,
                     samples_per_s=config.batch_size / time_per_step,
                     memory_bytes=int(memory), memory_kind=kind, device=str(device))


def pretrain(model: nn.Module, task_a: Task, config: TrainingConfig) -> RunResult:
    """Train every parameter of ``model`` on task A, in place: it becomes the base model W₀."""
    return train(model, task_a, config, steps=config.pretrain_steps, lr=config.lr_pretrain,
                 method="pretrain", seed_offset=1)


def finetune_full(base: nn.Module, task: Task, config: TrainingConfig) -> RunResult:
    """Full fine-tuning: a copy of ``base`` with every parameter trainable (``base`` untouched)."""
    model = copy.deepcopy(base)
    for p in model.parameters():
        p.requires_grad_(True)
    return train(model, task, config, steps=config.finetune_steps, lr=config.lr_full,
                 method="full", seed_offset=2)


def finetune_lora(base: nn.Module, task: Task, config: TrainingConfig, r: int) -> RunResult:
    """LoRA at rank r on ``config.target_modules`` of a copy of ``base`` (``base`` untouched).

    The adapters are initialised from ``config.seed + 10_000 + r`` (inside ``fork_rng``, so the
    global RNG is left as it was): every rank has its own draw, each run reproducible on its own.
    """
    config = _as_config(config)
    r = as_int(r, "r")
    if r < 1:
        raise ValueError(f"r (the LoRA rank) must be an integer >= 1, got r={r}")
    model = copy.deepcopy(base)
    with _seeded(config.seed + 10_000 + r, _weight(getattr(model, LAYERS[0])).device):
        apply_lora(model, list(config.target_modules), r=r, alpha=config.lora_alpha)
    return train(model, task, config, steps=config.finetune_steps, lr=config.lr_lora,
                 method="lora", r=r, seed_offset=2)


# --------------------------------------------------------------------------------------------
# The whole experiment in one call (the benchmark script and the tests use it)
# --------------------------------------------------------------------------------------------

@dataclass
class Experiment:
    """Everything ``run_experiment`` produced, in the order the chapter builds it."""

    config: TrainingConfig
    tasks: Tasks
    base: nn.Module                      # the pre-trained model W₀ (never changed afterwards)
    pretrain: RunResult
    task_b: Task
    delta_star: dict[str, torch.Tensor]  # the planted update ΔW* per adapted layer
    full: RunResult
    lora: dict[int, RunResult]           # rank r -> LoRA run


def run_experiment(config: TrainingConfig, ranks: Sequence[int] | None = None) -> Experiment:
    """Pre-train, plant ΔW*, fine-tune fully and with LoRA at every rank (``config.ranks``)."""
    config = _as_config(config)
    ranks = config.ranks if ranks is None else tuple(ranks)
    tasks = make_tasks(config)
    base = build_model(config)
    pre = pretrain(base, tasks.task_a, config)
    task_b, delta_star = make_task_b(tasks, base)
    full = finetune_full(base, task_b, config)
    lora = {r: finetune_lora(base, task_b, config, r) for r in ranks}
    return Experiment(config, tasks, base, pre, task_b, delta_star, full, lora)


# --------------------------------------------------------------------------------------------
# Looking at what was learned
# --------------------------------------------------------------------------------------------

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
        W_base = _weight(base_mods[name]).double()
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
    if isinstance(M, torch.Tensor):
        M = M.detach().double().cpu().numpy()
    A = np.asarray(M)
    if A.ndim != 2 or A.size == 0 or not np.issubdtype(A.dtype, np.number):
        raise ValueError(f"{name} must be a non-empty 2-D array of numbers, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return A.astype(np.float64)


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

    V_i (k × i) holds the top-i right singular vectors of ``A_small`` (r₁ × k), V_j those of
    ``A_large`` (r₂ × k): the first rows of NumPy's Vh, transposed. φ = 1 when one span contains
    the other, 0 when they are orthogonal, and always in [0, 1]. Used in chapter 5's heat map.
    """
    A1, A2 = _numpy(A_small, "A_small"), _numpy(A_large, "A_large")
    if A1.shape[1] != A2.shape[1]:
        raise ValueError(f"A_small and A_large must have the same number of columns k, "
                         f"got {A1.shape[1]} and {A2.shape[1]}")
    i, j = as_int(i, "i"), as_int(j, "j")
    if not 1 <= i <= min(A1.shape):
        raise ValueError(f"i must satisfy 1 <= i <= min(A_small.shape) = {min(A1.shape)}, got {i}")
    if not 1 <= j <= min(A2.shape):
        raise ValueError(f"j must satisfy 1 <= j <= min(A_large.shape) = {min(A2.shape)}, got {j}")
    Vh1 = np.linalg.svd(A1, full_matrices=False)[2]         # (min(r₁, k), k), orthonormal rows
    Vh2 = np.linalg.svd(A2, full_matrices=False)[2]         # (min(r₂, k), k)
    overlap = Vh1[:i] @ Vh2[:j].T                           # (i, j) = V_iᵀ V_j
    return float(np.sum(overlap**2) / min(i, j))


def subspace_similarity_grid(A_small: np.ndarray | torch.Tensor,
                             A_large: np.ndarray | torch.Tensor) -> np.ndarray:
    """φ(i, j) for i = 1..min(A_small.shape), j = 1..min(A_large.shape): the heat map's values.

    Row i - 1, column j - 1 holds φ(A_small, A_large, i, j). Computes each SVD once.
    """
    A1, A2 = _numpy(A_small, "A_small"), _numpy(A_large, "A_large")
    if A1.shape[1] != A2.shape[1]:
        raise ValueError(f"A_small and A_large must have the same number of columns k, "
                         f"got {A1.shape[1]} and {A2.shape[1]}")
    Vh1 = np.linalg.svd(A1, full_matrices=False)[2]         # (p₁, k)
    Vh2 = np.linalg.svd(A2, full_matrices=False)[2]         # (p₂, k)
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
    ks = [_check_int(k, "ks entries", low=1) for k in ks]
    if any(k > max_k for k in ks):
        raise ValueError(f"ks entries must be <= {max_k} (the smallest side of an adapted layer)")
    model = copy.deepcopy(base)
    modules = dict(model.named_modules())
    for name, D in deltas.items():
        if name not in modules or _weight(modules[name]).shape != D.shape:
            raise ValueError(f"deltas[{name!r}] must match a layer of base, got shape {D.shape}")
    W0 = {name: _weight(modules[name]).detach().clone() for name in deltas}
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
    max_k = _check_int(max_k, "max_k", low=1)
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
    """Median seconds per forward pass on X for each model, measured in interleaved rounds.

    Each round times every model once (``repeat`` passes each), so a slow moment of the machine
    hits all of them alike. Used in chapter 5: merged versus unmerged versus the base model.
    """
    rounds = _check_int(rounds, "rounds", low=1)
    repeat = _check_int(repeat, "repeat", low=1)
    times: dict[str, list[float]] = {name: [] for name in models}
    device = X.device
    with cpu_threads(threads if device.type == "cpu" else None):
        for m in models.values():
            m.eval()
            m(X)                                              # warm-up
        for _ in range(rounds):
            for name, m in models.items():
                _sync(device)
                t0 = time.perf_counter()
                for _ in range(repeat):
                    m(X)
                _sync(device)
                times[name].append((time.perf_counter() - t0) / repeat)
    return {name: statistics.median(t) for name, t in times.items()}


# --------------------------------------------------------------------------------------------
# Tables and the recorded GPU measurements
# --------------------------------------------------------------------------------------------



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


def _format_cell(value: object, spec: str | None) -> str:
    if spec is not None and isinstance(value, numbers.Number) and not isinstance(value, bool):
        return format(value, spec)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    return f"{value:.4g}"


# Chinese for the column names of chapter 5's tables: a header reads "English / 中文".
HEADERS_ZH = {
    "field": "欄位", "value": "值", "layer": "層", "method": "方法", "trainable": "可訓練參數",
    "loss B": "任務 B 損失", "accuracy B": "任務 B 準確率", "ms / step": "毫秒／步",
    "memory (KiB)": "記憶體 (KiB)", "memory (MiB)": "記憶體 (MiB)", "samples / s": "樣本／秒",
    "oracle loss": "理想損失", "update": "更新量", "energy in r* directions": "r* 個方向的能量",
    "relative error to ΔW*": "與 ΔW* 的相對誤差", "Eckart–Young floor": "Eckart–Young 下限",
    "distance to best rank-r": "與最佳秩 r 近似的距離", "model": "模型",
    "error as the loss sees it": "損失看得到的誤差",
    "µs per batch of 256": "每批 256 筆的微秒數", "× base": "× 基礎模型",
    "speed-up over the CPU": "相對於 CPU 的加速", "full fine-tuning": "完整微調",
    "LoRA r = r*": "LoRA r = r*",
}


def _header(column: str) -> str:
    zh = HEADERS_ZH.get(column)
    return column if zh is None or zh == column else f"{column} / {zh}"


def _table_cells(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None
                 ) -> tuple[list[str], list[list[str]]]:
    """Headers (bilingual where ``HEADERS_ZH`` knows the column) and formatted cells."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    formats = dict(formats or {})
    columns = list(rows[0])
    body = [[_format_cell(row.get(c, ""), formats.get(c)) for c in columns] for row in rows]
    return [_header(c) for c in columns], body


def markdown_table(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None = None
                   ) -> str:
    """A Markdown table of dict rows (keys of the first row are the columns).

    ``formats`` maps a column to a format spec such as ``".3g"``; ints get thousands separators.
    """
    columns, body = _table_cells(rows, formats)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


@dataclass
class Table:
    """Rows shown as a table: HTML in a notebook and in the book, Markdown as text.

    Used for chapter 5's tables: ``Table(summary_rows(full, lora), {"loss B": ".2e"})``.
    """

    rows: Sequence[Mapping[str, object]]
    formats: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        _table_cells(self.rows, self.formats)          # fails early on an empty table

    def __str__(self) -> str:
        return markdown_table(self.rows, self.formats)

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        columns, body = _table_cells(self.rows, self.formats)
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        cells = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in row) + "</tr>"
                        for row in body)
        return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>'


def load_gpu_results(folder: str | Path | None = None) -> list[dict[str, object]]:
    """Every ``gpu_*.json`` written by ``benchmarks/gpu_run.py``, oldest first ([] if none).

    Dry runs (``"dry_run": true``) are skipped: they measure nothing about a GPU.
    """
    folder = RESULTS_DIR if folder is None else Path(folder)
    results = []
    for path in sorted(folder.glob("gpu_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("dry_run", False):
            data["file"] = path.name
            results.append(data)
    return sorted(results, key=lambda d: str(d.get("date", "")))


def gpu_report_html(result: Mapping[str, object]) -> str:
    """One ``gpu_*.json`` result as HTML: where and when it was measured, then two tables.

    The label is a ``lang-en`` / ``lang-zh`` pair, so the book's language switch applies.
    Used in chapter 5, section "On a GPU".
    """
    hw, sw, config = result["hardware"], result["software"], result["config"]
    where = html.escape(f"{hw.get('gpu', hw['device'])}, {str(result['date'])[:10]}, "
                        f"torch {sw['torch']}, CUDA {sw['cuda']}, autocast {sw['autocast']}")
    source = html.escape(str(result.get("file", "")))
    name = html.escape(str(config["name"]))
    label = (f'<div class="lang-en"><b>Measured on {where}</b> (file <code>{source}</code>, '
             f'configuration "{name}")</div>'
             f'<div class="lang-zh"><b>量測環境：{where}</b>（檔案 <code>{source}</code>，'
             f'設定「{name}」）</div>')
    runs = Table(
        [{"method": run["method"] if run["r"] is None else f"LoRA r={run['r']}",
          "trainable": run["trainable"], "loss B": run["loss"], "accuracy B": run["accuracy"],
          "ms / step": run["time_per_step_ms"], "samples / s": run["samples_per_s"],
          "memory (MiB)": run["memory_mib"]} for run in result["runs"]],
        {"loss B": ".2e", "accuracy B": ".1%", "ms / step": ".3f", "samples / s": ",.0f",
         "memory (MiB)": ".1f"})
    speed = Table(
        [{"speed-up over the CPU": f"{part.removeprefix('speedup_').replace('_', ' ')} "
                                   "configuration",
          "full fine-tuning": result[part]["speedup"]["full"],
          "LoRA r = r*": result[part]["speedup"]["lora"]}
         for part in ("speedup_small", "speedup_full_size")],
        {"full fine-tuning": ".1f", "LoRA r = r*": ".1f"})
    memory = html.escape(str(result["runs"][0]["memory_kind"]))
    note = (f'<p><small><span class="lang-en">memory: {memory}</span>'
            f'<span class="lang-zh">記憶體：{memory}</span></small></p>')
    speed_note = ('<p><small><span class="lang-en">The speed-ups compare GPU steps in bf16 '
                  'autocast with CPU steps in float32 (the small configuration on one CPU '
                  'thread): set-ups, not equal arithmetic.</span><span class="lang-zh">加速倍數比較的'
                  '是 GPU 上 bf16 autocast 的步驟與 CPU 上 float32 的步驟（小型設定只用一個 CPU 執行緒）：'
                  '比的是兩種執行環境，而不是相同的運算。</span></small></p>')
    return label + runs._repr_html_() + note + speed._repr_html_() + speed_note


def no_gpu_result_html() -> str:
    """What chapter 5 says when ``benchmarks/results/`` holds no GPU measurement yet."""
    return (
        '<div class="lang-en"><b>No GPU measurement has been recorded yet</b>: '
        '<code>benchmarks/results/</code> holds no <code>gpu_*.json</code> file. To make one, run '
        '<code>python benchmarks/gpu_run.py</code> from the repository root on a machine with a '
        'CUDA GPU (a few minutes). It writes <code>benchmarks/results/gpu_&lt;date&gt;.json</code>, '
        'and this section shows it the next time the chapter runs. (<code>--dry-run</code> '
        'exercises the script on a CPU; its files are never shown here.)</div>'
        '<div class="lang-zh"><b>目前還沒有任何 GPU 量測紀錄</b>：<code>benchmarks/results/</code> '
        '中沒有 <code>gpu_*.json</code> 檔案。若要產生一份，請在有 CUDA GPU 的機器上，於專案根目錄執行 '
        '<code>python benchmarks/gpu_run.py</code>（約需幾分鐘）。它會寫出 '
        '<code>benchmarks/results/gpu_&lt;日期&gt;.json</code>，下次執行本章時，這一節就會顯示它。'
        '（<code>--dry-run</code> 可在 CPU 上試跑這支程式；試跑產生的檔案不會顯示在這裡。）</div>')
