"""Fast widget rendering: one persistent matplotlib figure, redrawn into an ipywidgets Image.

A slider move updates the artists that exist (line data, bar heights, image data) and re-encodes
the figure as PNG. Nothing is created per move and no pyplot state is touched. Artists marked
with ``animate(...)`` are blitted: the static rest of the figure (axes, ticks, labels, legend) is
drawn once and kept as a bitmap, and a move redraws only the artists that change. Text that
changes per move belongs in an ipywidgets HTML label beside the image, not in the figure.
"""
from __future__ import annotations

import io
from typing import Iterable

import ipywidgets as widgets
import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


class FigureImage:
    """A matplotlib Figure shown through an ``ipywidgets.Image``; call ``refresh()`` after edits.

    ``image_format`` is "png" (line art: sharp, small) or "jpeg" (photographs: encodes about 15×
    faster than PNG, at ``jpeg_quality``).
    """

    def __init__(self, figsize: tuple[float, float], dpi: int = 90, image_format: str = "png",
                 jpeg_quality: int = 90):
        if image_format not in ("png", "jpeg"):
            raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
        self.image_format, self.jpeg_quality = image_format, jpeg_quality
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self._image: widgets.Image | None = None
        self._animated: list[Artist] = []
        self._background = None

    @property
    def image(self) -> widgets.Image:
        """The Image widget, made on first use: a view that only ``encode``s (the precomputed
        explorers of the book) creates no widget, so none ends up in the page's widget state."""
        if self._image is None:
            self._image = widgets.Image(format=self.image_format)
            self._image.layout.max_width = "100%"
        return self._image

    def animate(self, artists: Iterable[Artist]) -> None:
        """Mark the artists that change per move; the rest is drawn once and blitted."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)
        self._background = None

    def _draw(self) -> None:
        if self._background is None:
            self.canvas.draw()                         # static parts (animated artists skipped)
            self.figure.set_layout_engine("none")      # keep the layout the first draw found
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        elif not self._animated:
            self.canvas.draw()
            return
        self.canvas.restore_region(self._background)
        for artist in self._animated:
            artist.axes.draw_artist(artist) if artist.axes else self.figure.draw_artist(artist)
        # Legends belong on top: redraw those of the axes whose artists just moved.
        for ax in {artist.axes for artist in self._animated if artist.axes is not None}:
            if ax.get_legend() is not None:
                ax.draw_artist(ax.get_legend())

    def encode(self) -> bytes:
        """Draw what changed and encode the figure (PNG lightly compressed: speed first)."""
        self._draw()
        rgba = np.asarray(self.canvas.buffer_rgba())   # (height, width, 4) uint8
        buffer = io.BytesIO()
        if self.image_format == "png":
            Image.fromarray(rgba[..., :3]).save(buffer, format="png", compress_level=1)
        else:
            Image.fromarray(rgba[..., :3]).save(buffer, format="jpeg", quality=self.jpeg_quality)
        return buffer.getvalue()

    def refresh(self) -> None:
        """Push the current figure into the Image widget."""
        self.image.value = self.encode()
