"""Explorers that work without a kernel: sliders over precomputed views, switched in the page.

The published book has no Python behind it. Its precomputed explorers are plain HTML: every view
a slider can show was drawn when the book was built (by the live explorer itself), and a few
lines of JavaScript show the one the sliders select (``hidden`` on the others). No widget
manager, nothing downloaded; the pictures are already decoded when a slider moves, so the new
view is on screen in the next frame. The same output works in JupyterLab, where the live
explorers (``image_explorer`` …) also compute positions off the grid.

Used by ``rank_explorer_static`` (chapter 1), ``image_explorer_static`` (chapter 3) and
``truncation_explorer_static`` (chapter 5).
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import json
from dataclasses import dataclass, field
from typing import Sequence

from PIL import Image

__all__ = ["GridControl", "PageExplorer", "compact"]

_COUNTER = itertools.count()


def compact(picture: bytes, image_format: str) -> bytes:
    """A smaller file for a page that carries many pictures: line art as a 64-colour PNG,
    photographs as JPEG at quality 80 (the live widget encodes for speed, not size)."""
    with Image.open(io.BytesIO(picture)) as image:
        out = io.BytesIO()
        if image_format == "png":
            image.convert("RGB").quantize(colors=64).save(out, format="png", optimize=True)
        else:
            image.convert("RGB").save(out, format="jpeg", quality=80, optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class GridControl:
    """One slider of a precomputed explorer: its positions, the one shown first, its labels."""

    name: str                         # shown beside the slider ("k", "noise")
    positions: Sequence[object]       # the grid, shown with str
    value: object                     # the position shown first (one of ``positions``)
    label_en: str                     # what the slider sets, for screen readers, in English
    label_zh: str                     # … and in Chinese

    def __post_init__(self) -> None:
        labels = [str(p) for p in self.positions]
        if not labels:
            raise ValueError(f"{self.name}: positions must hold at least one position")
        if str(self.value) not in labels:
            raise ValueError(f"value must be one of the grid's positions {labels}, "
                             f"got {self.value!r}")

    @property
    def index(self) -> int:
        return [str(p) for p in self.positions].index(str(self.value))


@dataclass
class PageExplorer:
    """Sliders (``controls``) over ``views[(i, j, …)] = (picture, format, caption_html)``, one view
    per combination of positions; an HTML output whose switching runs in the page."""

    controls: Sequence[GridControl]
    views: dict[tuple[int, ...], tuple[bytes, str, str]]
    title_html: str = ""
    element_id: str = field(default_factory=lambda: f"page-explorer-{next(_COUNTER)}")

    def __post_init__(self) -> None:
        expected = set(itertools.product(*(range(len(c.positions)) for c in self.controls)))
        if set(self.views) != expected:
            raise ValueError("views must hold one view for every combination of positions")
        self.views = {key: (compact(picture, fmt), fmt, caption)
                      for key, (picture, fmt, caption) in self.views.items()}

    def selected(self, *indices: int) -> str:
        """The caption of the view shown at these slider positions (for tests)."""
        return self.views[tuple(indices)][2]

    @property
    def size(self) -> int:
        """Bytes of pictures the page carries."""
        return sum(len(picture) for picture, _, _ in self.views.values())

    def _repr_html_(self) -> str:
        start = tuple(c.index for c in self.controls)
        sliders = "".join(
            f'<label class="pe-control"><span class="pe-name">{html.escape(c.name)}</span> '
            f'<input type="range" min="0" max="{len(c.positions) - 1}" step="1" value="{c.index}"'
            f' data-positions="{html.escape(json.dumps([str(p) for p in c.positions]))}"'
            f' aria-label="{html.escape(c.label_en)} / {html.escape(c.label_zh)}"'
            f' title="{html.escape(c.label_en)} / {html.escape(c.label_zh)}">'
            f' <output>{html.escape(str(c.value))}</output></label>'
            for c in self.controls)
        figures = "".join(
            f'<figure class="pe-view" data-key="{",".join(map(str, key))}"'
            f'{"" if key == start else " hidden"}><figcaption>{caption}</figcaption>'
            f'<img alt="" decoding="sync" src="data:image/{fmt};base64,'
            f'{base64.b64encode(picture).decode("ascii")}"></figure>'
            for key, (picture, fmt, caption) in sorted(self.views.items()))
        return f"""
<div class="page-explorer" id="{self.element_id}">
 {self.title_html}<div class="pe-controls">{sliders}</div>
 <div class="pe-views">{figures}</div>
</div>
<script>
(function () {{
  var root = document.getElementById({json.dumps(self.element_id)});
  var inputs = root.querySelectorAll(".pe-control input"), shown = null, views = {{}};
  root.querySelectorAll(".pe-view").forEach(function (v) {{
    views[v.dataset.key] = v; if (!v.hidden) shown = v;
    var img = v.querySelector("img"); if (img.decode) img.decode().catch(function () {{}});
  }});
  function update() {{
    var key = Array.prototype.map.call(inputs, function (x) {{
      x.nextElementSibling.textContent = JSON.parse(x.dataset.positions)[+x.value];
      return x.value; }}).join(",");
    var next = views[key];
    if (next && next !== shown) {{ next.hidden = false; if (shown) shown.hidden = true; shown = next; }}
  }}
  root.addEventListener("input", update);
}})();
</script>"""
