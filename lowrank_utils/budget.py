"""Budgets without torch: the weight shapes of real transformers, and what LoRA trains and stores.

``lora_parameter_count`` is the one formula (r·(d_out + d_in) per adapted matrix; chapter 3's
image stores k·(m + n + 1) numbers for a rank-k image: the same count plus the k singular values);
``lora_budget`` applies it to a model preset (layers, widths, which matrices, r). The counts come
from the shapes alone, so they work for models far too large to build (GPT-3 175B).
``lowrank_utils.count_parameters`` counts a model that exists; chapter 4 checks that both agree.

Used in chapter 4 (parameter and memory counts) and by its calculator widget
(``widgets.lora``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ._validate import check_positive_int

__all__ = [
    "ATTENTION",
    "TARGET_CHOICES",
    "ModelShape",
    "MODEL_PRESETS",
    "model_shape",
    "LoRABudget",
    "FP16_BYTES",
    "ADAM_BYTES",
    "lora_parameter_count",
    "lora_budget",
    "mlp_shapes",
    "TRAINABLE_BYTES",
    "FROZEN_BYTES",
    "RankMemory",
    "per_rank_memory",
]

ATTENTION = ("W_q", "W_k", "W_v", "W_o")
TARGET_CHOICES = (*ATTENTION, "MLP")    # "MLP" stands for every matrix of the feed-forward block


@dataclass(frozen=True)
class ModelShape:
    """The weight shapes of a decoder-only transformer, per layer, as (d_out, d_in) pairs.

    ``other`` counts every parameter outside the per-layer matrices (token and position
    embeddings, output head, biases, normalisation weights), so that ``total`` is the model's size.
    """

    name: str
    n_layers: int                                   # transformer blocks
    d_model: int                                    # width of the residual stream
    attention: Mapping[str, tuple[int, int]]        # W_q, W_k, W_v, W_o -> (d_out, d_in)
    mlp: Mapping[str, tuple[int, int]]              # the feed-forward matrices -> (d_out, d_in)
    other: int                                      # parameters outside those matrices
    source: str = ""                                # where the shapes come from

    @property
    def matrices(self) -> dict[str, tuple[int, int]]:
        return {**self.attention, **self.mlp}

    @property
    def total(self) -> int:
        """All parameters: what full fine-tuning trains."""
        per_layer = sum(d_out * d_in for d_out, d_in in self.matrices.values())
        return self.n_layers * per_layer + self.other


def _gpt(name: str, n_layers: int, d: int, vocab: int, context: int, source: str) -> ModelShape:
    """GPT-2 / GPT-3 blocks: 4 d×d attention matrices, an MLP d -> 4d -> d, biases, 2 LayerNorms."""
    biases_and_norms = 4 * d + (4 * d + d) + 2 * 2 * d           # attention, MLP, two LayerNorms
    other = n_layers * biases_and_norms + vocab * d + context * d + 2 * d   # + embeddings, final LN
    return ModelShape(name, n_layers, d, {m: (d, d) for m in ATTENTION},
                      {"W_up": (4 * d, d), "W_down": (d, 4 * d)}, other, source)


def _llama(name: str, n_layers: int, d: int, d_ff: int, vocab: int, source: str) -> ModelShape:
    """Llama blocks: 4 d×d attention matrices (no biases), a gated MLP, 2 RMSNorms per block."""
    other = 2 * vocab * d + n_layers * 2 * d + d               # embedding, head, norms, final norm
    return ModelShape(name, n_layers, d, {m: (d, d) for m in ATTENTION},
                      {"W_gate": (d_ff, d), "W_up": (d_ff, d), "W_down": (d, d_ff)}, other, source)


MODEL_PRESETS: dict[str, ModelShape] = {
    "GPT-2 small (124M)": _gpt("GPT-2 small (124M)", 12, 768, 50257, 1024,
                               "Radford et al. 2019"),
    "Llama-2-7B": _llama("Llama-2-7B", 32, 4096, 11008, 32000, "Touvron et al. 2023"),
    "GPT-3 175B": _gpt("GPT-3 175B", 96, 12288, 50257, 2048, "Brown et al. 2020; Hu et al. 2021"),
}


def lora_parameter_count(shapes: Iterable[tuple[int, int]], r: int) -> int:
    """Σ r·(d_out + d_in) over the adapted matrices: B is d_out×r and A is r×d_in.

    The LoRA half of the book's one storage formula (chapter 3 stores k·(m + n + 1) numbers for a
    rank-k image). Used in chapter 4 and by the calculator widget.
    """
    r = check_positive_int(r, "r")
    if isinstance(shapes, (str, bytes)):
        raise TypeError(f"shapes must be a list of (d_out, d_in) pairs, got {shapes!r}")
    total = 0
    for shape in shapes:
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or len(shape) != 2:
            raise ValueError(f"each entry of shapes must be a pair (d_out, d_in), got {shape!r}")
        d_out, d_in = (check_positive_int(v, "d_out and d_in") for v in shape)
        if r > min(d_out, d_in):
            raise ValueError(f"r={r} exceeds min(d_out, d_in) = {min(d_out, d_in)} for a "
                             f"{d_out}×{d_in} matrix: such an update is no longer low-rank")
        total += r * (d_out + d_in)
    return total


@dataclass(frozen=True)
class LoRABudget:
    """What LoRA on some matrices of every layer costs, next to full fine-tuning."""

    model: str
    targets: tuple[str, ...]
    r: int
    trainable: int               # LoRA parameters, all layers
    total: int                   # parameters of the model (trained by full fine-tuning)
    per_layer: dict[str, int] = field(default_factory=dict)   # matrix -> r·(d_out + d_in)

    @property
    def fraction(self) -> float:
        """trainable / total."""
        return self.trainable / self.total

    @property
    def reduction(self) -> float:
        """total / trainable: how many times fewer parameters are trained."""
        return self.total / self.trainable


FP16_BYTES = 2    # one number stored as a 16-bit float
ADAM_BYTES = 8    # Adam's two 32-bit moments for one trained parameter


def _expand_targets(model: ModelShape, targets: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    if isinstance(targets, str):
        targets = [targets]
    chosen = tuple(dict.fromkeys(targets))                     # keep order, drop repeats
    if not chosen:
        raise ValueError("targets must name at least one of " + ", ".join(TARGET_CHOICES))
    unknown = [t for t in chosen if t not in TARGET_CHOICES and t not in model.matrices]
    if unknown:
        raise ValueError(f"unknown targets {unknown}; choose from {list(TARGET_CHOICES)} or "
                         f"{list(model.mlp)}")
    names: list[str] = []
    for t in chosen:
        names += list(model.mlp) if t == "MLP" else [t]
    return chosen, list(dict.fromkeys(names))


def model_shape(model: object) -> ModelShape:
    """A preset name or a ``ModelShape`` -> the ``ModelShape``; ValueError / TypeError otherwise."""
    if isinstance(model, str):
        if model not in MODEL_PRESETS:
            raise ValueError(f"unknown model {model!r}; presets are {list(MODEL_PRESETS)}")
        return MODEL_PRESETS[model]
    if not isinstance(model, ModelShape):
        raise TypeError(f"model must be a preset name or a ModelShape, got {type(model).__name__}")
    return model


def lora_budget(model: str | ModelShape, targets: Iterable[str], r: int) -> LoRABudget:
    """Trainable parameters of LoRA with rank r on ``targets`` in every layer of ``model``.

    ``model`` is a preset name (``MODEL_PRESETS``) or a ``ModelShape``; ``targets`` are among
    W_q, W_k, W_v, W_o and MLP (every feed-forward matrix). Used in chapter 4 to reproduce the
    LoRA paper's GPT-3 counts and by the calculator widget.
    """
    model = model_shape(model)
    r = check_positive_int(r, "r")
    chosen, names = _expand_targets(model, targets)
    per_layer = {name: lora_parameter_count([model.matrices[name]], r) for name in names}
    trainable = model.n_layers * sum(per_layer.values())
    return LoRABudget(model.name, chosen, r, trainable, model.total, per_layer)


def mlp_shapes(d_in: int, d_hidden: int, n_classes: int) -> dict[str, tuple[int, int]]:
    """(d_out, d_in) of chapter 5's MLP x → fc1 → GELU → fc2 → GELU → head, layer by layer.

    The one source of those shapes: the model (``experiment.data.MLP``), the planted update and
    the chapter 5 exercise checkers all read them here.
    """
    d_in, d_hidden = check_positive_int(d_in, "d_in"), check_positive_int(d_hidden, "d_hidden")
    n_classes = check_positive_int(n_classes, "n_classes")
    return {"fc1": (d_hidden, d_in), "fc2": (d_hidden, d_hidden), "head": (n_classes, d_hidden)}


#: Bytes per *trained* parameter with mixed-precision Adam, as ZeRO counts them (Rajbhandari et
#: al. 2020): a 16-bit weight and gradient (2 + 2) and a 32-bit master weight and two moments
#: (4 + 4 + 4). Frozen parameters keep only their weight: 16-bit, or 4-bit NF4 in QLoRA (4.127
#: bits with double quantisation, Dettmers et al. 2023; QLoRA quantises the linear layers only, so
#: embeddings, output head and norms, ``ModelShape.other``, stay 16-bit).
TRAINABLE_BYTES = {"weights": 2, "gradients": 2, "optimizer": 12}
FROZEN_BYTES = {"bf16": 2.0, "nf4": 4.127 / 8}


@dataclass(frozen=True)
class RankMemory:
    """Bytes one process holds for a model during training (activations not included)."""

    weights: float
    gradients: float
    optimizer: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.optimizer


def per_rank_memory(model: str | ModelShape, method: str, strategy: str, world_size: int,
                    r: int = 16, targets: Iterable[str] = ("W_q", "W_v")) -> RankMemory:
    """Weights, gradients and Adam state per rank: ``method`` "full", "lora" or "qlora" (LoRA on a
    4-bit base), ``strategy`` "ddp" (everything replicated on every rank) or "fsdp" (everything
    sharded: 1/world_size of it per rank, ZeRO stage 3). Used in appendix A.
    """
    model = model_shape(model)
    world_size = check_positive_int(world_size, "world_size")
    if method not in ("full", "lora", "qlora"):
        raise ValueError(f"method must be 'full', 'lora' or 'qlora', got {method!r}")
    if strategy not in ("ddp", "fsdp"):
        raise ValueError(f"strategy must be 'ddp' or 'fsdp', got {strategy!r}")
    trained = model.total if method == "full" else lora_budget(model, targets, r).trainable
    if method == "full":
        frozen_bytes = 0.0
    elif method == "lora":
        frozen_bytes = model.total * FROZEN_BYTES["bf16"]
    else:                                        # NF4 linear layers, 16-bit everything else
        frozen_bytes = ((model.total - model.other) * FROZEN_BYTES["nf4"]
                        + model.other * FROZEN_BYTES["bf16"])
    share = 1 / world_size if strategy == "fsdp" else 1.0
    return RankMemory(weights=share * (frozen_bytes + trained * TRAINABLE_BYTES["weights"]),
                      gradients=share * trained * TRAINABLE_BYTES["gradients"],
                      optimizer=share * trained * TRAINABLE_BYTES["optimizer"])
