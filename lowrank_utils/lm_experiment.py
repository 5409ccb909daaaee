"""Chapter 5's evidence: the pre-trained ``TinyLM`` fine-tuned on a new text, full and with LoRA.

One function, ``finetune_lm``, runs every variant the chapter compares (full fine-tuning; LoRA on
``q`` and ``v`` at each rank; LoRA on every projection; the exercises' α, LoRA+ and rsLoRA
changes) with ``tiny_lm.train_lm``, the loop the chapter writes out by hand first. It records what
the chapter's table reports: trainable parameters, the held-out loss on the new text, the held-out
loss on the pre-training text (forgetting), time per step and memory.

The configuration is ``LMConfig`` with two presets: ``lm_small_config()``, which chapter 5 uses on
every device (its asserts were checked there; two CPU cores run it within the chapter's budget),
and ``lm_full_config()``, longer and with bigger batches, which ``benchmarks/gpu_run.py`` runs on a
GPU and reports without asserting.
``weight_matrices`` reads each projection's effective weight W₀ + (α/r)BA, so that the updates of
full fine-tuning and of LoRA are compared as matrices (``updates``).
"""
from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
from torch import nn

from ._validate import check_int, check_positive_int, check_positive_number
from .experiment.analysis import delta_weights
from .experiment.loop import training_memory_bytes
from .lora import LoRALinear, apply_lora, count_parameters, lora_layers
from .runtime import get_device, resolve_device, synchronize
from .text_data import CORPORA, Corpus, load_corpus
from .tiny_lm import TinyLM, evaluate_lm, train_lm

__all__ = ["LMConfig", "lm_small_config", "lm_full_config", "LMRun",
           "finetune_lm", "held_out_loss", "linear_layers", "weight_matrices", "weight_updates",
           "PRETRAINING", "FINETUNING"]

PRETRAINING, FINETUNING = "pydoc", "stdlib"      # the text it knows, the text it learns


@dataclass(frozen=True)
class LMConfig:
    """How chapter 5 fine-tunes the tiny model; the defaults are the CPU preset."""

    name: str = "small"
    steps: int = 120                      # AdamW steps of every run
    batch_size: int = 16                  # windows of ``context`` bytes per step
    warmup: int = 12                      # linear warm-up steps, then cosine decay to zero
    lr_full: float = 1e-3                 # peak learning rate of full fine-tuning
    lr_lora: float = 1e-2                 # peak learning rate of LoRA (A and B)
    alpha: float = 8.0                    # LoRA's α, fixed across ranks: ΔW = (α/r) B A
    ranks: tuple[int, ...] = (1, 2, 4, 8, 16, 64)   # the LoRA paper's Table 6 ranks, and 16
    targets: tuple[str, ...] = ("q", "v")           # the paper's choice: W_q and W_v
    eval_windows: int | None = 128        # held-out windows per evaluation (None: all)
    threads: int | None = 2               # CPU threads (None: PyTorch's default)
    seed: int = 0                         # the batches; the same for every run
    device: str | None = None             # None: runtime.get_device()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for field in ("steps", "batch_size"):
            check_positive_int(getattr(self, field), field)
        check_int(self.warmup, "warmup", low=0, high=self.steps - 1)
        for field in ("lr_full", "lr_lora", "alpha"):
            check_positive_number(getattr(self, field), field)
        if not isinstance(self.ranks, tuple) or not self.ranks:
            raise TypeError(f"ranks must be a non-empty tuple of positive ints, got {self.ranks!r}")
        for r in self.ranks:
            check_positive_int(r, "ranks entries")
        if not isinstance(self.targets, tuple) or not all(isinstance(t, str) for t in self.targets):
            raise TypeError(f"targets must be a tuple of layer names, got {self.targets!r}")
        if self.eval_windows is not None:
            check_positive_int(self.eval_windows, "eval_windows")
        if self.threads is not None:
            check_positive_int(self.threads, "threads")
        check_int(self.seed, "seed", low=0)
        if self.device is not None:
            resolve_device(self.device)           # a CUDA name on a CPU-only build is refused now

    def torch_device(self) -> torch.device:
        """The device the runs use: ``device`` if set, else ``runtime.get_device()``."""
        return get_device() if self.device is None else resolve_device(self.device)

    def replace(self, **changes: object) -> "LMConfig":
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)


def lm_small_config(**changes: object) -> LMConfig:
    """The CPU preset: every run of chapter 5's sweep in a few seconds on two cores."""
    return LMConfig(**changes)  # type: ignore[arg-type]


def lm_full_config(**changes: object) -> LMConfig:
    """The GPU preset (``benchmarks/gpu_run.py``): 2,000 steps
    of 64 windows, every held-out window evaluated, ranks up to 64 with 32 added."""
    settings: dict[str, object] = dict(name="full", steps=2000, batch_size=64, warmup=100,
                                       ranks=(1, 2, 4, 8, 16, 32, 64), eval_windows=None,
                                       threads=None)
    settings.update(changes)
    return LMConfig(**settings)  # type: ignore[arg-type]


@dataclass
class LMRun:
    """What one fine-tuning run of the tiny model records."""

    label: str                        # "full fine-tuning", "LoRA q,v r=8", …
    method: str                       # "full" or "lora"
    targets: tuple[str, ...]          # adapted layer names (empty for full fine-tuning)
    r: int | None                     # LoRA rank (None for full fine-tuning)
    scaling: float | None             # LoRA's α/r (or α/√r with rsLoRA); None for full
    lr: float                         # peak learning rate (of A, and of every weight when full)
    lr_ratio: float                   # B's learning rate / A's (LoRA+); 1 for plain LoRA
    model: TinyLM                     # the fine-tuned model (LoRA unmerged), in eval() mode
    trainable: int                    # trainable parameters
    train_losses: np.ndarray          # (steps,) minibatch loss of each step, nats per byte
    new_loss: float                   # held-out loss on the text it was fine-tuned on
    old_loss: float                   # held-out loss on the pre-training text (forgetting)
    time_per_step: float              # seconds, the whole run divided by its steps
    memory_bytes: int                 # CUDA: peak allocated; CPU: weights + gradients + AdamW
    memory_kind: str                  # which of the two ``memory_bytes`` is
    device: str


def _check_base(base: object) -> TinyLM:
    if not isinstance(base, TinyLM):
        raise TypeError(f"base must be a TinyLM (tiny_lm.load_tiny_lm), got {type(base).__name__}")
    if any(True for _ in lora_layers(base)):
        raise ValueError("base must be the pre-trained model without LoRA layers")
    return base


def finetune_lm(base: TinyLM, config: LMConfig, *, r: int | None = None,
                targets: Iterable[str] | None = None, alpha: float | None = None,
                rslora: bool = False, lr: float | None = None, lr_ratio: float = 1.0,
                corpus: str = FINETUNING, label: str | None = None) -> LMRun:
    """Fine-tune a copy of ``base`` on ``corpus`` with ``train_lm``; ``base`` is left unchanged.

    ``r=None``: full fine-tuning (every parameter, learning rate ``config.lr_full``). Otherwise LoRA
    of rank ``r`` on ``targets`` (default ``config.targets``) with ``alpha`` (default
    ``config.alpha``), rsLoRA's α/√r if ``rslora``, learning rate ``config.lr_lora`` and B's
    multiplied by ``lr_ratio`` (LoRA+). ``lr`` overrides the learning rate. Every run sees the
    same batches (``config.seed``). LoRA's A is drawn from a seed set by ``config.seed`` and
    ``r``, whatever ran before: runs of one rank start alike (so α or λ alone differ), runs of
    two ranks start from independent draws (so their subspaces are compared fairly). Chapter 5's sweep, its exercises and ``gpu_run.py`` use it.
    """
    base = _check_base(base)
    if not isinstance(config, LMConfig):
        raise TypeError(f"config must be an LMConfig (lm_small_config()), got {type(config).__name__}")
    if corpus not in CORPORA:
        raise ValueError(f"corpus must be one of {CORPORA}, got {corpus!r}")
    device = config.torch_device()
    model = copy.deepcopy(base).to(device)
    if r is None:
        if targets is not None or alpha is not None or rslora or lr_ratio != 1.0:
            raise ValueError("targets, alpha, rslora and lr_ratio are LoRA settings: give r too")
        for p in model.parameters():
            p.requires_grad_(True)
        method, targets, peak_lr, scaling = "full", (), config.lr_full, None
        label = label or "full fine-tuning"
    else:
        r = check_positive_int(r, "r")
        targets = config.targets if targets is None else tuple(targets)
        alpha = config.alpha if alpha is None else alpha
        with torch.random.fork_rng(devices=[]):       # A's random start, set by (seed, r)
            torch.manual_seed(config.seed * 10_007 + r)
            apply_lora(model, list(targets), r=r, alpha=alpha, rslora=rslora)
        method, peak_lr = "lora", config.lr_lora
        scaling = next(layer for _, layer in lora_layers(model)).scaling
        label = label or f"LoRA {','.join(targets)} r={r}"
    peak_lr = peak_lr if lr is None else check_positive_number(lr, "lr")
    new, old = load_corpus(corpus), load_corpus(PRETRAINING)
    tokens = new.train.to(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    synchronize(device)
    start = time.perf_counter()
    losses = train_lm(model, tokens, steps=config.steps, batch_size=config.batch_size,
                      lr=peak_lr, warmup=config.warmup, seed=config.seed, threads=config.threads,
                      lr_ratio=lr_ratio)
    synchronize(device)
    elapsed = time.perf_counter() - start
    if device.type == "cuda":
        memory, kind = int(torch.cuda.max_memory_allocated(device)), "peak CUDA memory allocated"
    else:
        memory = training_memory_bytes(model)["total"]
        kind = "weights + gradients + AdamW moments (float32, no activations)"

    return LMRun(label=label, method=method, targets=tuple(targets), r=r, scaling=scaling,
                 lr=peak_lr, lr_ratio=float(lr_ratio), model=model,
                 trainable=count_parameters(model, trainable_only=True),
                 train_losses=np.asarray(losses),
                 new_loss=held_out_loss(model, new, config),
                 old_loss=held_out_loss(model, old, config), time_per_step=elapsed / config.steps,
                 memory_bytes=memory, memory_kind=kind, device=str(device))


def held_out_loss(model: TinyLM, corpus: Corpus, config: LMConfig) -> float:
    """Mean loss (nats per byte) of ``model`` on the held-out part of ``corpus``, evaluated as
    ``config`` says (windows, threads, device). Every loss of chapter 5's second part."""
    return evaluate_lm(model, corpus.held_out.to(config.torch_device()),
                       max_windows=config.eval_windows, threads=config.threads)


@torch.no_grad()
def weight_matrices(model: nn.Module) -> dict[str, np.ndarray]:
    """{layer name: its effective weight (out, in) in float64} for every linear layer of ``model``.

    A LoRA layer counts once, as W₀ + (α/r) B A (its ``base.weight`` alone once merged), under the
    name of the layer it wraps, so a LoRA model and a fully fine-tuned one line up name by name.
    """
    weights: dict[str, np.ndarray] = {}
    for name in linear_layers(model):
        module = model.get_submodule(name)
        if isinstance(module, LoRALinear):
            W = module.base.weight.double()                                         # (out, in)
            if not module.merged:       # + (α/r) B A, in float64 so that its rank stays r
                W = W + module.scaling * (module.lora_B.double() @ module.lora_A.double())
        else:
            W = module.weight.double()                                              # (out, in)
        weights[name] = W.detach().cpu().numpy()
    return weights


def linear_layers(model: nn.Module) -> list[str]:
    """Names of the linear layers of ``model``, a LoRA layer once under the name of the layer it
    wraps (so a LoRA model and a fully fine-tuned one line up name by name)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    inner = {f"{name}.base" for name, m in model.named_modules() if isinstance(m, LoRALinear)}
    return [name for name, m in model.named_modules()
            if isinstance(m, LoRALinear) or (isinstance(m, nn.Linear) and name not in inner)]


def weight_updates(model: nn.Module, base: nn.Module,
                   names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """{layer name: ΔW = W − W₀ (out, in)} of the linear layers ``names`` (default: all), by
    ``experiment.delta_weights`` (float64; an unmerged LoRA layer's is exactly (α/r) B A)."""
    layers = linear_layers(base)
    names = layers if names is None else list(names)
    missing = [n for n in names if n not in layers or n not in linear_layers(model)]
    if missing:
        raise ValueError(f"names {missing} are not linear layers of both models; they have "
                         f"{layers[:6]} …")
    return delta_weights(model, base, names)
