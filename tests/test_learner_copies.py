"""tools/learner_copies.py: one language per copy, no solution code, no outputs, and a copy the
learner changed is never overwritten."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _load_tool():
    spec = importlib.util.spec_from_file_location("learner_copies",
                                                  ROOT / "tools" / "learner_copies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    out = tmp_path_factory.mktemp("learner")
    tool.update(out=out)
    return out


def markdown(nb: dict) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def blocks(text: str, lang: str) -> list[str]:
    """Lines of real prose of every lang-<lang> block of a chapter's markdown (not maths or code,
    which both languages share)."""
    lines = [line.strip() for block in re.findall(
        rf"^(:{{3,}})\{{div\}} lang-{lang}\n(.*?)\n\1$", text, flags=re.S | re.M)
        for line in block[1].splitlines()]
    def prose(line: str) -> bool:
        bare = re.sub(r"`[^`]*`|\$[^$]*\$", "", line)
        if "\\" in bare or "|" in bare:             # display maths, tables: shared by both
            return False
        if lang == "zh":
            return len(CJK.findall(bare)) >= 6
        return len(re.findall(r"\b[a-z]{3,}\b", bare)) >= 4 and not CJK.search(bare)
    return [line for line in lines if prose(line) and not line.startswith(":::")]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("source", sorted(CHAPTERS.glob("[0-9]*.ipynb")), ids=lambda p: p.stem)
def test_each_copy_has_one_language_no_outputs_and_no_solution_code(copies, source):
    chapter = json.loads(source.read_text(encoding="utf-8"))
    chapter_md = markdown(chapter)
    for lang, other in (("en", "zh"), ("zh", "en")):
        nb = json.loads((copies / lang / source.name).read_text(encoding="utf-8"))
        text = markdown(nb)
        assert "{div} lang-" not in text                        # unwrapped, nothing left over
        for line in blocks(chapter_md, other):
            assert flat(line) not in flat(text), f"{lang} copy of {source.name} holds: {line}"
        own = blocks(chapter_md, lang)
        assert own and all(flat(line) in flat(text) for line in own)
        title = next(line for line in text.splitlines() if line.startswith("# "))
        assert " / " not in title and bool(CJK.search(title)) == (lang == "zh")
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
        solutions = text.count("{dropdown}")
        assert solutions == chapter_md.count("{dropdown} Solution")      # solutions still there …
        chapter_code = sum(c["cell_type"] == "code" for c in chapter["cells"])
        assert len(code) == chapter_code - solutions                       # … without their code
        assert nb["metadata"]["rank_to_lora"]["learner_copy"] == lang


def test_a_copy_the_learner_changed_is_kept_and_can_be_refreshed(tmp_path):
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    shutil.copy(CHAPTERS / "01_rank.ipynb", chapters)
    out = tmp_path / "learner"
    assert all(line.startswith("created") for line in tool.update(out=out, chapters=chapters))
    assert all(line.startswith("up to date") for line in tool.update(out=out, chapters=chapters))
    mine = out / "en" / "01_rank.ipynb"
    nb = json.loads(mine.read_text())
    nb["cells"][1]["source"] = ["answer = 2   # my work\n"]
    mine.write_text(json.dumps(nb))
    chapter = json.loads((chapters / "01_rank.ipynb").read_text())   # the chapter changes upstream
    chapter["cells"][0]["source"].append("\nA new sentence.\n")
    (chapters / "01_rank.ipynb").write_text(json.dumps(chapter))
    report = tool.update(out=out, chapters=chapters)
    assert any(line.startswith("kept yours   en/01_rank.ipynb") and "make lab-refresh NB=01_rank"
               in line for line in report)
    assert any(line.startswith("updated      zh/01_rank.ipynb") for line in report)
    assert "my work" in mine.read_text()                                    # never overwritten
    report = tool.update(refresh="01_rank", out=out, chapters=chapters)
    assert any(line.startswith("refreshed    en/01_rank.ipynb") for line in report)
    backups = list((out / "en").glob("01_rank.ipynb.bak-*"))
    assert len(backups) == 1 and "my work" in backups[0].read_text()
    assert "my work" not in mine.read_text() and "A new sentence." in mine.read_text()
    opened = out / "zh" / "01_rank.ipynb"               # opened and saved, nothing else: updated
    nb = json.loads(opened.read_text())
    nb["metadata"]["widgets"] = {"state": {}}
    opened.write_text(json.dumps(nb, indent=2))
    chapter["cells"][0]["source"].append("\nOne more.\n")
    (chapters / "01_rank.ipynb").write_text(json.dumps(chapter))
    report = tool.update(out=out, chapters=chapters)
    assert any(line.startswith("updated      zh/01_rank.ipynb") for line in report)
    with pytest.raises(SystemExit, match="no chapter of that name"):
        tool.update(refresh="99_nothing", out=out, chapters=chapters)


def test_chinese_lines_are_joined_and_headings_keep_their_half():
    text = (":::{div} lang-en\nThe **rank**\nof a matrix.\n:::\n\n:::{div} lang-zh\n"
            "矩陣的\n**秩**（rank）很\n低。\n:::\n\n## Recap / 重點回顧\n")
    assert tool.one_language(text, "zh") == "矩陣的**秩**（rank）很低。\n\n## 重點回顧"
    assert tool.one_language(text, "en") == "The **rank**\nof a matrix.\n\n## Recap"


def test_the_copies_are_git_ignored():
    assert "learner/" in (ROOT / ".gitignore").read_text().splitlines()
