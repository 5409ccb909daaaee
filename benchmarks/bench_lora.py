"""Benchmark of lowrank_utils.lora against Hugging Face PEFT and full fine-tuning (chapter 4).

One run, one toy model per width: an MLP of ``N_LAYERS`` d×d ``nn.Linear`` layers (ReLU between),
a batch of ``BATCH`` rows, d = 512 and d = 256, LoRA on every layer with r = ``R``.

Measured, side by side in the same process:

- a training step (zero_grad, forward, MSE loss, backward, AdamW step) of
  ``full`` (every weight trainable), ``ours`` (``apply_lora``), ``peft`` (``get_peft_model``),
  and ``ours_dropout`` (``apply_lora`` with LoRA dropout 0.1);
- inference (``torch.inference_mode``) of the ``base`` model, ``ours_merged`` (every LoRA layer
  merged), ``ours_unloaded`` (merged, then ``merge_and_unload``: plain ``nn.Linear`` layers again,
  as PEFT's ``merge_and_unload``) and ``ours_unmerged``.

Method: training steps and inference calls are timed as two separate groups. Within a group the
contenders run in interleaved rounds (in a new random order every round, so that none always
runs in the caches another one left) with a short pause between them; each round times a block of consecutive calls of each contender
(about ``BLOCK_S`` seconds, the number of calls fixed per contender after the warm-up) and keeps
the time per call (``lowrank_utils.runtime.interleaved_times``, the book's one timer). We report
medians over rounds and, for each pair, the median of the per-round ratios (which cancels slow
drifts of the machine). PyTorch runs on one thread (``torch.set_num_threads(1)``): the
machine this was written on has 2 cores shared with other work, and idle threads spinning between
calls distort multi-threaded timings. Speed is claimed only here, never in timed tests.

Run: ``.venv/bin/python benchmarks/bench_lora.py`` (about a minute on one core). Writes
``benchmarks/results/lora_cpu.json``, which chapter 4 reads.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # PEFT must never reach the network

import torch
from torch import nn

from lowrank_utils import apply_lora, count_parameters, merge_and_unload, merge_lora
from lowrank_utils.runtime import interleaved_times, median_ratio

try:
    import peft
except ImportError:  # pragma: no cover - PEFT is a test-only dependency
    peft = None

WIDTHS = (512, 256)      # d: every layer is d × d
N_LAYERS = 4             # number of d × d Linear layers in the toy MLP
BATCH = 64               # rows per step
R, ALPHA = 8, 16         # LoRA rank and scale (scaling = ALPHA / R = 2)
DROPOUT = 0.1            # LoRA dropout of the "ours_dropout" contender
ROUNDS = 41              # interleaved rounds per width
BLOCK_S = 0.04           # each timed block runs a contender back to back for about this long
PAUSE_S = 0.02           # pause between contenders, so one does not heat the caches of the next
THREADS = 1
RESULTS = Path(__file__).with_name("results") / "lora_cpu.json"


def mlp(d: int, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i in range(N_LAYERS):
        layers += [nn.Linear(d, d)] + ([nn.ReLU()] if i < N_LAYERS - 1 else [])
    return nn.Sequential(*layers)


TARGETS = [str(2 * i) for i in range(N_LAYERS)]   # the Linear layers' names in the Sequential


def train_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def inference(model: nn.Module, x: torch.Tensor) -> Callable[[], None]:
    model.eval()

    def run() -> None:
        with torch.inference_mode():
            model(x)

    return run


def contenders(d: int) -> dict[str, tuple[str, Callable[[], None], int]]:
    """name -> (kind, zero-argument call, trainable parameters)."""
    torch.manual_seed(1)
    x, y = torch.randn(BATCH, d), torch.randn(BATCH, d)     # (batch, d)
    base = mlp(d)
    full = copy.deepcopy(base)
    ours = apply_lora(copy.deepcopy(base), TARGETS, r=R, alpha=ALPHA)
    ours_dropout = apply_lora(copy.deepcopy(base), TARGETS, r=R, alpha=ALPHA, dropout=DROPOUT)
    merged = merge_lora(apply_lora(copy.deepcopy(base), TARGETS, r=R, alpha=ALPHA))
    unloaded = merge_and_unload(apply_lora(copy.deepcopy(base), TARGETS, r=R, alpha=ALPHA))
    unmerged = apply_lora(copy.deepcopy(base), TARGETS, r=R, alpha=ALPHA)
    out = {
        "full": ("train", train_step(full, x, y), count_parameters(full, True)),
        "ours": ("train", train_step(ours, x, y), count_parameters(ours, True)),
        "ours_dropout": ("train", train_step(ours_dropout, x, y),
                         count_parameters(ours_dropout, True)),
        "base": ("infer", inference(base, x), 0),
        "ours_merged": ("infer", inference(merged, x), 0),
        "ours_unloaded": ("infer", inference(unloaded, x), 0),
        "ours_unmerged": ("infer", inference(unmerged, x), 0),
    }
    if peft is not None:
        config = peft.LoraConfig(r=R, lora_alpha=ALPHA, target_modules=TARGETS, lora_dropout=0.0)
        theirs = peft.get_peft_model(copy.deepcopy(base), config)
        out["peft"] = ("train", train_step(theirs, x, y), count_parameters(theirs, True))
    return out


def measure(calls: dict[str, Callable[[], None]]) -> dict[str, list[float]]:
    """Seconds per call for each contender, one value per round, interleaved rounds in a new
    random order each round, blocks of about ``BLOCK_S`` seconds, three warm-up calls."""
    return interleaved_times(calls, ROUNDS, block_s=BLOCK_S, pause_s=PAUSE_S, order="shuffle",
                             warmup=3)


RATIOS = [  # (numerator, denominator): < 1 means the numerator is faster
    ("ours", "peft"),
    ("ours", "full"),
    ("peft", "full"),
    ("ours_dropout", "ours"),
    ("ours_merged", "base"),
    ("ours_unloaded", "base"),
    ("ours_unmerged", "base"),
]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> dict:
    torch.set_num_threads(THREADS)
    started = time.perf_counter()
    result: dict = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "peft": getattr(peft, "__version__", None),
        "python": platform.python_version(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "load_average_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "config": {"n_layers": N_LAYERS, "batch": BATCH, "r": R, "alpha": ALPHA,
                   "dropout": DROPOUT, "rounds": ROUNDS, "block_s": BLOCK_S, "pause_s": PAUSE_S,
                   "optimizer": "AdamW", "loss": "MSE"},
        "widths": {},
    }
    for d in WIDTHS:
        setup = contenders(d)
        times: dict[str, list[float]] = {}
        for kind in ("train", "infer"):      # training steps and inference timed as two groups
            times.update(measure({name: call for name, (k, call, _) in setup.items() if k == kind}))
        entry: dict = {"median_ms": {}, "trainable_parameters": {}, "ratios": {}}
        for name, (kind, _, trainable) in setup.items():
            entry["median_ms"][name] = 1e3 * statistics.median(times[name])
            if kind == "train":
                entry["trainable_parameters"][name] = trainable
        for a, b in RATIOS:
            if a in times and b in times:
                entry["ratios"][f"{a}/{b}"] = median_ratio(times, a, b)
        result["widths"][str(d)] = entry
    result["wall_s"] = time.perf_counter() - started
    return result


def print_table(result: dict) -> None:
    print(f"torch {result['torch']}, peft {result['peft']}, {result['cpu']}, "
          f"{result['threads']} thread(s), batch {result['config']['batch']}, "
          f"{result['config']['n_layers']} layers, r = {result['config']['r']}")
    for d, entry in result["widths"].items():
        print(f"\nd = {d}")
        for name, ms in entry["median_ms"].items():
            trainable = entry["trainable_parameters"].get(name)
            extra = f"   trainable {trainable:>10,}" if trainable is not None else ""
            print(f"  {name:<15} {ms:8.3f} ms{extra}")
        for key, ratio in entry["ratios"].items():
            print(f"  {key:<22} {ratio['median']:.3f}  (IQR {ratio['q1']:.3f}–{ratio['q3']:.3f})")
    print(f"\nwall time {result['wall_s']:.0f} s")


if __name__ == "__main__":
    result = main()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_table(result)
    print(f"wrote {RESULTS}")
