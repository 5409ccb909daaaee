"""Chapter 5's configuration: one frozen dataclass, checked once, and its two presets.

``small_config()`` runs the whole chapter in about a minute on 2 CPU cores; ``full_config()`` is
the GPU preset (``benchmarks/gpu_run.py``); ``default_config()`` picks one from the device, or from
the environment variable ``LOWRANK_CH5_PRESET`` (``small`` or ``full``): ``LOWRANK_CH5_PRESET=full``
runs the GPU preset on a CPU (in float32, several minutes), which is how the chapter's CUDA path
is checked without a GPU.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._validate import (check_bool, check_int, check_positive_number, check_real)
from ..budget import mlp_shapes
from ..runtime import DEVICE_NAMES, get_device, resolve_device

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["LAYERS", "MAX_SIZE", "TrainingConfig", "as_config", "small_config", "full_config",
           "PRESET_ENV", "default_config"]

MAX_SIZE = 10**8   # bound on every size and step count of a configuration: no run "for ever"

LAYERS = ("fc1", "fc2")   # the hidden layers of ``MLP`` that LoRA may adapt

@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines one run of the chapter's experiment (see ``small_config``).

    Frozen, and checked once, when it is made: a value that makes no sense raises ValueError /
    TypeError naming the field. ``replace(...)`` makes a changed (and checked) copy.
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
        for name in ("ranks", "target_modules"):
            value = getattr(self, name)
            if not isinstance(value, str):
                try:
                    object.__setattr__(self, name, tuple(value))
                except TypeError:
                    raise TypeError(f"config.{name} must be a tuple, got {value!r}") from None
        self._check()

    def _check(self) -> None:
        """Raise ValueError / TypeError naming the first field that makes no sense."""
        for name in ("d_in", "d_hidden", "n_classes", "true_rank", "n_train", "n_eval",
                     "batch_size", "pretrain_steps", "finetune_steps", "eval_every"):
            check_int(getattr(self, name), f"config.{name}", low=1, high=MAX_SIZE)
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"config.name must be a non-empty string, got {self.name!r}")
        if self.n_classes < 2:
            raise ValueError(f"config.n_classes must be >= 2 (a classification task), "
                             f"got {self.n_classes}")
        check_int(self.seed, "config.seed", low=0)
        check_int(self.warmup_steps, "config.warmup_steps", low=0)
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
            check_positive_number(getattr(self, name), f"config.{name}")
        check_real(self.noise, "config.noise", low=0.0)
        check_real(self.live_threshold, "config.live_threshold", low=0.0)
        check_real(self.delta_decay, "config.delta_decay", low=0.0, high=1.0, low_open=True)
        if self.lora_alpha is not None:
            check_positive_number(self.lora_alpha, "config.lora_alpha (or None)")
        if (isinstance(self.target_modules, str) or not self.target_modules
                or any(m not in LAYERS for m in self.target_modules)
                or len(set(self.target_modules)) != len(self.target_modules)):
            raise ValueError("config.target_modules must be a non-empty tuple of distinct names "
                             f"from {LAYERS}, got {self.target_modules!r}")
        if not self.ranks:
            raise ValueError("config.ranks must list at least one LoRA rank")
        for r in self.ranks:
            check_int(r, "config.ranks entries", low=1, high=max_rank)
        if (list(self.ranks) != sorted(set(self.ranks)) or self.true_rank not in self.ranks
                or 2 * self.true_rank not in self.ranks):
            raise ValueError(f"config.ranks must be strictly increasing and contain true_rank = "
                             f"{self.true_rank} and 2 * true_rank, got {self.ranks!r}")
        if self.device is not None:
            if self.device not in DEVICE_NAMES:
                raise ValueError(f"config.device must be None or one of {DEVICE_NAMES}, "
                                 f"got {self.device!r}")
            try:
                resolve_device(self.device)         # a GPU this machine lacks: refused now
            except ValueError as exc:
                raise ValueError(f"config.device: {exc}") from None
        check_bool(self.amp, "config.amp")
        if self.cpu_threads is not None:
            check_int(self.cpu_threads, "config.cpu_threads (or None)", low=1, high=1024)

    def torch_device(self) -> "torch.device":
        """The device this run uses: ``config.device`` if set (and present), else ``get_device()``."""
        return resolve_device(self.device)

    def layer_shapes(self) -> dict[str, tuple[int, int]]:
        """(d_out, d_in) of the MLP's linear layers fc1, fc2 and head (``budget.mlp_shapes``)."""
        return mlp_shapes(self.d_in, self.d_hidden, self.n_classes)

    def replace(self, **changes: object) -> "TrainingConfig":
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)


def as_config(config: object) -> TrainingConfig:
    """``config`` if it is a TrainingConfig (checked when it was made), else a TypeError."""
    if not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig (see small_config()), "
                        f"got {type(config).__name__}")
    return config


def small_config(**changes: object) -> TrainingConfig:
    """The CPU preset: the whole chapter runs in about a minute on 2 cores. Used in chapter 5."""
    return TrainingConfig(**changes)


def full_config(**changes: object) -> TrainingConfig:
    """The GPU preset: 4× wider layers, 16× more data, batches of 1024, ranks up to 64, r* = 8.

    Used by ``benchmarks/gpu_run.py`` and by chapter 5's control experiment when ``get_device()``
    finds CUDA (or ``LOWRANK_CH5_PRESET=full``). Chapter 5 with this preset was run to the end on
    a CPU in float32 (``LOWRANK_CH5_PRESET=full``; the language-model part keeps its small
    preset), and all its asserts held.
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
