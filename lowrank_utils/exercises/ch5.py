"""Exercises of chapter 5, "Training LoRA on a GPU / 在 GPU 上訓練 LoRA".

The chapter's own run is the data: a checker receives what it needs (the configuration, the
losses of the LoRA runs, the planted update) and computes the right answer itself, so the
exercises stay right on the small CPU preset and on the full GPU preset alike.
No torch is needed here: shapes come from the configuration's fields.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Mapping

import numpy as np

from ..budget import mlp_shapes
from ..linalg import approximation_error
from .core import AnswerError, Feedback, checker, read_integer, read_matrix, read_number

__all__ = [
    "RANK_PARAMETERS", "RANK_MEMORY", "RANK_FLOOR", "TARGET_FACTOR",
    "layer_shapes", "check_lora_parameters", "check_smallest_rank", "check_memory_bytes",
    "check_rank_floor",
]

#: Exercise 1: a rank the chapter did not train, so the count must be predicted.
RANK_PARAMETERS = 12
#: Exercise 2: the target loss is TARGET_FACTOR times the pre-trained model's loss on task B
#: (the rank that removes 99 % of it). Relative to full fine-tuning the answer would depend on
#: the step budget (full fine-tuning also fits the noise N given enough steps).
TARGET_FACTOR = 0.01
#: Exercise 3: the LoRA rank whose training memory (CPU accounting) is asked for.
RANK_MEMORY = 4
#: Exercise 4: the rank whose Eckart–Young floor is asked for.
RANK_FLOOR = 2

FLOAT32_BYTES = 4
ADAM_SLOTS = 2


def _config_fields(config: Any) -> tuple[int, int, int, tuple[str, ...]]:
    """(d_in, d_hidden, n_classes, target_modules) from a TrainingConfig-like object."""
    try:
        d_in, d_hidden = int(config.d_in), int(config.d_hidden)
        n_classes, targets = int(config.n_classes), tuple(config.target_modules)
    except (AttributeError, TypeError, ValueError):
        raise AnswerError(
            "Pass the chapter's configuration as the second argument: check(answer, config).",
            "第二個引數請傳入本章的設定：check(answer, config)。") from None
    return d_in, d_hidden, n_classes, targets


def layer_shapes(config: Any) -> dict[str, tuple[int, int]]:
    """(out, in) of every linear layer of the chapter's MLP: fc1, fc2, head (``budget.mlp_shapes``)."""
    d_in, d_hidden, n_classes, _ = _config_fields(config)
    try:
        return mlp_shapes(d_in, d_hidden, n_classes)
    except (TypeError, ValueError):
        raise AnswerError("The configuration's sizes must be positive integers.",
                          "設定中的各個維度必須是正整數。") from None


def _lora_count(config: Any, r: int) -> int:
    shapes = layer_shapes(config)
    return sum(r * (shapes[name][0] + shapes[name][1]) for name in _config_fields(config)[3])


def _all_parameters(config: Any) -> int:
    return sum(out * inp + out for out, inp in layer_shapes(config).values())   # weights + biases


@checker
def check_lora_parameters(answer: Any, config: Any) -> Feedback:
    """Exercise 1: trainable parameters of LoRA at r = RANK_PARAMETERS on the chapter's model."""
    n = read_integer(answer, "a number of parameters", "參數的個數")
    r = RANK_PARAMETERS
    shapes = layer_shapes(config)
    targets = _config_fields(config)[3]
    expected = _lora_count(config, r)
    parts = " + ".join(f"{r}·({shapes[t][1]} + {shapes[t][0]})" for t in targets)
    if n == expected:
        return Feedback(True, f"Right: {parts} = {expected:,}. Only B and A train; W₀, the biases "
                              "and the head stay frozen.",
                        f"正確：{parts} = {expected:,}。只有 B 和 A 會訓練；W₀、偏差項（bias）與輸出層都凍結。")
    if n == sum(r * shapes[t][0] * shapes[t][1] for t in targets):
        return Feedback(False, "r·out·in is r full matrices. B is out×r and A is r×in: add "
                               "their sizes.",
                        "r·out·in 等於 r 個完整矩陣。B 是 out×r、A 是 r×in：把兩者的大小相加。")
    if any(n == r * (shapes[t][0] + shapes[t][1]) for t in targets) and len(targets) > 1:
        return Feedback(False, f"That is one adapted layer. LoRA adapts {len(targets)} layers: "
                               f"{', '.join(targets)}.",
                        f"這只是一層。LoRA 調整了 {len(targets)} 層：{', '.join(targets)}。")
    if n in (expected + _all_parameters(config), _all_parameters(config)):
        return Feedback(False, "That counts the frozen weights too. Count only B and A.",
                        "這把凍結的權重也算進去了。只要數 B 和 A。")
    return Feedback(False, f"Per adapted layer LoRA trains r·(in + out) numbers, with r = {r}. "
                           "Add them over the adapted layers.",
                    f"每個被調整的層，LoRA 訓練 r·(in + out) 個數字，這裡 r = {r}。把各層加起來。")


def _read_losses(lora_losses: Any) -> dict[int, float]:
    if not isinstance(lora_losses, Mapping) or not lora_losses:
        raise AnswerError("Pass the LoRA losses as a dict {rank: final loss} (see the exercise).",
                          "LoRA 的損失請以字典 {秩: 最終損失} 傳入（見題目）。")
    out = {}
    for r, loss in lora_losses.items():
        if isinstance(r, bool) or not isinstance(r, (numbers.Integral, np.integer)) \
                or isinstance(loss, bool) or not isinstance(loss, (numbers.Real, np.floating)) \
                or not math.isfinite(loss):
            raise AnswerError("The dict of losses must map integer ranks to finite numbers.",
                              "損失字典必須把整數的秩對應到有限的數字。")
        out[int(r)] = float(loss)
    return out


@checker
def check_smallest_rank(answer: Any, lora_losses: Any, base_loss: Any) -> Feedback:
    """Exercise 2: the smallest trained rank whose loss is <= TARGET_FACTOR × the pre-trained
    model's loss on task B (``base_loss``).

    The answer is 0 when no trained rank reaches the target.
    """
    r = read_integer(answer, "a rank", "一個秩")
    losses = _read_losses(lora_losses)
    full = read_number(base_loss, "the pre-trained model's loss", "預訓練模型的損失")
    target = TARGET_FACTOR * full
    good = sorted(k for k, loss in losses.items() if loss <= target)
    expected = good[0] if good else 0
    if r == expected:
        if expected == 0:
            return Feedback(True, f"Right: no trained rank reaches {target:.3g}.",
                            f"正確：沒有任何訓練過的秩達到 {target:.3g}。")
        return Feedback(True, f"Right: r = {expected} is the first rank with loss "
                              f"{losses[expected]:.3g} <= {target:.3g}.",
                        f"正確：r = {expected} 是第一個損失 {losses[expected]:.3g} <= {target:.3g} 的秩。")
    if r in good:
        return Feedback(False, f"r = {r} reaches the target, but a smaller trained rank does too.",
                        f"r = {r} 確實達標，但還有更小的秩也達標。")
    if r in losses:
        return Feedback(False, f"r = {r} ends at loss {losses[r]:.3g}, above the target "
                               f"{target:.3g} = {TARGET_FACTOR:g} × {full:.3g}.",
                        f"r = {r} 的最終損失是 {losses[r]:.3g}，高於目標 {target:.3g} = "
                        f"{TARGET_FACTOR:g} × {full:.3g}。")
    return Feedback(False, f"Choose among the trained ranks {sorted(losses)} (or 0 if none "
                           "reaches the target).",
                    f"請從訓練過的秩 {sorted(losses)} 中選擇（若都未達標則填 0）。")


@checker
def check_memory_bytes(answer: Any, config: Any) -> Feedback:
    """Exercise 3: bytes of weights + gradients + Adam state for LoRA at r = RANK_MEMORY."""
    n = read_integer(answer, "a number of bytes", "位元組數")
    P = _all_parameters(config)
    T = _lora_count(config, RANK_MEMORY)
    b = FLOAT32_BYTES
    expected = b * (P + T) + b * T + ADAM_SLOTS * b * T
    if n == expected:
        return Feedback(True, f"Right: weights 4·({P:,} + {T:,}) + gradients 4·{T:,} + Adam "
                              f"8·{T:,} = {expected:,} bytes.",
                        f"正確：權重 4·({P:,} + {T:,}) + 梯度 4·{T:,} + Adam 8·{T:,} = {expected:,} 位元組。")
    if n == expected - b * T:
        return Feedback(False, "Close: 4 bytes per trainable parameter are missing. B and A are "
                               "weights too, and each of them also has a gradient.",
                        "很接近：每個可訓練參數少算了 4 個位元組。B 和 A 本身也是權重，而且各自還有梯度。")
    if n == b * (P + T) + b * T:
        return Feedback(False, "Add Adam's state: two float32 per trainable parameter.",
                        "還要加上 Adam 的狀態：每個可訓練參數兩個 float32。")
    if n == 4 * b * (P + T) or n == 4 * b * P:
        return Feedback(False, "Gradients and Adam's state exist only for trainable parameters "
                               "(B and A), not for the frozen W₀.",
                        "只有可訓練的參數（B 和 A）才有梯度與 Adam 狀態，凍結的 W₀ 沒有。")
    if n in (P + T + T + ADAM_SLOTS * T, expected // b):
        return Feedback(False, "That counts numbers; each float32 takes 4 bytes.",
                        "這是數字的個數；每個 float32 占 4 個位元組。")
    return Feedback(False, "Count: 4 bytes per weight (all of them), plus 4 per gradient and 8 "
                           "for Adam's two moments, per trainable parameter.",
                    "計算方式：每個權重（全部）4 個位元組，另外每個可訓練參數再加梯度 4 個、Adam 的兩個動差 8 個。")


@checker
def check_rank_floor(answer: Any, D_star: Any) -> Feedback:
    """Exercise 4: min over rank-RANK_FLOOR matrices M of ‖M − ΔW*‖_F / ‖ΔW*‖_F (Eckart–Young)."""
    value = read_number(answer, "a relative error", "一個相對誤差")
    D = read_matrix(D_star, "D_star")
    k = RANK_FLOOR
    if k > min(D.shape):
        raise AnswerError(f"D_star must have at least {k} rows and columns.",
                          f"D_star 至少要有 {k} 列與 {k} 行。")
    s = np.linalg.svd(D, compute_uv=False)
    norm = float(np.sqrt(np.sum(s ** 2)))
    expected = approximation_error(D, k, "fro") / norm          # sqrt(Σ_{i>k} σ_i²) / ‖D‖_F
    if abs(value - expected) <= 1e-3 * expected:
        return Feedback(True, f"Right: sqrt(Σ_(i>{k}) σ_i²) / ‖ΔW*‖_F = {expected:.4g}. "
                              f"No rank-{k} adapter, however well trained, can get closer.",
                        f"正確：sqrt(Σ_(i>{k}) σ_i²) / ‖ΔW*‖_F = {expected:.4g}。任何秩 {k} 的適配器，"
                        "不論訓練得多好，都不可能更接近。")
    if abs(value - expected * norm) <= 1e-3 * expected * norm:
        return Feedback(False, "That is the absolute error. Divide by ‖ΔW*‖_F.",
                        "這是絕對誤差，還要除以 ‖ΔW*‖_F。")
    if abs(value - expected ** 2) <= 1e-3 * expected ** 2:
        return Feedback(False, "That is the squared ratio (the energy left out): take the "
                               "square root.",
                        "這是比值的平方（捨棄的能量比例），還要開根號。")
    if abs(value - s[k] / norm) <= 1e-3 * s[k] / norm:
        return Feedback(False, f"That is σ_{k + 1}/‖ΔW*‖_F: the spectral-norm error σ_{k + 1}, "
                               "relative. The error in the Frobenius norm adds every σ_i² with "
                               "i > k (then take the square root).",
                        f"這是 σ_{k + 1}/‖ΔW*‖_F，也就是譜範數下的誤差 σ_{k + 1} 的相對值。"
                        "Frobenius 範數下的誤差要把所有 i > k 的 σ_i² 加起來（再開根號）。")
    return Feedback(False, "Use Eckart–Young (chapter 3): the best rank-k error is "
                           "sqrt(Σ_(i>k) σ_i²); divide it by ‖ΔW*‖_F.",
                    "使用 Eckart–Young 定理（第 3 章）：最佳秩 k 近似的誤差是 sqrt(Σ_(i>k) σ_i²)，再除以 ‖ΔW*‖_F。")
