"""lowrank_utils.results: the measured numbers the chapters quote are read, never typed; the GPU
results are written and read by the same module."""
from __future__ import annotations

from pathlib import Path

import pytest

from lowrank_utils.results import (GPU_RESULT_KEYS, RESULTS_DIR, load_gpu_results, load_result,
                                   write_gpu_result)

ROOT = Path(__file__).resolve().parents[1]


def test_results_dir_is_the_repository_folder():
    assert RESULTS_DIR == ROOT / "benchmarks" / "results"


@pytest.mark.parametrize("name, script, keys", [
    ("svd_cpu", "benchmarks/bench_svd.py", {"randomized_svd", "slider", "peers", "machine",
                                             "date"}),
    ("lora_cpu", "benchmarks/bench_lora.py", {"widths", "config", "torch", "date"}),
])
def test_the_shipped_results_load(name, script, keys):
    data = load_result(name)
    assert isinstance(data, dict) and keys <= set(data)       # what the chapters read is there
    assert (ROOT / script).exists()                          # and the script that writes it


PEER_ROW_KEYS = {"shape", "k", "method", "dtype", "available", "rounds", "median_s",
                 "ours_over_peer", "ours_over_peer_q1_q3", "error_seeds", "error_ratio",
                 "error_ratio_q1_q3", "error_ratio_max"}


def test_the_svd_peers_rows_have_their_fields():
    data = load_result("svd_cpu")
    rows = data["peers"]
    cases = {(tuple(row["shape"]), row["k"]) for row in rows}
    assert cases and all(set(row) == PEER_ROW_KEYS for row in rows)
    for case in cases:                        # ours in both precisions and each peer, every case
        methods = [(r["method"], r["dtype"]) for r in rows if (tuple(r["shape"]), r["k"]) == case]
        assert methods == [("ours", "float64"), ("ours", "float32"),
                           ("torch.svd_lowrank", "float64"), ("sklearn randomized_svd", "float64")]
    for row in rows:
        if not row["available"]:              # a peer that was not installed: no numbers
            assert row["median_s"] is None and row["error_ratio"] is None
            continue
        assert row["median_s"] > 0 and row["error_ratio"] >= 1 - 1e-9 and row["error_seeds"] >= 2
        assert row["error_ratio_q1_q3"][0] <= row["error_ratio"] <= row["error_ratio_max"]
        assert (row["ours_over_peer"] is None) == (row["method"] == "ours")
    assert ("scikit_learn" in data and "torch" in data)        # versions, None when absent


def test_load_result_reads_the_file_it_names(tmp_path):
    (tmp_path / "x.json").write_text('{"a": [1, 2]}', encoding="utf-8")
    assert load_result("x", folder=tmp_path) == {"a": [1, 2]}


def test_a_missing_result_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.json is missing"):
        load_result("nothing", folder=tmp_path)


@pytest.mark.parametrize("bad", ["", "svd_cpu.json", "../x", 3])
def test_bad_names(bad):
    with pytest.raises(ValueError, match="name must be"):
        load_result(bad)


def gpu_record(date: str, dry_run: bool = False) -> dict:
    record = {key: {} for key in GPU_RESULT_KEYS}
    record.update(date=f"{date}T10:00:00+00:00", dry_run=dry_run, runs=[])
    return record


def test_write_then_load_gpu_results(tmp_path):
    first = write_gpu_result(gpu_record("2026-01-02"), tmp_path)
    second = write_gpu_result(gpu_record("2026-01-02"), tmp_path)    # same day: not overwritten
    older = write_gpu_result(gpu_record("2025-12-31"), tmp_path)
    write_gpu_result(gpu_record("2026-02-01", dry_run=True), tmp_path)
    assert (first.name, second.name) == ("gpu_2026-01-02.json", "gpu_2026-01-02-2.json")
    results = load_gpu_results(tmp_path)
    assert [r["file"] for r in results] == [older.name, first.name, second.name]  # dry run left out
    assert load_gpu_results(tmp_path / "missing") == []


def test_write_refuses_an_incomplete_record(tmp_path):
    with pytest.raises(ValueError, match="lacks the keys"):
        write_gpu_result({"date": "2026-01-01"}, tmp_path)
    with pytest.raises(TypeError, match="record must be a mapping"):
        write_gpu_result([1], tmp_path)


def test_corrupt_gpu_files_are_reported_and_skipped(tmp_path):
    good = write_gpu_result(gpu_record("2026-03-04"), tmp_path)
    (tmp_path / "gpu_2026-03-05.json").write_text('{"date": "2026-03-05", "dry', encoding="utf-8")
    (tmp_path / "gpu_2026-03-06.json").write_text('{"date": "2026-03-06"}', encoding="utf-8")
    (tmp_path / "gpu_2026-03-07.json").write_text("[1, 2]", encoding="utf-8")
    problems: list[str] = []
    results = load_gpu_results(tmp_path, problems)
    assert [r["file"] for r in results] == [good.name]
    assert len(problems) == 3
    assert "gpu_2026-03-05.json: not readable as JSON" in problems[0]
    assert "gpu_2026-03-06.json: lacks" in problems[1] and "runs" in problems[1]
    assert load_gpu_results(tmp_path) == results             # without a list: silently skipped


def test_the_shipped_gpu_results_are_valid():
    problems: list[str] = []
    load_gpu_results(problems=problems)
    assert problems == []
