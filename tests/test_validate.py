"""lowrank_utils._validate: one rule per kind of argument, with errors that name the argument."""
from __future__ import annotations

import numpy as np
import pytest

from lowrank_utils._validate import (as_matrix, as_singular_values, check_bool, check_float_dtype,
                                     check_int, check_positive_int, check_rank_k, check_real,
                                     check_seed)

INTEGERS = [3, np.int64(3), np.int8(3), np.uint16(3)]
NOT_INTEGERS = [3.0, np.float64(3.0), 2.5, "3", True, np.bool_(True), None, [3], 3 + 0j]


@pytest.mark.parametrize("value", INTEGERS)
def test_python_and_numpy_integers_are_integers(value):
    assert check_int(value, "n") == 3 and type(check_int(value, "n")) is int


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_floats_text_and_bools_are_not_integers(value):
    with pytest.raises(TypeError, match="n must be an integer"):
        check_int(value, "n")


def test_integer_bounds_are_named():
    with pytest.raises(ValueError, match=r"r must be an integer >= 1, got r=0"):
        check_positive_int(0, "r")
    with pytest.raises(ValueError, match=r"k must satisfy 1 <= k <= 5, got k=6"):
        check_int(6, "k", low=1, high=5)
    with pytest.raises(ValueError, match=r"n_iter must be an integer <= 9, got n_iter=10"):
        check_int(10, "n_iter", high=9)
    with pytest.raises(ValueError, match=r"k must satisfy 1 <= k <= min\(m, n\) = 2, got k=3"):
        check_rank_k(3, (4, 2))


@pytest.mark.parametrize("value", [2, 2.5, np.float32(2.5), np.int64(2)])
def test_real_numbers(value):
    assert check_real(value, "x") == float(value)


@pytest.mark.parametrize("value, error", [
    (True, TypeError), ("2.5", TypeError), (1 + 2j, TypeError), (np.complex128(1), TypeError),
    (None, TypeError), (float("nan"), ValueError), (float("inf"), ValueError),
])
def test_not_real_numbers(value, error):
    with pytest.raises(error, match="x must be"):
        check_real(value, "x")


def test_real_intervals():
    assert check_real(0.0, "p", 0, 1, high_open=True) == 0.0
    with pytest.raises(ValueError, match=r"p must satisfy 0 <= p < 1, got p=1.0"):
        check_real(1.0, "p", 0, 1, high_open=True)
    with pytest.raises(ValueError, match=r"f must satisfy 0 < f <= 1, got f=0.0"):
        check_real(0.0, "f", 0, 1, low_open=True)


@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, 1.0])
def test_flags_must_be_bool(value):
    with pytest.raises(TypeError, match="flag must be True or False"):
        check_bool(value, "flag")
    assert check_bool(np.bool_(False), "flag") is False and check_bool(True, "flag") is True


def test_seeds():
    g = np.random.default_rng(0)
    assert check_seed(None) is None and check_seed(np.int32(4)) == 4
    assert check_seed(g, allow_generator=True) is g
    with pytest.raises(TypeError, match="seed"):
        check_seed(g)
    with pytest.raises(ValueError, match="seed"):
        check_seed(-1)
    with pytest.raises(TypeError, match="seed"):
        check_seed(1.5)


@pytest.mark.parametrize("bad, error, words", [
    ([[1 + 1j, 2]], TypeError, "real"), (np.array([["a", "b"]]), TypeError, "real numbers"),
    ([[1, 2], [3]], TypeError, "cannot read"), (np.ones(3), ValueError, "2-D"),
    (np.ones((0, 3)), ValueError, "empty"), ([[np.nan, 1.0]], ValueError, "finite"),
    (np.array([[1, None]], dtype=object), TypeError, "real numbers"),
])
def test_matrices(bad, error, words):
    with pytest.raises(error, match=words):
        as_matrix(bad, "A")


def test_matrices_keep_float32_and_convert_the_rest():
    assert as_matrix(np.ones((2, 2), dtype=np.float32)).dtype == np.float32
    assert as_matrix([[1, 2]]).dtype == np.float64 and as_matrix([[True, False]]).dtype == np.float64


@pytest.mark.parametrize("bad, error", [
    (["4", "3", "2"], TypeError), ([3 + 4j, 1], TypeError), ([3, -1], ValueError),
    ([[3, 1]], ValueError), ([], ValueError), ([np.inf], ValueError),
])
def test_singular_values(bad, error):
    with pytest.raises(error, match="s must"):
        as_singular_values(bad)


@pytest.mark.parametrize("value, expected", [
    (None, None), (np.float32, np.float32), (np.float64, np.float64), (float, np.float64),
    (np.dtype("float32"), np.float32), ("float64", np.float64), (np.dtype(">f8"), np.float64)])
def test_float_dtypes(value, expected):
    dtype = check_float_dtype(value, "dtype")
    assert dtype is None if expected is None else (dtype == expected and dtype.isnative)


@pytest.mark.parametrize("value, error, got", [
    (np.int64, ValueError, "int64"), (np.float16, ValueError, "float16"),
    (bool, ValueError, "bool"), ("complex128", ValueError, "complex128"),
    ("banana", TypeError, "'banana'"),
    (3.5, TypeError, "3.5"), (np.float64(2.0), TypeError, "2.0"), (True, TypeError, "True")])
def test_not_float_dtypes(value, error, got):
    with pytest.raises(error, match=rf"dtype must be numpy.float32 or numpy.float64 \(or None\), "
                                    rf"got dtype=.*{got}"):
        check_float_dtype(value, "dtype")
