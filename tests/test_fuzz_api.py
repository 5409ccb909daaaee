"""A property-based test of the whole public API (hypothesis): bad input is refused, well.

For every public function and every argument, hypothesis draws values from a pool of wrong types,
wrong shapes, NaN / inf, complex numbers, text, flags that are not bool, and numbers out of range.
Each call must raise ValueError or TypeError whose message names the argument, raised by
``lowrank_utils`` itself (never an error from inside NumPy, PyTorch or PIL), or, for values that
are valid after all, return. A second test feeds huge and tiny magnitudes and checks that the
results scale as the mathematics says. ``tests/conftest.py`` prints how many cases each function
was given.
"""
from __future__ import annotations

import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import lowrank_utils as L
from lowrank_utils import budget, competitors, images, runtime
from lowrank_utils import experiment as E
from lowrank_utils import lm_experiment as LM
from lowrank_utils import tiny_lm as TL
from lowrank_utils import updates as U
from lowrank_utils.report import Table
from lowrank_utils.widgets import lora_calculator, rank_experiment, svd_geometry

PACKAGE = Path(L.__file__).resolve().parent
TRIED: Counter = Counter()          # function -> cases tried (printed by conftest at the end)

RNG = np.random.default_rng(0)
A = RNG.standard_normal((7, 4)) @ np.diag([3.0, 2.0, 1.0, 0.0]) @ RNG.standard_normal((4, 4))
S = np.array([3.0, 2.0, 0.5])
IMAGE = RNG.random((12, 9))

# --- the pool of bad values, by kind of argument ---------------------------------------------------

junk = st.one_of(st.none(), st.text(max_size=4), st.just(object()), st.just([1, "a"]),
                 st.complex_numbers(max_magnitude=1e6, allow_nan=False).filter(lambda z: z.imag))
not_int = st.one_of(junk, st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-5, 5).map(float), st.integers(1, 5).map(np.float64),
                    st.integers(1, 5).map(str))
not_real = st.one_of(junk, st.booleans(), st.sampled_from([np.nan, np.inf, -np.inf]),
                     st.floats(allow_nan=False).map(str))
not_bool = st.one_of(st.none(), st.sampled_from(["False", "True", "", "no"]), st.integers(0, 1),
                     st.floats(0, 1))


def no_none(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """For arguments where None is valid (a default)."""
    return strategy.filter(lambda v: v is not None)


def arrays_bad(ndim: int) -> st.SearchStrategy:
    """Arrays of the wrong kind for an ndim-dimensional argument."""
    shape = (3,) * ndim
    return st.one_of(
        junk, st.booleans(), st.floats(),                                  # scalars, text, None
        st.just(np.full(shape, np.nan)), st.just(np.full(shape, np.inf)),  # non-finite
        st.just(np.ones(shape, dtype=complex) * (1 + 1j)),                 # complex
        st.just(np.full(shape, "4")), st.just(np.array([[1, None]], dtype=object)),  # text, objects
        st.just(np.ones((3,) * (ndim + 1))), st.just(np.zeros((0,) * ndim)),  # wrong ndim, empty
        st.just([[1.0, 2.0], [3.0]]),                                      # ragged
    )


def ints_outside(low: int | None, high: int | None) -> st.SearchStrategy:
    parts = []
    if low is not None:
        parts.append(st.integers(low - 10**6, low - 1))
    if high is not None:
        parts.append(st.integers(high + 1, high + 10**6))
    return st.one_of(not_int, *parts)


def tb_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def reals_outside(low: float | None, high: float | None, open_low: bool = False) -> st.SearchStrategy:
    parts = [not_real]
    if low is not None:
        parts.append(st.floats(low - 1e6, low, exclude_max=not open_low))
    if high is not None:
        parts.append(st.floats(high, high + 1e6, exclude_min=True))
    return st.one_of(*parts)


@dataclass
class Case:
    """One public function: valid arguments, and for each fuzzed argument its bad values."""

    name: str
    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    bad: dict[str, st.SearchStrategy]
    says: dict[str, str] | None = None      # argument -> the name its errors use, if different


QUICK_LM = LM.lm_small_config(steps=1, warmup=0, batch_size=2, eval_windows=1, threads=1)


def tiny_lm() -> nn.Module:
    """A fresh, very small TinyLM (finetune_lm copies it; nothing is trained unless valid)."""
    return TL.TinyLM(TL.TinyLMConfig(context=8, d_model=8, n_heads=2, n_layers=1, mlp_ratio=1))


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


CASES = [
    Case("numerical_rank", L.numerical_rank, lambda: dict(A=A, tol=None),
         {"A": arrays_bad(2), "tol": no_none(reals_outside(0.0, None))}),
    Case("default_tolerance", L.default_tolerance, lambda: dict(A=A, s=None),
         {"A": arrays_bad(2), "s": no_none(st.one_of(arrays_bad(1), st.just(np.ones(2))))}),
    Case("rank_factorization", L.rank_factorization, lambda: dict(A=A),
         {"A": arrays_bad(2)}),
    Case("truncated_svd", L.truncated_svd, lambda: dict(A=A, k=2),
         {"A": arrays_bad(2), "k": ints_outside(1, 4)}),
    Case("best_rank_k", L.best_rank_k, lambda: dict(A=A, k=2),
         {"A": arrays_bad(2), "k": ints_outside(1, 4)}),
    Case("approximation_error", L.approximation_error, lambda: dict(A=A, k=2, norm="fro"),
         {"A": arrays_bad(2), "k": ints_outside(1, 4),
          "norm": st.one_of(junk, st.sampled_from([1, "nuc", True, np.inf]))}),
    Case("energy_retained", L.energy_retained, lambda: dict(s=S, k=2),
         {"s": st.one_of(arrays_bad(1), st.just(np.array([1.0, -1.0])), st.just(["4", "3"]),
                         st.just(np.zeros(3))),
          "k": ints_outside(1, 3)}),
    Case("k_for_energy", L.k_for_energy, lambda: dict(s=S, fraction=0.9),
         {"s": arrays_bad(1), "fraction": reals_outside(0.0, 1.0, open_low=True)}),
    Case("storage_cost", L.storage_cost, lambda: dict(m=6, n=5, k=2),
         {"m": ints_outside(1, None), "n": ints_outside(1, None), "k": ints_outside(1, 5)}),
    Case("compression_ratio", L.compression_ratio, lambda: dict(m=6, n=5, k=2),
         {"m": ints_outside(1, None), "k": ints_outside(1, 5)}),
    Case("break_even_rank", L.break_even_rank, lambda: dict(m=6, n=5),
         {"m": ints_outside(1, None), "n": ints_outside(1, None)}),
    Case("randomized_svd", L.randomized_svd, lambda: dict(A=A, k=2, oversample=2, n_iter=1, seed=0),
         {"A": arrays_bad(2), "k": ints_outside(1, 4), "oversample": ints_outside(0, None),
          "n_iter": ints_outside(0, L.linalg.MAX_POWER_ITERATIONS),
          "seed": st.one_of(st.floats(), st.booleans(), st.text(max_size=2), st.integers(-99, -1)),
          # no random text for dtype: "d" and "f" are names of float64 and float32
          "dtype": st.one_of(st.booleans(), st.floats(), st.integers(), st.sampled_from(
              [np.int64, np.float16, bool, complex, "int8", "f2", "", "x", np.float64(1.0),
               object(), [1, "a"], 1 + 2j]))}),
    Case("four_subspaces", L.four_subspaces, lambda: dict(A=A, tol=None),
         {"A": arrays_bad(2), "tol": no_none(reals_outside(0.0, None))}),
    Case("als_rank_k", competitors.als_rank_k, lambda: dict(A=A, k=2, n_iter=2, seed=0),
         {"A": arrays_bad(2), "k": ints_outside(1, 4), "n_iter": ints_outside(1, 10_000),
          "seed": st.one_of(st.floats(), st.booleans(), st.text(max_size=2))}),
    Case("psnr", images.psnr, lambda: dict(reference=IMAGE, approximation=IMAGE * 0.9, peak=1.0),
         {"reference": arrays_bad(2), "approximation": arrays_bad(2),
          "peak": reals_outside(0.0, None, open_low=True)}),
    Case("psnr_from_sse", images.psnr_from_sse, lambda: dict(sse=2.0, size=10, peak=1.0),
         {"sse": reals_outside(0.0, None), "size": ints_outside(1, None),
          "peak": reals_outside(0.0, None, open_low=True)}),
    Case("to_grayscale", images.to_grayscale, lambda: dict(rgb=RNG.random((4, 3, 3))),
         {"rgb": st.one_of(arrays_bad(3), st.just(np.ones((4, 3, 2))))}),
    Case("reconstruct_color", images.reconstruct_color,
         lambda: dict(image=RNG.random((6, 5, 3)), k=2),
         {"image": arrays_bad(3), "k": ints_outside(1, 5)}),
    Case("image_svd", images.image_svd, lambda: dict(A=IMAGE, block=4),
         {"A": arrays_bad(2), "block": ints_outside(1, None)}),
    Case("compression_step", images.compression_step,
         lambda: dict(svd=images.image_svd(IMAGE), k=3),
         {"svd": st.one_of(junk, st.just(IMAGE)), "k": ints_outside(1, 9)}),
    Case("load_photo", images.load_photo, lambda: dict(color=False),
         {"color": not_bool, "name": st.one_of(st.none(), st.just(3), st.just("missing.jpg"))}),
    Case("lora_parameter_count", budget.lora_parameter_count, lambda: dict(shapes=[(6, 4)], r=2),
         {"shapes": st.one_of(st.just("64x64"), st.just([(6,)]), st.just([(6, 0)]),
                              st.just([(6.0, 4)])),
          "r": ints_outside(1, 4)}, says={"shapes": "shape|d_out"}),
    Case("lora_budget", budget.lora_budget, lambda: dict(model="GPT-3 175B", targets=["W_q"], r=4),
         {"model": st.one_of(junk, st.just("GPT-5")), "targets": st.just(["W_x"]),
          "r": ints_outside(1, None)}, says={"targets": "targets"}),
    Case("mlp_shapes", budget.mlp_shapes, lambda: dict(d_in=4, d_hidden=5, n_classes=3),
         {"d_in": ints_outside(1, None), "n_classes": ints_outside(1, None)}),
    Case("LoRALinear", L.LoRALinear, lambda: dict(base=nn.Linear(4, 3), r=2, alpha=4.0),
         {"base": st.one_of(junk, st.just(nn.Conv1d(2, 2, 1))), "r": ints_outside(1, None),
          "alpha": no_none(st.one_of(junk, st.booleans(), st.sampled_from([0.0, -1.0, np.nan]))),
          "dropout": reals_outside(0.0, 1.0), "rslora": not_bool}),
    Case("apply_lora", L.apply_lora,
         lambda: dict(model=tiny_model(), target_modules=["0"], r=2),
         {"model": junk, "target_modules": st.one_of(st.just([]), st.just(["9"]), st.just([3])),
          "r": ints_outside(1, None), "rslora": not_bool}),
    Case("count_parameters", L.count_parameters, lambda: dict(model=tiny_model()),
         {"model": junk, "trainable_only": not_bool}),
    Case("merge_lora", L.merge_lora, lambda: dict(model=tiny_model()), {"model": junk}),
    Case("merge_and_unload", L.merge_and_unload, lambda: dict(model=tiny_model()),
         {"model": junk}),
    Case("seed_everything", runtime.seed_everything, lambda: dict(seed=3),
         {"seed": st.one_of(not_int.filter(lambda v: v is not None), st.integers(-99, -1))}),
    Case("resolve_device", runtime.resolve_device, lambda: dict(name="cpu"),
         {"name": st.one_of(st.just("gpu"), st.just(3), st.just("CPU"))}, says={"name": "device"}),
    Case("small_config", E.small_config, lambda: dict(seed=1),
         {"seed": ints_outside(0, None), "lr_lora": reals_outside(0.0, None, open_low=True),
          "amp": not_bool, "device": st.one_of(st.just("gpu"), st.just(0)),
          "batch_size": ints_outside(1, 8192)}, says={k: f"config.{k}" for k in
                                                  ("seed", "lr_lora", "amp", "device",
                                                   "batch_size")}),
    Case("relative_error", E.relative_error, lambda: dict(D=A, D_star=A + 1),
         {"D": arrays_bad(2), "D_star": st.one_of(arrays_bad(2), st.just(np.zeros((7, 4))))}),
    Case("subspace_similarity", E.subspace_similarity,
         lambda: dict(A_small=A[:3], A_large=A, i=1, j=2),
         {"A_small": arrays_bad(2), "A_large": arrays_bad(2), "i": ints_outside(1, 3),
          "j": ints_outside(1, 4)}),
    Case("rank_experiment", rank_experiment, lambda: dict(k=2, noise=0.1, tol=1e-6),
         {"k": ints_outside(0, 8), "noise": reals_outside(0.0, None),
          "tol": reals_outside(0.0, None), "m": ints_outside(1, None),
          "seed": st.one_of(st.floats(), st.text(max_size=2), st.integers(-9, -1))}),
    Case("svd_geometry", svd_geometry, lambda: dict(A=np.array([[2.0, 1.0], [0.5, 1.0]])),
         {"A": st.one_of(arrays_bad(2), st.just(np.eye(3))), "n_points": ints_outside(5, None)}),
    Case("lora_calculator", lora_calculator, lambda: dict(model="Llama-2-7B", r=8),
         {"model": st.one_of(junk, st.just("GPT-5")), "r": st.one_of(ints_outside(1, 256),
                                                                    st.sampled_from([3, 5, 100])),
          "targets": st.just(["W_x"])}),
    Case("lm_small_config", LM.lm_small_config, lambda: dict(seed=1),
         {"steps": ints_outside(1, None), "batch_size": ints_outside(1, None),
          "lr_lora": reals_outside(0.0, None, open_low=True), "alpha": reals_outside(0.0, None, open_low=True),
          "ranks": st.one_of(st.just(()), st.just((0,)), st.just([4]), st.just(("4",))),
          "eval_windows": no_none(ints_outside(1, None)), "seed": ints_outside(0, None),
          "device": st.one_of(st.just("gpu"), st.just(0))},
         says={"ranks": "ranks", "device": "device"}),
    Case("finetune_lm", LM.finetune_lm, lambda: dict(base=tiny_lm(), config=QUICK_LM, r=2),
         {"base": st.one_of(junk, st.just(nn.Linear(2, 2))), "config": junk,
          "r": no_none(ints_outside(1, None)), "lr_ratio": reals_outside(0.0, None, open_low=True),
          "lr": no_none(reals_outside(0.0, None, open_low=True)),
          "corpus": st.one_of(junk, st.just("wiki")),
          "alpha": no_none(reals_outside(0.0, None, open_low=True))}),
    Case("weight_updates", LM.weight_updates, lambda: dict(model=tiny_lm(), base=tiny_lm()),
         {"model": junk, "names": st.one_of(st.just(["blocks.0"]), st.just(["nope"]))}),
    Case("effective_ranks", U.effective_ranks, lambda: dict(D=A),
         {"D": arrays_bad(2), "fractions": st.one_of(st.just(()), st.just((0.0,)), st.just((1.5,)),
                                                     st.just("0.9")),
          "n_random": ints_outside(1, 1000)}),
    Case("intruder_dimensions", U.intruder_dimensions, lambda: dict(W0=A, W=A + 0.1, top=2),
         {"W0": arrays_bad(2), "W": st.one_of(arrays_bad(2), st.just(np.eye(3))),
          "top": ints_outside(1, 4), "threshold": reals_outside(0.0, 1.0, open_low=True)}),
    Case("Table", Table, lambda: dict(rows=[{"a": 1}]),
         {"rows": st.just([]), "markup": not_bool}),
]


def innermost_frame(exc: BaseException) -> Path:
    return Path(traceback.extract_tb(exc.__traceback__)[-1].filename).resolve()


def check_refusal(case: Case, arg: str, value: Any) -> None:
    kwargs = case.valid()
    kwargs[arg] = value
    TRIED[case.name] += 1
    try:
        case.call(**kwargs)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        words = (case.says or {}).get(arg, arg)
        message = str(exc)
        assert any(w in message for w in words.split("|")), \
            f"{case.name}({arg}={value!r}) raised {type(exc).__name__} not naming {words!r}: {message}"
        where = innermost_frame(exc)
        assert PACKAGE in where.parents, \
            f"{case.name}({arg}={value!r}): {type(exc).__name__} from inside {where}: {message}"
    except Exception as exc:   # anything else is an error from inside NumPy, PyTorch, PIL …
        raise AssertionError(f"{case.name}({arg}={value!r}) raised {type(exc).__name__} from "
                             f"{innermost_frame(exc)}: {exc}") from exc
    else:
        raise AssertionError(f"{case.name}({arg}={value!r}) accepted a bad value")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bad_input_is_refused_by_name(case, data):
    arg = data.draw(st.sampled_from(sorted(case.bad)), label="argument")
    value = data.draw(case.bad[arg], label=arg)
    check_refusal(case, arg, value)


def test_every_case_is_a_public_name():
    public = set(L.__all__) | set(images.__all__) | set(budget.__all__) | set(E.__all__) \
        | set(runtime.__all__) | set(competitors.__all__) | set(LM.__all__) | set(U.__all__) \
        | {"rank_experiment", "svd_geometry", "lora_calculator", "Table"}
    assert {case.name for case in CASES} <= public


# --- huge and tiny magnitudes: the right result, scaled as the mathematics says --------------------

@settings(max_examples=60, deadline=None, derandomize=True)
@given(exponent=st.integers(-300, 300))
def test_results_scale_as_the_mathematics_says(exponent):
    c = 10.0 ** exponent
    TRIED["scaling (9 functions)"] += 1
    cA, cS = c * A, c * S
    assert L.numerical_rank(cA) == L.numerical_rank(A) == 3
    assert L.approximation_error(cA, 2) == pytest.approx(c * L.approximation_error(A, 2), rel=1e-9)
    assert L.approximation_error(cA, 1, norm=2) == pytest.approx(c * L.approximation_error(A, 1, 2),
                                                                 rel=1e-9)
    assert L.energy_retained(cS, 2) == pytest.approx(L.energy_retained(S, 2), rel=1e-12)
    assert L.k_for_energy(cS, 0.9) == L.k_for_energy(S, 0.9)
    s_r = L.randomized_svd(cA, 2, seed=0)[1]
    assert np.all(np.isfinite(s_r)) and s_r == pytest.approx(c * np.linalg.svd(A)[1][:2], rel=1e-6)
    assert L.truncated_svd(cA, 2)[1] == pytest.approx(c * L.truncated_svd(A, 2)[1], rel=1e-9)
    svd = images.image_svd(c * IMAGE)
    assert svd.energy == pytest.approx(images.image_svd(IMAGE).energy, rel=1e-9)
    assert L.default_tolerance(cA) == pytest.approx(c * L.default_tolerance(A), rel=1e-9)
