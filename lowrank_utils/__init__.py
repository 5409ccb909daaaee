"""lowrank_utils: the shared code of the course book "From Rank to LoRA / 從矩陣的秩到 LoRA".

One module per concern:

- ``linalg``     rank, SVD, best low-rank approximation, randomized SVD      (chapters 1-3)
- ``plotting``   the book's figure style, Chinese font, shared figures       (all chapters)
- ``images``     the shipped photograph, PSNR, colour channel by channel     (chapter 3)
- ``competitors`` random, greedy and ALS rank-k rivals of the truncated SVD  (chapter 3)
- ``exercises``  self-checking exercises with bilingual feedback             (all chapters)
- ``widgets``    ipywidgets explorers whose update functions are testable    (chapters 1-5)
- ``lora``       LoRALinear, apply_lora, count_parameters, get_device        (chapters 4-5)
- ``training``   the planted-rank experiment: config presets, training loop   (chapter 5)
- ``results``    the measured numbers the book quotes (benchmarks/results)   (chapters 3-5)

The PyTorch names are imported lazily, so chapters 1-3 never pay for importing torch.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from .linalg import (
    approximation_error,
    best_rank_k,
    break_even_rank,
    compression_ratio,
    default_tolerance,
    energy_retained,
    four_subspaces,
    k_for_energy,
    numerical_rank,
    randomized_svd,
    rank_factorization,
    storage_cost,
    truncated_svd,
)

# Public names that live in modules importing torch: name -> module.
_LAZY = {
    "LoRALinear": "lora",
    "apply_lora": "lora",
    "count_parameters": "lora",
    "get_device": "lora",
    "lora_state_dict": "lora",
    "load_lora_state_dict": "lora",
    "merge_lora": "lora",
    "unmerge_lora": "lora",
}

__all__ = [
    "approximation_error",
    "best_rank_k",
    "break_even_rank",
    "compression_ratio",
    "default_tolerance",
    "energy_retained",
    "four_subspaces",
    "k_for_energy",
    "numerical_rank",
    "randomized_svd",
    "rank_factorization",
    "storage_cost",
    "truncated_svd",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'lowrank_utils' has no attribute {name!r}")
