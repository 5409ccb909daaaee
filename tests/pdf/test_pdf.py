"""Checks of the print edition (_build/pdf), run by `make test` after `make pdf`.

Two PDFs, one per language, built by tools/build_pdf.py through Jupyter Book 1's LaTeX builder and
XeLaTeX. The checks read the XeLaTeX logs and the PDFs' text (pdftotext, Debian's poppler-utils)
and render pages to PNG (pdftoppm) for a reviewer, in _build/pdf/pages/. The sentences they look for
are taken from the book's sources, not written here: every edition must carry its own language's
prose and none of the other's. Without poppler-utils the checks are skipped on a laptop and fail
under CI (CI=true), as the browser checks of tests/site do.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "_build" / "pdf"
PAGES = OUT / "pages"
sys.path.insert(0, str(ROOT / "_ext"))

from print_edition import _APPENDIX_PREFIX, EDITIONS, TARGET, edition_half, other  # noqa: E402

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {name} (apt-get install poppler-utils; see .ci/run)")
        pytest.skip(f"{name} is missing (apt-get install poppler-utils)")
    return path


def pdf_path(lang: str) -> Path:
    path = OUT / f"{TARGET.format(lang=lang)}.pdf"
    assert path.exists(), f"{path} is missing: run `make pdf` first"
    return path


@functools.lru_cache(maxsize=None)
def pages(lang: str) -> tuple[str, ...]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(pdf_path(lang)), "-"],
                          capture_output=True, text=True, check=True).stdout
    return tuple(text.split("\f"))


def normal(text: str) -> str:
    """Letters, digits and Chinese characters only, lower case: line breaks, hyphenation,
    ligatures, quotes and spacing differ between a source and its typeset text."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if c.isascii() and c.isalnum() or CJK.match(c))


@functools.lru_cache(maxsize=None)
def book_text(lang: str) -> str:
    return normal("".join(pages(lang)))


# --- the sources: chapters and their prose blocks ---------------------------------------------

def documents() -> list[Path]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"(?:root|file):\s*(\S+)", toc)
    found = []
    for name in names:
        for suffix in (".ipynb", ".md"):
            if (ROOT / f"{name}{suffix}").exists():
                found.append(ROOT / f"{name}{suffix}")
                break
    return found


def markdown(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


BLOCK = re.compile(r"^(:{3,})\{div\} lang-(en|zh)[ \t]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, text) of every ``lang-*`` block of a source, nested ones included."""
    return [(m.group(2), m.group(3)) for m in BLOCK.finditer(markdown(path))]


GAP = "\x00"          # where maths, code or a citation stood: a sentence with one is not used


def _plain(block: str, lang: str) -> str:
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", GAP, block, flags=re.S)      # maths
    text = re.sub(r"\{[a-z:]+\}`[^`]*`|`[^`]*`", GAP, text)                  # roles, code
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)                      # links: their text
    text = re.sub(r"^\s*(?:\||:::|#|>).*$", GAP, text, flags=re.M)           # tables, fences, headings
    text = re.sub(r"^\s*(?:[-*]|\d+\.)\s+", " ", text, flags=re.M)           # list markers
    text = text.replace("*", "")
    return re.sub(r"\s*\n\s*", "" if lang == "zh" else " ", text)


def sentences(lang: str, per_document: int = 6) -> list[tuple[str, str]]:
    """Distinctive sentences of each document's ``lang`` blocks, in plain words (no maths, code
    or citation in them): (document, sentence)."""
    chosen = []
    for path in documents():
        found = []
        for block_lang, block in blocks(path):
            if block_lang != lang:
                continue
            text = _plain(block, lang)
            for sentence in re.split(r"(?<=[.!?])\s+|(?<=[。！？；])", text):
                size = len(CJK.findall(sentence)) if lang == "zh" else len(normal(sentence))
                if (size >= 14 if lang == "zh" else size >= 45) and not re.search(r"[{}\\|$\x00]", sentence):
                    found.append(sentence.strip())
        step = max(1, len(found) // per_document)
        chosen += [(path.name, s) for s in found[::step][:per_document]]
    return chosen


def chapter_titles() -> list[tuple[str, str]]:
    titles = []
    for path in documents():
        heading = re.search(r"^# (.+)$", markdown(path), re.M)
        assert heading, f"{path.name} has no title"
        titles.append((path.name, heading.group(1).strip()))
    return titles


# --- the build ----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", EDITIONS)
def test_the_pdf_was_built_with_a_plausible_page_count(lang):
    n = len(pages(lang)) - 1                      # pdftotext ends the last page with a form feed
    info = subprocess.run([_tool("pdfinfo"), str(pdf_path(lang))], capture_output=True, text=True,
                          check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == n
    assert 60 <= n <= 500, f"{lang}: {n} pages"
    ratio = len(pages(lang)) / len(pages(other(lang)))
    assert 0.7 < ratio < 1.45, f"the editions should be of similar length: {ratio:.2f}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_xelatex_found_every_glyph(lang):
    log = OUT / lang / "latex" / f"{TARGET.format(lang=lang)}.log"
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "XeTeX" in text.splitlines()[0] and "Output written on" in text
    missing = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", text)))
    assert not missing, f"{lang}: no glyph for {missing}"


def test_chinese_is_typeset_with_a_traditional_chinese_font():
    """The Noto CJK collections hold a Japanese, Korean, Simplified and Traditional face each; the
    PDF names an embedded subset after the collection's first face (…CJKjp…) whichever face was
    used, so the face is read from the XeLaTeX log: fontspec loaded the TC family."""
    fonts = subprocess.run([_tool("pdffonts"), str(pdf_path("zh"))], capture_output=True, text=True,
                           check=True).stdout
    assert "NotoSerifCJK" in fonts, fonts
    log = (OUT / "zh" / "latex" / f"{TARGET.format(lang='zh')}.log").read_text(encoding="utf-8", errors="replace")
    assert re.search(r"Font family 'NotoSerifCJKTC\(\d+\)' created", log)
    assert not re.search(r"Font family 'NotoSerifCJK(?:JP|SC|KR)", log)
    assert "換" in book_text("zh") and "錄" in book_text("zh")     # Taiwan glyphs the default CJK font lacks


# --- one language each ---------------------------------------------------------------------------

@pytest.mark.parametrize("lang", EDITIONS)
def test_every_chapter_title_is_printed_in_its_language(lang):
    titles = chapter_titles()
    assert len(titles) >= 9
    text = book_text(lang)
    # an appendix prints "Appendix A" / "附錄 A" above its title, which drops that prefix
    printed = {doc: _APPENDIX_PREFIX.sub("", edition_half(t, lang), count=1) for doc, t in titles}
    missing = [(doc, title) for doc, title in printed.items() if normal(title) not in text]
    assert not missing, f"{lang}: titles not found: {missing}"
    lettered = [doc for doc, t in titles if _APPENDIX_PREFIX.match(edition_half(t, lang))]
    assert len(lettered) == 2, lettered
    label = {"en": "Appendix", "zh": "附錄"}[lang]
    for letter in "AB":
        assert re.search(rf"^{label}\s+{letter}\s*$", "".join(pages(lang)), re.M | re.I), (lang, letter)


def headings() -> list[tuple[str, str]]:
    """(document, heading) of every bilingual heading of the book."""
    return [(p.name, h) for p in documents()
            for h in re.findall(r"^#{1,4} (.+ / .+)$", markdown(p), re.M)]


@pytest.mark.parametrize("lang", EDITIONS)
def test_every_heading_prints_one_language(lang):
    """A bilingual heading ("Recap / 重點回顧") prints only the edition's half."""
    found = headings()
    assert len(found) >= 50
    text = book_text(lang)
    lines = re.sub(r"\s+", " ", "".join(pages(lang)))
    whole = [(doc, h) for doc, h in found if edition_half(h, lang) != h and h in lines]
    assert not whole, f"{lang}: headings printed in both languages: {whole[:5]}"
    halves = [(doc, edition_half(h, lang)) for doc, h in found]
    absent = [(doc, h) for doc, h in halves if normal(h) not in text]
    assert len(absent) <= 0.05 * len(halves), f"{lang}: headings not found: {absent[:5]}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_other_languages_prose_is_absent(lang):
    foreign = sentences(other(lang))
    assert len(foreign) >= 20, f"too few {other(lang)} sentences to test with: {len(foreign)}"
    text = book_text(lang)
    leaked = [(doc, s) for doc, s in foreign if normal(s) in text]
    assert not leaked, f"{other(lang)} prose in the {lang} edition: {leaked[:5]}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_editions_own_prose_is_present(lang):
    own = sentences(lang)
    assert len(own) >= 20
    text = book_text(lang)
    missing = [(doc, s) for doc, s in own if normal(s) not in text]
    assert len(missing) <= 0.1 * len(own), f"{lang}: {len(missing)} of {len(own)} not found: {missing[:5]}"


@pytest.mark.parametrize("lang", EDITIONS)
def test_outputs_print_in_the_editions_language_and_widgets_are_dropped(lang):
    text = "".join(pages(lang))
    for page_only in ("PageExplorer(", "PageCalculator", "SVDPage", "IPython.core.display.HTML"):
        assert page_only not in text, f"{lang}: a widget's text repr was printed: {page_only}"
    verdict = {"en": "Right:", "zh": "正確："}
    assert verdict[lang] in text, "the solutions' checker verdicts are printed"
    assert verdict[other(lang)] not in text, "a verdict printed in the other language"


# --- labels, solutions, glossary ------------------------------------------------------------------

def _theorems(doc: Path) -> int:
    return len(re.findall(r"\{prf:theorem\}", markdown(doc))) // 2      # an English and a Chinese copy


@pytest.mark.parametrize("lang", EDITIONS)
def test_theorems_and_proofs_carry_the_editions_labels(lang):
    text = "".join(pages(lang))
    label, proof = {"en": ("Theorem", "Proof"), "zh": ("定理", "證明")}[lang]
    n_proofs = 0
    for chapter in (1, 2, 3):
        doc = next(p for p in documents() if p.name.startswith(f"0{chapter}_"))
        for k in range(1, _theorems(doc) + 1):
            assert re.search(rf"{label} {chapter}\.{k}\b", text), f"{lang}: {label} {chapter}.{k} missing"
        n_proofs += len(re.findall(r"\{prf:proof\}", markdown(doc))) // 2
    assert n_proofs >= 2
    assert len(re.findall(rf"^{proof}\s*$", text, re.M)) == n_proofs, f"{lang}: proofs titled {proof}"
    if lang == "zh":
        assert not re.search(r"Theorem \d+\.\d+|^Proof\s*$", text, re.M)


@pytest.mark.parametrize("lang", EDITIONS)
def test_solutions_are_at_the_end_of_each_chapter(lang):
    pointer = {"en": "Solution: at the end of this chapter", "zh": "解答在本章末的"}[lang]
    heading = {"en": "Solutions", "zh": "解答"}[lang]
    text = "".join(pages(lang))
    n_dropdowns = sum(markdown(p).count("{dropdown} Solution / 解答") for p in documents())
    assert n_dropdowns >= 15
    assert normal(text).count(normal(pointer)) == n_dropdowns
    # in each chapter, the Solutions section comes last and after every pointer to it
    body_pages = [page for page in pages(lang) if ". . . ." not in page]     # past the contents
    text = normal("".join(body_pages))
    for chapter in (1, 2, 3, 4):
        doc = next(p for p in documents() if p.name.startswith(f"0{chapter}_"))
        after = next(p for p in documents() if p.name.startswith(f"0{chapter + 1}_"))
        sections = [edition_half(h, lang) for h in re.findall(r"^## (.+)$", markdown(doc), re.M)]
        following = edition_half(re.search(r"^## (.+)$", markdown(after), re.M).group(1), lang)
        start = text.find(normal(f"{chapter}.1 {sections[0]}"))
        end = text.find(normal(f"{chapter + 1}.1 {following}"), start + 1)
        solutions = normal(f"{chapter}.{len(sections) + 1} {heading}")
        at = text.find(solutions, start)
        assert 0 <= start < at < end, f"{lang}: chapter {chapter}'s solutions ({solutions}) not at its end"
        assert text.rfind(normal(pointer), start, end) < at, f"{lang}: a pointer after the solutions"
        assert text.count(normal(pointer), start, at) >= 3


@pytest.mark.parametrize("lang", EDITIONS)
def test_the_glossary_is_in_the_editions_language(lang):
    glossary = ROOT / "chapters" / "glossary.md"
    title = edition_half(re.search(r"^# (.+)$", markdown(glossary), re.M).group(1), lang)
    at = [i for i, page in enumerate(pages(lang)) if re.search(rf"^{re.escape(title)}\s*$", page, re.M)
          and not _is_contents(page)]
    assert at, f"{lang}: no glossary page"
    page = "".join(pages(lang)[at[0]:at[0] + 3])          # the opening page (later: footers)
    header = {"en": "Definition", "zh": "定義"}[lang]
    assert header in page and {"en": "Definition", "zh": "定義"}[other(lang)] not in page


# --- pages to look at ----------------------------------------------------------------------------

def _is_contents(page: str) -> bool:
    """A page of the table of contents (its dot leaders), where every chapter title also appears."""
    return page.count(". . .") >= 3


def _find(lang: str, pattern: str, after: int = 0, contents: bool = False) -> int:
    """The first page from ``after`` that matches; a contents page only if ``contents``."""
    for i, page in enumerate(pages(lang)):
        if i >= after and re.search(pattern, page, re.M) and contents == _is_contents(page):
            return i + 1
    raise AssertionError(f"{lang}: no page matches {pattern!r}")


REVIEW = {   # what a reviewer looks at: (name, pattern in English, pattern in Chinese)
    "cover": (r"From Rank to LoRA", r"從矩陣的秩到 LoRA"),
    "contents": (r"^Contents", r"^目錄"),
    "theorem": (r"^Theorem 3\.1", r"^定理 3\.1"),
    "figure": (r"Figure 3\.1\.", r"圖 3\.1"),
    "table": (r"^Table 3\.1\.", r"^表 3\.1"),
    "glossary": (r"^Glossary\s*$", r"^術語表\s*$"),
}


@pytest.mark.parametrize("lang", EDITIONS)
def test_pages_render_to_png_for_review(lang):
    import matplotlib.image as mpimg

    PAGES.mkdir(parents=True, exist_ok=True)
    pdftoppm = _tool("pdftoppm")
    rendered = []
    for name, patterns in REVIEW.items():
        page = 1 if name == "cover" else _find(lang, patterns[EDITIONS.index(lang)], after=2,
                                               contents=name == "contents")
        stem = PAGES / f"{lang}-{name}"
        subprocess.run([pdftoppm, "-r", "100", "-png", "-singlefile", "-f", str(page), "-l", str(page),
                        str(pdf_path(lang)), str(stem)], check=True)
        image = mpimg.imread(stem.with_suffix(".png"))             # (height, width, channels)
        assert image.shape[0] > 800 and image.shape[1] > 600       # A4 at 100 dpi: 1169 × 827
        assert image.std() > 0.02, f"{stem}.png is blank"
        rendered.append(f"{name}: page {page}")
    (PAGES / f"{lang}.txt").write_text("\n".join(rendered) + "\n", encoding="utf-8")
