"""Shared test set-up: a headless matplotlib backend and seeded matrices of awkward shapes."""
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
