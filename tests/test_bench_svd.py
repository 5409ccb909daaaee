"""benchmarks/bench_svd.py's peers comparison, run small: its rows, and a peer that is not installed
(scikit-learn is a benchmark-only dependency) left out by name rather than failing the run."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bench_svd(monkeypatch):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")                 # what the script would set; restored after
    spec = importlib.util.spec_from_file_location("bench_svd", ROOT / "benchmarks" / "bench_svd.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_peers_rows_small(bench_svd):
    out = bench_svd.bench_peers(shapes=((60, 40), (30, 50)), ks=(3,), rounds=2)
    rows = out["peers"]
    assert [(tuple(r["shape"]), r["method"], r["dtype"]) for r in rows[:4]] == [
        ((60, 40), "ours", "float64"), ((60, 40), "ours", "float32"),
        ((60, 40), "torch.svd_lowrank", "float64"), ((60, 40), "sklearn randomized_svd", "float64")]
    assert len(rows) == 8 and out["torch"]
    for row in rows:
        if not row["available"]:
            continue
        assert row["error_seeds"] == bench_svd.PEER_ERROR_SEEDS and row["median_s"] > 0
        q1, q3 = row["error_ratio_q1_q3"]
        assert 1 - 1e-6 <= q1 <= row["error_ratio"] <= q3 <= row["error_ratio_max"]
        if row["method"] != "ours":
            assert row["ours_over_peer"] > 0 and len(row["ours_over_peer_q1_q3"]) == 2


def test_without_scikit_learn_the_peer_is_recorded_as_absent(bench_svd, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn", None)          # import sklearn now fails
    out = bench_svd.bench_peers(shapes=((40, 30),), ks=(2,), rounds=2)
    assert "sklearn is not installed" in capsys.readouterr().out
    assert out["scikit_learn"] is None
    absent = [r for r in out["peers"] if r["method"] == "sklearn randomized_svd"]
    assert len(absent) == 1 and absent[0]["available"] is False and absent[0]["median_s"] is None
    assert all(r["available"] for r in out["peers"] if r["method"] != "sklearn randomized_svd")
