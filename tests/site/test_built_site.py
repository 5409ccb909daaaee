"""Checks of the built HTML book (_build/html), run by `make test` after the book build.

Static checks read the HTML: every page loads the language switch in <head>, MathJax and the
widget manager from the site itself, and no script from another host. Browser checks drive
headless Chromium offline: the switch hides the other language on this page and the next one,
?lang= selects a language, math is typeset and figures load. Chromium and chromedriver come from
Debian (`apt-get install chromium chromium-driver`; .ci/run installs them). Without them the
browser checks are skipped on a laptop, but fail under CI (CI=true), so CI never skips them.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
PAGES = sorted(p for p in (SITE / "chapters").glob("*.html"))


def test_the_book_was_built():
    assert (SITE / "index.html").exists(), "run the book build first (make build-book)"
    assert PAGES, "no chapter pages in _build/html/chapters"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_language_switch_loads_in_head(page):
    html = page.read_text(encoding="utf-8")
    head = html[: html.index("<body")]
    assert re.search(r'<script src="\.\./_static/lang\.js', head), "lang.js must load in <head>"
    assert re.search(r'href="\.\./_static/lang\.css', head)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_script_or_stylesheet_comes_from_another_host(page):
    html = page.read_text(encoding="utf-8")
    external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', html)
    external = [u for u in external if not u.startswith("http://127.0.0.1")]
    assert not external, f"{page.name} loads {external}"
    if 'class="math' in html:                       # a page with mathematics typesets it locally
        assert "_static/mathjax/tex-chtml-full.js" in html


def test_vendored_assets_are_in_the_site():
    for path in ("mathjax/tex-chtml-full.js", "require.js", "html-manager/embed-amd.js",
                 "lang.js", "lang.css"):
        assert (SITE / "_static" / path).exists(), path


# --- in a browser --------------------------------------------------------------------------

def _driver():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    missing = [n for n, p in (("chromium", chromium), ("chromedriver", chromedriver)) if not p]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {missing} for the browser checks (see .ci/run)")
        pytest.skip(f"browser checks need {missing} (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(chromedriver), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


def _visible(driver, selector: str) -> list[bool]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".map(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none');", selector)


def _wait(driver, script: str, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def _chapter(name: str) -> str:
    return (SITE / "chapters" / name).as_uri()


def test_switch_hides_english_on_this_page_and_the_next(browser):
    browser.get(_chapter("01_rank.html") + "?lang=en")
    assert any(_visible(browser, ".lang-en")) and not any(_visible(browser, ".lang-zh"))
    buttons = browser.find_elements("css selector", ".lang-switch button")
    assert [b.text for b in buttons] == ["English", "中文", "EN + 中文"]
    buttons[1].click()                                              # 中文
    assert not any(_visible(browser, ".lang-en")) and all(_visible(browser, ".lang-zh"))
    assert browser.execute_script("return document.documentElement.lang") == "zh-Hant-TW"
    browser.get(_chapter("preface.html"))                          # next page, no ?lang
    assert browser.execute_script("return document.documentElement.dataset.lang") == "zh"
    assert not any(_visible(browser, ".lang-en")) and any(_visible(browser, ".lang-zh"))
    pressed = browser.find_element("css selector", '.lang-switch button[aria-pressed="true"]')
    assert pressed.text == "中文"
    browser.find_elements("css selector", ".lang-switch button")[2].click()   # both
    assert all(_visible(browser, ".lang-en")) and all(_visible(browser, ".lang-zh"))


def test_lang_parameter_selects_and_is_remembered(browser):
    browser.get(_chapter("01_rank.html") + "?lang=en")
    browser.get(_chapter("glossary.html"))
    assert browser.execute_script("return document.documentElement.dataset.lang") == "en"
    assert not any(_visible(browser, ".lang-zh"))


def test_math_is_typeset_and_figures_load_offline(browser):
    browser.get(_chapter("01_rank.html"))
    n_math = _wait(browser, "return document.querySelectorAll('mjx-container').length || 0")
    assert n_math > 20
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src);")
    assert not broken, broken
    n_figures = browser.execute_script(
        "return document.querySelectorAll('.cell_output img').length;")
    assert n_figures >= 3
