#!/usr/bin/env python3
"""Regenerate lowrank_utils/fonts/NotoSansCJKtc-BookSubset.otf, the font of the figures' Chinese.

The subset holds every CJK character (and CJK punctuation) that appears in the code of the book:
the code cells of chapters/*.ipynb and the modules of lowrank_utils/. Prose is rendered by the
browser, not matplotlib, so it needs no glyphs here. Run this after adding a Chinese label:

    python tools/make_font_subset.py [--source /path/to/NotoSansCJK-Regular.ttc]

Needs fontTools (`pip install fonttools`) and the full Noto Sans CJK font (Debian: fonts-noto-cjk).
Noto Sans CJK is licensed under the SIL Open Font License 1.1 (fonts/OFL.txt); so is the subset.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "lowrank_utils" / "fonts" / "NotoSansCJKtc-BookSubset.otf"
DEFAULT_SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FAMILY = "Noto Sans CJK TC"
# The subset gets a family name of its own, so that matplotlib never confuses it with a full
# Noto Sans CJK installed on the machine (which would hide a character missing from the subset).
SUBSET_FAMILY = "RankToLoRA Noto Sans TC Subset"


def is_cjk(ch: str) -> bool:
    """CJK ideographs, CJK punctuation and full-width forms: what DejaVu Sans lacks."""
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF) or (0xF900 <= o <= 0xFAFF) or (0xFE30 <= o <= 0xFE4F) \
        or (0xFF00 <= o <= 0xFFEF)


def code_text(root: Path = ROOT) -> str:
    """All code the figures can draw labels from: notebook code cells and the package's modules."""
    parts = []
    for nb_path in sorted((root / "chapters").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        parts += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    for py in sorted((root / "lowrank_utils").rglob("*.py")):
        parts.append(py.read_text(encoding="utf-8"))
    return "\n".join(parts)


def needed_characters(root: Path = ROOT) -> set[str]:
    return {ch for ch in code_text(root) if is_cjk(ch)}


def rename(font, family: str) -> None:
    """Give the subset its own family, full and PostScript names (name IDs 1, 3, 4, 6, 16, 17)."""
    postscript = family.replace(" ", "") + "-Regular"
    names = {1: family, 3: postscript, 4: family, 6: postscript, 16: family, 17: "Regular"}
    table = font["name"]
    for record in list(table.names):
        if record.nameID in names:
            table.setName(names[record.nameID], record.nameID, record.platformID,
                          record.platEncID, record.langID)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FamilyName, top.FullName = family, family


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(args.source))
    index = next(i for i, f in enumerate(collection.fonts)
                 if f["name"].getDebugName(1) == FAMILY)
    chars = needed_characters()
    options = subset.Options()
    options.font_number = index
    options.layout_features = []        # matplotlib uses no OpenType layout features
    options.name_IDs = ["*"]            # keep the copyright and licence records
    options.notdef_outline = True
    font = subset.load_font(str(args.source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(chars)))
    subsetter.subset(font)
    rename(font, SUBSET_FAMILY)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(OUT), options)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(chars)} characters, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
