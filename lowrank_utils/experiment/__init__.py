"""Chapter 5's experiment, in the order the chapter runs it (all names importable from here)::

    config = default_config()                    # small on a CPU, full on a GPU, same code path
    tasks = make_tasks(config)                   # teacher A, task A data, the planted update ΔW*
    base = build_model(config)
    pretrain(base, tasks.task_a, config)         # the "pre-trained model" W₀
    task_b, delta_star = make_task_b(tasks, base)   # labelled by W₀ + ΔW*, rank r* + noise
    full = finetune_full(base, task_b, config)   # every parameter trains
    lora = finetune_lora(base, task_b, config, r=4)   # W₀ frozen, only B and A train

Modules: ``config`` (the frozen configuration and its presets), ``data`` (the MLP, the tasks and
ΔW*), ``loop`` (the one training loop and the runs built on it), ``analysis`` (what the runs
learned), ``study`` (the truncation widget's data, no torch). ``run_experiment(config)`` does it
all in one call (``benchmarks/gpu_run.py``). Names load on first use: ``study`` and ``config``
never import torch.

References:
    Hu et al. (2021), "LoRA: Low-Rank Adaptation of Large Language Models", arXiv:2106.09685
    (Sec. 7.2 defines the subspace similarity φ implemented in ``subspace_similarity``).
    Biderman et al. (2024), "LoRA Learns Less and Forgets Less", arXiv:2405.09673.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_MODULES = ("config", "data", "loop", "analysis", "study")
_NAMES = {
    "config": ("LAYERS", "MAX_SIZE", "TrainingConfig", "as_config", "small_config", "full_config",
               "PRESET_ENV", "default_config"),
    "data": ("MLP", "Task", "Tasks", "build_model", "make_teacher", "make_task", "make_tasks",
             "unit_sensitivity", "plant_update", "seeded", "base_weight", "make_task_b",
             "with_update"),
    "loop": ("autocast_dtype", "kl_loss", "cosine_factor", "evaluate", "training_memory_bytes", "RunResult",
             "train", "pretrain", "finetune_full", "finetune_lora", "Experiment",
             "run_experiment"),
    "analysis": ("delta_weights", "relative_error", "output_error", "subspace_similarity",
                 "subspace_similarity_grid", "forgetting", "update_losses", "truncation_losses",
                 "truncation_study", "merge_and_check", "inference_times", "summary_rows"),
    "study": ("TruncationStudy",),
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'lowrank_utils.experiment' has no attribute {name!r}")
