"""The print edition's doctree and notebook rules (_ext/print_edition.py), on small constructed
cases; tests/pdf checks the PDFs themselves."""
from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

import print_edition as P  # noqa: E402


def document() -> nodes.document:
    return new_document("test", get_default_settings(Parser))


def test_a_bilingual_title_keeps_the_editions_half():
    assert P.edition_half("SVD / 奇異值分解", "en") == "SVD"
    assert P.edition_half("SVD / 奇異值分解", "zh") == "奇異值分解"
    assert P.edition_half("Training LoRA on a GPU / 在 GPU 上訓練 LoRA", "zh") == "在 GPU 上訓練 LoRA"
    assert P.edition_half("ms / step / 毫秒／步", "en") == "ms / step"        # the split is the language's
    assert P.edition_half("ms / step / 毫秒／步", "zh") == "毫秒／步"
    assert P.edition_half("r = 1", "zh") == "r = 1"                           # one language: kept whole
    assert P.edition_half("a / b", "zh") == "a / b"


def _section(title: str, *body: nodes.Node) -> nodes.section:
    section = nodes.section(ids=[title.lower()], names=[title.lower()])
    section += nodes.title(text=title)
    for node in body:
        section += node
    return section


def _prose(lang: str, text: str) -> nodes.container:
    block = nodes.container(classes=[f"lang-{lang}"])
    block += nodes.paragraph(text=text)
    return block


def test_the_other_language_is_removed_and_titles_halved():
    doc = document()
    doc += _section("Rank / 矩陣的秩", _prose("en", "A rank."), _prose("zh", "一個秩。"))
    P.drop_other_language(doc, "zh")
    P.halve_titles(doc, "zh")
    assert doc.astext().split() == ["矩陣的秩", "一個秩。"]
    assert "矩陣的秩" in doc[0]["names"]            # sphinx-proof finds the chapter by its title


def _solution_dropdown(en: str, zh: str) -> nodes.container:
    dropdown = nodes.container(design_component="dropdown")
    dropdown += nodes.rubric(text="Solution / 解答")
    dropdown += _prose("en", en)
    dropdown += _prose("zh", zh)
    return dropdown


def test_solutions_move_to_the_end_of_the_chapter_and_leave_a_pointer():
    doc = document()
    exercise_1 = _section("Exercise 1: rank", _prose("en", "Find it."), _solution_dropdown("Two.", "二。"))
    exercise_2 = _section("Exercise 2: norm", _prose("en", "Prove it."), _solution_dropdown("Done.", "完成。"))
    doc += _section("Rank", exercise_1, _section("References"), exercise_2)
    assert P.solutions_to_chapter_end(doc, "en") == 2
    chapter = doc[0]
    last = chapter[-1]
    assert last["ids"] == ["print-solutions"] and last[0].astext() == "Solutions"
    assert [s[0].astext() for s in last.findall(nodes.section) if s is not last] == \
        ["Exercise 1: rank", "Exercise 2: norm"]
    assert "Two." in last.astext() and "Two." not in exercise_1.astext()
    pointer = exercise_1[-1]
    assert pointer.astext().startswith("Solution: at the end of this chapter")
    reference = next(pointer.findall(nodes.reference))
    assert reference["refid"] == "print-solution-1"
    assert not list(doc.findall(P._is_solution_dropdown))


def test_a_proof_gets_a_title_in_the_editions_language():
    doc = document()
    box = nodes.admonition(classes=["proof", "proof"])
    box += nodes.paragraph(text="證明：因為 A = B。")
    doc += box
    assert P.title_proofs(doc, "zh") == 1
    assert box[0].astext() == "證明" and box[1].astext() == "因為 A = B。"


VERDICT = ('<div class="exercise-feedback ok"><div class="lang-en">✔ Right: σ = 2.</div>'
           '<div class="lang-zh">✔ 正確：σ = 2。</div></div>')
WIDGET = '<div class="page-explorer"><input type="range" value="3"><img src="data:image/png;base64,AA"></div>'


def test_outputs_print_as_text_of_their_language_and_widget_pages_are_dropped():
    outputs = [
        {"output_type": "execute_result", "data": {"text/html": VERDICT, "text/plain": "✔ Right: σ = 2.\n✔ 正確：σ = 2。"}},
        {"output_type": "execute_result", "data": {"text/html": WIDGET, "text/plain": "PageExplorer(...)"}},
        {"output_type": "display_data", "data": {"text/html": "<table/>", "text/markdown": "| a |", "text/plain": "x"}},
        {"output_type": "stream", "name": "stdout", "text": "hello\n"},
    ]
    zh = P.printable_outputs(outputs, "zh")
    assert len(zh) == 3
    assert zh[0]["data"] == {"text/plain": "✔ 正確：σ = 2。"}
    assert zh[1] is outputs[2] and zh[2] is outputs[3]          # Markdown tables and streams stay
    assert P.printable_outputs(outputs, "en")[0]["data"] == {"text/plain": "✔ Right: σ = 2."}


def _cell(kind: str, source: str, tags=(), outputs=None) -> dict:
    cell = {"cell_type": kind, "source": source, "metadata": {"tags": list(tags)}}
    if kind == "code":
        cell["outputs"] = outputs or []
    return cell


def test_hidden_inputs_are_removed_except_a_solutions_code():
    stored = {"cells": [_cell("code", "check()", ["hide-input"]),
                        _cell("markdown", "::::{dropdown} Solution / 解答\n::::"),
                        _cell("code", "answer = 2", ["hide-input"])]}
    executed = {"cells": [dict(c, metadata={"tags": list(c["metadata"]["tags"])}) for c in stored["cells"]]}
    out = P.printable_notebook(stored, executed, "en")
    assert out["cells"][0]["metadata"]["tags"] == ["remove-input"]
    assert out["cells"][2]["metadata"]["tags"] == []


def test_an_executed_copy_of_another_version_is_refused():
    stored = {"cells": [_cell("code", "a = 1")]}
    executed = {"cells": [_cell("code", "a = 2")]}
    try:
        P.printable_notebook(stored, executed, "en")
    except ValueError as error:
        assert "does not match" in str(error)
    else:
        raise AssertionError("a stale executed notebook was accepted")


def test_wide_tables_get_column_widths_narrow_ones_do_not():
    def table(rows):
        t = nodes.table()
        group = nodes.tgroup(cols=len(rows[0]))
        t += group
        for _ in rows[0]:
            group += nodes.colspec(colwidth=1)
        body = nodes.tbody()
        group += body
        for cells in rows:
            row = nodes.row()
            for text in cells:
                entry = nodes.entry()
                entry += nodes.paragraph(text=text)
                row += entry
            body += row
        return t

    doc = document()
    wide = table([["matrix", "矩陣", "A rectangular array of numbers, m rows by n columns. " * 2, "1"]])
    narrow = table([["k", "2"]])
    doc += wide
    doc += narrow
    assert P.set_table_widths(doc) == 1
    assert "colwidths-given" in wide["classes"] and "colwidths-given" not in narrow["classes"]
    widths = [c["colwidth"] for c in wide.findall(nodes.colspec)]
    assert widths == [6, 6, 64, 6]             # a Chinese character counts twice; 6 … 28, the widest 64


def test_appendices_are_lettered_and_the_reference_part_unnumbered():
    tex = "\n".join([r"\part{學習路徑}", r"\chapter{矩陣的秩}", r"\part{附錄}",
                     r"\chapter{附錄 A：多 GPU 上的 LoRA}", r"\chapter{附錄 B：效能}",
                     r"\part{參考}", r"\chapter{術語表}"])
    out = P.letter_appendices(tex, "zh").split("\n")
    assert out[:4] == [r"\part{學習路徑}", r"\chapter{矩陣的秩}", r"\part{附錄}", r"\appendix"]
    assert out[4:6] == [r"\chapter{多 GPU 上的 LoRA}", r"\chapter{效能}"]
    assert out[7].startswith(r"\chapter*{術語表}\addcontentsline{toc}{chapter}{術語表}")
    en = P.letter_appendices("\n".join([r"\part{Appendices}", r"\chapter{Appendix A: LoRA on many GPUs}",
                                        r"\part{Reference}", r"\chapter{Glossary}"]), "en").split("\n")
    assert en[1:3] == [r"\appendix", r"\chapter{LoRA on many GPUs}"]
    try:
        P.letter_appendices(r"\chapter{Glossary}", "en")
    except ValueError as exc:
        assert "Appendices" in str(exc)
    else:
        raise AssertionError("a LaTeX file without the appendix part was accepted")
