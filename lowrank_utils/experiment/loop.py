"""Chapter 5's training loop and the runs built on it: pre-training, full fine-tuning, LoRA.

Every run uses Adam with a cosine learning-rate decay to zero. On a GPU the training steps run
under bf16 autocast (where the GPU supports it) and report the peak GPU memory; on a CPU they
report the bytes of weights, gradients and optimizer state instead (activations excluded).
Losses are always evaluated in float32. ``run_experiment(config)`` does the whole chapter in one
call (``benchmarks/gpu_run.py`` and the tests use it).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_int, check_positive_int, check_positive_number
from ..lora import apply_lora
from ..runtime import cpu_threads, synchronize
from .config import LAYERS, MAX_SIZE, TrainingConfig, as_config
from .data import Task, Tasks, base_weight, build_model, make_task_b, make_tasks, seeded

__all__ = ["autocast_dtype", "kl_loss", "cosine_factor", "evaluate", "training_memory_bytes", "RunResult", "train",
           "pretrain", "finetune_full", "finetune_lora", "Experiment", "run_experiment"]


def autocast_dtype(device: torch.device, amp: bool = True) -> torch.dtype | None:
    """bf16 on a CUDA GPU that supports it (when ``amp``), else None (plain float32)."""
    if amp and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def kl_loss(logits: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
    """Mean KL(P ‖ softmax(logits)) over the batch, in float32."""
    log_q = F.log_softmax(logits.float(), dim=1)                   # (batch, n_classes)
    return F.kl_div(log_q, P, reduction="batchmean")


@torch.no_grad()
def evaluate(model: nn.Module, task: Task, batch: int = 8192,
             threads: int | None = 1) -> dict[str, float]:
    """Loss KL(teacher ‖ model) and accuracy (agreement with the teacher's most likely class)
    on the task's held-out inputs, always in float32 (no autocast, also on a GPU).
    ``threads`` as in ``cpu_threads`` (CPU only; ``train`` passes None to keep the config's)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(task, Task):
        raise TypeError(f"task must be a Task (from make_tasks or make_task_b), "
                        f"got {type(task).__name__}")
    batch = check_int(batch, "batch", low=1, high=MAX_SIZE)
    was_training = model.training
    model.eval()
    device = task.X_eval.device
    loss_sum, correct = 0.0, 0
    with cpu_threads(threads if device.type == "cpu" else None):
        for i in range(0, len(task.X_eval), batch):
            X, P = task.X_eval[i:i + batch], task.P_eval[i:i + batch]   # (b, d_in), (b, classes)
            logits = model(X)                                         # (b, n_classes), float32
            loss_sum += float(kl_loss(logits, P)) * len(X)
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
    learning_rates: np.ndarray           # (steps,) the learning rate each step used
    final: dict[str, float]              # held-out loss and accuracy at the end
    time_per_step: float                 # seconds, mean over the steps after the warm-up
    samples_per_s: float                 # batch_size / time_per_step
    memory_bytes: int                    # CUDA: peak allocated during the training steps minus
    #                                      what was allocated before, plus the weights; CPU: the
    #                                      bytes of weights + gradients + Adam (no activations)
    memory_kind: str                     # which of the two ``memory_bytes`` is
    device: str                          # where it ran
    extra: dict[str, object] = field(default_factory=dict)


def cosine_factor(t: int, steps: int) -> float:
    """(1 + cos(π t / steps)) / 2: the learning rate of step t as a share of the first one."""
    return 0.5 * (1.0 + math.cos(math.pi * t / steps))


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
    config = as_config(config)
    steps = check_int(steps, f"steps (more than config.warmup_steps = {config.warmup_steps})",
                      low=config.warmup_steps + 1, high=MAX_SIZE)
    lr = check_positive_number(lr, "lr")
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
        optimizer, lambda t: cosine_factor(t, steps))                        # cosine decay to 0
    g = torch.Generator(device=device).manual_seed(config.seed + 1000 + seed_offset)
    n = len(task.X_train)
    losses: list[torch.Tensor] = []
    rates: list[float] = []
    eval_steps: list[int] = []
    eval_losses: list[float] = []
    cuda = device.type == "cuda"
    peak = 0                                           # CUDA: peak over the training steps only
    if cuda:
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        memory_before = torch.cuda.memory_allocated(device)
    timed, start = 0.0, None
    model.train()
    with cpu_threads(config.cpu_threads if device.type == "cpu" else None):
        for step in range(steps):
            if step == config.warmup_steps:
                synchronize(device)
                start = time.perf_counter()
            if step % config.eval_every == 0:
                # Evaluations are not part of a step: neither their time nor their memory counts.
                if start is not None:
                    synchronize(device)
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
            loss = kl_loss(logits, P)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.step()
            losses.append(loss.detach())
        synchronize(device)
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
                     train_loss=torch.stack(losses).float().cpu().numpy(),
                     learning_rates=np.array(rates), final=final,
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
    config = as_config(config)
    r = check_positive_int(r, "r")
    model = copy.deepcopy(base)
    with seeded(config.seed + 10_000 + r, base_weight(getattr(model, LAYERS[0])).device):
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
    config = as_config(config)
    ranks = config.ranks if ranks is None else tuple(check_positive_int(r, "ranks entries")
                                                     for r in ranks)
    tasks = make_tasks(config)
    base = build_model(config)
    pre = pretrain(base, tasks.task_a, config)
    task_b, delta_star = make_task_b(tasks, base)
    full = finetune_full(base, task_b, config)
    lora = {r: finetune_lora(base, task_b, config, r) for r in ranks}
    return Experiment(config, tasks, base, pre, task_b, delta_star, full, lora)
