"""The built book in the reader's language, with no answer shown early (checks of _build/html).

Static checks read the HTML: every solution's verdict sits inside its dropdown; Chinese text has
no stray spaces from line breaks; theorems are numbered per language (定理 2.1 beside Theorem
2.1) and labelled in Chinese; the glossary has one table per language; the references show no
raw LaTeX. Browser checks (headless Chromium, both languages, desktop and phone widths): the
verdicts stay hidden until a solution is opened, the page chrome is in Chinese when 中文 is
chosen, the language buttons never wrap, figures open at full size, and inline code in outputs
stays readable in dark mode.
"""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from .test_built_site import PAGES, SITE, _chapter, _driver

CHAPTER_PAGES = [p for p in PAGES if re.match(r"\d\d_", p.name)]
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
STRAY = re.compile(f"[{CJK}]\\s*\\n\\s*[{CJK}]|[，。、；：？！（「][ \\t\\n]+[{CJK}]")
BEFORE_PUNCTUATION = re.compile("\\n\\s*[，。、；：？！）」]")


def soup(page) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=lambda p: p.name)
def test_every_solution_verdict_is_inside_its_dropdown(page):
    doc = soup(page)
    dropdowns = [d for d in doc.select("details.sd-dropdown")
                 if d.summary and "Solution" in d.summary.get_text()]
    assert dropdowns, f"{page.name} has no solution dropdowns"
    for dropdown in dropdowns:
        assert dropdown.select(".cell"), "the solution's code cell moved into its dropdown"
    for verdict in doc.select(".exercise-feedback.ok"):       # a right answer is a solution's
        assert verdict.find_parent("details"), f"{page.name}: a verdict shows before its solution"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_chinese_text_has_no_stray_spaces_from_line_breaks(page):
    doc = soup(page)
    problems = []
    for block in doc.select(".lang-zh p, .lang-zh li, .lang-zh td, .lang-zh dd, .lang-zh dt"):
        for element in block.select(".math, code, script, mjx-container"):
            element.replace_with("\u2062")                   # maths and code: a barrier
        text = block.get_text()
        problems += STRAY.findall(text) + BEFORE_PUNCTUATION.findall(text)
    assert not problems, f"{page.name}: {len(problems)} stray spaces, e.g. {problems[:5]}"


def test_theorems_are_numbered_and_labelled_per_language():
    for name, number in (("01_rank.html", "1.1"), ("02_svd.html", "2.1"), ("03_lowrank.html", "3.1")):
        doc = soup(SITE / "chapters" / name)
        en = [s.get_text().strip() for s in doc.select(".lang-en .theorem .caption-number")]
        zh = [s.get_text().strip() for s in doc.select(".lang-zh .theorem .caption-number")]
        assert en[0] == f"Theorem {number}" and zh[0] == f"定理 {number}", (name, en, zh)
        assert len(en) == len(zh)
        assert not doc.select(".lang-zh .caption-number:-soup-contains('Proof')")
    for name in ("01_rank.html", "03_lowrank.html"):
        doc = soup(SITE / "chapters" / name)
        starts = [p.select_one("p").get_text()[:4] for p in doc.select(".lang-zh .admonition.proof")
                  if "theorem" not in p.get("class", [])]
        assert starts and all(s.startswith("證明：") for s in starts), (name, starts)
        starts = [p.select_one("p").get_text()[:6] for p in doc.select(".lang-en .admonition.proof")
                  if "theorem" not in p.get("class", [])]
        assert starts and all(s.startswith("Proof.") for s in starts), (name, starts)


def test_the_glossary_has_one_table_per_language():
    doc = soup(SITE / "chapters" / "glossary.html")
    en, zh = doc.select(".lang-en table"), doc.select(".lang-zh table")
    assert len(en) == len(zh) == 1
    head_en = [th.get_text().strip() for th in en[0].select("th")]
    head_zh = [th.get_text().strip() for th in zh[0].select("th")]
    assert head_en == ["English", "中文", "Definition", "Ch."]
    assert head_zh == ["中文", "English", "定義", "章"]
    rows_en, rows_zh = en[0].select("tbody tr"), zh[0].select("tbody tr")
    assert len(rows_en) == len(rows_zh) > 100
    first_zh = rows_zh[0].select("td")
    assert first_zh[0].get_text() == "矩陣" and re.search(f"[{CJK}]", first_zh[2].get_text())


def test_references_show_no_raw_latex_and_names_in_order():
    text = soup(SITE / "chapters" / "references.html").get_text()
    assert "III David Bau" not in text and "Bau" in text
    assert not re.search(r"\\(emph|texttt|textit|_)", text)


# --- in a browser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


def _set_width(driver, width: int) -> None:
    driver.set_window_size(width, 900)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [1280, 390])
def test_verdicts_stay_hidden_until_the_solution_is_opened(browser, lang, width):
    _set_width(browser, width)
    browser.get(_chapter("01_rank.html") + f"?lang={lang}")
    # checkVisibility: a closed <details> keeps its content laid out but hidden
    # (content-visibility), so client rects alone would say "visible".
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('.exercise-feedback.ok'))"
        ".filter(e => e.checkVisibility({contentVisibilityAuto: true, opacityProperty: true,"
        " visibilityProperty: true})).length;")
    assert shown == 0, "a right answer is visible before its solution was opened"
    opened = browser.execute_script("""
        const d = Array.from(document.querySelectorAll('details.sd-dropdown'))
                       .find(x => x.querySelector('.exercise-feedback.ok'));
        d.querySelector('summary').click();
        return Array.from(d.querySelectorAll('.exercise-feedback.ok .lang-""" + lang + """'))
                    .filter(e => e.checkVisibility()).map(e => e.textContent);""")
    assert opened and opened[0].startswith("✔"), opened


def test_the_page_chrome_follows_the_language(browser):
    _set_width(browser, 1280)
    browser.get(_chapter("02_svd.html") + "?lang=zh")
    texts = browser.execute_script(
        "return Array.from(document.querySelectorAll('.prev-next-subtitle, .onthispage'))"
        ".map(e => e.textContent.trim());")
    assert "上一頁" in texts and "下一頁" in texts and "本頁目錄" in texts, texts
    toggles = browser.execute_script(
        "return Array.from(document.querySelectorAll('details.hide summary p'))"
        ".map(e => e.textContent.trim());")
    assert "顯示程式碼" in toggles and "Show code cell source" not in toggles
    browser.find_elements("css selector", ".lang-switch button")[0].click()    # English again
    texts = browser.execute_script(
        "return Array.from(document.querySelectorAll('.prev-next-subtitle'))"
        ".map(e => e.textContent.trim());")
    assert texts == ["previous", "next"]


@pytest.mark.parametrize("width", [390, 1280])
def test_the_language_buttons_never_wrap(browser, width):
    _set_width(browser, width)
    browser.get(_chapter("01_rank.html") + "?lang=zh")
    heights = browser.execute_script(
        "return Array.from(document.querySelectorAll('.lang-switch button'))"
        ".map(b => [b.getBoundingClientRect().height, parseFloat(getComputedStyle(b).lineHeight)"
        " || 20]);")
    assert heights and all(h < 1.9 * line for h, line in heights), heights


def test_figures_open_at_full_size(browser):
    _set_width(browser, 390)
    browser.get(_chapter("03_lowrank.html") + "?lang=zh")
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output a.image-reference img'))"
        ".filter(i => i.getClientRects().length > 0)"
        ".map(i => [i.naturalWidth, i.getBoundingClientRect().width]);")
    assert len(sizes) >= 3
    assert all(natural >= 2 * shown for natural, shown in sizes), sizes   # retina and more


def test_inline_code_in_outputs_is_readable_in_dark_mode(browser):
    _set_width(browser, 1280)
    browser.get(_chapter("05_training.html") + "?lang=en")
    browser.execute_script("document.documentElement.dataset.theme = 'dark';")
    colours = browser.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output code'))"
        ".filter(c => c.getClientRects().length > 0).slice(0, 5)"
        ".map(c => [getComputedStyle(c).color, getComputedStyle(document.body).backgroundColor]);")
    assert colours, "chapter 5 shows inline code in an output"

    def luminance(rgb: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", rgb)[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    assert all(abs(luminance(fg) - luminance(bg)) > 0.4 for fg, bg in colours), colours


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_theorems_fit_the_text_column(browser, lang):
    _set_width(browser, 1280)
    browser.get(_chapter("03_lowrank.html") + f"?lang={lang}")
    overflow = browser.execute_script(
        "return Array.from(document.querySelectorAll('.theorem mjx-container[display=\"true\"],"
        " .theorem div.math')).filter(e => e.checkVisibility())"
        ".map(e => e.scrollWidth - e.clientWidth);")
    assert overflow and max(overflow) <= 1, overflow


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_glossary_fits_a_phone(browser, lang):
    _set_width(browser, 390)
    browser.get(_chapter("glossary.html") + f"?lang={lang}")
    cells = browser.execute_script(
        "const w = document.documentElement.clientWidth;"
        "return Array.from(document.querySelectorAll('.glossary td'))"
        ".filter(e => e.checkVisibility()).slice(0, 40)"
        ".map(e => e.getBoundingClientRect().right - w);")
    assert len(cells) == 40 and max(cells) <= 0, cells


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_literal_markup_is_left_in_the_text(page):
    text = soup(page).get_text()
    assert not re.search(r"\*提示|提示：\*|:::\{|\{cite:|\{prf:", text), page.name


def test_output_tables_have_cell_padding(browser):
    _set_width(browser, 1280)
    browser.get(_chapter("03_lowrank.html") + "?lang=en")
    padding = browser.execute_script(
        "return Array.from(document.querySelectorAll('.cell_output table td'))"
        ".filter(e => e.checkVisibility()).map(e => parseFloat(getComputedStyle(e).paddingLeft));")
    assert padding and min(padding) >= 4, padding


def test_the_search_page_speaks_chinese(browser):
    from selenium.webdriver.support.ui import WebDriverWait
    _set_width(browser, 1280)
    browser.get((SITE / "search.html").as_uri() + "?q=rank&lang=zh")
    summary = WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "const p = document.querySelector('#search-results p.search-summary');"
        "return p && p.textContent.trim().length > 5 ? p.textContent.trim() : null;"))
    assert re.match(r"搜尋完成，找到 \d+ 頁符合搜尋條件。", summary), summary
    title = browser.execute_script("return document.querySelector('#search-results h2').textContent")
    assert title.startswith("搜尋結果"), title


@pytest.mark.parametrize("page", ["01_rank.html", "05_training.html"])
def test_the_page_header_fits_a_phone(browser, page):
    # the language switch and the header buttons share one line: no sideways scrolling
    _set_width(browser, 390)
    browser.get(_chapter(page) + "?lang=zh")
    width, client = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];")
    assert width <= client + 1, (page, width, client)
    assert browser.execute_script(
        "return document.querySelector('.lang-switch').getBoundingClientRect().right") <= client
