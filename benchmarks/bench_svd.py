"""Benchmark of chapter 3: the image explorer's slider update and randomized SVD.

One run, three comparisons, each side by side in the same process:

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
3. **Peers** of ``randomized_svd``, on 4000×1000 and 2000×2000 low-rank-plus-noise matrices
   (seeded) at k = 10 and 50, all at the same work: a sketch of k + 10 columns and 2 power
   iterations. ``ours float64`` and ``ours float32`` (``randomized_svd``; the float32 run gets the
   matrix already stored in float32, its conversion not timed), ``torch.svd_lowrank`` (a float64
   tensor sharing the matrix's memory, q = k + 10, niter = 2) and scikit-learn's
   ``sklearn.utils.extmath.randomized_svd`` (n_oversamples = 10, n_iter = 2, its default
   power_iteration_normalizer, which for n_iter <= 2 is none). Every method gets the seeds 0, 1, 2,
   … in its successive calls (torch through ``torch.manual_seed``). scikit-learn is a
   benchmark-only dependency (``benchmarks/requirements.txt``); without it that peer is skipped
   with a printed note and recorded as absent.

Method: contenders alternate in interleaved rounds (the order rotates) with a short pause between
them; we report medians over rounds and the median of the per-round ratios. NumPy's BLAS runs on
one thread (``OPENBLAS_NUM_THREADS=1`` unless set), and so does PyTorch
(``torch.set_num_threads(1)`` through ``runtime.cpu_threads``, and ``OMP_NUM_THREADS`` /
``MKL_NUM_THREADS=1``), so that every peer gets the same single core: the machine this was written on has 2 cores shared with other
work, and one thread is the slower, conservative case for the widget's budget (≤ 5 ms of
arithmetic, ≤ 50 ms per move in all). Speed is claimed only here, never in timed tests.

JSON (``benchmarks/results/svd_cpu.json``): ``slider`` and ``randomized_svd`` as above (chapter 3
reads them), ``peers`` a list of rows, one per (shape, k, method)::

    {"shape": [m, n], "k": k, "method": "ours" | "torch.svd_lowrank" | "sklearn randomized_svd",
     "dtype": "float64" | "float32", "available": true, "rounds": R, "median_s": seconds per call,
     "ours_over_peer": median of the per-round ratio ours float64 / this method (null for ours),
     "ours_over_peer_q1_q3": its quartiles, "error_seeds": the calls (seeds 0, 1, …) behind
     "error_ratio": the median over them of ‖A − A_k^method‖_F / ‖A − A_k‖_F,
     "error_ratio_q1_q3": its quartiles, "error_ratio_max": the worst call}

The timed calls are topped up, untimed, to ``PEER_ERROR_SEEDS`` calls per method: the error ratio
of one sketch varies from seed to seed by more than the methods differ, so a few seeds would not
tell them apart. Same work, same accuracy: all four methods compute the same thing (the
Rayleigh–Ritz projection onto the range of A (AᵀA)² Ω), and their error ratios agree within
that spread.

A peer that is not installed has ``"available": false`` and null numbers; ``scikit_learn`` and
``torch`` hold the versions used (null when absent).

Run: ``.venv/bin/python benchmarks/bench_svd.py`` (about a minute). Writes
``benchmarks/results/svd_cpu.json``, which chapter 3 reads.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")      # before NumPy is imported

import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import importlib  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from lowrank_utils import approximation_error, randomized_svd  # noqa: E402
from lowrank_utils.images import load_photo  # noqa: E402
from lowrank_utils.plotting import use_book_style  # noqa: E402
from lowrank_utils.images import BLOCK, compression_step, image_svd  # noqa: E402
from lowrank_utils.runtime import cpu_threads, interleaved_times, median_ratio  # noqa: E402
from lowrank_utils.widgets.image import image_explorer  # noqa: E402

KS = (1, 10, 50, 150, 272, 400, 512)   # slider positions visited in every round
WORST_K = 256 + BLOCK // 2          # farthest from a stored A_k: the longest product (16 factors)
SLIDER_ROUNDS = 9
RSVD_SHAPE = (4000, 1000)           # (m, n) of the randomized-SVD matrix
RSVD_K = 10                         # truncation rank
RSVD_SIGNAL_RANK = 30               # rank of the signal under the noise
RSVD_NOISE = 0.01                   # noise level (entries of the noise matrix: N(0, noise²))
RSVD_ROUNDS = 5
PEER_SHAPES = ((4000, 1000), (2000, 2000))   # (m, n) of the peers comparison
PEER_KS = (10, 50)
PEER_OVERSAMPLE = 10                # sketch width k + 10 for every method
PEER_N_ITER = 2                     # power iterations for every method
PEER_ROUNDS = 7
PEER_ERROR_SEEDS = 25               # error ratios over this many calls (seeds) per method
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


def rsvd_matrix(seed: int = 0, shape: tuple[int, int] = RSVD_SHAPE) -> np.ndarray:
    """An m×n matrix (4000×1000 unless told): a rank-30 signal with decaying strengths plus
    Gaussian noise."""
    m, n = shape
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


Factors = tuple[np.ndarray, np.ndarray, np.ndarray]
PEER_DTYPES = {"ours float64": "float64", "ours float32": "float32",    # every row, in order
               "torch.svd_lowrank": "float64", "sklearn randomized_svd": "float64"}


def optional_import(name: str, note: str) -> Any:
    """The module ``name``, or None (after printing ``note``) when it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        print(f"note: {name} is not installed; {note}")
        return None


def peer_calls(A: np.ndarray, k: int, torch: Any, extmath: Any
               ) -> tuple[dict[str, Callable[[], None]], dict[str, list[Factors]]]:
    """The contenders on A at rank k, as zero-argument calls that store their results (seeds 0, 1,
    2, … in successive calls), and the lists they store them in."""
    ell = k + PEER_OVERSAMPLE                       # the sketch width of every method
    A32 = A.astype(np.float32)                      # (m, n): the float32 run's input, not timed
    runs: dict[str, Callable[[int], Factors]] = {
        "ours float64": lambda seed: randomized_svd(A, k, PEER_OVERSAMPLE, PEER_N_ITER, seed),
        "ours float32": lambda seed: randomized_svd(A32, k, PEER_OVERSAMPLE, PEER_N_ITER, seed),
    }
    if torch is not None:
        A_torch = torch.from_numpy(A)               # (m, n) float64, the memory of A

        def torch_svd(seed: int) -> Factors:
            torch.manual_seed(seed)
            U, s, V = torch.svd_lowrank(A_torch, q=ell, niter=PEER_N_ITER)   # (m, ell), (n, ell)
            return U[:, :k], s[:k], V[:, :k].T

        runs["torch.svd_lowrank"] = torch_svd
    if extmath is not None:
        runs["sklearn randomized_svd"] = lambda seed: extmath.randomized_svd(
            A, k, n_oversamples=PEER_OVERSAMPLE, n_iter=PEER_N_ITER, random_state=seed)
    results: dict[str, list[Factors]] = {name: [] for name in runs}

    def stored(name: str) -> Callable[[], None]:
        seeds = itertools.count()
        return lambda: results[name].append(runs[name](next(seeds)))

    return {name: stored(name) for name in runs}, results


def error_ratios(A: np.ndarray, factors: list[Factors], optimal: float) -> list[float]:
    """‖A − U diag(s) Vh‖_F / ‖A − A_k‖_F for each stored result, computed in float64."""
    ratios = []
    for U, s, Vh in factors:
        U, s, Vh = (np.asarray(x, dtype=np.float64) for x in (U, s, Vh))
        ratios.append(float(np.linalg.norm(A - (U * s) @ Vh)) / optimal)
    return ratios


def bench_peers(shapes: tuple[tuple[int, int], ...] = PEER_SHAPES, ks: tuple[int, ...] = PEER_KS,
                rounds: int = PEER_ROUNDS) -> dict:
    """``{"peers": rows, "torch": version, "scikit_learn": version}`` (see the module docstring)."""
    torch = optional_import("torch", "torch.svd_lowrank is left out")
    sklearn = optional_import("sklearn", "its randomized_svd is left out "
                                         "(pip install -r benchmarks/requirements.txt)")
    extmath = importlib.import_module("sklearn.utils.extmath") if sklearn else None
    rows = []
    with cpu_threads(1) if torch is not None else contextlib.nullcontext():
        for shape in shapes:
            A = rsvd_matrix(shape=shape)            # (m, n)
            for k in ks:
                calls, results = peer_calls(A, k, torch, extmath)
                times = interleaved(calls, rounds)
                for name, call in calls.items():        # more seeds for the error ratios, untimed
                    while len(results[name]) < PEER_ERROR_SEEDS:
                        call()
                optimal = approximation_error(A, k, "fro")
                rows += [peer_row(A, shape, k, method, times, results.get(method), optimal,
                                  rounds) for method in PEER_DTYPES]
    return {"peers": rows, "torch": torch.__version__ if torch else None,
            "scikit_learn": sklearn.__version__ if sklearn else None}


def peer_row(A: np.ndarray, shape: tuple[int, int], k: int, method: str,
             times: dict[str, list[float]], factors: list[Factors] | None, optimal: float,
             rounds: int) -> dict:
    """One row of ``peers``: the method's time, ours float64 over it, its error ratios."""
    row: dict[str, Any] = {"shape": list(shape), "k": k, "method": method.rsplit(" float", 1)[0],
                           "dtype": PEER_DTYPES[method], "available": factors is not None,
                           "rounds": rounds, "median_s": None, "ours_over_peer": None,
                           "ours_over_peer_q1_q3": None, "error_seeds": None,
                           "error_ratio": None, "error_ratio_q1_q3": None,
                           "error_ratio_max": None}
    if factors is None:
        return row
    ratios = error_ratios(A, factors, optimal)
    q1, median, q3 = statistics.quantiles(ratios, n=4)
    row.update(median_s=round(statistics.median(times[method]), 5), error_seeds=len(ratios),
               error_ratio=round(median, 7), error_ratio_q1_q3=[round(q1, 7), round(q3, 7)],
               error_ratio_max=round(max(ratios), 7))
    if not method.startswith("ours"):
        over = median_ratio(times, "ours float64", method)
        row.update(ours_over_peer=round(over["median"], 3),
                   ours_over_peer_q1_q3=[round(over["q1"], 3), round(over["q3"], 3)])
    return row


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
    result.update(bench_peers())
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
