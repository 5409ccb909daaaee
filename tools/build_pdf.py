"""Build the print edition: one PDF per language (``make pdf``).

    python tools/build_pdf.py              # both editions -> _build/pdf/rank-to-lora-{en,zh}.pdf
    python tools/build_pdf.py --lang zh    # one edition

Steps:
1. The executed notebooks. The HTML build (``make build-book``) leaves every executed chapter in
   ``_build/jupyter_execute``; a copy that matches the stored notebook cell for cell and is newer
   than it and than ``lowrank_utils/`` is reused, any other chapter is executed here once (in
   ``chapters/``, 300 s per cell, as the book build does). Both editions print these outputs.
2. For each edition, Jupyter Book 1's LaTeX builder (Sphinx) with ``print_edition`` set, which
   ``_ext/print_edition.py`` reads: one language's prose, solutions at the end of each chapter,
   xeCJK with Noto CJK TC. Warnings are errors, as in the HTML build.
3. ``latexmk`` with XeLaTeX. A "Missing character" in the log (a glyph no font has) fails the build.

Needs (Debian): texlive-xetex texlive-lang-chinese latexmk fonts-noto-cjk fonts-dejavu-core;
``.ci/run`` installs them when missing. Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

from print_edition import EDITIONS, LANGUAGE, TARGET, cell_sources, letter_appendices  # noqa: E402

OUT = ROOT / "_build" / "pdf"
NOTEBOOKS = OUT / "notebooks"                   # executed chapters, shared by both editions
HTML_EXECUTED = ROOT / "_build" / "jupyter_execute"
CELL_TIMEOUT = 600                # as _config.yml and make notebooks
MISSING = re.compile(r"Missing character: There is no (.+?) in font (.+?)!")


def _newest(paths) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def chapters() -> list[Path]:
    """The notebooks of the book, in the order of _toc.yml."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"file:\s*(\S+)", toc)
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def is_fresh(stored: Path, executed: Path, package_time: float) -> bool:
    if not executed.exists():
        return False
    if executed.stat().st_mtime < max(stored.stat().st_mtime, package_time):
        return False
    a = json.loads(stored.read_text(encoding="utf-8"))
    b = json.loads(executed.read_text(encoding="utf-8"))
    return cell_sources(a) == cell_sources(b)


def execute(stored: Path, target: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(stored, as_version=4)
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(stored.parent)}}).execute()
    nbformat.write(nb, target)


def prepare_notebooks(keep_going: bool = False, no_execute: bool = False) -> list[str]:
    """Executed copies of every chapter under _build/pdf/notebooks/<docname>.ipynb; returns the
    chapters that failed to execute (with ``keep_going``; else the first failure stops)."""
    failed = []
    package_time = _newest((ROOT / "lowrank_utils").rglob("*.py"))
    how = {}
    for stored in chapters():
        rel = stored.relative_to(ROOT)
        target = NOTEBOOKS / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        html_copy = HTML_EXECUTED / rel
        if is_fresh(stored, target, package_time):
            how[str(rel)] = "kept"
        elif is_fresh(stored, html_copy, package_time):
            shutil.copy2(html_copy, target)
            how[str(rel)] = "from the HTML build"
        elif no_execute:
            if is_fresh(stored, target, 0.0):
                how[str(rel)] = "kept, maybe older than lowrank_utils/ (--no-execute)"
            else:
                failed.append(str(rel))
                how[str(rel)] = "not executed (--no-execute): printed without outputs"
        else:
            start = time.perf_counter()
            try:
                execute(stored, target)
            except Exception as error:                  # a cell raised or timed out
                if not keep_going:
                    raise
                target.unlink(missing_ok=True)
                failed.append(str(rel))
                how[str(rel)] = f"FAILED, printed without outputs: {str(error).splitlines()[-1][:200]}"
            else:
                how[str(rel)] = f"executed ({time.perf_counter() - start:.0f} s)"
        print(f"  {rel}: {how[str(rel)]}", flush=True)
    return failed


def sphinx_latex(lang: str, keep_going: bool = False) -> Path:
    from jupyter_book.sphinx import build_sphinx

    latex_dir = OUT / lang / "latex"
    result = build_sphinx(
        ROOT, latex_dir, builder="latex", noconfig=True, path_config=str(ROOT / "_config.yml"),
        confoverrides={"print_edition": lang, "language": LANGUAGE[lang],
                       "print_notebooks": str(NOTEBOOKS),
                       "nb_execution_mode": "off", "nitpicky": True,
                       "latex_individualpages": False},
        warningiserror=True, keep_going=True, freshenv=True, force_all=True, quiet=True)
    if result != 0 and not keep_going:
        raise SystemExit(f"the LaTeX build of the {lang} edition failed (see the warnings above)")
    return latex_dir


def missing_characters(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace")
    return sorted(set(MISSING.findall(text)))


def xelatex(latex_dir: Path, lang: str) -> Path:
    name = TARGET.format(lang=lang)
    tex = latex_dir / f"{name}.tex"
    tex.write_text(letter_appendices(tex.read_text(encoding="utf-8"), lang), encoding="utf-8")
    command = ["latexmk", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               f"{name}.tex"]
    run = subprocess.run(command, cwd=latex_dir, capture_output=True, text=True)
    log = latex_dir / f"{name}.log"
    if run.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:] if log.exists() else run.stdout[-4000:]
        raise SystemExit(f"XeLaTeX failed for the {lang} edition:\n{tail}")
    missing = missing_characters(log)
    if missing:
        listed = "\n".join(f"  {char} in {font}" for char, font in missing[:40])
        raise SystemExit(f"the {lang} edition has missing characters ({log}):\n{listed}")
    pdf = OUT / f"{name}.pdf"
    shutil.copy2(latex_dir / f"{name}.pdf", pdf)
    return pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=EDITIONS, action="append",
                        help="edition(s) to build (default: both)")
    parser.add_argument("--no-execute", action="store_true",
                        help="for authors: reuse executed copies older than lowrank_utils/, and "
                             "print a changed chapter without outputs instead of executing it")
    parser.add_argument("--keep-going", action="store_true",
                        help="for authors: print a chapter that fails to execute without its "
                             "outputs, and go on (the exit status still says it failed)")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("xelatex", "latexmk") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"make pdf needs {missing}: apt-get install texlive-xetex "
                         "texlive-lang-chinese latexmk fonts-noto-cjk")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    print("executed notebooks:", flush=True)
    failed = prepare_notebooks(args.keep_going, args.no_execute)
    print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    timings = {}
    for lang in args.lang or EDITIONS:
        t0 = time.perf_counter()
        latex_dir = sphinx_latex(lang, args.keep_going)
        t1 = time.perf_counter()
        pdf = xelatex(latex_dir, lang)
        t2 = time.perf_counter()
        timings[lang] = (t1 - t0, t2 - t1)
        print(f"{lang}: {pdf.relative_to(ROOT)}  (Sphinx {t1 - t0:.0f} s, XeLaTeX {t2 - t1:.0f} s)",
              flush=True)
    (OUT / "timings.json").write_text(json.dumps(timings, indent=1), encoding="utf-8")
    if failed:
        print(f"chapters that failed to execute: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
