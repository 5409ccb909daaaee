"""Sphinx extension of the book: the page shows what the chosen language needs, and no answer early.

Three changes to each page's doctree, made where Sphinx builds it (``_config.yml`` loads this file
through ``local_extensions``):

1. **Solutions inside their dropdowns.** The code cell that follows a "Solution / 解答" dropdown
   (the cell that computes the answer and prints the checker's verdict) is moved into the
   dropdown, so its output stays hidden until the reader opens the solution.
2. **Chinese without stray spaces.** A line break between two Chinese characters inside a
   ``lang-zh`` block becomes nothing (HTML would show it as a space: "是它們的 線性組合"), and so
   does a line break before full-width punctuation; inline maths and the "，" or "；" after it
   stay on one line (a line never starts with full-width punctuation).
3. **Theorems numbered and labelled per language.** The English and Chinese copies of a theorem
   share one number (Theorem 2.1 and 定理 2.1, not 2.1 and 2.2), and inside ``lang-zh`` the
   labels are Chinese (定理, 引理 …; a proof starts with 證明：).
"""
from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"   # ideographs, punctuation
FULLWIDTH_PUNCTUATION = "，。、；：？！）」』】〉》％"
_JOIN_INSIDE = re.compile(f"(?<=[{CJK}])[ \\t]*\\n[ \\t]*(?=[{CJK}])")
_BEFORE_PUNCTUATION = re.compile(f"[ \\t]*\\n[ \\t]*(?=[{FULLWIDTH_PUNCTUATION}])")
# a space typed after full-width punctuation ("開始。 大型"): full-width marks carry their own space
_AFTER_PUNCTUATION = re.compile(f"(?<=[，。、；：？！（「『【〈《])[ \\t\\n]+(?=[{CJK}])")
_SKIP = (nodes.literal, nodes.literal_block, nodes.math, nodes.math_block, nodes.raw,
         nodes.comment)

LABELS_ZH = {
    "theorem": "定理", "lemma": "引理", "corollary": "推論", "proposition": "命題",
    "definition": "定義", "proof": "證明", "remark": "註", "example": "例", "axiom": "公理",
    "conjecture": "猜想", "criterion": "準則", "property": "性質", "observation": "觀察",
    "assumption": "假設", "notation": "符號", "algorithm": "演算法",
}


def in_language(node: nodes.Node, lang: str) -> bool:
    """True when ``node`` sits inside a ``lang-<lang>`` block."""
    while node is not None:
        if isinstance(node, nodes.Element) and f"lang-{lang}" in node.get("classes", []):
            return True
        node = node.parent
    return False


# --- 1. solutions inside their dropdowns -----------------------------------------------------------

def _is_solution_dropdown(node: nodes.Node) -> bool:
    if not (isinstance(node, nodes.container) and node.get("design_component") == "dropdown"):
        return False
    titles = [child for child in node.children if isinstance(child, nodes.rubric)]
    return bool(titles) and titles[0].astext().strip().startswith("Solution")


def move_solutions_into_dropdowns(doctree: nodes.document) -> int:
    moved = 0
    for dropdown in list(doctree.findall(_is_solution_dropdown)):
        parent = dropdown.parent
        index = parent.index(dropdown)
        if index + 1 >= len(parent):
            continue
        cell = parent[index + 1]
        if isinstance(cell, nodes.container) and cell.get("nb_element") == "cell_code":
            parent.remove(cell)
            dropdown.append(cell)
            moved += 1
    return moved


# --- 2. Chinese without stray spaces ------------------------------------------------------------

def _pieces(block: nodes.Element) -> list:
    """The block's Text nodes in reading order, with ``None`` standing for maths or code between
    them (a barrier: lines are not joined across it, except before full-width punctuation)."""
    out: list = []
    for node in block.findall(lambda n: isinstance(n, (nodes.Text, *_SKIP))):
        if isinstance(node, _SKIP):
            if out and out[-1] is None:
                continue
            out.append(None)
        elif not any(isinstance(a, _SKIP) for a in _ancestors(node.parent, stop=block)):
            out.append(node)
    return out


def _ancestors(node: nodes.Node, stop: nodes.Node):
    while node is not None:
        yield node
        if node is stop:
            return
        node = node.parent


def _neighbour(values: list, i: int, step: int) -> str:
    """The nearest non-empty text next to piece i (``""`` at a barrier or the block's edge)."""
    j = i + step
    while 0 <= j < len(values):
        if values[j] is None:
            return ""
        if values[j]:
            return values[j]
        j += step
    return ""


def join_chinese_lines(doctree: nodes.document) -> int:
    """Remove line breaks between Chinese characters (and before full-width punctuation) in
    every text block of a ``lang-zh`` block; markdown's soft breaks are Text nodes of their own,
    so each node is joined in the context of its neighbours."""
    changed = 0
    for block in list(doctree.findall(nodes.TextElement)):   # a list: the loop edits the tree
        if isinstance(block, _SKIP) or not in_language(block, "zh"):
            continue
        if block.parent is not None and isinstance(block.parent, nodes.TextElement):
            continue                                  # the outermost text element does the work
        pieces = _pieces(block)
        values = [None if p is None else str(p) for p in pieces]
        for i, node in enumerate(pieces):
            if node is None or not re.search(r"\s", values[i]):
                continue
            before, after = _neighbour(values, i, -1)[-1:], _neighbour(values, i, +1)[:1]
            before = "" if before.isspace() else before
            after = "" if after.isspace() else after
            joined = before + values[i] + after
            for pattern in (_JOIN_INSIDE, _BEFORE_PUNCTUATION, _AFTER_PUNCTUATION):
                joined = pattern.sub("", joined)
            new = joined[len(before):len(joined) - len(after)]
            if new != values[i]:
                values[i] = new
                parent = node.parent                 # by identity: Text nodes equal as strings
                parent[next(k for k, c in enumerate(parent.children) if c is node)] = nodes.Text(new)
                changed += 1
    return changed


# --- 3. theorem numbers and labels per language ---------------------------------------------------

def _proof_node_types() -> tuple[type, ...]:
    from sphinx_proof.nodes import NODE_TYPES
    return tuple(NODE_TYPES.values())


def pair_theorem_numbers(app: Sphinx, env: Any) -> list[str]:
    """After Sphinx numbers figures: the k-th Chinese theorem of a page takes the number of the
    k-th English one, and the English ones are numbered among themselves."""
    types = _proof_node_types()
    for docname, by_type in env.toc_fignumbers.items():
        if not any(t in by_type for t in ("theorem", "lemma", "definition", "corollary",
                                          "proposition", "example", "remark", "algorithm")):
            continue
        doctree = env.get_doctree(docname)
        order: dict[str, dict[str, list[str]]] = {}
        for node in doctree.findall(lambda n: isinstance(n, types)):
            ids = node.get("ids", [])
            counter = node.get("countertype") or node.get("realtype")
            if not ids or counter not in by_type or ids[0] not in by_type[counter]:
                continue
            lang = "zh" if in_language(node, "zh") else "en"
            order.setdefault(counter, {"en": [], "zh": []})[lang].append(ids[0])
        for counter, langs in order.items():
            numbers = by_type[counter]
            if not langs["en"]:
                continue
            prefix = numbers[langs["en"][0]][:-1]
            for k, node_id in enumerate(langs["en"], start=1):
                numbers[node_id] = (*prefix, k)
            for k, node_id in enumerate(langs["zh"]):
                partner = langs["en"][min(k, len(langs["en"]) - 1)]
                numbers[node_id] = numbers[partner]
    return []


def _zh_label(node: nodes.Element) -> str | None:
    realtype = (node.get("realtype") or "").lower()
    return LABELS_ZH.get(realtype) if in_language(node, "zh") else None


def _relabel_enumerable(original):
    def depart(self, node):
        before = len(self.body)
        original(self, node)
        label = _zh_label(node)
        if label is None:
            return
        english = (node.get("realtype") or "").title()
        for i in range(len(self.body) - 1, max(-1, before - 400), -1):
            piece = self.body[i]
            if isinstance(piece, str) and piece.startswith(f"{english} ") and piece.endswith(" "):
                self.body[i] = label + piece[len(english):]
                break
    return depart


def _relabel_unenumerable(original):
    def depart(self, node):
        original(self, node)
        label = _zh_label(node)
        if label is None:
            return
        english = (node.get("realtype") or "").title()
        old = f'<span class="caption-number">{english} </span>'
        for i in range(len(self.body) - 1, -1, -1):
            if self.body[i] == old:
                self.body[i] = f'<span class="caption-number">{label} </span>'
                break
    return depart


# --- wiring ---------------------------------------------------------------------------------------

def label_chinese_proofs(doctree: nodes.document) -> int:
    """sphinx-proof starts a proof's first paragraph with the text "Proof. "; in Chinese, 證明："""
    changed = 0
    for box in list(doctree.findall(nodes.admonition)):
        if box.get("classes", [])[:2] != ["proof", "proof"] or not in_language(box, "zh"):
            continue
        first = next(box.findall(nodes.Text), None)
        if first is not None and str(first).startswith("Proof. "):
            parent = first.parent
            index = next(k for k, c in enumerate(parent.children) if c is first)
            parent[index] = nodes.Text(LABELS_ZH["proof"] + "：" + str(first)[len("Proof. "):])
            changed += 1
    return changed


def glue_punctuation_to_maths(doctree: nodes.document) -> int:
    """Keep inline maths and the full-width punctuation right after it on one line: a line may
    not start with "，" or "；" (the browser would break between the formula and the mark)."""
    glued = 0
    for math in list(doctree.findall(nodes.math)):
        parent = math.parent
        if parent is None or not in_language(math, "zh"):
            continue
        index = next(k for k, c in enumerate(parent.children) if c is math)
        if index + 1 >= len(parent.children) or not isinstance(parent[index + 1], nodes.Text):
            continue
        text = str(parent[index + 1])
        if not text or text[0] not in FULLWIDTH_PUNCTUATION:
            continue
        keep = nodes.inline(classes=["nowrap"])
        parent[index + 1] = nodes.Text(text[1:])
        parent.remove(math)
        keep += math
        keep += nodes.Text(text[0])
        parent.insert(index, keep)
        glued += 1
    return glued


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    move_solutions_into_dropdowns(doctree)
    label_chinese_proofs(doctree)
    join_chinese_lines(doctree)
    glue_punctuation_to_maths(doctree)


def on_builder_inited(app: Sphinx) -> None:
    """Wrap sphinx-proof's HTML departure functions so that Chinese blocks get Chinese labels."""
    from sphinx_proof import nodes as proof_nodes

    for node_type in proof_nodes.NODE_TYPES.values():
        app.add_node(node_type, override=True,
                     html=(proof_nodes.visit_enumerable_node,
                           _relabel_enumerable(proof_nodes.depart_enumerable_node)))
    app.add_node(proof_nodes.unenumerable_node, override=True,
                 html=(proof_nodes.visit_unenumerable_node,
                       _relabel_unenumerable(proof_nodes.depart_unenumerable_node)))


# --- 4. a page without console errors -------------------------------------------------------------

_SCRIPT_TAG = re.compile(r"<script(?: [^>]*)?>.*?</script>", re.S)


def drop_repeated_scripts(html: str) -> str:
    """The page's <head> without a <script> tag that already appeared in it (sphinx-thebe's
    ``const THEBE_JS_URL`` snippet is written twice, and the second copy throws "Identifier
    'THEBE_JS_URL' has already been declared"). Widget state and data scripts are left alone."""
    end = html.find("</head>")
    if end < 0:
        return html
    head, seen = html[:end], set()

    def once(match: re.Match) -> str:
        tag = match.group(0)
        if "application/vnd.jupyter" in tag[:120]:
            return tag
        if tag in seen:
            return ""
        seen.add(tag)
        return tag
    return _SCRIPT_TAG.sub(once, head) + html[end:]


def finish_pages(app: Sphinx, exception: Exception | None) -> None:
    """After the build: drop repeated scripts from every page (``drop_repeated_scripts``), and
    put the widget manager's icon fonts where it asks for them, relative to the page that loads
    it (``<page dir>/@jupyter-widgets/html-manager/dist/``)."""
    import shutil
    from pathlib import Path

    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = drop_repeated_scripts(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    fonts = sorted((out / "_static" / "html-manager").glob("*.woff*"))
    if not fonts:
        return
    for folder in {page.parent for page in out.rglob("*.html")
                   if "html-manager/embed-amd.js" in page.read_text(encoding="utf-8")}:
        target = folder / "@jupyter-widgets" / "html-manager" / "dist"
        target.mkdir(parents=True, exist_ok=True)
        for font in fonts:
            shutil.copy2(font, target / font.name)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("doctree-read", on_doctree_read)
    app.connect("build-finished", finish_pages)
    app.connect("env-get-updated", pair_theorem_numbers, priority=900)
    app.connect("builder-inited", on_builder_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
