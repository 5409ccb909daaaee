"""How fast the book's sliders answer in the static HTML book (no kernel), in headless Chromium.

For every widget of the built book (chapters 1-5), the script moves a slider by one step many
times and measures, in the page, the time from the input event to the next animation frame
(``requestAnimationFrame``), each move made at the start of a frame: the new view is on screen in
the next frame when that time is one frame (16.7 ms at 60 Hz). Reported per widget: the move's
own work (median, worst), the median time to the next frame, and how many moves came later
than one frame (more than 1.2 × 16.7 ms).
The precomputed explorers (chapters 1, 3, 5) show another of their pictures (already decoded);
chapters 2 and 4 compute in the page (the 2×2 SVD, the LoRA arithmetic).

Run after ``make book``:  .venv/bin/python benchmarks/bench_static_widgets.py
Needs Debian's chromium and chromium-driver. Writes ``benchmarks/results/widgets_static.json``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html" / "chapters"
RESULTS = Path(__file__).with_name("results") / "widgets_static.json"
MOVES = 40

# page -> (CSS selector of the control, how to move it one step in the page)
WIDGETS = {
    "01_rank.html": ".page-explorer input[type=range]:last-of-type",
    "02_svd.html": ".svd-page input[type=range]",
    "03_lowrank.html": ".page-explorer input[type=range]",
    "04_lora.html": ".lora-page-calculator .calc-r",
    "05_training.html": ".page-explorer input[type=range]",
}
PRECOMPUTED = {"01_rank.html", "03_lowrank.html", "05_training.html"}

# One move and its time to the next frame: a range input's value changes, as a key press does.
MEASURE = """
const [kind, moves, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const times = [], work = [];
const frame = () => new Promise(r => requestAnimationFrame(() => r()));
async function step(i) {
  await frame();                                  // start at the beginning of a frame
  const t0 = performance.now();
  {
    const input = Array.from(document.querySelectorAll(kind)).pop();
    const max = +input.max, min = +input.min, s = +(input.step || 1);
    let v = +input.value + (i % 10 < 5 ? s : -s);
    input.value = Math.min(max, Math.max(min, v));
    input.dispatchEvent(new Event('input', {bubbles: true}));
  }
  work.push(performance.now() - t0);              // the move's own work, before painting
  await frame();                                  // the next frame shows the new view
  times.push(performance.now() - t0);
}
(async () => { for (let i = 0; i < moves; i++) await step(i); done([times, work]); })();
"""


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,900", f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def main() -> dict:
    d = driver()
    d.set_script_timeout(120)
    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "browser": d.capabilities.get("browserVersion"), "cpu_count": os.cpu_count(),
              "platform": platform.platform(), "moves": MOVES, "frame_budget_ms": 16.7,
              "widgets": {}}
    try:
        for page, kind in WIDGETS.items():
            d.get((SITE / page).as_uri())
            time.sleep(4)                                    # widgets drawn, MathJax done
            times, work = d.execute_async_script(MEASURE, kind, MOVES)
            late = sum(t > 1.2 * result["frame_budget_ms"] for t in times)
            result["widgets"][page] = {"work_median_ms": round(statistics.median(work), 2),
                                       "work_max_ms": round(max(work), 2),
                                       "to_next_frame_median_ms": round(statistics.median(times), 2),
                                       "moves_later_than_one_frame": late,
                                       "kind": "precomputed views" if page in PRECOMPUTED
                                       else "computed in the page"}
    finally:
        d.quit()
    return result


if __name__ == "__main__":
    result = main()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for page, entry in result["widgets"].items():
        print(f"{page:<18} work median {entry['work_median_ms']:6.2f} ms, worst "
              f"{entry['work_max_ms']:6.2f} ms; next frame {entry['to_next_frame_median_ms']:5.1f} ms;"
              f" later than one frame: {entry['moves_later_than_one_frame']}/{MOVES}"
              f"   ({entry['kind']})")
    print(f"wrote {RESULTS}")
