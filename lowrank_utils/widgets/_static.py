"""Explorers that work without a kernel: sliders ``jslink``ed to stacks of precomputed views.

The published book has no Python behind it. Its widgets are drawn by the HTML widget manager
from the widget state saved when the book was built, so every view a slider can show is computed
then: each control is a ``SelectionSlider`` over a grid of positions, ``jslink``ed (in the page,
no kernel) to the ``selected_index`` of a ``Stack`` of views; two controls nest two levels of
stacks. A view is the caption (HTML, both languages) above the picture. The same widget works in
JupyterLab; there the live explorers (``image_explorer`` …) also compute positions off the grid.

Used by ``rank_explorer_static`` (chapter 1), ``image_explorer_static`` (chapter 3) and
``truncation_explorer_static`` (chapter 5).
"""
from __future__ import annotations

from typing import Callable, Sequence

import io

import ipywidgets as widgets
from PIL import Image

__all__ = ["grid_slider", "stacked_explorer", "view", "compact", "close_tree"]


def grid_slider(options: Sequence[object], value: object, description: str,
                label_en: str, label_zh: str, width: str = "70%") -> widgets.SelectionSlider:
    """A slider over the grid ``options`` (shown with ``str``), keyboard-operable, labelled in
    both languages (``description`` beside it, ``label_en`` / ``label_zh`` for screen readers)."""
    labels = [str(option) for option in options]
    if str(value) not in labels:
        raise ValueError(f"value must be one of the grid's positions {labels}, got {value!r}")
    slider = widgets.SelectionSlider(options=labels, value=str(value), description=description,
                                     continuous_update=True,
                                     tooltip=f"{label_en} / {label_zh}")
    slider.layout.width = width
    slider.style.description_width = "initial"
    return slider


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


def view(picture: bytes, image_format: str, caption_html: str) -> widgets.VBox:
    """One precomputed position: its caption (a lang-en / lang-zh pair) above its picture."""
    image = widgets.Image(value=compact(picture, image_format), format=image_format)
    image.layout.max_width = "100%"
    return widgets.VBox([widgets.HTML(caption_html), image])


def stacked_explorer(sliders: Sequence[widgets.SelectionSlider],
                     render: Callable[[tuple[int, ...]], widgets.Widget],
                     title_html: str = "") -> widgets.VBox:
    """Nested stacks of ``render(indices)`` for every combination of the sliders' positions,
    each level's ``selected_index`` jslinked to its slider's ``index`` (no kernel needed)."""
    def level(depth: int, prefix: tuple[int, ...]) -> widgets.Widget:
        if depth == len(sliders):
            return render(prefix)
        slider = sliders[depth]
        children = [level(depth + 1, prefix + (i,)) for i in range(len(slider.options))]
        stack = widgets.Stack(children=children, selected_index=slider.index)
        widgets.jslink((slider, "index"), (stack, "selected_index"))
        return stack

    controls = widgets.VBox(list(sliders))
    parts = ([widgets.HTML(title_html)] if title_html else []) + [controls, level(0, ())]
    box = widgets.VBox(parts)
    box.sliders = list(sliders)          # exposed for tests
    return box


def close_tree(widget: widgets.Widget) -> None:
    """Close a widget and everything inside it, so that its state is not saved with the page."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
