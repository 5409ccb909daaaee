"""Checks of the book's sources: clean notebooks, the chapter skeleton, two languages in pairs,
Traditional Chinese (Taiwan usage), the table of contents, and the figure font's coverage."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from matplotlib.ft2font import FT2Font

from lowrank_utils.plotting import FONT_PATH

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("*.ipynb"))
PAGES = sorted(CHAPTERS.glob("*.md"))

# Characters that exist only in Simplified Chinese: the book is written in Traditional Chinese.
# (Independent of ../shared/tools/bookcheck.py, which keeps its own list.)
SIMPLIFIED_ONLY = set(
    "这们为与说时实现问题应数据层权阵计经过还进运动对关线维积转换则图杂种类网络练参优损输简单样间长学习"
    "头从两处开门见无将总结构储压缩异适调语显执检验证视频资讯获该让给论读写级术导纳乱坏专业众传价兴养"
    "内册军农决况净减几击创删别剂剑剧劝办务励劳势区医华协单卖卫却厂厅历厉压厌县双变叶号叹吗听启员响团"
    "园围国圆圣场块坚垒备复夺奋奖妇孙宝审宽对寻寿尔尘尝属岁岛币师带帮库应废弃张弯归录彻忆态总恶惊惯战"
    "户扩扫扬扰护报担拟择挂挡挣挥据掷摆摇摊撑敌断时显晓暂机杀杂条来极标栏树桥梦检楼横欢残毕汇汉沟没泽"
    "洁浅测济浓涂润涨渐湾湿满滤灭灯灵灾点炼烂烦烧热爱牵犹状独环现电画疗盖盘着码础确碍礼离种积称稳穷窃"
    "窝竞笔签简粮纠红约级纪纯纱纲纳纵纷纸纹线练组细织终绍经绑结绕绘给络绝统继绩续维绵综缓编缘缩网罗罚"
    "职联肃肤胁胜脑脚脱腊舰艺节范荐药获萧虑虚虫虽补装见观规视览觉计订认讨让训议记讲许论设访证评识诉词"
    "译试诗诚话询详误说请诸读课谁调谈谋谓谢谱负贡财责败货质购贯贴贵费贸资赋赏赛赞赶趋跃践踪轨转轮软轻载"
    "较辅辆辑输辞边达迁过运还这进远违连迟适选递逻遗邮邻释针钟钢钱铁链销锁错键镜长门闪闭问闲间闻阅队阳阴"
    "阵阶际陆陈险随隐难静韩页顶项顺须顾预领频题颜风飞饭馆驱驶验骤鱼鲜鸟鸡麦黄齐龄龙尽边"
)
# Mainland wording where Taiwan uses another word.
MAINLAND_TERMS = {"信息": "資訊", "數據": "資料", "默認": "預設", "內存": "記憶體", "軟件": "軟體",
                  "網絡": "網路", "視頻": "影片", "代碼": "程式碼", "矢量": "向量", "模塊": "模組",
                  "硬件": "硬體", "質量": "品質", "字節": "位元組", "缺省": "預設"}

LANG_OPEN = re.compile(r"^\s*(:{3,})\s*\{div\}\s*(.*)$")
FENCE = re.compile(r"^\s*(:{3,}|`{3,})(.*)$")
HEADING = re.compile(r"^#{1,6}\s")
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def markdown_of(path: Path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return "\n\n".join("".join(c["source"]) for c in notebook(path)["cells"]
                       if c["cell_type"] == "markdown")


def language_blocks(text: str) -> list[tuple[str, str, int]]:
    """(language, content, line) of each lang-en / lang-zh div, in order; headings inside flagged."""
    blocks, stack = [], []            # stack of (fence, language or None, first line, lines)
    for number, line in enumerate(text.splitlines(), 1):
        if stack and re.fullmatch(r"\s*" + re.escape(stack[-1][0]) + r"\s*", line):
            fence, lang, start, lines = stack.pop()
            if lang:
                blocks.append((lang, "\n".join(lines), start))
            if stack:                    # a nested block's text belongs to its parent too
                stack[-1][3].extend([f"{fence}", *lines, line])
            continue
        m = LANG_OPEN.match(line)
        if m:
            lang = re.search(r"\blang-(en|zh)\b", m.group(2))
            stack.append((m.group(1), lang.group(1) if lang else None, number, []))
            continue
        f = FENCE.match(line)
        if f and f.group(2).strip():
            stack.append((f.group(1), None, number, []))
            continue
        if stack:
            stack[-1][3].append(line)
    return blocks


ALL_SOURCES = NOTEBOOKS + PAGES


def test_there_is_a_book():
    assert NOTEBOOKS, "chapters/ holds no notebooks"
    assert (ROOT / "_config.yml").exists() and (ROOT / "_toc.yml").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    for i, cell in enumerate(notebook(path)["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs: run `make clean-notebooks`"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_run_in_the_python3_kernel(path):
    assert notebook(path)["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", ALL_SOURCES, ids=lambda p: p.name)
def test_every_english_block_has_its_chinese_pair(path):
    blocks = language_blocks(markdown_of(path))
    assert blocks, f"{path.name} has no language blocks"
    langs = [lang for lang, _, _ in blocks]
    for i in range(0, len(langs), 2):
        pair = langs[i:i + 2]
        line = blocks[i][2]
        assert pair == ["en", "zh"], f"{path.name}: block at line {line} is {pair}, expected lang-en then lang-zh"
    for lang, content, line in blocks:
        assert content.strip(), f"{path.name}: empty lang-{lang} block at line {line}"


@pytest.mark.parametrize("path", ALL_SOURCES, ids=lambda p: p.name)
def test_headings_stay_outside_language_blocks(path):
    for lang, content, line in language_blocks(markdown_of(path)):
        inner = [ln for ln in content.splitlines() if HEADING.match(ln)]
        assert not inner, f"{path.name}: heading inside lang-{lang} block at line {line}: {inner[0]}"


@pytest.mark.parametrize("path", ALL_SOURCES, ids=lambda p: p.name)
def test_chinese_blocks_are_chinese_and_english_blocks_are_not(path):
    for lang, content, line in language_blocks(markdown_of(path)):
        prose = re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}`[^`]*`", "", content)
        n_cjk = len(CJK.findall(prose))
        if lang == "zh":
            assert n_cjk > 0, f"{path.name}: lang-zh block at line {line} has no Chinese"
        else:
            assert n_cjk <= 0.05 * max(1, len(prose)), f"{path.name}: lang-en block at line {line} is mostly Chinese"


SOURCES_WITH_CHINESE = ALL_SOURCES + [ROOT / "README.md"] + sorted((ROOT / "lowrank_utils").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES_WITH_CHINESE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_simplified_characters_and_taiwan_wording(path):
    text = path.read_text(encoding="utf-8")
    bad = sorted({c for c in text if c in SIMPLIFIED_ONLY})
    assert not bad, f"{path.name}: Simplified-only characters {''.join(bad)}"
    found = {w: tw for w, tw in MAINLAND_TERMS.items() if w in text}
    assert not found, f"{path.name}: mainland wording {found} (Taiwan usage on the right)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_skeleton(path):
    cells = notebook(path)["cells"]
    md = markdown_of(path)
    titles = [ln for ln in md.splitlines() if re.match(r"^# ", ln)]
    assert len(titles) == 1 and " / " in titles[0], f"{path.name}: one bilingual H1 title expected"
    chapter = path.name[0].isdigit()                   # appendices (A_…, B_…) have no exercises
    headings = ("Recap / 重點回顧", "Exercises / 習題", "References / 參考文獻") if chapter else \
        ("Recap / 重點回顧", "References / 參考文獻")
    for heading in headings:
        assert re.search(rf"^## {re.escape(heading)}\s*$", md, re.M), f"{path.name}: missing '## {heading}'"
    sections = [ln for ln in md.splitlines() if re.match(r"^## ", ln)]
    assert all(" / " in s for s in sections), f"{path.name}: every section heading is bilingual"
    first_code = next(c for c in cells if c["cell_type"] == "code")
    src = "".join(first_code["source"])
    assert "lowrank_utils" in src and "use_book_style()" in src, f"{path.name}: imports cell"
    n_exercises = len(re.findall(r"^### Exercise", md, re.M))
    assert n_exercises >= 3 or not chapter, f"{path.name}: {n_exercises} exercises, at least 3 expected"
    assert md.count("{dropdown} Solution / 解答") >= n_exercises, f"{path.name}: a solution per exercise"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_cells_are_hidden_in_the_book_and_have_a_static_twin(path):
    """A live widget (needs a kernel) is hidden in the book; a precomputed one (``*_static``)
    is shown. Either way a static figure or table follows, the printed view."""
    cells = notebook(path)["cells"]
    for i, cell in enumerate(cells):
        src = re.sub(r"#.*", "", "".join(cell["source"]))          # code, not its comments
        live = re.search(r"\w+_explorer\(|\w+_calculator\(", src)
        static = re.search(r"\w+_(?:explorer_static|page)\(", src)
        if cell["cell_type"] == "code" and static:
            assert "remove-output" not in cell["metadata"].get("tags", []), \
                f"{path.name} cell {i}: a precomputed widget is shown in the book"
        if cell["cell_type"] == "code" and (live or static):
            assert live is None or "remove-output" in cell["metadata"].get("tags", []), \
                f"{path.name} cell {i}: a live widget cell needs the tag remove-output"
            later = "".join("".join(c["source"]) for c in cells[i + 1:i + 3] if c["cell_type"] == "code")
            assert re.search(r"_figure\(|_table\(", later), f"{path.name} cell {i}: static twin expected next"


def test_table_of_contents_lists_every_chapter_and_nothing_missing():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files:
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f"{f} is in _toc.yml but missing"
    listed = {Path(f).name for f in files}
    for path in NOTEBOOKS + PAGES:
        assert path.stem in listed, f"{path.name} is not in _toc.yml"


def _code_text() -> str:
    parts = ["".join(c["source"]) for p in NOTEBOOKS for c in notebook(p)["cells"] if c["cell_type"] == "code"]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "lowrank_utils").rglob("*.py"))]
    return "\n".join(parts)


def test_the_shipped_font_covers_every_chinese_character_in_the_code():
    charmap = FT2Font(str(FONT_PATH)).get_charmap()
    missing = sorted({c for c in CJK.findall(_code_text()) if ord(c) not in charmap})
    assert not missing, f"regenerate the font subset (python tools/make_font_subset.py): {''.join(missing)}"


def test_the_font_licence_ships_with_the_font():
    licence = FONT_PATH.with_name("OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence


def test_the_seeds_references_are_in_the_bibliography_and_the_further_reading():
    """The study note cites a PEFT survey (and a Chinese guide to it), Hung-yi Lee's lecture, an
    AACL-IJCNLP 2022 tutorial and fine-tuning notes: all in references.bib, all in the preface's
    Further reading, the Chinese-language ones marked in both languages."""
    bib = (CHAPTERS / "references.bib").read_text(encoding="utf-8")
    preface = (CHAPTERS / "preface.md").read_text(encoding="utf-8")
    keys = ["lialin2023scaling", "zhihu2023peftguide", "lee2023finetuning", "chiang2022plm",
            "hsu2023finetuning"]
    assert "## Further reading / 延伸閱讀" in preface
    for key in keys:
        assert re.search(rf"@\w+\{{{key},", bib), key
        assert preface.count(f"`{key}`") == 2, key                 # cited in both languages
    # the legend ("Entries marked (中文) …") and the three Chinese-language entries
    assert preface.count("**(中文)**") == 4 and preface.count("**（中文）**") == 4
