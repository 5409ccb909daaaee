"""Chapter 4 widget: a LoRA parameter calculator for real transformer shapes.

``lora_parameter_count`` is the one formula (r·(d_out + d_in) per adapted matrix);
``lora_budget`` applies it to a model preset (layers, widths, which matrices, r);
``lora_calculator`` wraps it in controls; ``lora_calculator_table`` is its static twin for the
HTML book, and ``lora_parameters_figure`` draws trainable parameters against r.

No torch here: the counts come from the shapes alone, so the widget works for models far too
large to build. (``lowrank_utils.count_parameters`` counts a model that exists; chapter 4 checks
that both agree on a small model.)
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from .._validate import as_int
from ..plotting import COLORS, bilingual

__all__ = [
    "ModelShape",
    "LoRABudget",
    "MODEL_PRESETS",
    "TARGET_CHOICES",
    "FP16_BYTES",
    "ADAM_BYTES",
    "lora_parameter_count",
    "lora_budget",
    "lora_calculator",
    "lora_calculator_table",
    "lora_parameters_figure",
]

ATTENTION = ("W_q", "W_k", "W_v", "W_o")
TARGET_CHOICES = (*ATTENTION, "MLP")    # "MLP" stands for every matrix of the feed-forward block
RANK_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


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
    r = as_int(r, "r")
    if r < 1:
        raise ValueError(f"r must be an integer >= 1, got r={r}")
    total = 0
    for shape in shapes:
        if len(shape) != 2:
            raise ValueError(f"each shape must be a pair (d_out, d_in), got {shape!r}")
        d_out, d_in = (as_int(v, "shape entry") for v in shape)
        if d_out < 1 or d_in < 1:
            raise ValueError(f"shape entries must be >= 1, got {shape!r}")
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


def _model_shape(model: object) -> ModelShape:
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
    model = _model_shape(model)
    chosen, names = _expand_targets(model, targets)
    per_layer = {name: lora_parameter_count([model.matrices[name]], r) for name in names}
    trainable = model.n_layers * sum(per_layer.values())
    return LoRABudget(model.name, chosen, as_int(r, "r"), trainable, model.total, per_layer)


def _fmt_count(n: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


_COLUMNS = [
    ("model", "模型"), ("adapted", "適配的矩陣"), ("r", "r"),
    ("trainable", "可訓練參數"), ("% of model", "占模型比例"), ("fewer ×", "減少倍數"),
    ("per-task storage (fp16)", "每個任務的儲存（fp16）"), ("Adam state", "Adam 狀態"),
]


def _row(b: LoRABudget) -> list[str]:
    return [b.model, ", ".join(b.targets), str(b.r), f"{b.trainable:,} ({_fmt_count(b.trainable)})",
            f"{100 * b.fraction:.4f} %", f"{b.reduction:,.0f}",
            f"{FP16_BYTES * b.trainable / 1e6:,.1f} MB", f"{ADAM_BYTES * b.trainable / 1e6:,.1f} MB"]


def _full_row(b: LoRABudget) -> list[str]:
    return [b.model, bilingual("full fine-tuning", "完整微調"), "–",
            f"{b.total:,} ({_fmt_count(b.total)})", "100 %", "1",
            f"{FP16_BYTES * b.total / 1e9:,.1f} GB", f"{ADAM_BYTES * b.total / 1e9:,.1f} GB"]


class BudgetTable:
    """A small table of budgets that Jupyter shows as HTML (and as text elsewhere)."""

    def __init__(self, rows: list[list[str]]):
        self.rows = rows

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(en)}<br>{html.escape(zh)}</th>" for en, zh in _COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return f'<table class="lora-budget"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        widths = [max(len(c[0]), *(len(row[i]) for row in self.rows))
                  for i, c in enumerate(_COLUMNS)]
        lines = ["  ".join(c[0].ljust(w) for c, w in zip(_COLUMNS, widths))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in self.rows]
        return "\n".join(lines)


def lora_calculator_table(
    configs: Sequence[tuple[str, Sequence[str], int]] = (
        ("GPT-3 175B", ("W_q", "W_v"), 1), ("GPT-3 175B", ("W_q", "W_v"), 4),
        ("GPT-3 175B", ("W_q", "W_v"), 8), ("GPT-3 175B", ("W_q", "W_k", "W_v", "W_o", "MLP"), 8),
        ("Llama-2-7B", ("W_q", "W_v"), 8), ("Llama-2-7B", ("W_q", "W_k", "W_v", "W_o", "MLP"), 16),
    ),
    full_models: Sequence[str] = ("GPT-3 175B", "Llama-2-7B"),
) -> BudgetTable:
    """The calculator's static twin: budgets for a few (model, targets, r), then full fine-tuning."""
    rows = [_row(lora_budget(model, targets, r)) for model, targets, r in configs]
    rows += [_full_row(lora_budget(name, ["W_q"], 1)) for name in full_models]
    return BudgetTable(rows)


def lora_calculator(model: str = "GPT-3 175B", targets: Sequence[str] = ("W_q", "W_v"),
                    r: int = 4) -> widgets.VBox:
    """Controls for the model, the adapted matrices and r; a table of what it costs.

    Used in chapter 4, section "Parameter counts". Needs a running kernel.
    """
    model_box = widgets.Dropdown(options=list(MODEL_PRESETS), value=model,
                                 description=bilingual("model", "模型"))
    checks = {t: widgets.Checkbox(value=t in targets, description=t, indent=False,
                                  layout=widgets.Layout(width="70px")) for t in TARGET_CHOICES}
    r_slider = widgets.SelectionSlider(options=list(RANK_CHOICES), value=r, description="r")
    output = widgets.HTML()

    def update(_change=None) -> None:
        chosen = [t for t, box in checks.items() if box.value]
        if not chosen:
            output.value = ("<p>Tick at least one matrix.<br>請至少勾選一個矩陣。</p>")
            return
        budget = lora_budget(model_box.value, chosen, r_slider.value)
        output.value = BudgetTable([_row(budget), _full_row(budget)])._repr_html_()

    for control in (model_box, r_slider, *checks.values()):
        control.observe(update, names="value")
    update()
    box = widgets.VBox([model_box, widgets.HBox(list(checks.values())), r_slider, output])
    box.update = update   # exposed for tests
    box.controls = {"model": model_box, "r": r_slider, **checks}
    return box


def lora_parameters_figure(model: str | ModelShape = "GPT-3 175B",
                           target_sets: Sequence[Sequence[str]] = (
                               ("W_q", "W_v"), ("W_q", "W_k", "W_v", "W_o"),
                               ("W_q", "W_k", "W_v", "W_o", "MLP")),
                           ranks: Sequence[int] = RANK_CHOICES) -> plt.Figure:
    """Trainable parameters against r (log-log) for a few target sets, with full fine-tuning.

    ``model`` is a preset name or a ``ModelShape`` (ValueError / TypeError otherwise, as in
    ``lora_budget``). Used in chapter 4, section "A LoRA parameter calculator".
    """
    shape = _model_shape(model)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    styles = ["o-", "s--", "^-."]
    for i, targets in enumerate(target_sets):
        counts = [lora_budget(shape, targets, r).trainable for r in ranks]
        ax.plot(ranks, counts, styles[i % 3], color=COLORS["lora"], alpha=1 - 0.25 * i,
                label="LoRA: " + ", ".join(targets))
    ax.axhline(shape.total, color=COLORS["full"], lw=2,
               label=bilingual("full fine-tuning", "完整微調"))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(ranks), [str(r) for r in ranks])
    ax.minorticks_off()
    ax.set_xlabel(bilingual("rank r", "秩 r"))
    ax.set_ylabel(bilingual("trainable parameters", "可訓練參數"))
    ax.set_title(shape.name)
    ax.set_ylim(top=3 * shape.total)
    ax.legend(fontsize=8, loc="lower right")
    return fig
