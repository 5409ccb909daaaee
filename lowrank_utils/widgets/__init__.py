"""ipywidgets explorers, one module per chapter. Each keeps its computation in a plain function
(testable without a browser) and renders through ``_render.FigureImage`` (no figure per move).

In the HTML book a widget needs a kernel, so every explorer has a static ``*_figure`` twin.
"""
from .rank import rank_experiment, rank_explorer, rank_explorer_figure
from .image import compression_step, image_explorer, image_grid_figure, image_svd
from .svd2x2 import svd_explorer, svd_geometry, svd_geometry_figure
from .lora import lora_budget, lora_calculator, lora_calculator_table, lora_parameter_count

__all__ = ["rank_experiment", "rank_explorer", "rank_explorer_figure",
           "image_svd", "compression_step", "image_explorer", "image_grid_figure",
           "svd_explorer", "svd_geometry", "svd_geometry_figure",
           "lora_parameter_count", "lora_budget", "lora_calculator", "lora_calculator_table"]
