"""The book's sliders move without a kernel, offline, over HTTP and from file:// (issue: every
widget works in the published book). Static checks: widget state ≤ 2 MB a page, no widget
manager on pages without widgets. Browser checks: a slider moved with the keyboard changes the
picture and the caption; no page logs a console error; no request leaves the machine."""
from __future__ import annotations

import functools
import http.server
import re
import threading
import time

import pytest
from selenium.webdriver.common.keys import Keys

from .test_built_site import PAGES, SITE, _driver

WIDGET_PAGES = ["01_rank.html", "03_lowrank.html", "05_training.html"]
STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>',
                   re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_widget_state_is_small_and_only_where_widgets_are(page):
    html = page.read_text(encoding="utf-8")
    states = STATE.findall(html)
    assert sum(map(len, states)) <= 2 * 2**20, f"{page.name}: widget state over 2 MB"
    shows_widgets = "application/vnd.jupyter.widget-view+json" in html
    assert ("html-manager/embed-amd.js" in html) == bool(states) or shows_widgets
    if page.name in ("glossary.html", "preface.html", "references.html"):
        assert "embed-amd.js" not in html, f"{page.name} loads the widget manager for nothing"
    if page.name in WIDGET_PAGES:
        assert 'class="page-explorer"' in html, f"{page.name} shows its explorer in the book"
    if not shows_widgets:                                 # the page explorers need no manager
        assert "embed-amd.js" not in html, f"{page.name} loads the widget manager for nothing"


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


def url(base: str, page: str, lang: str = "en") -> str:
    if base == "file":
        return (SITE / "chapters" / page).as_uri() + f"?lang={lang}"
    return f"{base}/chapters/{page}?lang={lang}"


def visible_view(driver) -> tuple[list[str], list[str]]:
    """The visible explorer pictures (their captions) and the visible slider readouts."""
    return (driver.execute_script(
                "return Array.from(document.querySelectorAll('.page-explorer .pe-view'))"
                ".filter(v => v.checkVisibility()).map(v => v.dataset.key + ' ' +"
                " v.querySelector('img').src.length);"),
            driver.execute_script(
                "return Array.from(document.querySelectorAll('.page-explorer output'))"
                ".filter(e => e.checkVisibility()).map(e => e.textContent.trim());"))


def wait_for_widgets(driver, timeout: float = 20.0) -> None:
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script(
        "return Array.from(document.querySelectorAll('.page-explorer .pe-view img'))"
        ".some(i => i.checkVisibility() && i.complete && i.naturalWidth > 0);"))


@pytest.mark.parametrize("where", ["file", "http"])
@pytest.mark.parametrize("page", WIDGET_PAGES)
def test_a_slider_moved_with_the_keyboard_changes_the_view(browser, server, where, page):
    browser.set_window_size(1280, 900)
    browser.get(url(server if where == "http" else "file", page, "zh"))
    wait_for_widgets(browser)
    before = visible_view(browser)
    handle = [h for h in browser.find_elements("css selector", ".page-explorer input[type=range]")
              if h.is_displayed()][-1]                     # the last slider (k)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    handle.send_keys(Keys.ARROW_RIGHT)
    time.sleep(0.5)
    after = visible_view(browser)
    assert after[0] and after[0] != before[0], "the picture did not change"
    assert after[1] != before[1], "the readout did not change"
    labels = browser.execute_script(
        "return Array.from(document.querySelectorAll('.page-explorer input[type=range]'))"
        ".map(e => e.getAttribute('aria-label'));")
    assert labels and all(t and " / " in t for t in labels), labels    # both languages


@pytest.mark.parametrize("where", ["file", "http"])
def test_no_page_logs_a_console_error_or_leaves_the_machine(browser, server, where):
    browser.get_log("browser")                                       # forget earlier pages
    for page in PAGES:
        browser.get(url(server if where == "http" else "file", page.name))
        time.sleep(1.5 if page.name in WIDGET_PAGES else 0.5)
        errors = [entry["message"] for entry in browser.get_log("browser")
                  if entry["level"] == "SEVERE"]
        assert not errors, f"{page.name} ({where}): {errors[:3]}"
        hosts = browser.execute_script(
            "return performance.getEntriesByType('resource').map(r => r.name)"
            ".filter(n => !n.startsWith('file:') && !n.startsWith('data:') &&"
            " !n.startsWith('blob:') && !n.startsWith(location.origin));")
        assert not hosts, f"{page.name} asked another host for {hosts[:3]}"


@pytest.mark.parametrize("model, targets, r", [("GPT-3 175B", ("W_q", "W_v"), 4),
                                               ("Llama-2-7B", ("W_q", "W_k", "W_v", "W_o", "MLP"), 16),
                                               ("GPT-2 small (124M)", ("MLP",), 1)])
def test_the_page_calculator_computes_what_lora_budget_computes(browser, model, targets, r):
    from lowrank_utils.budget import lora_budget
    from lowrank_utils.widgets.lora import RANK_CHOICES
    browser.set_window_size(1280, 900)
    browser.get(url("file", "04_lora.html"))
    cells = browser.execute_script("""
        const [model, targets, rIndex] = arguments;
        const root = document.querySelector('.lora-page-calculator');
        root.querySelector('.calc-model').value = model;
        root.querySelectorAll('.calc-targets input').forEach(b => { b.checked = targets.includes(b.value); });
        const slider = root.querySelector('.calc-r');
        slider.value = rIndex;
        slider.dispatchEvent(new Event('input', {bubbles: true}));
        return Array.from(root.querySelectorAll('tbody tr:first-child td')).map(td => td.textContent);
        """, model, list(targets), RANK_CHOICES.index(r))
    budget = lora_budget(model, targets, r)
    assert cells[0] == model and cells[2] == str(r)
    assert cells[3].startswith(f"{budget.trainable:,} ")
    assert cells[4] == f"{100 * budget.fraction:.4f} %"
    assert cells[5] == f"{budget.reduction:,.0f}"
    assert cells[6] == f"{2 * budget.trainable / 1e6:,.1f} MB"


def test_the_page_calculator_is_operable_by_keyboard(browser):
    browser.set_window_size(390, 900)
    browser.get(url("file", "04_lora.html", "zh"))
    slider = browser.find_element("css selector", ".lora-page-calculator .calc-r")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    before = browser.find_element("css selector", ".lora-page-calculator .calc-r-value").text
    slider.send_keys(Keys.ARROW_RIGHT)
    after = browser.find_element("css selector", ".lora-page-calculator .calc-r-value").text
    assert int(after) == 2 * int(before)                          # the next rank: r doubles
    box = browser.find_element("css selector", ".lora-page-calculator .calc-targets input")
    box.send_keys(Keys.SPACE)                                     # untick W_q from the keyboard
    assert not box.is_selected()


@pytest.mark.parametrize("A", [[[1.2, 0.5], [-0.4, 0.7]], [[0.5, 1.2], [1.0, -0.3]],
                               [[1.0, 0.5], [1.4, 0.7]], [[0.0, 0.0], [0.0, 0.0]],
                               [[-1.5, 0.2], [0.3, 1.1]]])
def test_the_page_svd_agrees_with_svd_2x2(browser, A):
    import numpy as np
    from lowrank_utils.widgets.svd2x2 import svd_2x2
    browser.set_window_size(1280, 900)
    browser.get(url("file", "02_svd.html"))
    data = browser.execute_script("""
        const root = document.querySelector('.svd-page');
        const inputs = root.querySelectorAll('input[type=range]');
        arguments[0].flat().forEach((v, i) => { inputs[i].value = v; });
        inputs[0].dispatchEvent(new Event('input', {bubbles: true}));
        return [root.dataset.sigma, root.dataset.u, root.dataset.vh];""", A)
    sigma, U, Vh = (np.array([float(x) for x in field.split(",")]) for field in data)
    U_ref, s_ref, Vh_ref, rank = svd_2x2(np.array(A))
    assert np.allclose(sigma, s_ref, atol=1e-6)
    assert np.allclose(Vh, Vh_ref.ravel(), atol=1e-6)
    if rank == 2:                                   # u₂ of a rank-1 matrix is only up to sign
        assert np.allclose(U, U_ref.ravel(), atol=1e-6)
    else:
        assert np.allclose(U.reshape(2, 2)[:, :rank], U_ref[:, :rank], atol=1e-6)


def test_the_page_svd_moves_with_the_keyboard(browser):
    browser.set_window_size(390, 900)
    browser.get(url("file", "02_svd.html", "zh"))
    slider = browser.find_element("css selector", ".svd-page input[type=range]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    shape = lambda: browser.execute_script(                             # noqa: E731
        "return document.querySelectorAll('.svd-page .shape')[3].getAttribute('d');")
    before = shape()
    slider.send_keys(Keys.ARROW_RIGHT)
    assert shape() != before
    caption = browser.execute_script(
        "return Array.from(document.querySelectorAll('.svd-caption span'))"
        ".filter(e => e.checkVisibility()).map(e => e.textContent);")
    assert len(caption) == 1 and caption[0].startswith("σ₁ = ") and "秩" in caption[0]
