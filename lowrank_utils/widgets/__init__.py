"""ipywidgets explorers, one module per chapter. Each keeps its computation in a plain function
(testable without a browser) and renders through ``_render.FigureImage`` (no figure per move).

The views import the core (``images``, ``budget``, ``experiment``, ``report``), never the
reverse. In the HTML book there is no kernel: the ``*_static`` explorers precompute every slider
position and link the sliders to them in the page (``_static``); the ``*_figure`` twins are the
printed view.
"""
from .rank import rank_experiment, rank_explorer, rank_explorer_figure, rank_explorer_static  # ch. 1
from .svd2x2 import svd_explorer, svd_geometry, svd_geometry_figure                    # chapter 2
from .svd2x2_page import svd_geometry_page
from .image import image_explorer, image_explorer_static, image_grid_figure             # chapter 3
from .lora import (lora_calculator, lora_calculator_page, lora_calculator_table,        # chapter 4
                   lora_parameters_figure)
from .training import (truncation_explorer, truncation_explorer_figure,                 # ch. 5
                       truncation_explorer_static, truncation_step)

__all__ = [
    "rank_experiment", "rank_explorer", "rank_explorer_figure", "rank_explorer_static",
    "svd_explorer", "svd_geometry", "svd_geometry_figure", "svd_geometry_page",
    "image_explorer", "image_explorer_static", "image_grid_figure",
    "lora_calculator", "lora_calculator_page", "lora_calculator_table", "lora_parameters_figure",
    "truncation_step", "truncation_explorer", "truncation_explorer_figure",
    "truncation_explorer_static",
]
