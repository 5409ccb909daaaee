"""LoRA beyond one machine: chapter 5's fine-tuning under DistributedDataParallel or FSDP2.

Appendix A runs this module with ``torchrun`` (``python -m torch.distributed.run``), one process
per device::

    torchrun --standalone --nproc-per-node 2 -m lowrank_utils.distributed --strategy ddp --out DIR

On CPUs the processes talk through the gloo backend, on GPUs through NCCL (one GPU per process).
Every process (a *rank*) builds the same pre-trained base and task B from the seed, takes its
share of each minibatch, and lets the strategy average the gradients:

- ``ddp``: ``DistributedDataParallel`` all-reduces the gradients of the *trainable* parameters
  only; a communication hook records the bytes of every bucket it sends, so the appendix can show
  what LoRA saves on the wire;
- ``fsdp``: FSDP2's ``fully_shard`` keeps 1/world of every parameter (frozen ones too) on each
  rank, gathers a layer's weights for its forward and backward passes, and reduce-scatters the
  trainable gradients.

Equal shares of a minibatch and mean losses make the averaged gradient the full minibatch's, so
every rank ends with the weights of a one-process run on the full batch (``run_local``); the
tests check both to 1e-6. After ``destroy_process_group`` a rank leaves with ``os._exit``: gloo's
worker threads can otherwise abort the interpreter at exit ("terminate called without an active
exception") after the results are written.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import torch
import torch.distributed as dist
import torch.nn as nn

from ._validate import check_int, check_positive_int
from .experiment.config import TrainingConfig, small_config
from .experiment.data import build_model, make_task_b, make_tasks, seeded
from .experiment.loop import cosine_factor, kl_loss, pretrain
from .lora import LoRALinear, apply_lora

__all__ = ["STRATEGIES", "METHODS", "DTYPES", "DistributedResult", "build_problem", "prepare_model",
           "finetune_shard", "run_local", "launch", "main"]

STRATEGIES = ("ddp", "fsdp")
METHODS = ("lora", "full")


@dataclasses.dataclass
class DistributedResult:
    """What one run reports (rank 0's view, plus every rank's trainable weights)."""

    strategy: str                     # "ddp", "fsdp" or "local" (one process, full batch)
    method: str                       # "lora" or "full"
    r: int | None
    world_size: int
    steps: int
    trainable: int                    # trainable parameters
    losses: list[float]               # rank 0's minibatch share, per step
    grad_bytes_per_step: int          # gradient bytes the strategy averaged in one step
    weights: list[dict[str, torch.Tensor]]   # per rank: trainable parameter -> full tensor


DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: Pre-training steps of the base here (chapter 5 takes 2000): the base only has to be the same on
#: every rank, and every rank builds it, so a shorter run keeps appendix A's page within its budget.
PRETRAIN_STEPS = 500


def build_problem(config: TrainingConfig, dtype: str = "float32") -> tuple[nn.Module, object]:
    """Chapter 5's pre-trained base W₀ and task B, rebuilt from the seed (the same on every rank),
    in ``dtype`` ("float64" lets the tests compare runs far below float32's rounding)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {list(DTYPES)}, got {dtype!r}")
    tasks = make_tasks(config)
    base = build_model(config)
    pretrain(base, tasks.task_a, config)
    task_b, _ = make_task_b(tasks, base)
    to = DTYPES[dtype]
    task_b = dataclasses.replace(task_b, **{f: getattr(task_b, f).to(to) for f in
                                            ("X_train", "P_train", "X_eval", "P_eval")})
    return base.to(to), task_b


def prepare_model(base: nn.Module, config: TrainingConfig, method: str, r: int) -> nn.Module:
    """A copy of ``base`` set up as chapter 5 does: LoRA (rank r, seeded) or every weight trainable."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    model = copy.deepcopy(base)
    if method == "lora":
        with seeded(config.seed + 10_000 + r, next(base.parameters()).device):
            apply_lora(model, list(config.target_modules), r=r, alpha=config.lora_alpha)
    else:
        for p in model.parameters():
            p.requires_grad_(True)
    return model


def _counting_allreduce(log, bucket):  # no annotations: DDP checks them
    """DDP communication hook: note the bucket's bytes, then DDP's own all-reduce (mean).

    (``log`` is a list of ints, ``bucket`` a ``dist.GradBucket``; it returns a Future.)"""
    from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook
    buffer = bucket.buffer()
    log.append(buffer.numel() * buffer.element_size())
    return allreduce_hook(None, bucket)


def _wrap(model: nn.Module, strategy: str, log: list[int]) -> nn.Module:
    if strategy == "ddp":
        from torch.nn.parallel import DistributedDataParallel
        device = next(model.parameters()).device
        wrapped = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        wrapped.register_comm_hook(log, _counting_allreduce)
        return wrapped
    from torch.distributed.fsdp import fully_shard
    inside_lora = {id(m.base) for m in model.modules() if isinstance(m, LoRALinear)}
    for module in list(model.modules()):           # one unit per layer (a LoRA layer with its
        if isinstance(module, LoRALinear) or (     # frozen base), then the root
                isinstance(module, nn.Linear) and id(module) not in inside_lora):
            fully_shard(module)
    fully_shard(model)
    return model


def _full(t: torch.Tensor) -> torch.Tensor:
    """A plain CPU tensor, whether ``t`` is one or an FSDP2 shard (DTensor), on any device."""
    return (t.full_tensor() if hasattr(t, "full_tensor") else t).detach().cpu().clone()


def finetune_shard(model: nn.Module, task: object, config: TrainingConfig, *, steps: int, lr: float,
                   rank: int = 0, world_size: int = 1, strategy: str | None = None
                   ) -> tuple[nn.Module, list[float], int]:
    """Adam with chapter 5's cosine schedule; this rank trains on its share of each minibatch.

    Returns the (wrapped) model, this rank's losses and the gradient bytes averaged per step
    (0 in one process). Every rank draws the same minibatch indices from the seed.
    """
    steps = check_positive_int(steps, "steps")
    if config.batch_size % world_size:
        raise ValueError(f"batch_size {config.batch_size} must be a multiple of world_size {world_size}")
    log: list[int] = []
    model = _wrap(model, strategy, log) if strategy else model
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: cosine_factor(t, steps))
    g = torch.Generator().manual_seed(config.seed + 1002)
    losses, per_step = [], []
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(task.X_train), (config.batch_size,), generator=g)   # (batch,) on the CPU
        mine = idx[rank::world_size].to(task.X_train.device)     # (batch / world,) this rank's share
        loss = kl_loss(model(task.X_train[mine]), task.P_train[mine])
        optimizer.zero_grad(set_to_none=True)
        before = len(log)
        loss.backward()                                           # DDP/FSDP average the gradients here
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        per_step.append(sum(log[before:]))
    if strategy == "fsdp":                                        # reduce-scattered: every gradient, once
        per_step = [sum(_full(p.grad).numel() * p.grad.element_size() for p in params)]
    return model, losses, max(per_step) if per_step else 0


def _trainable(model: nn.Module) -> dict[str, torch.Tensor]:
    inner = model.module if hasattr(model, "module") else model
    return {name: _full(p) for name, p in inner.named_parameters() if p.requires_grad}


def run_local(method: str = "lora", r: int = 4, steps: int = 60, dtype: str = "float32",
              config: TrainingConfig | None = None) -> DistributedResult:
    """The one-process reference: the same run on the full minibatch, no torch.distributed."""
    config = config or small_config(pretrain_steps=PRETRAIN_STEPS)
    base, task = build_problem(config, dtype)
    model = prepare_model(base, config, method, r)
    lr = config.lr_lora if method == "lora" else config.lr_full
    model, losses, _ = finetune_shard(model, task, config, steps=steps, lr=lr)
    weights = _trainable(model)
    return DistributedResult("local", method, r if method == "lora" else None, 1, steps,
                             sum(w.numel() for w in weights.values()), losses, 0, [weights])


def _worker(args: argparse.Namespace) -> None:
    cuda = torch.cuda.is_available()
    if cuda:                                   # one GPU per process: torchrun sets LOCAL_RANK
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))   # "cuda" now means it
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    config = small_config(pretrain_steps=PRETRAIN_STEPS)
    base, task = build_problem(config, args.dtype)
    model = prepare_model(base, config, args.method, args.r)
    lr = config.lr_lora if args.method == "lora" else config.lr_full
    model, losses, grad_bytes = finetune_shard(model, task, config, steps=args.steps, lr=lr,
                                               rank=rank, world_size=world, strategy=args.strategy)
    out = Path(args.out)
    torch.save({"losses": losses, "grad_bytes_per_step": grad_bytes,
                "weights": _trainable(model)}, out / f"rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point for ``torchrun -m lowrank_utils.distributed``: one rank of the run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", choices=STRATEGIES, default="ddp")
    parser.add_argument("--method", choices=METHODS, default="lora")
    parser.add_argument("--lora-r", dest="r", type=int, default=4)   # not --r: torchrun would read it
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--dtype", choices=list(DTYPES), default="float32")
    parser.add_argument("--out", required=True, help="folder for rank<k>.pt")
    args = parser.parse_args(argv)
    _worker(args)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)              # not the interpreter's exit: gloo's threads may abort it (see above)


def launch(out: str | Path, *, strategy: str = "ddp", method: str = "lora", r: int = 4,
           steps: int = 60, nproc: int = 2, dtype: str = "float32",
           timeout: float = 300) -> DistributedResult:
    """Run ``torchrun --standalone --nproc-per-node nproc -m lowrank_utils.distributed`` and read
    its ranks' files. Raises RuntimeError with the processes' output when a rank fails."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    nproc = check_int(nproc, "nproc", low=1, high=64)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc-per-node={nproc}", "-m", "lowrank_utils.distributed",
               f"--strategy={strategy}", f"--method={method}", f"--lora-r={r}", f"--steps={steps}",
               f"--dtype={dtype}", f"--out={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0 or "terminate called" in done.stderr:
        raise RuntimeError(f"torchrun exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    ranks = [torch.load(out / f"rank{k}.pt", weights_only=True) for k in range(nproc)]
    trainable = sum(w.numel() for w in ranks[0]["weights"].values())
    return DistributedResult(strategy, method, r if method == "lora" else None, nproc, steps,
                             trainable, ranks[0]["losses"], ranks[0]["grad_bytes_per_step"],
                             [rank["weights"] for rank in ranks])


if __name__ == "__main__":
    main()
