"""The measurements the book quotes: JSON files that the scripts in benchmarks/ write.

Chapters never type a measured number; they read it from here. ``load_result("svd_cpu")`` is
``benchmarks/results/svd_cpu.json``, written by ``benchmarks/bench_svd.py`` (chapter 3);
``lora_cpu`` comes from ``benchmarks/bench_lora.py`` (chapter 4); ``gpu_<date>`` files from
``benchmarks/gpu_run.py`` (chapter 5): ``write_gpu_result`` writes them and ``load_gpu_results``
reads them back, so the format lives in one module. ``report.gpu_report_html`` shows one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

__all__ = ["RESULTS_DIR", "GPU_RESULT_KEYS", "load_result", "write_gpu_result",
           "load_gpu_results"]

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


#: What every ``gpu_*.json`` holds (``write_gpu_result`` refuses a record without them, and
#: ``load_gpu_results`` skips a file without them).
GPU_RESULT_KEYS = ("date", "dry_run", "hardware", "software", "config", "pretrain", "runs",
                   "speedup_small", "speedup_full_size")


def _missing_gpu_keys(record: Mapping[str, Any]) -> list[str]:
    return [key for key in GPU_RESULT_KEYS if key not in record]


def write_gpu_result(record: Mapping[str, Any], folder: str | Path | None = None) -> Path:
    """Write one GPU measurement as ``<folder>/gpu_<date>.json`` (``-2``, ``-3`` … if taken).

    Used by ``benchmarks/gpu_run.py``. ``record["date"]`` is an ISO date or date-time.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping, got {type(record).__name__}")
    missing = _missing_gpu_keys(record)
    if missing:
        raise ValueError(f"record lacks the keys {missing} of a GPU result")
    folder = RESULTS_DIR if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    date = str(record["date"])[:10]
    path, n = folder / f"gpu_{date}.json", 2
    while path.exists():
        path, n = folder / f"gpu_{date}-{n}.json", n + 1
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_gpu_results(folder: str | Path | None = None,
                     problems: list[str] | None = None) -> list[dict[str, Any]]:
    """Every ``gpu_*.json`` in ``folder`` (default ``RESULTS_DIR``), oldest first ([] if none).

    Dry runs (``"dry_run": true``) are skipped: they measure nothing about a GPU. A file that is
    not valid JSON or lacks a key of ``GPU_RESULT_KEYS`` is skipped too, and a line saying why is
    appended to ``problems`` when a list is given (chapter 5 shows them). Each result gains a
    ``"file"`` key with its file name. Used in chapter 5, section "On a GPU".
    """
    folder = RESULTS_DIR if folder is None else Path(folder)
    results = []
    for path in sorted(folder.glob("gpu_*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = f"{path.name}: not readable as JSON ({exc})"
        else:
            missing = _missing_gpu_keys(data) if isinstance(data, dict) else list(GPU_RESULT_KEYS)
            if not missing:
                if not data["dry_run"]:
                    data["file"] = path.name
                    results.append(data)
                continue
            reason = f"{path.name}: lacks {missing}"
        if problems is not None:
            problems.append(reason)
    # oldest first; on one date, in the order written (gpu_<date>, then -2, -3, …)
    return sorted(results, key=lambda d: (str(d["date"]), len(d["file"]), d["file"]))
