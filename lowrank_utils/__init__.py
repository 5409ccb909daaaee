"""lowrank_utils: the shared code of the course book "From Rank to LoRA / 從矩陣的秩到 LoRA".

Two layers, one module per concern. The **core** never imports a view (nor ipywidgets):

- ``_validate``   the one set of input checks (one rule per kind of argument)    (everywhere)
- ``linalg``      rank, SVD, best low-rank approximation, randomized SVD         (chapters 1-3)
- ``competitors`` random, greedy and ALS rank-k rivals of the truncated SVD     (chapter 3)
- ``images``      the photograph, PSNR, colour, the image SVD cache (ImageSVD)   (chapter 3)
- ``budget``      model shapes, LoRA parameter and memory counts (no torch)      (chapters 4-5)
- ``lora``        LoRALinear, apply_lora, merge / unmerge / merge_and_unload     (chapters 4-5)
- ``adapters``    adapters saved with their configuration; PEFT's format         (chapters 4-5)
- ``runtime``     device, seeding, thread limits, the one interleaved timer      (chapters 4-5)
- ``experiment``  chapter 5: config, data and tasks, the loop, analysis          (chapter 5)
- ``text_data``   three texts every Python ships (pydoc, stdlib source, Unicode names) (ch. 5)
- ``tiny_lm``     a tiny byte-level transformer, its loop, the shipped checkpoint (chapter 5)
- ``updates``     an update's effective rank against random, intruder dimensions (chapter 5)
- ``lm_experiment`` chapter 5's evidence: fine-tuning the tiny model, full and LoRA (chapter 5)
- ``distributed`` chapter 5's fine-tuning under DDP / FSDP2 with torchrun       (appendix A)
- ``results``     reading and writing every measured result (benchmarks/results) (chapters 3-5)
- ``report``      the one table renderer (HTML and Markdown, both languages)     (chapters 3-5)

The **views** sit on top and import the core, never the reverse:

- ``plotting``    the book's figure style, Chinese font, shared figures         (all chapters)
- ``widgets``     ipywidgets explorers whose computations live in the core       (chapters 1-5)
- ``exercises``   self-checking exercises with bilingual feedback               (all chapters)

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
    "get_device": "runtime",
    "merge_and_unload": "lora",
    "lora_state_dict": "adapters",
    "load_lora_state_dict": "adapters",
    "save_peft_adapter": "adapters",
    "load_peft_adapter": "adapters",
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
