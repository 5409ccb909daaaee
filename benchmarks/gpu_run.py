"""Chapter 5 on a GPU: the full configuration once, and the speed-up over the CPU (one script).

What it runs, all with the functions of ``lowrank_utils.experiment`` (the chapter's own code):

1. ``full_config()`` on the GPU: pre-training on task A, the planted update ΔW*, full
   fine-tuning and LoRA at every rank of the preset. Recorded per run: trainable parameters,
   final loss and accuracy on task B, time per step, samples per second, peak GPU memory, and how
   close the learned update is to ΔW* (relative error per adapted layer).
2. The speed-up on the same problem: ``small_config()`` (the chapter's CPU preset) fine-tuned on
   the CPU and on the GPU, and a short timing-only run of the full-size model on the CPU (the
   chapter's pre-training is skipped there: a step costs the same on an untrained model).
   Speed-up = CPU time per step / GPU time per step, for full fine-tuning and for LoRA at r*.
3. The evidence part of chapter 5 at ``lm_full_config()`` (2,000 steps of 64 windows): the
   pre-trained ``TinyLM`` fine-tuned on the standard library's source, full and with LoRA on
   q, v at every rank and on every projection at r = 8 (``lm_experiment.finetune_lm``). Recorded
   per run: trainable parameters, held-out loss on the new and on the pre-training text, time
   per step, peak memory; for full fine-tuning's update of each W_q and W_v, its effective
   ranks (90 %, 99 %) against a random matrix; the intruder dimensions of each method.

The result goes to ``benchmarks/results/gpu_<date>.json`` with the hardware, the torch / CUDA
versions and the date; chapter 5 shows it as a table labelled as measured there.

Run on a machine with a CUDA GPU:      python benchmarks/gpu_run.py
Exercise the script without a GPU:     python benchmarks/gpu_run.py --dry-run [--out DIR]
(a tiny configuration on the CPU, written to a temporary folder and marked "dry_run": the book
ignores such files; tests/test_gpu_run.py runs it this way).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

from lowrank_utils.experiment import (
    RunResult,
    TrainingConfig,
    build_model,
    delta_weights,
    finetune_full,
    finetune_lora,
    full_config,
    make_task_b,
    make_tasks,
    pretrain,
    relative_error,
    run_experiment,
    small_config,
)
from lowrank_utils.lm_experiment import (LMConfig, LMRun, finetune_lm, lm_full_config,
                                         lm_small_config, weight_matrices, weight_updates)
from lowrank_utils.results import RESULTS_DIR, write_gpu_result
from lowrank_utils.tiny_lm import LORA_TARGETS_ALL, load_tiny_lm
from lowrank_utils.updates import effective_ranks, intruder_dimensions

MIB = 2**20
FULL_SIZE_CPU_STEPS = 40      # timing-only steps of the full-size model on the CPU


def _dry_config(device: str) -> TrainingConfig:
    """A tiny version of the small preset: seconds on a CPU, every code path still taken."""
    return small_config(name="dry-run", device=device, n_train=512, n_eval=256,
                        pretrain_steps=20, finetune_steps=15, eval_every=5, warmup_steps=2,
                        ranks=(1, 4, 8))


def _run_row(run: RunResult) -> dict[str, object]:
    return {
        "method": run.method,
        "r": run.r,
        "trainable": run.trainable,
        "loss": run.final["loss"],
        "accuracy": run.final["accuracy"],
        "time_per_step_ms": 1e3 * run.time_per_step,
        "samples_per_s": run.samples_per_s,
        "memory_mib": run.memory_bytes / MIB,
        "memory_kind": run.memory_kind,
        "device": run.device,
    }


def _speed(config: TrainingConfig, pretrained: bool = True) -> dict[str, dict[str, object]]:
    """Full fine-tuning and LoRA at r* on ``config`` (its device); the two runs' rows."""
    tasks = make_tasks(config)
    base = build_model(config)
    if pretrained:
        pretrain(base, tasks.task_a, config)
    task_b, _ = make_task_b(tasks, base)
    return {"full": _run_row(finetune_full(base, task_b, config)),
            "lora": _run_row(finetune_lora(base, task_b, config, config.true_rank))}


def _lm_row(run: LMRun) -> dict[str, object]:
    return {"label": run.label, "method": run.method, "r": run.r, "targets": list(run.targets),
            "trainable": run.trainable, "new_loss": run.new_loss, "old_loss": run.old_loss,
            "time_per_step_ms": 1e3 * run.time_per_step, "memory_mib": run.memory_bytes / MIB,
            "memory_kind": run.memory_kind, "device": run.device}


def _tiny_lm(config: LMConfig) -> dict[str, object]:
    """Chapter 5's evidence at ``config``: the runs, full fine-tuning's spectra, intruders."""
    base = load_tiny_lm(config.torch_device())[0]
    full = finetune_lm(base, config)
    lora = {r: finetune_lm(base, config, r=r) for r in config.ranks}
    every = finetune_lm(base, config, r=8, targets=LORA_TARGETS_ALL, label="LoRA every projection r=8")
    W0 = weight_matrices(base)
    qv = [n for n in W0 if n.rsplit(".", 1)[-1] in config.targets]
    spectra = {}
    for n, D in weight_updates(full.model, base, qv).items():
        ranks = effective_ranks(D, seed=config.seed)
        spectra[n] = {"update": list(ranks.update), "random": list(ranks.random), "size": ranks.size}
    assert 8 in lora, "the chapter compares the intruders of LoRA at r = 8"
    intruders = {label: {n: intruder_dimensions(W0[n], weight_matrices(run.model)[n]).count for n in qv}
                 for label, run in [("full", full), ("lora_8", lora[8]),
                                    (f"lora_{max(lora)}", lora[max(lora)])]}
    return {"config": dataclasses.asdict(config), "runs": [_lm_row(full)] + [_lm_row(lora[r]) for r in sorted(lora)] + [_lm_row(every)],
            "effective_ranks_full": spectra, "intruders_top10_threshold_0.5": intruders}


def _ratios(cpu: dict, gpu: dict) -> dict[str, float]:
    return {m: cpu[m]["time_per_step_ms"] / gpu[m]["time_per_step_ms"] for m in ("full", "lora")}


def _hardware(device: torch.device) -> dict[str, object]:
    info: dict[str, object] = {"device": str(device),
                               "cpu": platform.processor() or platform.machine(),
                               "cpu_count": os.cpu_count()}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=torch.cuda.get_device_name(device),
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    bf16=bool(torch.cuda.is_bf16_supported()))
    return info


def main(argv: list[str] | None = None) -> Path:
    """Run the benchmark; return the path of the JSON file written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="tiny configuration on the CPU, to exercise the script without a GPU")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the JSON file (default: benchmarks/results, or a "
                             "temporary folder with --dry-run)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    now = dt.datetime.now(dt.timezone.utc)
    if args.dry_run:
        device = torch.device("cpu")
        config = _dry_config("cpu")
        small_gpu, small_cpu = _dry_config("cpu"), _dry_config("cpu")
        out = args.out or Path(tempfile.mkdtemp(prefix="gpu_run_dry_"))
    else:
        if not torch.cuda.is_available():
            sys.exit("No CUDA GPU found. Run this on a GPU machine, or use --dry-run to "
                     "exercise the script on the CPU.")
        device = torch.device("cuda")
        config = full_config(device="cuda")
        assert config.true_rank in config.ranks, "the speed-up compares LoRA at r*"
        small_gpu, small_cpu = small_config(device="cuda"), small_config(device="cpu")
        out = args.out or RESULTS_DIR

    print(f"[1/4] {config.name} configuration on {device} …", flush=True)
    ex = run_experiment(config)
    runs = [_run_row(ex.full)] + [_run_row(ex.lora[r]) for r in sorted(ex.lora)]
    recovery = {}
    for r, run in sorted(ex.lora.items()):
        D = delta_weights(run.model, ex.base, config.target_modules)
        recovery[str(r)] = {name: relative_error(D[name], ex.delta_star[name]) for name in D}
    D_full = delta_weights(ex.full.model, ex.base, config.target_modules)
    recovery["full"] = {name: relative_error(D_full[name], ex.delta_star[name]) for name in D_full}

    print("[2/4] small configuration on the CPU and on the GPU …", flush=True)
    gpu_small = _speed(small_gpu)
    cpu_small = _speed(small_cpu)

    print("[3/4] full-size timing on the CPU …", flush=True)
    if args.dry_run:
        cpu_full = _speed(_dry_config("cpu"), pretrained=False)
    else:
        cpu_cfg = full_config(device="cpu", n_train=16_384, n_eval=2048, eval_every=10_000,
                              pretrain_steps=FULL_SIZE_CPU_STEPS,
                              finetune_steps=FULL_SIZE_CPU_STEPS, warmup_steps=5,
                              cpu_threads=None)
        cpu_full = _speed(cpu_cfg, pretrained=False)
    gpu_full = {"full": runs[0], "lora": _run_row(ex.lora[config.true_rank])}

    print("[4/4] the pre-trained tiny language model, fine-tuned …", flush=True)
    lm_config = (lm_small_config(name="dry-run", steps=3, warmup=1, batch_size=4, eval_windows=4,
                                 ranks=(1, 8), threads=1, device="cpu")
                 if args.dry_run else lm_full_config(device="cuda"))
    tiny_lm = _tiny_lm(lm_config)

    result = {
        "date": now.isoformat(timespec="seconds"),
        "dry_run": bool(args.dry_run),
        "hardware": _hardware(device),
        "software": {"torch": torch.__version__, "cuda": torch.version.cuda,
                     "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
                     "python": platform.python_version(),
                     "autocast": "bf16" if (device.type == "cuda" and config.amp
                                            and torch.cuda.is_bf16_supported()) else "none"},
        "config": dataclasses.asdict(config),
        "pretrain": _run_row(ex.pretrain),
        "runs": runs,
        "relative_error_to_planted_update": recovery,
        "speedup_small": {"config": dataclasses.asdict(small_gpu), "cpu": cpu_small,
                          "gpu": gpu_small, "speedup": _ratios(cpu_small, gpu_small),
                          "note": "GPU steps in bf16 autocast (where supported) against CPU steps "
                                  f"in float32 on {small_cpu.cpu_threads or 'all'} CPU thread(s): "
                                  "a comparison of set-ups, not of equal arithmetic"},
        "speedup_full_size": {"cpu_steps": FULL_SIZE_CPU_STEPS, "cpu": cpu_full, "gpu": gpu_full,
                              "speedup": _ratios(cpu_full, gpu_full),
                              "note": "GPU steps in bf16 autocast (where supported) against CPU "
                                      "steps in float32 on all CPU threads"},
        "tiny_lm": tiny_lm,
        "seconds": time.perf_counter() - started,
    }
    path = write_gpu_result(result, out)
    print(f"wrote {path} in {result['seconds']:.0f} s")
    return path


if __name__ == "__main__":
    main()
