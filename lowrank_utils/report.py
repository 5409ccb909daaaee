"""The one table renderer of the book (HTML and Markdown, both languages), and the GPU report.

``Table`` shows dict rows as an HTML table in a notebook and in the book, and as Markdown text;
``gpu_report_html`` turns a ``gpu_*.json`` result (read by ``results.load_gpu_results``) into the
labelled tables of chapter 5. No torch, no widgets: plain strings.
"""
from __future__ import annotations

import html
import numbers
from dataclasses import dataclass
from typing import Mapping, Sequence

from ._validate import check_bool

__all__ = ["HEADERS_ZH", "Table", "markdown_table", "format_cell", "gpu_report_html",
           "svd_peer_cases", "svd_peer_rows",
           "no_gpu_result_html"]


def format_cell(value: object, spec: str | None = None) -> str:
    """One cell as text: ``spec`` (a format such as ".3g") for numbers, ints with thousands
    separators, other numbers to 4 significant digits, anything else as ``str``."""
    if spec is not None and isinstance(value, numbers.Number) and not isinstance(value, bool):
        return format(value, spec)
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    return f"{value:.4g}"


# Chinese for the column names of chapter 5's tables: a header reads "English / 中文".
HEADERS_ZH = {
    "field": "欄位", "value": "值", "layer": "層", "method": "方法", "trainable": "可訓練參數",
    "loss B": "任務 B 損失", "accuracy B": "任務 B 準確率", "ms / step": "毫秒／步",
    "memory (KiB)": "記憶體 (KiB)", "memory (MiB)": "記憶體 (MiB)", "samples / s": "樣本／秒",
    "oracle loss": "理想損失", "update": "更新量", "energy in r* directions": "r* 個方向的能量",
    "relative error to ΔW*": "與 ΔW* 的相對誤差", "Eckart–Young floor": "Eckart–Young 下限",
    "distance to best rank-r": "與最佳秩 r 近似的距離", "model": "模型",
    "error as the loss sees it": "損失看得到的誤差",
    "µs per batch of 256": "每批 256 筆的微秒數", "× base": "× 基礎模型",
    "speed-up over the CPU": "相對於 CPU 的加速", "full fine-tuning": "完整微調",
    "LoRA r = r*": "LoRA r = r*",
}


def _header(column: str) -> str:
    zh = HEADERS_ZH.get(column)
    return column if zh is None or zh == column else f"{column} / {zh}"


def _table_cells(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None
                 ) -> tuple[list[str], list[list[str]]]:
    """Headers (bilingual where ``HEADERS_ZH`` knows the column) and formatted cells."""
    if not rows:
        raise ValueError("rows must hold at least one row")
    formats = dict(formats or {})
    columns = list(rows[0])
    body = [[format_cell(row.get(c, ""), formats.get(c)) for c in columns] for row in rows]
    return [_header(c) for c in columns], body


def markdown_table(rows: Sequence[Mapping[str, object]], formats: Mapping[str, str] | None = None
                   ) -> str:
    """A Markdown table of dict rows (keys of the first row are the columns).

    ``formats`` maps a column to a format spec such as ``".3g"``; ints get thousands separators.
    """
    columns, body = _table_cells(rows, formats)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    return "\n".join(lines)


@dataclass
class Table:
    """Rows shown as a table: HTML in a notebook and in the book, Markdown as text.

    The book's one table renderer (chapters 3, 4 and 5, the calculator widget, the GPU report):
    ``Table(summary_rows(full, lora), {"loss B": ".2e"})``. Keys of the first row are the
    columns; a header reads "English / 中文" where ``HEADERS_ZH`` knows the column. Text is
    escaped, unless ``markup=True`` says the cells and headers are HTML written by the book
    (bilingual ``<span class="lang-en">`` pairs, ``<code>``).
    """

    rows: Sequence[Mapping[str, object]]
    formats: Mapping[str, str] | None = None
    markup: bool = False
    css_class: str = "table"

    def __post_init__(self) -> None:
        check_bool(self.markup, "markup")
        _table_cells(self.rows, self.formats)          # fails early on an empty table

    def __str__(self) -> str:
        return markdown_table(self.rows, self.formats)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        columns, body = _table_cells(self.rows, self.formats)
        esc = (lambda x: x) if self.markup else html.escape
        head = "".join(f"<th>{esc(c)}</th>" for c in columns)
        cells = "".join("<tr>" + "".join(f"<td>{esc(x)}</td>" for x in row) + "</tr>"
                        for row in body)
        return (f'<table class="{html.escape(self.css_class)}"><thead><tr>{head}</tr></thead>'
                f"<tbody>{cells}</tbody></table>")


def gpu_report_html(result: Mapping[str, object]) -> str:
    """One ``gpu_*.json`` result as HTML: where and when it was measured, then two tables.

    The label is a ``lang-en`` / ``lang-zh`` pair, so the book's language switch applies.
    Used in chapter 5, section "On a GPU".
    """
    hw, sw, config = result["hardware"], result["software"], result["config"]
    where = html.escape(f"{hw.get('gpu', hw['device'])}, {str(result['date'])[:10]}, "
                        f"torch {sw['torch']}, CUDA {sw['cuda']}, autocast {sw['autocast']}")
    source = html.escape(str(result.get("file", "")))
    name = html.escape(str(config["name"]))
    label = (f'<div class="lang-en"><b>Measured on {where}</b> (file <code>{source}</code>, '
             f'configuration "{name}")</div>'
             f'<div class="lang-zh"><b>量測環境：{where}</b>（檔案 <code>{source}</code>，'
             f'設定「{name}」）</div>')
    runs = Table(
        [{"method": run["method"] if run["r"] is None else f"LoRA r={run['r']}",
          "trainable": run["trainable"], "loss B": run["loss"], "accuracy B": run["accuracy"],
          "ms / step": run["time_per_step_ms"], "samples / s": run["samples_per_s"],
          "memory (MiB)": run["memory_mib"]} for run in result["runs"]],
        {"loss B": ".2e", "accuracy B": ".1%", "ms / step": ".3f", "samples / s": ",.0f",
         "memory (MiB)": ".1f"})
    speed = Table(
        [{"speed-up over the CPU": f"{part.removeprefix('speedup_').replace('_', ' ')} "
                                   "configuration",
          "full fine-tuning": result[part]["speedup"]["full"],
          "LoRA r = r*": result[part]["speedup"]["lora"]}
         for part in ("speedup_small", "speedup_full_size")],
        {"full fine-tuning": ".1f", "LoRA r = r*": ".1f"})
    memory = html.escape(str(result["runs"][0]["memory_kind"]))
    note = (f'<p><small><span class="lang-en">memory: {memory}</span>'
            f'<span class="lang-zh">記憶體：{memory}</span></small></p>')
    speed_note = ('<p><small><span class="lang-en">The speed-ups compare GPU steps in bf16 '
                  'autocast with CPU steps in float32 (the small configuration on one CPU '
                  'thread): set-ups, not equal arithmetic.</span><span class="lang-zh">加速倍數比較的'
                  '是 GPU 上 bf16 autocast 的步驟與 CPU 上 float32 的步驟（小型設定只用一個 CPU 執行緒）：'
                  '比的是兩種執行環境，而不是相同的運算。</span></small></p>')
    return label + runs._repr_html_() + note + speed._repr_html_() + speed_note + _tiny_lm_html(result)


def _tiny_lm_html(result: Mapping[str, object]) -> str:
    """The evidence part of a GPU result (``tiny_lm``), as a table; '' for older files without it."""
    part = result.get("tiny_lm")
    if not isinstance(part, Mapping):
        return ""
    config = part["config"]
    title = (f'<p><span class="lang-en"><b>The pre-trained tiny model</b>, {config["steps"]:,} steps '
             f'of {config["batch_size"]} windows</span><span class="lang-zh"><b>預訓練的小模型</b>，'
             f'{config["steps"]:,} 步、每步 {config["batch_size"]} 個視窗</span></p>')
    runs = Table([{"run": run["label"], "trainable": run["trainable"], "code loss": run["new_loss"],
                   "prose loss": run["old_loss"], "ms / step": run["time_per_step_ms"],
                   "memory (MiB)": run["memory_mib"]} for run in part["runs"]],
                 {"code loss": ".3f", "prose loss": ".3f", "ms / step": ".2f", "memory (MiB)": ".1f"})
    spectra = Table([{"matrix": name, "90 %: ΔW": s["update"][0], "90 %: random": s["random"][0],
                      "99 %: ΔW": s["update"][1], "99 %: random": s["random"][1]}
                     for name, s in part["effective_ranks_full"].items()],
                    {"90 %: random": ".1f", "99 %: random": ".1f"})
    return title + runs._repr_html_() + spectra._repr_html_()


def no_gpu_result_html() -> str:
    """What chapter 5 says when ``benchmarks/results/`` holds no GPU measurement yet."""
    return (
        '<div class="lang-en"><b>No GPU measurement has been recorded yet</b>: '
        '<code>benchmarks/results/</code> holds no <code>gpu_*.json</code> file. To make one, run '
        '<code>python benchmarks/gpu_run.py</code> from the repository root on a machine with a '
        'CUDA GPU (a few minutes). It writes <code>benchmarks/results/gpu_&lt;date&gt;.json</code>, '
        'and this section shows it the next time the chapter runs. (<code>--dry-run</code> '
        'exercises the script on a CPU; its files are never shown here.)</div>'
        '<div class="lang-zh"><b>目前還沒有任何 GPU 量測紀錄</b>：<code>benchmarks/results/</code> '
        '中沒有 <code>gpu_*.json</code> 檔案。若要產生一份，請在有 CUDA GPU 的機器上，於專案根目錄執行 '
        '<code>python benchmarks/gpu_run.py</code>（約需幾分鐘）。它會寫出 '
        '<code>benchmarks/results/gpu_&lt;日期&gt;.json</code>，下次執行本章時，這一節就會顯示它。'
        '（<code>--dry-run</code> 可在 CPU 上試跑這支程式；試跑產生的檔案不會顯示在這裡。）</div>')


def svd_peer_cases(bench: Mapping[str, object]) -> dict[tuple[tuple[int, int], int], dict]:
    """``bench["peers"]`` of ``svd_cpu.json`` grouped by case: (shape, k) -> (method, dtype) -> row."""
    cases: dict[tuple[tuple[int, int], int], dict] = {}
    for row in bench["peers"]:
        cases.setdefault((tuple(row["shape"]), row["k"]), {})[row["method"], row["dtype"]] = row
    return cases


def svd_peer_rows(bench: Mapping[str, object]) -> list[dict[str, str]]:
    """One table row per case: our float64 and float32 times, each peer's time and ours/peer ratio
    (median, quartiles), and the error ratios. Chapter 3's Table 3.3 and appendix B show it."""
    def seconds(row: Mapping) -> str:
        return f"{row['median_s'] * 1e3:.0f} ms" if row["available"] else "—"

    def versus(row: Mapping) -> str:
        if not row["available"]:
            return "not installed / 未安裝"
        q1, q3 = row["ours_over_peer_q1_q3"]
        return f"{seconds(row)}; {row['ours_over_peer']:.2f}× ({q1:.2f}–{q3:.2f})"

    rows = []
    for (shape, k), case in svd_peer_cases(bench).items():
        ours64, ours32 = case["ours", "float64"], case["ours", "float32"]
        torch_row, sk_row = case["torch.svd_lowrank", "float64"], case["sklearn randomized_svd", "float64"]
        rows.append({
            "matrix, k / 矩陣、k": f"{shape[0]}×{shape[1]}, k = {k}",
            "ours, float64 / 本書，float64": seconds(ours64),
            "ours, float32 / 本書，float32": seconds(ours32),
            "torch.svd_lowrank": versus(torch_row),
            "scikit-learn": versus(sk_row),
            "error ratio (ours; torch; sklearn) / 誤差比（本書；torch；sklearn）":
                "; ".join(f"{r['error_ratio']:.6f}" if r["available"] else "—"
                          for r in (ours64, torch_row, sk_row)),
        })
    return rows
