"""ipywidgets explorers, one module per chapter. Each keeps its computation in a plain function
(testable without a browser) and renders through ``_render.FigureImage`` (no figure per move).

In the HTML book a widget needs a kernel, so every explorer has a static ``*_figure`` (or
``*_table``) twin.
"""
from .rank import rank_experiment, rank_explorer, rank_explorer_figure                 # chapter 1
from .svd2x2 import svd_explorer, svd_geometry, svd_geometry_figure                    # chapter 2
from .image import compression_step, image_explorer, image_grid_figure, image_svd      # chapter 3
from .lora import (lora_budget, lora_calculator, lora_calculator_table,                 # chapter 4
                   lora_parameter_count)
from .training import (TruncationStudy, truncation_explorer, truncation_explorer_figure,  # ch. 5
                       truncation_step)

__all__ = [
    "rank_experiment", "rank_explorer", "rank_explorer_figure",
    "svd_explorer", "svd_geometry", "svd_geometry_figure",
    "image_svd", "compression_step", "image_explorer", "image_grid_figure",
    "lora_parameter_count", "lora_budget", "lora_calculator", "lora_calculator_table",
    "TruncationStudy", "truncation_step", "truncation_explorer", "truncation_explorer_figure",
]
