"""LoRA, the low-rank adaptation of a frozen linear layer (chapters 4-5).

A frozen weight W₀ (out × in) is adapted by a trainable low-rank update::

    W = W₀ + scaling · B A,   B: out × r (starts at zero),   A: r × in (random),
    scaling = alpha / r        (or alpha / sqrt(r) with ``rslora=True``)

The paper calls ΔW = B A the update and writes the scale separately; ``delta_weight()`` returns
the scaled update scaling · B A, as PEFT's ``get_delta_weight`` does.

Convention. We follow the paper and the reference codebases (loralib, Hugging Face PEFT):
``lora_A`` has shape (r, in_features) and ``lora_B`` has shape (out_features, r), so that
ΔW = B @ A has the shape of ``nn.Linear.weight`` (out, in). A row vector x is mapped to
``x @ W.T``; the adapter adds ``scaling · x @ A.T @ B.T``. (Codebases that write ``x @ A @ B``
store the transposes of these matrices under the same names; chapter 4 has a crosswalk.)

Names in the book: ``LoRALinear``, ``apply_lora``, ``count_parameters``, ``merge_lora``,
``unmerge_lora``, ``merge_and_unload``. Saving and loading adapters (with their configuration,
and in Hugging Face PEFT's format) is ``adapters``; the device helper, ``get_device``, ``runtime``.

References:
    Hu, Shen, Wallis, Allen-Zhu, Li, Wang, Wang & Chen (2021), "LoRA: Low-Rank Adaptation of
    Large Language Models", arXiv:2106.09685 (and microsoft/LoRA, ``loralib``).
    Kalajdzievski (2023), "A Rank Stabilization Scaling Factor for Fine-Tuning with LoRA"
    (rsLoRA, arXiv:2312.03732).
    Hugging Face PEFT, ``peft.tuners.lora`` (initialisation, target-module matching, merging).
"""
from __future__ import annotations

import math
from typing import Iterable, Iterator

import torch
from torch import nn

from ._validate import check_bool, check_positive_int, check_positive_number, check_real

__all__ = [
    "LoRALinear",
    "apply_lora",
    "count_parameters",
    "lora_layers",
    "merge_lora",
    "unmerge_lora",
    "merge_and_unload",
]

def _check_dropout(dropout: object) -> float:
    return check_real(dropout, "dropout", low=0.0, high=1.0, high_open=True)


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` (kept as ``.base``) plus a trainable rank-r update scaling · B A.

    Args:
        base: the layer to adapt; its weight and bias are frozen (``requires_grad = False``).
        r: the rank of the update, an integer >= 1.
        alpha: the LoRA scale; the update is multiplied by ``alpha / r``. Default ``None`` means
            alpha = r, so scaling = 1 (with ``rslora``, scaling = sqrt(r)).
        dropout: probability of dropping entries of the input of the LoRA path (not of the base
            path), in [0, 1). 0 uses no dropout module at all.
        rslora: use rsLoRA's scaling alpha / sqrt(r) instead of alpha / r.

    ``lora_A`` (r × in_features) is initialised like loralib and PEFT's default (Kaiming-uniform
    with a = sqrt(5), the initialisation of ``nn.Linear``: uniform on ±1/sqrt(in_features); the
    paper draws A from a Gaussian), ``lora_B`` (out_features × r) with zeros, so
    the adapted layer computes exactly what the base layer computes until B is trained. Both take
    the dtype and device of ``base.weight``.

    ``merge()`` folds scaling · B A into ``base.weight`` (no extra work at inference);
    ``unmerge()`` subtracts it again. Nothing can add ΔW twice:

    - a second ``merge()`` does nothing (and so does ``unmerge()`` on an unmerged layer);
    - the merged state is a buffer, ``lora_merged``, saved in ``state_dict()`` with the weights: a
      merged model's state loaded into a freshly adapted one makes it merged too;
    - ``merge()`` keeps a copy of the A and B it folded in (r·(in + out) numbers), and
      ``unmerge()`` subtracts exactly that update, even if ``lora_A`` or ``lora_B`` were edited
      while merged;
    - while merged, ``forward`` is the base layer alone; a backward pass that would train A and B
      raises "unmerge before training" instead of failing with a riddle.

    Used in chapter 4 (the layer, merging, the comparison with PEFT) and chapter 5 (training).
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float | None = None, dropout: float = 0.0,
                 *, rslora: bool = False):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base must be a torch.nn.Linear layer, got {type(base).__name__}")
        self.r = check_positive_int(r, "r")
        self.alpha = float(self.r) if alpha is None else check_positive_number(alpha, "alpha")
        self.rslora = check_bool(rslora, "rslora")
        self.scaling = self.alpha / (math.sqrt(self.r) if self.rslora else self.r)
        p = _check_dropout(dropout)
        self.base = base
        for param in self.base.parameters():
            param.requires_grad_(False)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.lora_dropout: nn.Module = nn.Dropout(p) if p > 0 else nn.Identity()
        factory = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Parameter(torch.empty(self.r, self.in_features, **factory))   # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(self.out_features, self.r, **factory))  # (out, r)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        # The merged state travels with the weights (state_dict); the A and B folded into
        # base.weight are kept (not saved) so that unmerge() subtracts exactly what merge() added.
        self.register_buffer("lora_merged", torch.zeros((), dtype=torch.bool, device=factory["device"]))
        self.register_buffer("merged_A", None, persistent=False)                   # (r, in)
        self.register_buffer("merged_B", None, persistent=False)                   # (out, r)
        self._merged = False                   # mirrors lora_merged (which may live on a GPU)
        self.register_load_state_dict_post_hook(_after_load)

    @property
    def merged(self) -> bool:
        """True while scaling · B A lives in ``base.weight`` (the buffer ``lora_merged``)."""
        return self._merged

    def delta_weight(self) -> torch.Tensor:
        """The scaled update scaling · B @ A that ``merge()`` adds; shape (out, in) like the weight.

        Like PEFT's ``get_delta_weight``, it includes the scale; the paper's ΔW = B A does not.
        """
        return self.scaling * (self.lora_B @ self.lora_A)   # (out, r) @ (r, in) -> (out, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """base(x) + scaling · dropout(x) @ Aᵀ @ Bᵀ for x of shape (..., in_features)."""
        y = self.base(x)                                      # (..., out)
        if self.merged:                                       # ΔW already lives in base.weight
            if torch.is_grad_enabled() and (self.lora_A.requires_grad or self.lora_B.requires_grad):
                y = y + _MergedGuard.apply(self.lora_A, self.lora_B)   # + 0, raises in backward
            return y
        h = self.lora_dropout(x) @ self.lora_A.T              # (..., in) @ (in, r) -> (..., r)
        h = h * self.scaling                                  # scale the narrow (..., r) tensor
        return y + h @ self.lora_B.T                          # (..., r) @ (r, out) -> (..., out)

    @torch.no_grad()
    def merge(self) -> None:
        """Add scaling · B A into ``base.weight`` once; afterwards forward is one matmul."""
        if self.merged:
            return
        A, B = self.lora_A.detach().clone(), self.lora_B.detach().clone()
        self.base.weight += (self.scaling * (B @ A)).to(self.base.weight.dtype)   # (out, in)
        self.merged_A, self.merged_B = A, B
        self.lora_merged.fill_(True)
        self._merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Subtract from ``base.weight`` exactly the update ``merge()`` added (up to rounding)."""
        if not self.merged:
            return
        A, B = self.merged_A, self.merged_B
        self.base.weight -= (self.scaling * (B @ A)).to(self.base.weight.dtype)   # (out, in)
        self.merged_A = self.merged_B = None
        self.lora_merged.fill_(False)
        self._merged = False

    def extra_repr(self) -> str:
        scale = "alpha/sqrt(r)" if self.rslora else "alpha/r"
        return (f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}, "
                f"alpha={self.alpha:g}, scaling={self.scaling:g} ({scale}), merged={self.merged}")


class _MergedGuard(torch.autograd.Function):
    """Adds 0 to a merged layer's output; its backward says what went wrong."""

    @staticmethod
    def forward(ctx, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return A.new_zeros(())

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        raise RuntimeError("a merged LoRA layer was trained: its update lives in base.weight, "
                           "so lora_A and lora_B get no gradient. Unmerge before training "
                           "(layer.unmerge() or unmerge_lora(model)).")


def _after_load(module: "LoRALinear", incompatible: object) -> None:
    """After ``load_state_dict``: a merged layer's folded update is the A and B just loaded."""
    with torch.no_grad():
        module._merged = bool(module.lora_merged)
        if module.merged:
            module.merged_A = module.lora_A.detach().clone()
            module.merged_B = module.lora_B.detach().clone()
        else:
            module.merged_A = module.merged_B = None


def _target_names(target_modules: object) -> list[str]:
    if isinstance(target_modules, str):
        target_modules = [target_modules]
    try:
        names = list(target_modules)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError("target_modules must be a list of module names (strings), "
                        f"got {type(target_modules).__name__}") from None
    if not names:
        raise ValueError("target_modules must name at least one module, got an empty list")
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"target_modules must hold non-empty strings, got {name!r}")
    return names


def _matches(qualified_name: str, entry: str) -> bool:
    """PEFT's rule for a list of names: the name equals the entry or ends with '.' + entry."""
    return qualified_name == entry or qualified_name.endswith("." + entry)


def apply_lora(model: nn.Module, target_modules: Iterable[str] | str, r: int,
               alpha: float | None = None, dropout: float = 0.0, *,
               rslora: bool = False) -> nn.Module:
    """Wrap the targeted ``nn.Linear`` layers of ``model`` in ``LoRALinear``, in place.

    A layer is targeted when its name, as ``model.named_modules()`` gives it (for example
    ``"blocks.0.attn.q"``), equals an entry of ``target_modules`` or ends with ``"." + entry``
    (``"q"`` or ``"attn.q"`` both match it, ``"attn"`` does not match ``"blocks.0.attn.q"``).
    This is Hugging Face PEFT's rule for a list of names; unlike PEFT, a single string is one
    name, not a regular expression. Every parameter outside the LoRA matrices is frozen
    (``lora_A`` and ``lora_B`` of every ``LoRALinear`` in the model stay trainable).

    Raises ValueError naming the entries that match no module, and TypeError when a matched
    module is not an ``nn.Linear`` (or is already a ``LoRALinear``). Returns ``model``.
    Used in chapter 4 (parameter counts, PEFT comparison) and chapter 5 (training).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = _target_names(target_modules)
    r = check_positive_int(r, "r")
    alpha = None if alpha is None else check_positive_number(alpha, "alpha")
    dropout = _check_dropout(dropout)
    rslora = check_bool(rslora, "rslora")

    hits: dict[str, nn.Module] = {}
    used: set[str] = set()
    for qualified, module in model.named_modules():
        matched = [entry for entry in names if _matches(qualified, entry)]
        if matched:
            used.update(matched)
            hits[qualified] = module
    unmatched = [entry for entry in names if entry not in used]
    if unmatched:
        raise ValueError(f"target_modules entries {unmatched} match no module of the model; "
                         "names are as model.named_modules() gives them, e.g. "
                         f"{[n for n, _ in model.named_modules() if n][:6]}")
    for qualified, module in hits.items():
        parent_name = qualified.rpartition(".")[0]
        parent = model.get_submodule(parent_name) if parent_name else model
        if isinstance(parent, nn.MultiheadAttention):
            raise TypeError(f"module {qualified!r} is the output projection of an "
                            "nn.MultiheadAttention, which reads its .weight directly instead of "
                            "calling it, so a LoRA wrapper would never run there. Adapt a model "
                            "whose attention calls its projections (nn.Linear layers), or leave "
                            f"{qualified!r} out of target_modules")
        if isinstance(module, LoRALinear) or isinstance(parent, LoRALinear):
            raise TypeError(f"module {qualified!r} is already a LoRALinear or part of one "
                            "(apply_lora twice on the same layer?)")
        if not isinstance(module, nn.Linear):
            raise TypeError(f"module {qualified!r} matched target_modules but is a "
                            f"{type(module).__name__}, not an nn.Linear")

    for param in model.parameters():
        param.requires_grad_(False)
    for qualified, module in hits.items():
        parent_name, _, child = qualified.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(module, r, alpha, dropout, rslora=rslora))
    for _, layer in lora_layers(model):   # adapters added by an earlier call stay trainable
        layer.lora_A.requires_grad_(True)
        layer.lora_B.requires_grad_(True)
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (shared ones counted once); only trainable if asked.

    Used in chapters 4-5 to compare full fine-tuning with LoRA.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    trainable_only = check_bool(trainable_only, "trainable_only")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def lora_layers(model: nn.Module) -> Iterator[tuple[str, LoRALinear]]:
    """(name, layer) for every ``LoRALinear`` in ``model``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, module in model.named_modules():
        if isinstance(module, LoRALinear):
            yield name, module


def merge_lora(model: nn.Module) -> nn.Module:
    """``merge()`` every LoRA layer of ``model`` in place; returns ``model``. Used in chapter 5."""
    for _, layer in lora_layers(model):
        layer.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    """``unmerge()`` every LoRA layer of ``model`` in place; returns ``model``."""
    for _, layer in lora_layers(model):
        layer.unmerge()
    return model


def merge_and_unload(model: nn.Module) -> nn.Module:
    """Merge every LoRA layer and put its base ``nn.Linear`` back in its place, in place.

    Like PEFT's ``merge_and_unload``: the result has no ``LoRALinear`` left, only plain
    ``nn.Linear`` layers holding W₀ + scaling · B A, so inference runs at the base model's speed
    (no extra module call per layer). The adapters are gone: keep ``lora_state_dict(model)``
    first if you need them again. Returns ``model`` (or the base layer, if ``model`` itself is a
    ``LoRALinear``). Used in chapters 4-5 and ``benchmarks/bench_lora.py``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(model, LoRALinear):
        model.merge()
        return model.base
    for qualified, layer in list(lora_layers(model)):
        layer.merge()
        parent_name, _, child = qualified.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, layer.base)
    return model
