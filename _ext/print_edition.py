"""Sphinx extension of the book: the print edition, one language per PDF (``make pdf``).

Off unless ``print_edition`` is set (``tools/build_pdf.py`` sets it to ``en`` or ``zh`` for the
LaTeX builder); the HTML book is untouched. For an edition it

1. **reads the executed notebooks** from ``print_notebooks`` (the HTML build's outputs, or a fresh
   execution) instead of the stored ones, which have no outputs; outputs that cannot print are
   dropped (interactive HTML: the widget pages, each followed by its static figure), and HTML
   text (a checker's verdict, a notice) is kept as plain text in the edition's language;
2. **keeps one language**: the other language's ``lang-*`` blocks are removed, and a bilingual
   title ("SVD / 奇異值分解", a table header "rank / 秩") keeps the edition's half;
3. **moves the solutions to the end of each chapter**, under "Solutions" / "解答", each headed by
   its exercise; the exercise says where its solution is;
4. **typesets Chinese** with XeLaTeX and xeCJK (Noto CJK TC), with the labels of the edition
   (定理 2.1, 證明, 目錄) and code that wraps instead of running off the page.

The Chinese line joins, the proof label 證明 and the maths–punctuation glue are
``bilingual_book``'s rules, applied to the kept blocks as in the HTML book.
"""
from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

from bilingual_book import CJK, LABELS_ZH, _is_solution_dropdown, in_language

logger = logging.getLogger(__name__)

EDITIONS = ("en", "zh")
LANGUAGE = {"en": "en", "zh": "zh_TW"}              # Sphinx's language: its labels, "繼續下一頁"
TARGET = "rank-to-lora-{lang}"                       # _build/pdf/rank-to-lora-en.pdf, -zh.pdf
_HAS_CJK = re.compile(f"[{CJK}]")

WORDS = {
    "en": {"solutions": "Solutions", "see": "Solution: at the end of this chapter, in ",
           "contents": "Contents", "chapter": "Chapter", "bibliography": "Bibliography",
           "author": "", "date": "%b %d, %Y"},
    "zh": {"solutions": "解答", "see": "解答在本章末的", "contents": "目錄", "chapter": "章",
           "bibliography": "參考書目", "author": "《從矩陣的秩到 LoRA》作者群",
           "date": "%Y 年 %m 月 %d 日"},
}


def other(lang: str) -> str:
    return "zh" if lang == "en" else "en"


# --- 2. one language --------------------------------------------------------------------------

def edition_half(text: str, lang: str) -> str:
    """The edition's half of a bilingual title: "SVD / 奇異值分解" -> "SVD" or "奇異值分解".

    The title splits at the " / " after which every part has Chinese and before which none has
    ("ms / step / 毫秒／步" -> "ms / step" | "毫秒／步"); a title without such a split is kept whole.
    """
    parts = text.split(" / ")
    for i in range(1, len(parts)):
        left, right = parts[:i], parts[i:]
        if not any(_HAS_CJK.search(p) for p in left) and all(_HAS_CJK.search(p) for p in right):
            return " / ".join(left if lang == "en" else right).strip()
    return text


def _halve_text_nodes(element: nodes.Element, lang: str) -> int:
    """Apply ``edition_half`` to a title-like element whose text is all in one Text node run."""
    texts = [t for t in element.findall(nodes.Text)]
    if len(texts) == 1:
        new = edition_half(str(texts[0]), lang)
        if new != str(texts[0]):
            texts[0].parent.replace(texts[0], nodes.Text(new))
            return 1
        return 0
    # several pieces (maths or code inside the title): cut at the " / " piece
    for k, t in enumerate(texts):
        value = str(t)
        if " / " not in value:
            continue
        before, after = value.split(" / ", 1)
        whole_after = after + "".join(str(x) for x in texts[k + 1:])
        whole_before = "".join(str(x) for x in texts[:k]) + before
        if _HAS_CJK.search(whole_after) and not _HAS_CJK.search(whole_before):
            keep_en = lang == "en"
            t.parent.replace(t, nodes.Text(before if keep_en else after))
            siblings = _inline_run(element, t, texts)
            for node in (siblings["after"] if keep_en else siblings["before"]):
                if node.parent is not None:
                    node.parent.remove(node)
            return 1
    return 0


def _inline_run(element: nodes.Element, pivot: nodes.Text, texts: list) -> dict:
    """The top-level children of ``element`` before and after the one holding ``pivot``."""
    holder = pivot
    while holder.parent is not element:
        holder = holder.parent
    index = element.index(holder) if holder in element.children else None
    if index is None:
        return {"before": [], "after": []}
    return {"before": list(element.children[:index]), "after": list(element.children[index + 1:])}


def drop_other_language(doctree: nodes.document, lang: str) -> int:
    gone = [n for n in doctree.findall(nodes.Element) if f"lang-{other(lang)}" in n.get("classes", [])]
    for node in gone:
        if node.parent is not None:
            node.parent.remove(node)
    return len(gone)


def halve_titles(doctree: nodes.document, lang: str) -> int:
    """Section titles, toctree captions (the parts of the book), and the header row of tables."""
    changed = 0
    for title in list(doctree.findall(nodes.title)):
        if _halve_text_nodes(title, lang):
            changed += 1
            section = title.parent
            if isinstance(section, nodes.section):
                # sphinx-proof finds a theorem's chapter by the chapter's title among the
                # section's names (for its number, 定理 2.1): the new title is a name too
                section["names"].append(nodes.fully_normalize_name(title.astext()))
    # the parts of the book: a toctree's caption, and its copy on the toctree's wrapper, which
    # sphinx-jupyterbook-latex makes a \part from
    for toctree in doctree.findall(lambda n: n.tagname in ("toctree", "compound")):
        for key in ("caption", "rawcaption"):
            if toctree.get(key):
                toctree[key] = edition_half(toctree[key], lang)
    for head in list(doctree.findall(nodes.thead)):
        for entry in list(head.findall(nodes.entry)):
            for para in list(entry.findall(nodes.paragraph)):
                changed += _halve_text_nodes(para, lang)
    return changed


def _width(text: str) -> int:
    """Printed width in Latin characters: a Chinese character is two."""
    return sum(2 if _HAS_CJK.match(c) else 1 for c in text)


def set_table_widths(doctree: nodes.document, fits: int = 72) -> int:
    """Column widths for a table too wide for one line per row (the glossary's definitions): each
    column gets its share of the line from its longest cell, between 6 and 28 characters (the
    widest column up to 64), and the cells wrap. Narrow tables keep LaTeX's own sizing."""
    changed = 0
    for table in list(doctree.findall(nodes.table)):
        if "colwidths-given" in table.get("classes", []):
            continue
        tgroup = next(iter(table.findall(nodes.tgroup)), None)
        if tgroup is None:
            continue
        colspecs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
        widest = [0] * len(colspecs)
        word = [0] * len(colspecs)            # the longest word: a column is never narrower
        for row in tgroup.findall(nodes.row):
            for j, entry in enumerate(e for e in row.children if isinstance(e, nodes.entry)):
                if j < len(widest):
                    widest[j] = max(widest[j], _width(entry.astext()))
                    word[j] = max([word[j]] + [_width(w) for w in entry.astext().split()])
        if not colspecs or sum(widest) <= fits:
            continue
        wide = widest.index(max(widest))
        for j, (colspec, width) in enumerate(zip(colspecs, widest)):
            colspec["colwidth"] = max(6, min(word[j], 28), min(64 if j == wide else 28, width))
        table["classes"].append("colwidths-given")
        changed += 1
    return changed


# --- 3. solutions at the end of each chapter --------------------------------------------------

def _exercise_title(node: nodes.Node) -> str:
    while node is not None and not isinstance(node, nodes.section):
        node = node.parent
    if node is None or not node.children or not isinstance(node[0], nodes.title):
        return ""
    return node[0].astext()


def solutions_to_chapter_end(doctree: nodes.document, lang: str) -> int:
    """Every "Solution / 解答" dropdown (with the cell ``bilingual_book`` moved into it) leaves
    its exercise for a section at the end of the chapter; the exercise keeps a pointer to it."""
    dropdowns = list(doctree.findall(_is_solution_dropdown))
    chapter = next(iter(doctree.findall(nodes.section)), None)
    if not dropdowns or chapter is None:
        return 0
    words = WORDS[lang]
    section_id = "print-solutions"
    solutions = nodes.section(ids=[section_id], names=[section_id])
    solutions += nodes.title(text=words["solutions"])
    for number, dropdown in enumerate(dropdowns, start=1):
        heading = _exercise_title(dropdown) or f"{words['solutions']} {number}"
        anchor = f"print-solution-{number}"
        pointer = nodes.paragraph(classes=["print-solution-pointer"])
        pointer += nodes.emphasis("", "", nodes.Text(words["see"]),
                                  nodes.reference("", f"“{words['solutions']}”" if lang == "en"
                                                  else f"「{words['solutions']}」",
                                                  refid=anchor, internal=True))
        if lang == "en":
            pointer[0] += nodes.Text(".")
        else:
            pointer[0] += nodes.Text("一節。")
        dropdown.parent.replace(dropdown, pointer)
        entry = nodes.section(ids=[anchor], names=[anchor])
        entry += nodes.title(text=heading)
        entry["classes"].append("print-solution")
        for child in list(dropdown.children):
            if isinstance(child, nodes.rubric):               # the "Solution / 解答" header
                continue
            dropdown.remove(child)
            entry += child
        solutions += entry
    chapter += solutions
    return len(dropdowns)


# --- 1. executed notebooks, printable outputs ------------------------------------------------

class _TextOfLanguage(HTMLParser):
    """The text of an HTML fragment without the other language's ``lang-*`` elements; block
    elements end a line."""
    BLOCKS = {"div", "p", "br", "li", "tr", "h1", "h2", "h3", "h4", "table", "ul", "ol"}
    VOID = {"br", "img", "input", "hr", "meta", "link", "source", "wbr"}

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_class = f"lang-{other(lang)}"
        self.stack: list[bool] = []            # one entry per open element: inside a skipped one?
        self.out: list[str] = []

    def _skipping(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag in self.BLOCKS and not self._skipping():
            self.out.append("\n")
        if tag not in self.VOID:
            self.stack.append(self.skip_class in classes)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack:
            self.stack.pop()
        if tag in self.BLOCKS and not self._skipping():
            self.out.append("\n")

    def handle_data(self, data):
        if not self._skipping():
            self.out.append(data)

    def text(self) -> str:
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in "".join(self.out).splitlines()]
        return "\n".join(line for line in lines if line)


INTERACTIVE = re.compile(r"<(?:script|input|select|button|textarea)\b", re.I)
PRINTABLE = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf", "text/latex",
             "text/markdown")


def printable_outputs(outputs: list, lang: str) -> list:
    """The outputs of a code cell as they print: an HTML-only output (a widget page, a verdict,
    a notice) is dropped when it is interactive, else kept as its text in the edition's language."""
    kept = []
    for output in outputs:
        data = output.get("data")
        if not data or "text/html" not in data or any(m in data for m in PRINTABLE):
            kept.append(output)
            continue
        page = "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
        if INTERACTIVE.search(page):
            continue                                   # a widget page: its static twin follows
        parser = _TextOfLanguage(lang)
        parser.feed(page)
        parser.close()
        text = html.unescape(parser.text())
        if text:
            kept.append({**output, "data": {"text/plain": text}})
    return kept


def cell_sources(notebook: dict) -> list[tuple[str, str]]:
    """What must match between a stored notebook and its executed copy."""
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in notebook["cells"]]


def printable_notebook(stored: dict, executed: dict, lang: str) -> dict:
    """The executed notebook prepared for print: outputs filtered, and the input of cells tagged
    ``hide-input`` removed (a printed page cannot unfold it), except in a solution, whose code is
    the answer."""
    if cell_sources(stored) != cell_sources(executed):
        raise ValueError("the executed notebook does not match the stored one")
    cells = executed["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        cell["outputs"] = printable_outputs(cell.get("outputs", []), lang)
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        previous = "".join(cells[i - 1]["source"]) if i else ""
        in_solution = "{dropdown} Solution" in previous
        if "hide-input" in tags and not in_solution:
            tags[:] = [t for t in tags if t != "hide-input"] + ["remove-input"]
        elif "hide-input" in tags:
            tags[:] = [t for t in tags if t != "hide-input"]
    return executed


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    lang = app.config.print_edition
    if not lang or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    executed = Path(app.config.print_notebooks) / f"{docname}.ipynb"
    if not executed.exists():
        logger.warning(f"print edition: no executed copy of {docname} in {executed.parent}; "
                       "it prints without outputs (run tools/build_pdf.py)", type="print_edition")
        return
    stored = json.loads(source[0])
    try:
        notebook = printable_notebook(stored, json.loads(executed.read_text(encoding="utf-8")), lang)
    except ValueError as error:
        logger.warning(f"print edition: {docname}: {error} ({executed})", type="print_edition")
        return
    source[0] = json.dumps(notebook, ensure_ascii=False)


# --- wiring -----------------------------------------------------------------------------------

def on_doctree_read_titles(app: Sphinx, doctree: nodes.document) -> None:
    """Before the title and toc collectors (priority 500): the edition's half of each title."""
    lang = app.config.print_edition
    if lang:
        drop_other_language(doctree, lang)
        halve_titles(doctree, lang)


PROOF_PREFIX = {"en": "Proof. ", "zh": LABELS_ZH["proof"] + "："}


def title_proofs(doctree: nodes.document, lang: str) -> int:
    """A printed proof is a box titled "Proof" / "證明" (sphinx-proof's LaTeX box has no title,
    and its text starts with the label, which ``bilingual_book`` made 證明： in Chinese)."""
    titled = 0
    for box in list(doctree.findall(nodes.admonition)):
        if box.get("classes", [])[:2] != ["proof", "proof"] or (box.children and isinstance(box[0], nodes.title)):
            continue
        first = next(box.findall(nodes.Text), None)
        prefix = next((p for p in PROOF_PREFIX.values() if first is not None and str(first).startswith(p)), None)
        if prefix is None:
            continue
        first.parent.replace(first, nodes.Text(str(first)[len(prefix):]))
        box.insert(0, nodes.title(text=PROOF_PREFIX[lang].rstrip(" .：")))
        titled += 1
    return titled


def on_doctree_read_solutions(app: Sphinx, doctree: nodes.document) -> None:
    """After ``bilingual_book`` put each solution's cell into its dropdown and labelled the
    Chinese proofs."""
    lang = app.config.print_edition
    if lang:
        title_proofs(doctree, lang)
        solutions_to_chapter_end(doctree, lang)
        set_table_widths(doctree)
        for rubric in list(doctree.findall(nodes.rubric)):
            _halve_text_nodes(rubric, lang)


def _relabel_latex(original, unnumbered: bool):
    """sphinx-proof writes "Theorem 2.1" into the LaTeX body; in the Chinese edition, 定理 2.1."""
    def depart(self, node):
        before = len(self.body)
        original(self, node)
        label = LABELS_ZH.get((node.get("realtype") or "").lower())
        if not label or not (in_language(node, "zh") or self.config.print_edition == "zh"):
            return
        english = (node.get("realtype") or "").title()
        for i in range(len(self.body) - 1, max(-1, before - 400), -1):
            piece = self.body[i]
            if isinstance(piece, str) and (piece == english or piece.startswith(english + " ")):
                self.body[i] = label + piece[len(english):]
                break
    return depart


def on_builder_inited(app: Sphinx) -> None:
    if not app.config.print_edition or app.builder.format != "latex":
        return
    # sphinx-jupyterbook-latex numbers by section (Theorem 1.8.1) once the book has parts; the
    # HTML book numbers by chapter (Theorem 1.1, 定理 1.1), and the text cites those numbers
    app.config.numfig_secnum_depth = 1
    from sphinx_proof import nodes as proof_nodes

    for node_type in proof_nodes.NODE_TYPES.values():
        app.add_node(node_type, override=True,
                     latex=(proof_nodes.visit_enumerable_node,
                            _relabel_latex(proof_nodes.depart_enumerable_node, False)))
    app.add_node(proof_nodes.unenumerable_node, override=True,
                 latex=(proof_nodes.visit_unenumerable_node,
                        _relabel_latex(proof_nodes.depart_unenumerable_node, True)))


FONTS = r"""
\setmainfont{DejaVu Serif}[Scale=0.92]
\setsansfont{DejaVu Sans}[Scale=0.92]
\setmonofont{DejaVu Sans Mono}[Scale=0.84, ItalicFont={DejaVu Sans Mono},
  ItalicFeatures={FakeSlant=0.15}, BoldItalicFont={DejaVu Sans Mono Bold},
  BoldItalicFeatures={FakeSlant=0.15}]  % the oblique lacks glyphs the upright has (ℓ)
\usepackage{xeCJK}
\xeCJKsetup{CJKspace=false, AutoFakeSlant=true, CheckSingle=true}
\setCJKmainfont{Noto Serif CJK TC}[BoldFont={Noto Serif CJK TC Bold}]
\setCJKsansfont{Noto Sans CJK TC}[BoldFont={Noto Sans CJK TC Bold}]
\setCJKmonofont{Noto Sans Mono CJK TC}
"""

PREAMBLE = r"""
% print edition (_ext/print_edition.py)
% bilingual_book glues inline maths to the full-width mark after it (a line may not start with
% "，"); xeCJK already forbids that break, and an \mbox would stop long formulas from breaking
\providecommand{\DUrolenowrap}[1]{#1}
\renewcommand{\contentsname}{@contents@}
\renewcommand{\bibname}{@bibliography@}
\xeCJKDeclareCharClass{CJK}{"2113}  % ℓ in code: DejaVu Sans Mono lacks it, Noto CJK has it
\xeCJKDeclareCharClass{Default}{"2018, "2019}  % an apostrophe (Weyl’s) is Latin, not full width
\setcounter{tocdepth}{1}
"""

# What sphinx-jupyterbook-latex's class (jupyterBook.cls) gives code cells, without the packages
# it also loads (bbm, pgfplots), which Debian's texlive-xetex and texlive-lang-chinese lack.
CELLS = r"""
\usepackage[strict]{changepage}
\definecolor{CodeBlockInputBorderColor}{RGB}{204,204,204}
\definecolor{CodeBlockInputColor}{RGB}{247,247,247}
\definecolor{CodeBlockOutputBorderColor}{RGB}{235,235,235}
\definecolor{CodeBlockOutputColor}{RGB}{252,252,252}
\newenvironment{sphinxVerbatimInput}
  {\colorlet{VerbatimBorderColor}{CodeBlockInputBorderColor}%
   \colorlet{VerbatimColor}{CodeBlockInputColor}%
   \begin{adjustwidth}{5pt}{}}
  {\end{adjustwidth}}
\newenvironment{sphinxVerbatimOutput}
  {\colorlet{VerbatimBorderColor}{CodeBlockOutputBorderColor}%
   \colorlet{VerbatimColor}{CodeBlockOutputColor}%
   \begin{adjustwidth}{20pt}{}}
  {\end{adjustwidth}}
"""

# English quotes, dashes and ellipses in the Latin font, with their own (narrow) widths
PREAMBLE_EN = r"""
\xeCJKDeclareCharClass{Default}{"201C, "201D, "2014, "2026}
"""

PREAMBLE_ZH = r"""
\linespread{1.25}
\renewcommand{\partname}{}
\renewcommand{\appendixname}{附錄}
% chapter openings and running footers: 第 5 章 / 附錄 A, not "Chapter 5."
\makeatletter
\def\bookappchapapp{\appendixname}   % what \appendix sets \@chapapp to, for \ifx
\titleformat{\chapter}[display]{\normalfont\sffamily\bfseries\Huge}%
  {\LARGE \ifx\@chapapp\bookappchapapp 附錄 \thechapter\else 第 \thechapter{} 章\fi}{16pt}{}
\renewcommand{\chaptermark}[1]{\markboth{\ifx\@chapapp\bookappchapapp 附錄 \thechapter\else 第 \thechapter{} 章\fi\quad #1}{}}
\makeatother
"""


APPENDIX_PART = "Appendices / 附錄"        # the _toc.yml captions whose chapters print as
REFERENCE_PART = "Reference / 參考"         # appendices A, B … and as unnumbered chapters
_APPENDIX_PREFIX = re.compile(r"(?:Appendix [A-Z]: |附錄 [A-Z]：)")
_CHAPTER = re.compile(r"\\chapter\{(.*)\}")


def letter_appendices(tex: str, lang: str) -> str:
    """The LaTeX of an edition with the appendices lettered and the reference part unnumbered.

    After ``\\part{Appendices}`` comes ``\\appendix``, so its chapters are A, B (their titles lose
    the "Appendix A: " that the HTML book needs); the chapters of the reference part (glossary,
    references) become unnumbered chapters that still appear in the contents and the footers.
    ``tools/build_pdf.py`` applies it between Sphinx and XeLaTeX. ValueError if a part is missing.
    """
    appendix = rf"\part{{{edition_half(APPENDIX_PART, lang)}}}"
    reference = rf"\part{{{edition_half(REFERENCE_PART, lang)}}}"
    lines = tex.split("\n")
    for part in (appendix, reference):
        if part not in lines:
            raise ValueError(f"the {lang} edition has no line {part!r}")
    out, state = [], None
    for line in lines:
        if line in (appendix, reference):
            state = "appendix" if line == appendix else "reference"
            out += [line, r"\appendix"] if state == "appendix" else [line]
            continue
        match = _CHAPTER.fullmatch(line)
        if match and state == "appendix":
            line = r"\chapter{" + _APPENDIX_PREFIX.sub("", match.group(1), count=1) + "}"
        elif match and state == "reference":
            title = match.group(1)
            line = (rf"\chapter*{{{title}}}\addcontentsline{{toc}}{{chapter}}{{{title}}}"
                    rf"\markboth{{{title}}}{{}}")
        out.append(line)
    return "\n".join(out)


def on_config_inited(app: Sphinx, config: Any) -> None:
    """After sphinx-jupyterbook-latex (priority 500) set its LaTeX defaults: the edition's."""
    lang = config.print_edition
    if not lang:
        return
    if lang not in EDITIONS:
        raise ValueError(f"print_edition must be one of {EDITIONS}, not {lang!r}")
    words = WORDS[lang]
    language = LANGUAGE[lang]
    if config.language != language:           # Sphinx picks its translations before this event
        raise ValueError(f"the {lang} edition is built with language={language!r} "
                         f"(tools/build_pdf.py sets it), not {config.language!r}")
    config.latex_engine = "xelatex"
    config.latex_theme = "manual"              # not jupyterBook.cls (needs bbm.sty, pgfplots)
    elements = dict(config.latex_elements)
    # sphinx-jupyterbook-latex loads ucharclasses, which fights xeCJK over XeTeX's inter-character
    # tokens; xeCJK does the switching between Latin and Chinese fonts itself.
    preamble = elements.get("preamble", "")
    preamble = preamble.replace(r"\usepackage[Latin,Greek]{ucharclasses}", "")
    # unicode-math breaks Sphinx's \pmb{\checkmark} for "✔" (a checker's verdict); the book's
    # maths is written with TeX commands, so the classic maths fonts print it.
    preamble = preamble.replace(r"\usepackage{unicode-math}", "")
    preamble = preamble.replace(r"\addto\captionsenglish{\renewcommand{\contentsname}{Contents}}", "")
    elements.update({
        "papersize": "a4paper",
        "pointsize": "11pt",
        "babel": "",
        "polyglossia": "",
        "fontenc": r"\usepackage{fontspec}",
        "fontpkg": FONTS,
        "fncychap": "" if lang == "zh" else r"\usepackage[Sonny]{fncychap}",
        "fvset": r"\fvset{fontsize=\footnotesize,formatcom=\xeCJKVerbAddon}",
        "sphinxsetup": "hmargin={2.2cm,2.2cm}, vmargin={2.4cm,2.4cm}",
        "printindex": "",
        "makeindex": "",
        "preamble": (preamble + CELLS + PREAMBLE.replace("@contents@", words["contents"])
                     .replace("@bibliography@", words["bibliography"])
                     + (PREAMBLE_ZH if lang == "zh" else PREAMBLE_EN)),
    })
    config.latex_elements = elements
    config.today_fmt = words["date"]
    config.nb_render_markdown_format = "myst"  # a table an output gives as Markdown prints as a table
    if lang == "zh":
        config.proof_title_format = "（%t）"      # 定理 2.1（奇異值分解）
    config.latex_domain_indices = False        # no "Proof Index": theorems are found by number


def on_env_before_read_docs(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """jupyter-book sets ``latex_documents`` from _config.yml after Sphinx starts; now the
    edition's file name and title."""
    lang = app.config.print_edition
    if not lang or not app.config.latex_documents:
        return
    start, _, title, author, theme, *rest = app.config.latex_documents[0]
    title = edition_half(app.config.html_title or title, lang)
    author = WORDS[lang]["author"] or author
    app.config.latex_documents = [(start, TARGET.format(lang=lang) + ".tex", title, author, theme,
                                   *rest)]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("print_edition", "", "env", [str])
    app.add_config_value("print_notebooks", "", "env", [str])
    app.connect("config-inited", on_config_inited, priority=900)
    app.connect("builder-inited", on_builder_inited, priority=600)   # after jupyterbook-latex
    app.connect("source-read", on_source_read)
    app.connect("env-before-read-docs", on_env_before_read_docs)
    app.connect("doctree-read", on_doctree_read_titles, priority=400)
    app.connect("doctree-read", on_doctree_read_solutions, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
