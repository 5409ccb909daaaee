"""Chapter 5's text: three corpora that ship with every CPython, a byte tokenizer, batches.

- **Pre-training** (``pretraining_text``): the English help texts of ``pydoc_data.topics``
  (what ``help("if")`` prints), joined in sorted key order: prose about Python.
- **Fine-tuning** (``finetuning_text``): the source code of ``FINETUNING_MODULES``, pure-Python
  modules of the standard library: a different distribution (code, not prose). A module whose
  source this interpreter lacks is left out; ``finetuning_sources`` says which were read.
- **A second fine-tuning task** (``unicode_names_text``): one line per named character of
  ``UNICODE_RANGE``, ``U+00E9 LATIN SMALL LETTER E WITH ACUTE``, from the ``unicodedata`` module
  (built into CPython): hexadecimal counting and capitalised names, unlike both texts above.
  Chapter 5 trains a second adapter on it and switches the two on one frozen model.

Tokens are the bytes of the UTF-8 encoding (vocabulary 256): no training, nothing unknown, and
lossless (``decode(encode(s)) == s``). A loss in nats per token is then a loss per byte, and
``bits_per_byte`` is that loss divided by ln 2. Each corpus is split once: its last
``HELD_OUT_FRACTION`` is held out (``split``).

Licence: the first two texts are part of CPython (© Python Software Foundation, PSF License Agreement).
They are read from the interpreter that runs the book, on the reader's own machine, and are
neither copied into this repository nor redistributed. The third is generated from the
Unicode Character Database that CPython's ``unicodedata`` carries (© Unicode, Inc., Unicode
License v3), also on the reader's machine. The texts differ a little between Python
versions, so ``corpus_digest`` names the exact text a measurement used.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
from dataclasses import dataclass

import torch

from ._validate import check_positive_int, check_real

__all__ = [
    "VOCAB_SIZE",
    "HELD_OUT_FRACTION",
    "FINETUNING_MODULES",
    "CORPORA",
    "Corpus",
    "pretraining_text",
    "finetuning_sources",
    "finetuning_text",
    "UNICODE_RANGE",
    "unicode_names_text",
    "encode",
    "decode",
    "split",
    "load_corpus",
    "corpus_digest",
    "check_tokens",
    "batches",
    "unigram_entropy",
    "bits_per_byte",
]

VOCAB_SIZE = 256                # one token per byte value
HELD_OUT_FRACTION = 0.1         # the last 10 % of each corpus
# Pure-Python standard-library modules present in CPython 3.10-3.13 (no C accelerator needed
# to read their source). Their order is the order of the fine-tuning text.
FINETUNING_MODULES = ("textwrap", "string", "fractions", "heapq", "bisect", "calendar",
                      "colorsys", "difflib", "shlex", "statistics")
UNICODE_RANGE = (0x20, 0x3000)  # code points of unicode_names_text: Latin … CJK symbols
CORPORA = ("pydoc", "stdlib", "unicode")   # pre-training, fine-tuning, a second task


@functools.lru_cache(maxsize=1)
def pretraining_text() -> str:
    """The pydoc help topics (``pydoc_data.topics.topics``), values joined in sorted key order.

    About 465 kB of English prose on Python; chapter 5 pre-trains the tiny model on it.
    """
    from pydoc_data.topics import topics

    return "\n".join(topics[key] for key in sorted(topics))


@functools.lru_cache(maxsize=1)
def finetuning_sources() -> dict[str, str]:
    """Module name -> source text, for each module of ``FINETUNING_MODULES`` found here.

    The source is read through the import system's loader (``get_source``) without importing
    the module; a module that is missing or ships without source is skipped.
    """
    sources: dict[str, str] = {}
    for name in FINETUNING_MODULES:
        try:
            spec = importlib.util.find_spec(name)
            source = spec.loader.get_source(name) if spec and spec.loader else None  # type: ignore[union-attr]
        except (ImportError, AttributeError, OSError):
            source = None
        if source:
            sources[name] = source
    return sources


def finetuning_text() -> str:
    """The sources of ``finetuning_sources()`` joined in list order (chapter 5's fine-tuning task)."""
    return "\n\n".join(finetuning_sources().values())


@functools.lru_cache(maxsize=1)
def unicode_names_text() -> str:
    """``U+XXXX NAME`` for every named code point of ``UNICODE_RANGE``, one per line.

    About 380 kB (with the Unicode 14 database of Python 3.11); chapter 5's second task, for the
    adapter switched with the source-code one.
    """
    import unicodedata

    lines = (f"U+{cp:04X} {name}" for cp in range(*UNICODE_RANGE)
             if (name := unicodedata.name(chr(cp), "")))
    return "\n".join(lines)


def encode(text: str) -> torch.Tensor:
    """``text`` as its UTF-8 bytes, a 1-D int64 tensor of values 0-255 (one token per byte)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    data = bytearray(text.encode("utf-8"))
    if not data:
        return torch.zeros(0, dtype=torch.long)
    return torch.frombuffer(data, dtype=torch.uint8).long()            # (n,)


def decode(tokens: torch.Tensor | list[int]) -> str:
    """The text whose UTF-8 bytes are ``tokens``; bytes that are not valid UTF-8 become '�'.

    (A sampled byte sequence may cut a character in half; text from ``encode`` comes back exactly.)
    """
    values = torch.as_tensor(tokens).reshape(-1)                 # (n,)
    if values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool:
        raise TypeError(f"tokens must be integers, got dtype {values.dtype}")
    if values.numel() and (int(values.min()) < 0 or int(values.max()) >= VOCAB_SIZE):
        raise ValueError(f"tokens must lie in 0..{VOCAB_SIZE - 1}")
    return bytes(values.to(torch.uint8).tolist()).decode("utf-8", errors="replace")


def split(tokens: torch.Tensor, held_out_fraction: float = HELD_OUT_FRACTION
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, held_out): the first and the last ``held_out_fraction`` of a 1-D token tensor."""
    fraction = check_real(held_out_fraction, "held_out_fraction", low=0.0, high=1.0,
                          low_open=True, high_open=True)
    n = tokens.numel()
    n_held = max(1, round(n * fraction))
    if n - n_held < 2:
        raise ValueError(f"tokens must hold enough tokens to split, got {n}")
    return tokens[:n - n_held], tokens[n - n_held:]


@dataclass(frozen=True)
class Corpus:
    """A corpus as tokens: the train and held-out parts, and the digest of its text."""

    name: str
    train: torch.Tensor             # (n_train,) int64 bytes
    held_out: torch.Tensor          # (n_held_out,) int64 bytes
    digest: str                     # sha256 of the UTF-8 text

    @property
    def n_bytes(self) -> int:
        """Bytes in the whole corpus (train + held out)."""
        return self.train.numel() + self.held_out.numel()


def _text(name: str) -> str:
    if name not in CORPORA:
        raise ValueError(f"name must be one of {CORPORA}, got {name!r}")
    return {"pydoc": pretraining_text, "stdlib": finetuning_text,
            "unicode": unicode_names_text}[name]()


def corpus_digest(name: str) -> str:
    """sha256 (hex) of the UTF-8 text of corpus ``name``: which Python's text a result used."""
    return hashlib.sha256(_text(name).encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=len(CORPORA))
def load_corpus(name: str) -> Corpus:
    """Corpus ``"pydoc"`` (pre-training), ``"stdlib"`` (fine-tuning) or ``"unicode"`` (the
    second task), tokenized and split.

    Cached: the tensors are shared, so treat them as read-only. Used throughout chapter 5.
    """
    train, held_out = split(encode(_text(name)))
    return Corpus(name, train, held_out, corpus_digest(name))


def check_tokens(tokens: object, context: int) -> torch.Tensor:
    """``tokens`` if it is a 1-D tensor of more than ``context`` tokens (one window and its
    next token), else a TypeError or ValueError naming ``tokens``."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 1:
        raise TypeError("tokens must be a 1-D torch tensor (from encode or load_corpus)")
    if tokens.numel() < context + 1:
        raise ValueError(f"tokens must hold more than context = {context} tokens, "
                         f"got {tokens.numel()}")
    return tokens


def batches(tokens: torch.Tensor, batch_size: int, context: int,
            generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One random batch (x, y) of windows of ``tokens``; y is x shifted by one token.

    ``x[b, t] = tokens[s_b + t]`` and ``y[b, t] = tokens[s_b + t + 1]`` for start positions s_b
    drawn uniformly from ``generator`` (the global torch RNG if None). Both are (batch_size,
    context) int64 tensors. The training loop of chapter 5 calls it once per step.
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    context = check_positive_int(context, "context")
    tokens = check_tokens(tokens, context)
    starts = torch.randint(0, tokens.numel() - context, (batch_size,), generator=generator,
                           device=tokens.device)                        # (batch_size,)
    offsets = starts[:, None] + torch.arange(context, device=tokens.device)  # (batch_size, context)
    return tokens[offsets], tokens[offsets + 1]                         # 2 × (batch_size, context)


def unigram_entropy(tokens: torch.Tensor) -> float:
    """Entropy in nats of the byte frequencies of ``tokens``: the loss of the best model that
    ignores context (a byte-frequency table). Chapter 5's baseline for a learned model."""
    if not isinstance(tokens, torch.Tensor) or tokens.numel() == 0:
        raise ValueError("tokens must be a non-empty torch tensor")
    counts = torch.bincount(tokens.reshape(-1), minlength=VOCAB_SIZE).double()   # (256,)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def bits_per_byte(loss_nats: float) -> float:
    """A loss in nats per byte-token as bits per byte (divided by ln 2)."""
    return check_real(loss_nats, "loss_nats") / math.log(2)
