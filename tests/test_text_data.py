"""Tests of lowrank_utils.text_data: the two CPython corpora, the byte tokenizer, the split and
the batches of chapter 5."""
from __future__ import annotations

import hashlib
import math

import pytest
import torch

from lowrank_utils import text_data
from lowrank_utils.text_data import (FINETUNING_MODULES, HELD_OUT_FRACTION, VOCAB_SIZE, batches,
                                     bits_per_byte, corpus_digest, decode, encode,
                                     finetuning_sources, finetuning_text, load_corpus,
                                     pretraining_text, split, unigram_entropy)

NON_ASCII = "Zürich, naïve café — 從矩陣的秩到 LoRA ✓ 🙂\n\ttab"


# --- the tokenizer ------------------------------------------------------------------------------

def test_encode_decode_round_trip_on_non_ascii_text():
    tokens = encode(NON_ASCII)
    assert tokens.dtype == torch.long and tokens.dim() == 1
    assert tokens.tolist() == list(NON_ASCII.encode("utf-8"))     # one token per UTF-8 byte
    assert tokens.numel() > len(NON_ASCII)                         # multi-byte characters
    assert int(tokens.min()) >= 0 and int(tokens.max()) < VOCAB_SIZE
    assert decode(tokens) == NON_ASCII
    assert decode(tokens.tolist()) == NON_ASCII
    assert encode("").numel() == 0 and decode(encode("")) == ""


def test_decode_replaces_a_cut_character_and_refuses_bad_tokens():
    cut = encode("台")[:2]                                          # 2 of the 3 bytes of 台
    assert decode(cut) == "\ufffd"
    with pytest.raises(ValueError, match="tokens"):
        decode([65, 256])
    with pytest.raises(ValueError, match="tokens"):
        decode([-1])
    with pytest.raises(TypeError, match="tokens"):
        decode(torch.tensor([65.0]))
    with pytest.raises(TypeError, match="text"):
        encode(b"bytes")                                           # type: ignore[arg-type]


# --- the corpora --------------------------------------------------------------------------------

def test_the_pretraining_text_is_the_pydoc_topics_in_sorted_key_order():
    from pydoc_data.topics import topics

    text = pretraining_text()
    assert text == "\n".join(topics[key] for key in sorted(topics))
    assert len(text.encode("utf-8")) > 300_000                     # ~465 kB in CPython 3.11


def test_the_finetuning_text_is_real_python_source_of_several_modules():
    sources = finetuning_sources()
    assert len(sources) >= 7 and set(sources) <= set(FINETUNING_MODULES)
    assert list(sources) == [m for m in FINETUNING_MODULES if m in sources]   # the list's order
    text = finetuning_text()
    assert len(text.encode("utf-8")) > 150_000
    for name, source in sources.items():
        assert source in text
        compile(source, name, "exec")                              # it is Python source
    assert text.count("\ndef ") + text.count("    def ") > 200
    assert text != pretraining_text()


def test_a_missing_module_is_left_out(monkeypatch):
    monkeypatch.setattr(text_data, "FINETUNING_MODULES", ("no_such_module_xyz", "textwrap"))
    sources = finetuning_sources.__wrapped__()                    # bypass the cache
    assert list(sources) == ["textwrap"]


@pytest.mark.parametrize("name", ["pydoc", "stdlib"])
def test_corpus_split_sizes_and_determinism(name):
    corpus = load_corpus(name)
    text = pretraining_text() if name == "pydoc" else finetuning_text()
    tokens = encode(text)
    assert corpus.n_bytes == tokens.numel() == len(text.encode("utf-8"))
    assert corpus.held_out.numel() == round(HELD_OUT_FRACTION * tokens.numel())
    assert torch.equal(torch.cat([corpus.train, corpus.held_out]), tokens)   # the last 10 %
    again = split(encode(text))
    assert torch.equal(again[0], corpus.train) and torch.equal(again[1], corpus.held_out)
    assert corpus.digest == hashlib.sha256(text.encode("utf-8")).hexdigest() == corpus_digest(name)


def test_split_and_load_corpus_refuse_bad_arguments():
    with pytest.raises(ValueError, match="held_out_fraction"):
        split(encode("abcdef"), 0.0)
    with pytest.raises(ValueError, match="held_out_fraction"):
        split(encode("abcdef"), 1.0)
    with pytest.raises(ValueError, match="tokens"):
        split(encode("ab"), 0.5)
    with pytest.raises(ValueError, match="name"):
        load_corpus("shakespeare")


# --- batches ------------------------------------------------------------------------------------

def test_batches_are_windows_shifted_by_one():
    tokens = torch.arange(100) % VOCAB_SIZE                         # token = its position
    x, y = batches(tokens, 5, 16, torch.Generator().manual_seed(3))
    assert x.shape == y.shape == (5, 16) and x.dtype == y.dtype == torch.long
    assert torch.equal(y, x + 1)                                   # the next token of each
    assert torch.equal(x - x[:, :1], torch.arange(16).expand(5, 16))   # consecutive windows
    assert int(y.max()) <= 99


def test_batches_repeat_with_the_generator_seed():
    tokens = load_corpus("pydoc").train
    a = batches(tokens, 4, 32, torch.Generator().manual_seed(7))
    b = batches(tokens, 4, 32, torch.Generator().manual_seed(7))
    c = batches(tokens, 4, 32, torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("kwargs, name", [({"batch_size": 0}, "batch_size"),
                                          ({"context": 0}, "context"),
                                          ({"context": 100}, "context"),
                                          ({"batch_size": -3}, "batch_size")])
def test_batches_refuse_bad_sizes(kwargs, name):
    args = {"batch_size": 2, "context": 8, **kwargs}
    with pytest.raises(ValueError, match=name):
        batches(torch.arange(100), args["batch_size"], args["context"])


# --- entropy and units --------------------------------------------------------------------------

def test_unigram_entropy_and_bits_per_byte():
    assert unigram_entropy(torch.arange(256)) == pytest.approx(math.log(256))
    assert unigram_entropy(torch.full((50,), 7)) == 0.0
    assert unigram_entropy(torch.tensor([1, 1, 2, 2])) == pytest.approx(math.log(2))
    assert bits_per_byte(math.log(2)) == pytest.approx(1.0)
    entropy = unigram_entropy(load_corpus("pydoc").train)
    assert 2.5 < entropy < math.log(256)                           # English: ~4.7 bits per byte
    with pytest.raises(ValueError, match="tokens"):
        unigram_entropy(torch.zeros(0, dtype=torch.long))


def test_unicode_names_corpus_is_one_named_code_point_per_line():
    import unicodedata

    from lowrank_utils.text_data import UNICODE_RANGE, unicode_names_text

    lines = unicode_names_text().split("\n")
    low, high = UNICODE_RANGE
    named = [cp for cp in range(low, high) if unicodedata.name(chr(cp), "")]
    assert len(lines) == len(named) > 5000
    for line in lines[::97]:                                       # every line parses back
        code, name = line.split(" ", 1)
        assert code.startswith("U+") and unicodedata.lookup(name) == chr(int(code[2:], 16))
    assert "U+00E9 LATIN SMALL LETTER E WITH ACUTE" in lines
    corpus = load_corpus("unicode")
    assert decode(torch.cat([corpus.train, corpus.held_out])) == unicode_names_text()
    assert corpus.digest == corpus_digest("unicode") != corpus_digest("stdlib")
