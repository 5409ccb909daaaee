"""benchmarks/gpu_run.py, exercised on the CPU with --dry-run (no test depends on a GPU)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from lowrank_utils.report import gpu_report_html, no_gpu_result_html
from lowrank_utils.results import load_gpu_results

ROOT = Path(__file__).resolve().parents[1]


def _load_gpu_run():
    spec = importlib.util.spec_from_file_location("gpu_run", ROOT / "benchmarks" / "gpu_run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_script_dry_run_on_cpu(tmp_path):
    path = _load_gpu_run().main(["--dry-run", "--out", str(tmp_path)])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == tmp_path and path.name.startswith("gpu_") and data["dry_run"] is True
    assert {"date", "hardware", "software", "config", "runs", "speedup_small",
            "speedup_full_size"} <= set(data)
    assert [(run["method"], run["r"]) for run in data["runs"]] == [("full", None), ("lora", 1),
                                                                   ("lora", 4), ("lora", 8)]
    assert "bf16" in data["speedup_small"]["note"] and "float32" in data["speedup_small"]["note"]
    for run in data["runs"]:
        assert run["samples_per_s"] == pytest.approx(
            data["config"]["batch_size"] / (run["time_per_step_ms"] / 1e3))
        assert run["memory_mib"] > 0 and run["device"] == "cpu"
    for part in ("speedup_small", "speedup_full_size"):
        ratios = data[part]["speedup"]
        for method in ("full", "lora"):
            cpu, gpu = data[part]["cpu"][method], data[part]["gpu"][method]
            ratio = cpu["time_per_step_ms"] / gpu["time_per_step_ms"]
            assert ratios[method] == pytest.approx(ratio)
    problems: list[str] = []
    assert load_gpu_results(tmp_path, problems) == [] and problems == []   # a dry run: valid, unshown
    # the chapter's report of a real run: label, one row per run, both speed-ups
    data.update(dry_run=False, file=path.name)
    page = gpu_report_html(data)
    assert 'class="lang-en"><b>Measured on cpu' in page and 'class="lang-zh"' in page
    lm = data["tiny_lm"]
    assert [(run["method"], run["r"]) for run in lm["runs"]] == [("full", None), ("lora", 1),
                                                                 ("lora", 8), ("lora", 8)]
    assert lm["runs"][-1]["targets"] == ["q", "k", "v", "o", "fc1", "fc2"]
    assert all(run["new_loss"] > 0 and run["old_loss"] > 0 for run in lm["runs"])
    assert set(lm["effective_ranks_full"]) == {f"blocks.{i}.attn.{p}" for i in (0, 1) for p in "qv"}
    for ranks in lm["effective_ranks_full"].values():
        assert 1 <= ranks["update"][0] <= ranks["update"][1] <= ranks["size"] == 128
    n_lm_rows = (1 + len(lm["runs"])) + (1 + len(lm["effective_ranks_full"]))
    assert page.count("<tr>") == (1 + len(data["runs"])) + (1 + 2) + n_lm_rows
    del data["tiny_lm"]                              # an older file without it still renders
    assert gpu_report_html(data).count("<tr>") == (1 + len(data["runs"])) + (1 + 2)
    assert format(data["speedup_small"]["speedup"]["lora"], ".1f") in page
    assert "No GPU measurement" in no_gpu_result_html()
