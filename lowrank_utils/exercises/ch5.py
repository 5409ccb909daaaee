"""Exercises of chapter 5, "Training LoRA on a GPU / 在 GPU 上訓練 LoRA".

The chapter's own run is the data: a checker receives what it needs (the configuration, the
planted update, the fine-tuning runs of the tiny language model) and computes the right answer itself, so the
exercises stay right on the small CPU preset and on the full GPU preset alike.
No torch is needed here: shapes come from the configuration's fields.
"""
from __future__ import annotations

import math

from typing import Any, Mapping

import numpy as np

from ..budget import mlp_shapes
from ..linalg import approximation_error
from .core import AnswerError, Feedback, checker, read_integer, read_matrix, read_number

__all__ = [
    "RANK_PARAMETERS", "RANK_MEMORY", "RANK_FLOOR", "GAIN_RANK", "ALPHA_LARGE",
    "LORA_PLUS_RATIO", "RSLORA_RANK",
    "layer_shapes", "check_lora_parameters", "check_memory_bytes", "check_rank_floor",
    "check_gain_share", "check_alpha_first_step", "check_lora_plus_first_step",
    "check_rslora_factor",
]

#: Exercise 1: a rank the chapter did not train, so the count must be predicted.
RANK_PARAMETERS = 12
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


# --- the tiny language model (part 2 of the chapter) ---------------------------------------------

#: Exercise 2: the rank the sweep skipped; the learner trains it.
GAIN_RANK = 32
#: Exercise 3: the α of the second run (the sweep's is the configuration's ``alpha``).
ALPHA_LARGE = 32.0
#: Exercise 4: LoRA+'s ratio λ = learning rate of B / learning rate of A (Hayou et al. 2024: 2⁴).
LORA_PLUS_RATIO = 16.0
#: Exercise 5: the large rank at which α/r and rsLoRA's α/√r are compared.
RSLORA_RANK = 64

_CLOSE = 0.005          # absolute tolerance on a fraction read from printed numbers


def _run_fields(run: Any, name: str) -> tuple[int | None, tuple[str, ...], float]:
    """(r, targets, new_loss) of an ``lm_experiment.LMRun``, or an AnswerError naming ``name``."""
    try:
        r, targets, loss = run.r, tuple(run.targets), float(run.new_loss)
    except (AttributeError, TypeError, ValueError):
        raise AnswerError(f"Pass {name} as the result of finetune_lm(...) (an LMRun).",
                          f"{name} 請傳入 finetune_lm(...) 的結果（一個 LMRun）。") from None
    if not math.isfinite(loss):
        raise AnswerError(f"{name}.new_loss is not a finite number.",
                          f"{name}.new_loss 不是有限的數字。")
    return r, targets, loss


@checker
def check_gain_share(answer: Any, run: Any, full: Any, base_loss: Any) -> Feedback:
    """Exercise 2: (base − LoRA) / (base − full), the share of full fine-tuning's gain on the new
    text that LoRA on q, v at r = GAIN_RANK recovers (losses held out, nats per byte)."""
    share = read_number(answer, "a fraction", "一個比例")
    r, targets, loss = _run_fields(run, "run")
    _, _, full_loss = _run_fields(full, "full")
    base = read_number(base_loss, "the pre-trained model's loss", "預訓練模型的損失")
    if r != GAIN_RANK or set(targets) != {"q", "v"}:
        return Feedback(False, f"run must be LoRA on q and v at r = {GAIN_RANK}: "
                               "finetune_lm(base, lm_config, r=ch5.GAIN_RANK).",
                        f"run 必須是在 q 與 v 上、r = {GAIN_RANK} 的 LoRA："
                        "finetune_lm(base, lm_config, r=ch5.GAIN_RANK)。")
    if not base > full_loss:
        raise AnswerError("full must end below the pre-trained loss base_loss.",
                          "full 的損失必須低於預訓練模型的損失 base_loss。")
    expected = (base - loss) / (base - full_loss)
    if abs(share - expected) <= _CLOSE:
        return Feedback(True, f"Right: ({base:.3f} − {loss:.3f}) / ({base:.3f} − {full_loss:.3f}) "
                              f"= {expected:.3f} of full fine-tuning's gain, with "
                              f"{r} · (in + out) parameters per adapted matrix.",
                        f"正確：({base:.3f} − {loss:.3f}) / ({base:.3f} − {full_loss:.3f}) = "
                        f"{expected:.3f}，也就是完整微調所得進步的這個比例，每個被調整的矩陣只用 "
                        f"{r} · (in + out) 個參數。")
    if abs(share - 100 * expected) <= 100 * _CLOSE:
        return Feedback(False, "Give it as a fraction (0.5), not a percentage (50).",
                        "請以比例（0.5）作答，不要用百分比（50）。")
    if abs(share - (1 - expected)) <= _CLOSE:
        return Feedback(False, "That is the share LoRA misses; the question asks for the share "
                               "it recovers.",
                        "這是 LoRA 沒做到的比例；題目問的是它做到的比例。")
    if abs(share - full_loss / loss) <= _CLOSE or abs(share - loss / full_loss) <= _CLOSE:
        return Feedback(False, "That compares the losses themselves. Compare the gains: how far "
                               "each run came down from the pre-trained loss base_loss.",
                        "這是直接比較損失本身。請比較「進步量」：每次執行從預訓練損失 base_loss 降了多少。")
    return Feedback(False, "Gain of a run = base_loss − its new_loss. Divide LoRA's gain by full "
                           "fine-tuning's.",
                    "一次執行的進步量 = base_loss − 它的 new_loss。把 LoRA 的進步量除以完整微調的進步量。")


def _first_step_feedback(value: float, expected: float, right_en: str, right_zh: str,
                         one_en: str, one_zh: str) -> Feedback:
    if abs(value - expected) <= 1e-3 * expected:
        return Feedback(True, right_en, right_zh)
    if abs(value - 1.0) <= 1e-3:
        return Feedback(False, one_en, one_zh)
    if abs(value - math.sqrt(expected)) <= 1e-3 * math.sqrt(expected) \
            or abs(value - expected ** 2) <= 1e-3 * expected ** 2:
        return Feedback(False, "AdamW's first step moves each entry by lr · g/|g| (about ± lr): "
                               "the size of the gradient cancels, only its sign is left.",
                        "AdamW 的第一步讓每個元素移動 lr · g/|g|（大約 ± lr）：梯度的大小被約掉，只剩下正負號。")
    if abs(value - 1 / expected) <= 1e-3 / expected:
        return Feedback(False, "That is the inverse ratio: the question divides the new run by the "
                               "old one.",
                        "這是倒數；題目是把新的執行除以原來的執行。")
    return Feedback(False, "On step one B = 0, so A gets no gradient; B moves by lr · g/|g| "
                           "(AdamW's first step); ΔW = (α/r) B A.",
                    "第一步時 B = 0，所以 A 沒有梯度；B 移動 lr · g/|g|（AdamW 的第一步）；ΔW = (α/r) B A。")


@checker
def check_alpha_first_step(answer: Any, alpha: Any, alpha_large: Any = ALPHA_LARGE) -> Feedback:
    """Exercise 3: ‖ΔW‖ after one AdamW step with α = ``alpha_large``, over the same with
    α = ``alpha`` (same r and learning rate; B starts at 0): α_large / α."""
    value = read_number(answer, "a ratio", "一個比值")
    a = read_number(alpha, "alpha", "alpha")
    big = read_number(alpha_large, "alpha_large", "alpha_large")
    if a <= 0 or big <= 0:
        raise AnswerError("alpha and alpha_large must be positive.", "alpha 與 alpha_large 必須是正數。")
    expected = big / a
    return _first_step_feedback(
        value, expected,
        f"Right: B's first step is the same (± lr, whatever the gradient's size), so ΔW = (α/r) B A "
        f"grows with α: {big:g} / {a:g} = {expected:g}. With Adam, α acts like a learning rate (of B).",
        f"正確：B 的第一步不變（不論梯度大小都是 ± lr），所以 ΔW = (α/r) B A 隨 α 等比例變大："
        f"{big:g} / {a:g} = {expected:g}。搭配 Adam 時，α 的作用就像（B 的）學習率。",
        "B's first step is indeed the same, but ΔW is (α/r) B A: the scale multiplies it.",
        "B 的第一步確實一樣，但 ΔW 是 (α/r) B A：縮放係數會乘在上面。")


@checker
def check_lora_plus_first_step(answer: Any, ratio: Any = LORA_PLUS_RATIO) -> Feedback:
    """Exercise 4: ‖ΔW‖ after one AdamW step with lr_B = λ · lr_A (LoRA+), over plain LoRA: λ."""
    value = read_number(answer, "a ratio", "一個比值")
    lam = read_number(ratio, "ratio", "ratio")
    if lam <= 0:
        raise AnswerError("ratio must be positive.", "ratio 必須是正數。")
    return _first_step_feedback(
        value, lam,
        f"Right: on step one only B moves (A has no gradient while B = 0), by ± λ·lr instead of "
        f"± lr, so ΔW = (α/r) B A is λ = {lam:g} times larger.",
        f"正確：第一步只有 B 會動（B = 0 時 A 沒有梯度），移動量從 ± lr 變成 ± λ·lr，所以 "
        f"ΔW = (α/r) B A 變成 λ = {lam:g} 倍。",
        "A does not move on step one, but B does, with λ times the learning rate.",
        "第一步 A 不會動，但 B 會動，而且學習率是 λ 倍。")


@checker
def check_rslora_factor(answer: Any, r: Any = RSLORA_RANK) -> Feedback:
    """Exercise 5: rsLoRA's scale α/√r over LoRA's α/r at rank r (same α): √r."""
    value = read_number(answer, "a factor", "一個倍數")
    rank = read_integer(r, "r", "r")
    if rank < 1:
        raise AnswerError("r must be a positive integer.", "r 必須是正整數。")
    expected = math.sqrt(rank)
    if abs(value - expected) <= 1e-3 * expected:
        return Feedback(True, f"Right: (α/√r) / (α/r) = √r = {expected:g}: at r = {rank} rsLoRA "
                              f"scales the update {expected:g} times more than α/r does.",
                        f"正確：(α/√r) / (α/r) = √r = {expected:g}：在 r = {rank} 時，rsLoRA 對更新量"
                        f"的縮放是 α/r 的 {expected:g} 倍。")
    if abs(value - 1 / expected) <= 1e-3 / expected:
        return Feedback(False, "That is the inverse: α/√r is the larger of the two for r > 1.",
                        "這是倒數：r > 1 時，α/√r 比較大。")
    if abs(value - rank) <= 1e-3 * rank or abs(value - 1 / rank) <= 1e-3 / rank:
        return Feedback(False, "Divide α/√r by α/r: α cancels, and r / √r is left.",
                        "把 α/√r 除以 α/r：α 約掉，剩下 r / √r。")
    return Feedback(False, "Write both scales with the same α and divide them.",
                    "用同一個 α 寫出兩個縮放係數，再相除。")
