"""_ext/bilingual_book.py, the book's Sphinx extension, on small doctrees built by hand (the
built pages are checked in tests/site/test_reader_language.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
import bilingual_book as B  # noqa: E402


def document() -> nodes.document:
    return new_document("test", get_default_settings(Parser))


def zh_paragraph(*children: nodes.Node) -> tuple[nodes.document, nodes.paragraph]:
    doc = document()
    box = nodes.container(classes=["lang-zh"])
    para = nodes.paragraph("", "", *children)
    box += para
    doc += box
    return doc, para


def test_line_breaks_between_chinese_characters_are_removed():
    doc, para = zh_paragraph(nodes.Text("是它們的"), nodes.Text("\n"),
                             nodes.strong("", "", nodes.Text("線性組合")), nodes.Text("。下\n一行"),
                             nodes.Text("\n"), nodes.math("", "x"), nodes.Text("\n；然後"))
    B.join_chinese_lines(doc)
    text = para.astext()
    assert text == "是它們的線性組合。下一行\nx；然後"        # maths keeps its space on the left
    assert B.join_chinese_lines(doc) == 0                     # idempotent


def test_english_blocks_and_code_are_left_alone():
    doc = document()
    box = nodes.container(classes=["lang-en"])
    box += nodes.paragraph("", "", nodes.Text("line one\nline two 的\n的"))
    doc += box
    zh_doc, para = zh_paragraph(nodes.literal("", "a\nb 的\n的"))
    assert B.join_chinese_lines(doc) == 0 and B.join_chinese_lines(zh_doc) == 0
    assert para.astext() == "a\nb 的\n的"


def test_equal_text_nodes_are_replaced_by_identity():
    """Two "\\n" Text nodes are equal strings: the join must replace the right one."""
    doc, para = zh_paragraph(nodes.Text("abc"), nodes.Text("\n"), nodes.Text("def 秩"),
                             nodes.Text("\n"), nodes.Text("很低"))
    B.join_chinese_lines(doc)
    assert para.astext() == "abc\ndef 秩很低"


def test_the_solution_cell_moves_into_its_dropdown():
    doc = document()
    section = nodes.section()
    dropdown = nodes.container(design_component="dropdown")
    dropdown += nodes.rubric("", "Solution / 解答")
    cell = nodes.container(nb_element="cell_code", classes=["cell", "tag_hide-input"])
    other = nodes.container(nb_element="cell_code", classes=["cell"])
    section += [dropdown, cell, other]
    doc += section
    assert B.move_solutions_into_dropdowns(doc) == 1
    assert cell.parent is dropdown and other.parent is section


def test_a_chinese_proof_starts_with_its_chinese_label():
    doc = document()
    for lang in ("en", "zh"):
        box = nodes.container(classes=[f"lang-{lang}"])
        proof = nodes.admonition(classes=["proof", "proof"])
        proof += nodes.paragraph("", "", nodes.Text("Proof. (1) Each column"))
        box += proof
        doc += box
    assert B.label_chinese_proofs(doc) == 1
    texts = [p.astext() for p in doc.findall(nodes.paragraph)]
    assert texts == ["Proof. (1) Each column", "證明：(1) Each column"]


def test_full_width_punctuation_sticks_to_the_maths_before_it():
    doc, para = zh_paragraph(nodes.Text("令 "), nodes.math("", "x"), nodes.Text("，則"),
                             nodes.math("", "y"), nodes.Text(" 是"))
    assert B.glue_punctuation_to_maths(doc) == 1
    glued = next(doc.findall(nodes.inline))
    assert glued["classes"] == ["nowrap"] and glued.astext() == "x，"
    assert para.astext() == "令 x，則y 是"


def test_a_repeated_head_script_is_dropped_once_and_widget_state_kept():
    head = ("<html><head><script>const A = 1;</script><script src='x.js'></script>"
            "<script>const A = 1;</script><script src='x.js'></script>"
            '<script type="application/vnd.jupyter.widget-state+json">{}</script>'
            '<script type="application/vnd.jupyter.widget-state+json">{}</script></head>'
            "<body><script>const A = 1;</script></body></html>")
    out = B.drop_repeated_scripts(head)
    assert out.count("const A = 1;") == 2                   # once in <head>, the body untouched
    assert out.count("x.js") == 1 and out.count("widget-state") == 2
