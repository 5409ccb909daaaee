"""lowrank_utils.runtime: devices, seeds, thread limits and the one interleaved timer."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from lowrank_utils import runtime
from lowrank_utils.runtime import (cpu_threads, get_device, interleaved_medians,
                                   interleaved_times, median_ratio, resolve_device,
                                   seed_everything)


def test_get_device_order(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")          # CUDA first, even with MPS there


def test_resolve_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="device='cuda' was asked for"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="device='mps' was asked for"):
        resolve_device("mps")
    with pytest.raises(ValueError, match="one of"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("cuda") == torch.device("cuda")


def test_seed_everything_seeds_python_numpy_and_torch():
    g = seed_everything(5)
    values = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g))
    g = seed_everything(5)
    again = (random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g))
    assert values[:3] == again[:3] and torch.equal(values[3], again[3])
    seed_everything(6)
    assert random.random() != values[0]
    for bad, error in ((-1, ValueError), (1.0, TypeError), ("5", TypeError), (None, TypeError)):
        with pytest.raises(error, match="seed"):
            seed_everything(bad)


def test_cpu_threads_restores_the_setting():
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with cpu_threads(None):
        assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        with cpu_threads(0):
            pass


def counting_calls(names):
    log: list[str] = []
    return log, {name: (lambda name=name: log.append(name)) for name in names}


def test_interleaved_times_rotates_and_counts():
    log, calls = counting_calls("abc")
    times = interleaved_times(calls, rounds=3, inner=2, warmup=1)
    assert set(times) == set("abc") and all(len(t) == 3 for t in times.values())
    assert all(t >= 0 for ts in times.values() for t in ts)
    warm, timed = log[:3], log[3:]
    assert warm == list("abc")
    blocks = ["".join(timed[i:i + 2]) for i in range(0, len(timed), 2)]   # two calls per block
    assert blocks == ["aa", "bb", "cc", "bb", "cc", "aa", "cc", "aa", "bb"]  # rotated each round


def test_interleaved_times_shuffles_with_a_seed():
    orders = []
    for _ in range(2):
        log, calls = counting_calls("abcd")
        interleaved_times(calls, rounds=6, inner=1, order="shuffle", warmup=0, seed=3)
        orders.append(log)
    assert orders[0] == orders[1]                                   # seeded
    rounds = ["".join(orders[0][i:i + 4]) for i in range(0, 24, 4)]
    assert all(sorted(r) == list("abcd") for r in rounds) and len(set(rounds)) > 1


def test_block_mode_measures_seconds_per_call():
    import time
    calls = []

    def sleepy() -> None:               # at least 2 ms per call, however fast the machine
        calls.append(1)
        time.sleep(0.002)
    times = interleaved_times({"sleepy": sleepy}, rounds=2, block_s=0.01, warmup=0)
    assert len(times["sleepy"]) == 2 and all(t >= 0.002 for t in times["sleepy"])
    assert len(calls) >= 1 + 2 * 3      # one call to size the block, then >= 3 calls per block


def test_medians_and_ratios(monkeypatch):
    ticks = iter(range(1000))
    monkeypatch.setattr(runtime.time, "perf_counter", lambda: float(next(ticks)))
    # with a fake clock every block takes exactly one tick: a ratio of 1 in every round
    times = interleaved_times({"a": lambda: None, "b": lambda: None}, rounds=5, inner=1)
    assert times == {"a": [1.0] * 5, "b": [1.0] * 5}
    assert median_ratio(times, "a", "b") == {"median": 1.0, "q1": 1.0, "q3": 1.0}
    ratio = median_ratio({"x": [2.0, 4.0, 6.0, 8.0], "y": [1.0, 1.0, 2.0, 1.0]}, "x", "y")
    assert ratio["median"] == pytest.approx(3.5) and ratio["q1"] <= 3.5 <= ratio["q3"]
    medians = interleaved_medians({"a": lambda: None}, rounds=3, inner=1)
    assert medians == {"a": 1.0}


def test_timer_bad_input():
    with pytest.raises(ValueError, match="at least one contender"):
        interleaved_times({}, rounds=1)
    with pytest.raises(ValueError, match="rounds"):
        interleaved_times({"a": lambda: None}, rounds=0)
    with pytest.raises(ValueError, match="order"):
        interleaved_times({"a": lambda: None}, rounds=1, order="random")
    with pytest.raises(TypeError, match="inner"):
        interleaved_times({"a": lambda: None}, rounds=1, inner=2.5)
    with pytest.raises(ValueError, match="not among the timed contenders"):
        median_ratio({"a": [1.0]}, "a", "b")
