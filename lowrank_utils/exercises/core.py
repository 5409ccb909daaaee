"""Self-checking exercises: answers in, friendly bilingual feedback out, never a traceback.

A checker is a function decorated with ``@checker``. It reads the learner's answer (any
reasonable type: int, float, NumPy scalar, a string such as "4,096" or "1e3", a list for a
matrix), computes the right answer itself from the exercise's data, and returns ``Feedback``.
Whatever the learner passes, a malformed answer becomes feedback, not an exception.
"""
from __future__ import annotations

import functools
import html
import numbers
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Feedback", "checker", "read_number", "read_integer", "read_matrix", "close_enough"]


NO_ANSWER_EN = "No answer yet: replace None with your answer and run the cell again."
NO_ANSWER_ZH = "還沒有作答：請把 None 換成你的答案，再執行一次這個儲存格。"


@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker, in English and Traditional Chinese.

    Truthy when the answer is right, so a solution cell can ``assert check(...)``.
    """

    correct: bool
    en: str
    zh: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        mark = "✔" if self.correct else "✘"
        return f"{mark} {self.en}\n{mark} {self.zh}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        cls = "ok" if self.correct else "retry"
        mark = "✔" if self.correct else "✘"
        colour = "#1b8a5a" if self.correct else "#b9770e"
        style = f"border-left:4px solid {colour};padding:4px 10px;margin:4px 0"
        return (
            f'<div class="exercise-feedback {cls}" style="{style}">'
            f'<div class="lang-en">{mark} {html.escape(self.en)}</div>'
            f'<div class="lang-zh">{mark} {html.escape(self.zh)}</div></div>'
        )


class AnswerError(ValueError):
    """A learner's answer that cannot be read; carries a message in both languages."""

    def __init__(self, en: str, zh: str):
        super().__init__(en)
        self.en, self.zh = en, zh


def checker(func: Callable[..., Feedback]) -> Callable[..., Feedback]:
    """Wrap a checker so that any unreadable answer becomes ``Feedback(False, ...)``."""

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Feedback:
        try:
            return func(*args, **kwargs)
        except AnswerError as exc:
            return Feedback(False, exc.en, exc.zh)
        except TypeError as exc:
            text = _safe_str(exc)
            return Feedback(
                False,
                f"The checker was called in a way it does not expect ({text}). "
                f"See the exercise text for what to pass.",
                f"檢查函式的呼叫方式不符合預期（{text}）。請參考題目說明要傳入什麼。",
            )
        except Exception as exc:  # a checker must never show a traceback to a learner
            text = _safe_str(exc)
            return Feedback(
                False,
                f"Your answer could not be checked: {type(exc).__name__}: {text}",
                f"無法檢查你的答案：{type(exc).__name__}: {text}",
            )

    return wrapped


def _safe_str(obj: object) -> str:
    """str(obj), or a stand-in when obj's own __str__ fails (feedback must never raise)."""
    try:
        return str(obj)
    except Exception:
        return f"<{type(obj).__name__} that cannot be printed>"


def _safe_repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<{type(obj).__name__}>"


# Thousands separators only: "4,096" and "1,234,567.5", not "1,5" (a decimal comma?).
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _as_plain(value: Any) -> Any:
    """A PyTorch tensor or NumPy array of one element as its Python number (no torch import)."""
    if hasattr(value, "detach") and hasattr(value, "numel") and hasattr(value, "item"):
        return value.detach().cpu().item() if value.numel() == 1 else value
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(()).item()
    return value


def read_number(answer: Any, what: str = "a number", what_zh: str = "一個數字") -> float:
    """Read a real number from an int, float, NumPy scalar, 0-d array or a string like '4,096'.

    ``what`` / ``what_zh`` describe the expected answer in the feedback, in each language.
    """
    if answer is None:
        raise AnswerError(NO_ANSWER_EN, NO_ANSWER_ZH)
    value = _as_plain(answer)
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(" ", "")
        if "," in text:
            if not _THOUSANDS.match(text):
                raise AnswerError(
                    f"Cannot read {answer!r}: a comma may only separate thousands (4,096); "
                    "write decimals with a point (1.5).",
                    f"無法讀取 {answer!r}：逗號只能用來分隔千位（4,096）；小數請用小數點（1.5）。")
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            raise AnswerError(
                f"Expected {what}, got the text {answer!r}.",
                f"這裡需要{what_zh}，但收到的是文字 {answer!r}。",
            ) from None
    if isinstance(value, complex) or np.iscomplexobj(value):
        raise AnswerError(f"Expected a real number, got the complex number {_safe_repr(answer)}.",
                          f"需要實數，但收到複數 {_safe_repr(answer)}。")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        shown = _safe_repr(answer)
        raise AnswerError(
            f"Expected {what}, got {type(answer).__name__} {shown}.",
            f"這裡需要{what_zh}，但收到的是 {type(answer).__name__} {shown}。",
        )
    value = float(value)
    if not np.isfinite(value):
        raise AnswerError(f"Expected a finite number, got {answer!r}.",
                          f"需要有限的數字，但收到 {answer!r}。")
    return value


def read_integer(answer: Any, what: str = "a whole number", what_zh: str = "一個整數") -> int:
    """Read an integer; 3.0 is accepted as 3, 2.5 is refused with feedback."""
    value = read_number(answer, what, what_zh)
    if not value.is_integer():
        raise AnswerError(f"Expected {what} (an integer), got {answer!r}.",
                          f"這裡需要{what_zh}（整數），但收到 {answer!r}。")
    return int(value)


def read_matrix(answer: Any, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a real matrix from an array or nested lists; check its shape if one is given."""
    if answer is None:
        raise AnswerError(NO_ANSWER_EN, NO_ANSWER_ZH)
    if hasattr(answer, "detach") and hasattr(answer, "numpy"):            # a PyTorch tensor
        answer = answer.detach().cpu().numpy()
    try:
        complex_entries = np.iscomplexobj(np.asarray(answer))
    except (TypeError, ValueError):
        complex_entries = False          # ragged lists and the like: the reader below says so
    if complex_entries:
        raise AnswerError(f"{name} must be real, got complex entries.",
                          f"{name} 必須是實數矩陣，但含有複數。")
    try:
        M = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        raise AnswerError(
            f"{name} must be a matrix of numbers (a NumPy array or a list of rows).",
            f"{name} 必須是由數字組成的矩陣（NumPy 陣列或由列組成的串列）。",
        ) from None
    if M.ndim != 2:
        raise AnswerError(f"{name} must be 2-D, got shape {M.shape}.",
                          f"{name} 必須是二維矩陣，但形狀是 {M.shape}。")
    if shape is not None and M.shape != tuple(shape):
        raise AnswerError(f"{name} should have shape {tuple(shape)}, got {M.shape}.",
                          f"{name} 的形狀應為 {tuple(shape)}，但收到 {M.shape}。")
    if not np.all(np.isfinite(M)):
        raise AnswerError(f"{name} contains NaN or inf.", f"{name} 含有 NaN 或 inf。")
    return M


def close_enough(value: float, expected: float, rel: float = 1e-6, abs_: float = 1e-9) -> bool:
    """True when value matches expected within a relative or absolute tolerance."""
    return bool(abs(value - expected) <= max(abs_, rel * abs(expected)))
