"""ipywidgets explorers, one module per chapter. Each keeps its computation in a plain function
(testable without a browser) and renders through ``_render.FigureImage`` (no figure per move).

The views import the core (``images``, ``budget``, ``experiment``, ``report``), never the
reverse. In the HTML book a widget needs a kernel, so every explorer has a static ``*_figure``
(or ``*_table``) twin.
"""
from .rank import rank_experiment, rank_explorer, rank_explorer_figure                 # chapter 1
from .svd2x2 import svd_explorer, svd_geometry, svd_geometry_figure                    # chapter 2
from .image import image_explorer, image_grid_figure                                   # chapter 3
from .lora import lora_calculator, lora_calculator_table, lora_parameters_figure     # chapter 4
from .training import truncation_explorer, truncation_explorer_figure, truncation_step  # ch. 5

__all__ = [
    "rank_experiment", "rank_explorer", "rank_explorer_figure",
    "svd_explorer", "svd_geometry", "svd_geometry_figure",
    "image_explorer", "image_grid_figure",
    "lora_calculator", "lora_calculator_table", "lora_parameters_figure",
    "truncation_step", "truncation_explorer", "truncation_explorer_figure",
]
