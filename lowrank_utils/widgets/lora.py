"""Chapter 4 widget: a LoRA parameter calculator for real transformer shapes.

The counts come from the core (``lowrank_utils.budget``: the model shapes and ``lora_budget``);
this module shows them. ``lora_calculator`` wraps ``lora_budget`` in controls,
``lora_calculator_table`` is its static twin for the HTML book (a ``report.Table``), and
``lora_parameters_figure`` draws trainable parameters against r.
"""
from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt

from ..budget import (ADAM_BYTES, FP16_BYTES, MODEL_PRESETS, TARGET_CHOICES, LoRABudget,
                      ModelShape, lora_budget, model_shape)
from ..plotting import COLORS, bilingual
from ..report import Table

__all__ = ["RANK_CHOICES", "lora_calculator", "lora_calculator_page", "PageCalculator",
           "lora_calculator_table", "lora_parameters_figure"]

RANK_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


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
_HEADERS = [f"{en} / {zh}" if en != zh else en for en, zh in _COLUMNS]


def _row(b: LoRABudget) -> dict[str, str]:
    cells = [b.model, ", ".join(b.targets), str(b.r),
             f"{b.trainable:,} ({_fmt_count(b.trainable)})", f"{100 * b.fraction:.4f} %",
             f"{b.reduction:,.0f}", f"{FP16_BYTES * b.trainable / 1e6:,.1f} MB",
             f"{ADAM_BYTES * b.trainable / 1e6:,.1f} MB"]
    return dict(zip(_HEADERS, cells))


def _full_row(b: LoRABudget) -> dict[str, str]:
    cells = [b.model, bilingual("full fine-tuning", "完整微調"), "–",
             f"{b.total:,} ({_fmt_count(b.total)})", "100 %", "1",
             f"{FP16_BYTES * b.total / 1e9:,.1f} GB", f"{ADAM_BYTES * b.total / 1e9:,.1f} GB"]
    return dict(zip(_HEADERS, cells))


def _budget_table(rows: list[dict[str, str]]) -> Table:
    return Table(rows, css_class="table lora-budget")


def lora_calculator_table(
    configs: Sequence[tuple[str, Sequence[str], int]] = (
        ("GPT-3 175B", ("W_q", "W_v"), 1), ("GPT-3 175B", ("W_q", "W_v"), 4),
        ("GPT-3 175B", ("W_q", "W_v"), 8), ("GPT-3 175B", ("W_q", "W_k", "W_v", "W_o", "MLP"), 8),
        ("Llama-2-7B", ("W_q", "W_v"), 8), ("Llama-2-7B", ("W_q", "W_k", "W_v", "W_o", "MLP"), 16),
    ),
    full_models: Sequence[str] = ("GPT-3 175B", "Llama-2-7B"),
) -> Table:
    """The calculator's static twin: budgets for a few (model, targets, r), then full fine-tuning."""
    rows = [_row(lora_budget(model, targets, r)) for model, targets, r in configs]
    rows += [_full_row(lora_budget(name, ["W_q"], 1)) for name in full_models]
    return _budget_table(rows)


def _check_calculator(model: object, targets: Sequence[str], r: object) -> None:
    """A calculator's starting point: a preset name, targets lora_budget accepts, r on the slider."""
    if not isinstance(model, str) or model not in MODEL_PRESETS:
        raise ValueError(f"model must be one of {list(MODEL_PRESETS)}, got {model!r}")
    lora_budget(model, targets, r)                  # checks targets and r (ValueError / TypeError)
    if r not in RANK_CHOICES:
        raise ValueError(f"r must be one of the slider's ranks {RANK_CHOICES}, got r={r}")


def lora_calculator(model: str = "GPT-3 175B", targets: Sequence[str] = ("W_q", "W_v"),
                    r: int = 4) -> widgets.VBox:
    """Controls for the model, the adapted matrices and r; a table of what it costs.

    ``model`` is a preset name, ``targets`` a subset of ``TARGET_CHOICES`` and ``r`` one of
    ``RANK_CHOICES`` (the slider's stops); anything else is a ValueError naming the argument.
    Used in chapter 4, section "Parameter counts". Needs a running kernel.
    """
    _check_calculator(model, targets, r)
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
        output.value = _budget_table([_row(budget), _full_row(budget)])._repr_html_()

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
    shape = model_shape(model)
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


class PageCalculator:
    """The calculator for the HTML book: a form whose arithmetic runs in the page (a few lines of
    JavaScript, no kernel, no widget manager), on the shapes of ``budget.MODEL_PRESETS``.

    The page computes exactly ``budget.lora_budget``: Σ r·(d_out + d_in) over the adapted
    matrices of every layer, against the model's total (the browser tests compare the two).
    Used in chapter 4, section "A LoRA parameter calculator".
    """

    def __init__(self, model: str = "Llama-2-7B", targets: Sequence[str] = ("W_q", "W_v"),
                 r: int = 8, element_id: str = "lora-calculator"):
        _check_calculator(model, targets, r)
        self.model, self.targets, self.r, self.id = model, tuple(targets), r, element_id

    def _repr_html_(self) -> str:
        import html as html_escape
        import json

        shapes = {name: {"layers": shape.n_layers, "total": shape.total,
                         "matrices": {m: list(dims) for m, dims in shape.matrices.items()},
                         "mlp": list(shape.mlp)} for name, shape in MODEL_PRESETS.items()}
        options = "".join(f'<option{" selected" if name == self.model else ""}>'
                          f"{html_escape.escape(name)}</option>" for name in MODEL_PRESETS)
        boxes = "".join(f'<label class="calc-target"><input type="checkbox" value="{t}"'
                        f'{" checked" if t in self.targets else ""}> {t}</label>'
                        for t in TARGET_CHOICES)
        head = "".join(f"<th>{html_escape.escape(h)}</th>" for h in _HEADERS)
        rank_index = RANK_CHOICES.index(self.r)
        return f"""
<div class="lora-page-calculator" id="{self.id}">
 <div class="calc-controls">
  <label><span class="lang-en">model</span><span class="lang-zh">模型</span>
   <select class="calc-model" aria-label="model / 模型">{options}</select></label>
  <span class="calc-targets" role="group" aria-label="adapted matrices / 適配的矩陣">{boxes}</span>
  <label><span class="calc-r-label">r = <output class="calc-r-value">{self.r}</output></span>
   <input class="calc-r" type="range" min="0" max="{len(RANK_CHOICES) - 1}" step="1"
          value="{rank_index}" aria-label="rank r / 秩 r"></label>
 </div>
 <table class="table lora-budget"><thead><tr>{head}</tr></thead><tbody></tbody></table>
 <p class="calc-empty" hidden><span class="lang-en">Tick at least one matrix.</span>
  <span class="lang-zh">請至少勾選一個矩陣。</span></p>
</div>
<script>
(function () {{
  var root = document.getElementById({json.dumps(self.id)});
  var SHAPES = {json.dumps(shapes)}, RANKS = {json.dumps(list(RANK_CHOICES))};
  var FP16 = {FP16_BYTES}, ADAM = {ADAM_BYTES};
  function fmt(n) {{ return Math.round(n).toLocaleString("en-US"); }}
  function short(n) {{
    var units = [["B", 1e9], ["M", 1e6], ["K", 1e3]];
    for (var i = 0; i < units.length; i++) if (n >= units[i][1]) return (n / units[i][1]).toFixed(1) + units[i][0];
    return String(n);
  }}
  function mb(bytes, unit) {{ var d = unit === "GB" ? 1e9 : 1e6;
    return (bytes / d).toLocaleString("en-US", {{minimumFractionDigits: 1, maximumFractionDigits: 1}}) + " " + unit; }}
  function fill(tr, cells) {{                  // reuse the row's cells: no new elements per move
    while (tr.children.length < cells.length) tr.appendChild(document.createElement("td"));
    cells.forEach(function (c, i) {{ if (tr.children[i].textContent !== c) tr.children[i].textContent = c; }});
  }}
  function update() {{
    var name = root.querySelector(".calc-model").value, model = SHAPES[name];
    var r = RANKS[+root.querySelector(".calc-r").value];
    root.querySelector(".calc-r-value").textContent = r;
    var chosen = Array.prototype.filter.call(root.querySelectorAll(".calc-targets input"),
      function (b) {{ return b.checked; }}).map(function (b) {{ return b.value; }});
    var body = root.querySelector("tbody"), empty = root.querySelector(".calc-empty");
    empty.hidden = chosen.length > 0;
    body.hidden = !chosen.length;
    if (!chosen.length) return;
    while (body.children.length < 2) body.appendChild(document.createElement("tr"));
    var matrices = [];
    chosen.forEach(function (t) {{ (t === "MLP" ? model.mlp : [t]).forEach(function (m) {{
      if (matrices.indexOf(m) < 0) matrices.push(m); }}); }});
    var perLayer = matrices.reduce(function (s, m) {{
      var d = model.matrices[m]; return s + r * (d[0] + d[1]); }}, 0);
    var n = model.layers * perLayer, total = model.total;
    fill(body.children[0], [name, chosen.join(", "), String(r), fmt(n) + " (" + short(n) + ")",
                            (100 * n / total).toFixed(4) + " %", fmt(total / n),
                            mb(FP16 * n, "MB"), mb(ADAM * n, "MB")]);
    fill(body.children[1], [name, "full fine-tuning / 完整微調", "–", fmt(total) + " (" + short(total) + ")",
                            "100 %", "1", mb(FP16 * total, "GB"), mb(ADAM * total, "GB")]);
  }}
  root.addEventListener("input", update);
  root.addEventListener("change", update);
  update();
}})();
</script>"""


def lora_calculator_page(model: str = "Llama-2-7B", targets: Sequence[str] = ("W_q", "W_v"),
                         r: int = 8) -> PageCalculator:
    """The chapter 4 calculator as it works in the HTML book and in JupyterLab (see
    ``PageCalculator``); ``lora_calculator`` is the same with ipywidgets, computed in Python."""
    return PageCalculator(model, targets, r)
