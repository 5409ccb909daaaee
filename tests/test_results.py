"""lowrank_utils.results: the measured numbers the chapters quote are read, never typed."""
from __future__ import annotations

import json

import pytest

from lowrank_utils.results import RESULTS_DIR, load_result


@pytest.mark.parametrize("name", ["svd_cpu", "lora_cpu"])
def test_the_shipped_results_load(name):
    data = load_result(name)
    assert data == json.loads((RESULTS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def test_a_missing_result_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.json is missing"):
        load_result("nothing", folder=tmp_path)


@pytest.mark.parametrize("bad", ["", "svd_cpu.json", "../x", 3])
def test_bad_names(bad):
    with pytest.raises(ValueError, match="name must be"):
        load_result(bad)
