"""The data of chapter 5's truncation widget, without torch: ``experiment.truncation_study``
builds it from a finished run, ``widgets.training`` draws it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import as_singular_values, check_int

__all__ = ["TruncationStudy"]


@dataclass(frozen=True)
class TruncationStudy:
    """Loss of W₀ + (ΔW_full)_k for k = 1..K, with what is needed to draw it."""

    ks: np.ndarray                          # (K,) the ranks 1, 2, …, K
    losses: np.ndarray                      # (K,) held-out loss with the best rank-k ΔW per layer
    spectra: dict[str, np.ndarray]          # layer -> σ of the full fine-tuning ΔW, descending
    r_star: int                             # the planted rank r*
    base_loss: float                        # loss of the pre-trained model (k = 0)
    full_loss: float                        # loss after full fine-tuning
    lora_losses: dict[int, float] = field(default_factory=dict)   # rank -> loss of the LoRA run

    def __post_init__(self) -> None:
        ks = np.asarray(self.ks)
        if ks.ndim != 1 or ks.size == 0 or not np.array_equal(ks, np.arange(1, ks.size + 1)):
            raise ValueError("ks must be 1, 2, …, K")
        if np.shape(self.losses) != ks.shape or not np.all(np.isfinite(self.losses)):
            raise ValueError(f"losses must hold {ks.size} finite numbers, one per k")
        if not self.spectra:
            raise ValueError("spectra must name at least one layer")
        for name, s in self.spectra.items():
            s = as_singular_values(s, f"spectra[{name!r}]")
            if s.size < ks.size:
                raise ValueError(f"spectra[{name!r}] has {s.size} values, fewer than K = {ks.size}")
        check_int(self.r_star, "r_star", low=1)
