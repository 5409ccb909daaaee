"""Benchmark of chapter 3: the image explorer's slider update and randomized SVD.

One run, two comparisons, each side by side in the same process:

1. **Slider** on the 600×512 photograph. Per slider move:
   ``cached``    ``compression_step`` with the SVD and the partial sums A_0, A_32, … computed
                 once (one product of at most 16 factors and one subtraction): the explorer's
                 arithmetic;
   ``recompute`` a fresh ``np.linalg.svd`` per move, then the same product and subtraction;
   ``update``    the explorer's whole update (arithmetic, ``set_data`` on two images, blitting,
                 JPEG encoding, HTML label), triggered by setting the slider's value.
   Each round moves through ``KS``; ``WORST_K`` is a costliest move (the farthest from a
   stored partial sum), timed on its own as well.
2. **Randomized SVD** on a 4000×1000 low-rank-plus-noise matrix at k = 10: ``full`` (NumPy's
   ``svd``, then truncation) against ``randomized_svd`` (oversample 10, 2 power iterations), with
   the error ratio ‖A − A_k^rand‖_F / ‖A − A_k‖_F.

Method: contenders alternate in interleaved rounds (the order rotates) with a short pause between
them; we report medians over rounds and the median of the per-round ratios. NumPy's BLAS runs on
one thread (``OPENBLAS_NUM_THREADS=1`` unless set): the machine this was written on has 2 cores
shared with other work, and one thread is the slower, conservative case for the widget's budget
(≤ 5 ms of arithmetic, ≤ 50 ms per move in all). Speed is claimed only here, never in timed tests.

Run: ``.venv/bin/python benchmarks/bench_svd.py`` (about a minute). Writes
``benchmarks/results/svd_cpu.json``, which chapter 3 reads.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")      # before NumPy is imported

import datetime as dt  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from lowrank_utils import approximation_error, randomized_svd  # noqa: E402
from lowrank_utils.images import load_photo  # noqa: E402
from lowrank_utils.plotting import use_book_style  # noqa: E402
from lowrank_utils.images import BLOCK, compression_step, image_svd  # noqa: E402
from lowrank_utils.runtime import interleaved_times, median_ratio  # noqa: E402
from lowrank_utils.widgets.image import image_explorer  # noqa: E402

KS = (1, 10, 50, 150, 272, 400, 512)   # slider positions visited in every round
WORST_K = 256 + BLOCK // 2          # farthest from a stored A_k: the longest product (16 factors)
SLIDER_ROUNDS = 9
RSVD_SHAPE = (4000, 1000)           # (m, n) of the randomized-SVD matrix
RSVD_K = 10                         # truncation rank
RSVD_SIGNAL_RANK = 30               # rank of the signal under the noise
RSVD_NOISE = 0.01                   # noise level (entries of the noise matrix: N(0, noise²))
RSVD_ROUNDS = 5
PAUSE_S = 0.05                      # pause between contenders
RESULTS = Path(__file__).with_name("results") / "svd_cpu.json"


def interleaved(calls: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, one per round: the book's one timer
    (``runtime.interleaved_times``), one call per block, the order rotating, a pause between."""
    return interleaved_times(calls, rounds, inner=1, pause_s=PAUSE_S, order="rotate")


def ratio(times: dict[str, list[float]], slow: str, fast: str) -> float:
    """Median over rounds of the per-round ratio slow / fast."""
    return median_ratio(times, slow, fast)["median"]


def bench_slider() -> dict:
    A = load_photo()                                # (600, 512)
    svd = image_svd(A)
    box = image_explorer(A, k=KS[0])

    def cached() -> None:
        for k in KS:
            compression_step(svd, k)

    def recompute() -> None:
        for k in KS:
            U, s, Vh = np.linalg.svd(A, full_matrices=False)     # what caching avoids
            A_k = (U[:, :k] * s[:k]) @ Vh[:k]                    # (m, n)
            _ = A - A_k

    def update() -> None:
        for k in KS:
            box.slider.value = k                                 # the observer runs update()

    times = interleaved({"cached": cached, "recompute": recompute, "update": update},
                        SLIDER_ROUNDS)
    per_move = {name: [t / len(KS) for t in ts] for name, ts in times.items()}

    worst: list[float] = []                          # the whole update, moving onto WORST_K
    cached_worst: list[float] = []                   # the arithmetic alone at WORST_K
    for _ in range(SLIDER_ROUNDS):
        box.slider.value = 1
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        box.slider.value = WORST_K
        worst.append(time.perf_counter() - start)
        time.sleep(PAUSE_S)
        start = time.perf_counter()
        compression_step(svd, WORST_K)
        cached_worst.append(time.perf_counter() - start)

    ms = lambda xs: round(1e3 * statistics.median(xs), 3)   # noqa: E731
    return {
        "shape": list(A.shape),
        "ks": list(KS),
        "rounds": SLIDER_ROUNDS,
        "cached_ms_per_move": ms(per_move["cached"]),
        "recompute_ms_per_move": ms(per_move["recompute"]),
        "update_ms_per_move": ms(per_move["update"]),
        "worst_k": WORST_K,
        "cached_ms_at_worst_k": ms(cached_worst),
        "update_ms_at_worst_k": ms(worst),
        "update_ms_max": round(1e3 * max(worst + per_move["update"]), 3),
        "recompute_over_cached": round(ratio(per_move, "recompute", "cached"), 2),
        "update_over_cached": round(ratio(per_move, "update", "cached"), 2),
    }


def rsvd_matrix(seed: int = 0) -> np.ndarray:
    """A 4000×1000 matrix: a rank-30 signal with decaying strengths plus Gaussian noise."""
    m, n = RSVD_SHAPE
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, RSVD_SIGNAL_RANK)) / np.sqrt(m)      # (m, 30), nearly orthonormal
    Y = rng.standard_normal((n, RSVD_SIGNAL_RANK)) / np.sqrt(n)      # (n, 30)
    strengths = 10.0 * 0.85 ** np.arange(RSVD_SIGNAL_RANK)            # (30,)
    return (X * strengths) @ Y.T + RSVD_NOISE * rng.standard_normal((m, n))


def bench_randomized() -> dict:
    A = rsvd_matrix()
    k = RSVD_K
    factors: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def full() -> None:
        U, s, Vh = np.linalg.svd(A, full_matrices=False)
        U[:, :k], s[:k], Vh[:k]

    seeds = itertools.count()                            # a new seed for every call

    def randomized() -> None:
        factors.append(randomized_svd(A, k, seed=next(seeds)))   # errors measured after timing

    times = interleaved({"full": full, "randomized": randomized}, RSVD_ROUNDS)
    optimal = approximation_error(A, k, "fro")
    error_ratios = [float(np.linalg.norm(A - (U * s) @ Vh)) / optimal for U, s, Vh in factors]
    return {
        "shape": list(A.shape),
        "k": k,
        "oversample": 10,
        "n_iter": 2,
        "rounds": RSVD_ROUNDS,
        "full_svd_s": round(statistics.median(times["full"]), 4),
        "randomized_s": round(statistics.median(times["randomized"]), 4),
        "full_over_randomized": round(ratio(times, "full", "randomized"), 1),
        "error_ratio_median": round(statistics.median(error_ratios), 6),
        "error_ratio_max": round(max(error_ratios), 6),
        "optimal_error_fro": round(optimal, 4),
    }


def main() -> dict:
    use_book_style()
    started = time.perf_counter()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "benchmarks/bench_svd.py",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "blas_threads": int(os.environ["OPENBLAS_NUM_THREADS"]),
            "load_average_1min_before": load_before,
        },
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "slider": bench_slider(),
        "randomized_svd": bench_randomized(),
    }
    result["machine"]["load_average_1min_after"] = (
        os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
    result["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    out = main()
    print(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS}")
