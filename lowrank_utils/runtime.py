"""Where and how code runs: the device, seeds, thread limits, and the book's one timer.

- ``get_device`` (CUDA, then Apple's MPS, then the CPU) and ``resolve_device`` (a device asked for
  by name, refused with a clear error when this machine has none);
- ``seed_everything`` (Python, NumPy, PyTorch);
- ``cpu_threads`` (torch threads for a block) and ``synchronize`` (wait for a GPU before a clock);
- ``interleaved_times`` / ``interleaved_medians`` / ``median_ratio``: contenders timed in
  interleaved rounds, so that a slow moment of the machine hits all of them alike. Used by
  chapters 4 and 5 and by every script in ``benchmarks/``.

PyTorch is imported only by the functions that need it, so a NumPy benchmark does not load it.
"""
from __future__ import annotations

import contextlib
import random
import statistics
import time
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

import numpy as np

from ._validate import check_int, check_real, check_seed

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "DEVICE_NAMES",
    "get_device",
    "resolve_device",
    "seed_everything",
    "cpu_threads",
    "synchronize",
    "interleaved_times",
    "interleaved_medians",
    "median_ratio",
]

DEVICE_NAMES = ("cpu", "cuda", "mps")   # the device types the book knows


def get_device() -> "torch.device":
    """The book's one device helper: CUDA if available, then Apple's MPS, then the CPU.

    Used in chapter 5 and ``benchmarks/gpu_run.py``.
    """
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(name: str | None) -> "torch.device":
    """``name`` ("cpu", "cuda", "mps") as a torch.device, or ``get_device()`` for None.

    Refuses, with a ValueError naming ``device``, a GPU this machine does not have (a CUDA
    device asked for on a CPU-only build would otherwise fail later, deep inside PyTorch).
    """
    import torch

    if name is None:
        return get_device()
    if name not in DEVICE_NAMES:
        raise ValueError(f"device must be None or one of {DEVICE_NAMES}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for, but this PyTorch build finds no CUDA GPU "
                         f"(torch {torch.__version__}); use device=None or 'cpu'")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError("device='mps' was asked for, but Apple's MPS is not available here")
    return torch.device(name)


def seed_everything(seed: int) -> "torch.Generator":
    """Seed Python, NumPy and PyTorch (CPU and every GPU); return a fresh seeded CPU generator.

    Used at the top of chapter 5. The experiment's functions do not rely on it and do not change
    the global RNG: each draws from its own generator seeded by ``config.seed``.
    """
    import torch

    seed = check_seed(seed)
    if seed is None:
        raise TypeError("seed must be an integer >= 0, got None")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)   # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (None: leave torch's setting), then restore it.

    On 2 shared cores, one thread was 4× faster than two for chapter 5's 64-wide layers:
    a second thread spins and waits more than it computes.
    """
    if n is None:
        yield
        return
    import torch

    n = check_int(n, "n", low=1)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def synchronize(device: "torch.device | None") -> None:
    """Wait until a CUDA device has finished its queued work (nothing to wait for elsewhere)."""
    if device is not None and device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)


def interleaved_times(calls: Mapping[str, Callable[[], object]], rounds: int = 15,
                      inner: int | None = 20, *, block_s: float | None = None,
                      pause_s: float = 0.0, order: str = "rotate", warmup: int = 1,
                      device: "torch.device | None" = None, seed: int = 0
                      ) -> dict[str, list[float]]:
    """Seconds per call of each zero-argument contender, one value per round.

    Each round times every contender once: ``inner`` calls back to back (or, with ``block_s``,
    as many calls as take about ``block_s`` seconds, counted once after the warm-up). Between two
    contenders the clock rests ``pause_s`` seconds, so one does not run in the caches another left
    warm. ``order`` is "rotate" (the order shifts by one each round) or "shuffle" (a new seeded
    random order each round). ``warmup`` untimed calls come first; with ``device`` a CUDA GPU is
    synchronised around each block. The book's one timer: chapters 4-5 and ``benchmarks/``.
    """
    names = list(calls)
    if not names:
        raise ValueError("calls must hold at least one contender")
    rounds = check_int(rounds, "rounds", low=1, high=100_000)
    warmup = check_int(warmup, "warmup", low=0, high=1000)
    pause_s = check_real(pause_s, "pause_s", low=0.0, high=10.0)
    if order not in ("rotate", "shuffle"):
        raise ValueError(f"order must be 'rotate' or 'shuffle', got {order!r}")
    if block_s is None:
        counts = dict.fromkeys(names, check_int(inner, "inner", low=1, high=10**7))
    else:
        block_s = check_real(block_s, "block_s", low=0.0, high=60.0, low_open=True)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    if block_s is not None:
        counts = {}
        for name in names:
            synchronize(device)
            start = time.perf_counter()
            calls[name]()
            synchronize(device)
            counts[name] = max(3, round(block_s / max(time.perf_counter() - start, 1e-9)))
    shuffle = random.Random(seed).shuffle
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        if order == "rotate":
            sequence = names[r % len(names):] + names[:r % len(names)]
        else:
            sequence = names[:]
            shuffle(sequence)
        for name in sequence:
            if pause_s:
                time.sleep(pause_s)
            call, n = calls[name], counts[name]
            synchronize(device)
            start = time.perf_counter()
            for _ in range(n):
                call()
            synchronize(device)
            times[name].append((time.perf_counter() - start) / n)
    return times


def interleaved_medians(calls: Mapping[str, Callable[[], object]], rounds: int = 15,
                        inner: int | None = 20, **options: object) -> dict[str, float]:
    """Median over rounds of ``interleaved_times``: seconds per call of each contender."""
    times = interleaved_times(calls, rounds, inner, **options)  # type: ignore[arg-type]
    return {name: statistics.median(t) for name, t in times.items()}


def median_ratio(times: Mapping[str, list[float]], numerator: str,
                 denominator: str) -> dict[str, float]:
    """Median and quartiles of the per-round ratio numerator / denominator (< 1: faster).

    The per-round ratio cancels slow drifts of the machine that hit both contenders alike.
    """
    for name in (numerator, denominator):
        if name not in times:
            raise ValueError(f"{name!r} is not among the timed contenders {list(times)}")
    per_round = [a / b for a, b in zip(times[numerator], times[denominator])]
    if len(per_round) < 2:
        return {"median": per_round[0], "q1": per_round[0], "q3": per_round[0]}
    q1, median, q3 = statistics.quantiles(per_round, n=4)
    return {"median": median, "q1": q1, "q3": q3}
