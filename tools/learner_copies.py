"""Learner copies of the chapters for JupyterLab: one folder per language, no solution code.

    python tools/learner_copies.py                 # make or update learner/en and learner/zh
    python tools/learner_copies.py --refresh 01_rank   # replace one copy (the old one is kept
                                                   # as a .bak file next to it)

``make lab`` runs the first command and opens ``learner/`` in JupyterLab. The tracked notebooks in
``chapters/`` stay the clean sources: a learner works in the copies, so ``make test`` never
fails because a learner ran a notebook, and ``git pull`` never clobbers an answer (``learner/``
is git-ignored).

A copy is made from its chapter by keeping the prose of one language (the other language's
``lang-*`` blocks are dropped; headings "English / 中文" keep their half), removing the code cell
that follows each "Solution / 解答" dropdown (the solution stays as prose, folded), and clearing
every output. A copy the learner has worked in (changed a cell, or run one) is never
overwritten: ``learner/.manifest.json`` records what each copy held when it was made.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
LEARNER = ROOT / "learner"
MANIFEST = LEARNER / ".manifest.json"
LANGS = ("en", "zh")

_OPEN = re.compile(r"^(\s*)(:{3,})\{div\}\s+lang-(en|zh)\s*$")
_FENCE = re.compile(r"^\s*(:{3,})\s*$")
_HEADING = re.compile(r"^(#{1,6}\s+)(.+?)\s+/\s+(.+?)\s*$")
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(            # 的\n線性, 的\n**秩**, **秩**\n很低
    f"(?:(?<=[{_CJK}])|(?<=[{_CJK}]\\*)|(?<=[{_CJK}]\\*\\*))[ \\t]*\\n[ \\t]*(?=\\*{{0,2}}[{_CJK}])")
_DROPDOWN = re.compile(r"^(\s*:{3,}\{dropdown\}\s+)(.+?)\s+/\s+(.+?)\s*$")


def one_language(markdown: str, lang: str) -> str:
    """The markdown with only ``lang``'s blocks (unwrapped) and headings in ``lang``."""
    out: list[str] = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _OPEN.match(line)
        if opened:
            fence, block_lang = opened.group(2), opened.group(3)
            j = i + 1
            while j < len(lines) and not (_FENCE.match(lines[j])
                                          and _FENCE.match(lines[j]).group(1) == fence):
                j += 1
            if block_lang == lang:
                out.extend(lines[i + 1:j])                # unwrap: the block's own lines
            i = j + 1
            continue
        heading = _HEADING.match(line) or _DROPDOWN.match(line)
        if heading and "$" not in line:
            line = heading.group(1) + (heading.group(2) if lang == "en" else heading.group(3))
        out.append(line)
        i += 1
    text = "\n".join(out)
    if lang == "zh":                     # a line break between Chinese characters is a space
        text = _CJK_BREAK.sub("", text)  # when rendered: join the lines
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _is_solution(cell: dict) -> bool:
    return cell["cell_type"] == "markdown" and bool(
        re.search(r"\{dropdown\}\s+Solution", "".join(cell["source"])))


def learner_notebook(notebook: dict, lang: str, name: str = "") -> dict:
    """A learner's copy of one chapter notebook, in one language (see the module docstring)."""
    nb = copy.deepcopy(notebook)
    cells = []
    skip_next_code = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if skip_next_code:
                skip_next_code = False
                continue                                  # the solution's code
            cell["outputs"], cell["execution_count"] = [], None
        else:
            skip_next_code = _is_solution(cell)
            text = one_language("".join(cell["source"]), lang)
            if not text.strip():
                continue
            cell["source"] = text.splitlines(keepends=True)
        cells.append(cell)
    nb["cells"] = cells
    nb.setdefault("metadata", {})["language_info"] = {"name": "python"}
    nb["metadata"]["rank_to_lora"] = {"learner_copy": lang,
                                      "source": f"chapters/{name}"}
    return nb


def _serialise(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _digest(text: str) -> str:
    """What the learner's work changes: the cells' sources and outputs. JupyterLab rewrites the
    metadata when it merely opens and saves a notebook; that alone is not work to protect."""
    try:
        cells = json.loads(text).get("cells", [])
    except ValueError:                      # not a notebook any more: treat it as the learner's
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    work = [(c.get("cell_type"), "".join(c.get("source", [])), c.get("outputs", []))
            for c in cells]
    return hashlib.sha256(json.dumps(work, sort_keys=True).encode("utf-8")).hexdigest()


def update(refresh: str | None = None, out: Path = LEARNER, chapters: Path = CHAPTERS) -> list[str]:
    """Make or update the copies; return one line per copy saying what happened."""
    manifest_path = out / ".manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    report = []
    sources = sorted(chapters.glob("[0-9]*.ipynb"))
    if refresh is not None and refresh.removesuffix(".ipynb") not in {p.stem for p in sources}:
        raise SystemExit(f"--refresh {refresh}: no chapter of that name in {chapters} "
                         f"(choose from {', '.join(p.stem for p in sources)})")
    for source in sources:
        notebook = json.loads(source.read_text(encoding="utf-8"))
        for lang in LANGS:
            target = out / lang / source.name
            key = f"{lang}/{source.name}"
            fresh = learner_notebook(notebook, lang, source.name)
            text = _serialise(fresh)
            forced = refresh is not None and source.stem == refresh.removesuffix(".ipynb")
            if target.exists():
                current = target.read_text(encoding="utf-8")
                edited = _digest(current) != manifest.get(key)
                if current == text:
                    report.append(f"up to date   {key}")
                    manifest[key] = _digest(text)
                    continue
                if edited and not forced:
                    report.append(f"kept yours   {key} (you changed it; to replace it with the "
                                  f"chapter's current version: make lab-refresh NB={source.stem})")
                    continue
                if edited:
                    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
                    backup = target.with_name(f"{target.name}.bak-{stamp}")
                    target.rename(backup)
                    report.append(f"refreshed    {key} (your copy is kept as {backup.name})")
                else:
                    report.append(f"updated      {key}")
            else:
                report.append(f"created      {key}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            manifest[key] = _digest(text)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refresh", metavar="CHAPTER",
                        help="replace this chapter's copies (e.g. 01_rank) even if you changed "
                             "them; the old ones are kept as .bak files")
    args = parser.parse_args(argv)
    for line in update(args.refresh):
        print(line)
    print(f"learner copies: {LEARNER.relative_to(ROOT)}/en (English) and "
          f"{LEARNER.relative_to(ROOT)}/zh (中文)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
