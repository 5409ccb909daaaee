"""The measurements the book quotes: JSON files that the scripts in benchmarks/ write.

Chapters never type a measured number; they read it from here. ``load_result("svd_cpu")`` is
``benchmarks/results/svd_cpu.json``, written by ``benchmarks/bench_svd.py`` (chapter 3);
``lora_cpu`` comes from ``benchmarks/bench_lora.py`` (chapter 4); ``gpu_<date>`` files from
``benchmarks/gpu_run.py`` (chapter 5, see ``training.load_gpu_results``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["RESULTS_DIR", "load_result"]

#: benchmarks/results in the repository this package is installed from (pip install -e .).
RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def load_result(name: str, folder: str | Path | None = None) -> dict[str, Any]:
    """``<folder>/<name>.json`` as a dict (folder: ``RESULTS_DIR``). Used in chapters 3 and 4.

    Raises FileNotFoundError naming the benchmark to run when the file is missing.
    """
    if not isinstance(name, str) or not name or "/" in name or name.endswith(".json"):
        raise ValueError(f"name must be a result name such as 'svd_cpu', got {name!r}")
    path = (RESULTS_DIR if folder is None else Path(folder)) / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the script in benchmarks/ that writes "
                                f"{name}.json (see benchmarks/README.md)")
    return json.loads(path.read_text(encoding="utf-8"))
