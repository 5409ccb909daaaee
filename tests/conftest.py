"""Shared test set-up: a headless matplotlib backend, seeded matrices of awkward shapes, and the
photograph of chapter 3 with its SVD (computed once per session)."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest


def low_rank(m: int, n: int, r: int, seed: int = 0) -> np.ndarray:
    """An m×n matrix of rank r (non-square, non-symmetric for m != n): a product through r columns."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


# Non-square (both orientations), square non-symmetric, rank-deficient and full-rank cases.
SHAPES = [(7, 4, 4), (4, 7, 4), (9, 6, 3), (6, 9, 2), (8, 8, 5), (5, 5, 5), (12, 3, 1)]


@pytest.fixture(params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}_rank{s[2]}")
def matrix_case(request):
    m, n, r = request.param
    return low_rank(m, n, r, seed=m * 100 + n * 10 + r), r


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    from lowrank_utils.images import load_photo
    return load_photo()


@pytest.fixture(scope="session")
def photo_svd(photo):
    from lowrank_utils.images import image_svd
    return image_svd(photo)


@pytest.fixture(scope="session")
def photo_best(photo):
    """k -> best_rank_k(photo, k), computed apart from the cache under test (once per k)."""
    from lowrank_utils import best_rank_k
    cache: dict[int, np.ndarray] = {}

    def best(k: int) -> np.ndarray:
        if k not in cache:
            cache[k] = best_rank_k(photo, k)
        return cache[k]
    return best


@pytest.fixture
def small() -> np.ndarray:
    """A small non-square, non-symmetric image of rank 5 (rank-deficient), values in [0, 1]."""
    rng = np.random.default_rng(0)
    A = rng.random((30, 5)) @ rng.random((5, 22))      # (30, 22), rank 5
    return A / A.max()


def pytest_terminal_summary(terminalreporter):
    """Say how many bad inputs the fuzz test of the public API tried, function by function."""
    fuzz = __import__("sys").modules.get("tests.test_fuzz_api")
    if fuzz is None or not fuzz.TRIED:
        return
    terminalreporter.section("fuzz test of the public API: cases tried per function")
    for name, count in sorted(fuzz.TRIED.items()):
        terminalreporter.write_line(f"{name:<24} {count:>5}")
    terminalreporter.write_line(f"{'total':<24} {sum(fuzz.TRIED.values()):>5}")
