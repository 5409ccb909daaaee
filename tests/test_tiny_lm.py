"""Tests of lowrank_utils.tiny_lm: chapter 5's tiny transformer, its training loop, the shipped
pre-trained checkpoint and the script that made it (tools/pretrain_tiny_lm.py)."""
from __future__ import annotations

import copy
import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lowrank_utils.lora import apply_lora, count_parameters
from lowrank_utils.runtime import get_device
from lowrank_utils.text_data import encode, load_corpus, unigram_entropy
from lowrank_utils.tiny_lm import (CHECKPOINT, LORA_TARGETS_ALL, TinyLM, TinyLMConfig,
                                   evaluate_lm, generate, load_tiny_lm, lr_factor, save_tiny_lm,
                                   train_lm)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "pretrain_tiny_lm.py"
SMALL = TinyLMConfig(context=20, d_model=24, n_heads=3, n_layers=3, mlp_ratio=2)


@pytest.fixture(scope="module")
def pretrained() -> tuple[TinyLM, dict]:
    return load_tiny_lm("cpu")


def expected_parameters(c: TinyLMConfig) -> int:
    """The parameter count from the architecture: embeddings, blocks, final LayerNorm, head."""
    d, f = c.d_model, c.mlp_ratio * c.d_model
    layer_norm = 2 * d                                             # gain and bias
    attention = 4 * (d * d + d)                                    # q, k, v, o with biases
    mlp = (d * f + f) + (f * d + d)                                # fc1, fc2 with biases
    block = 2 * layer_norm + attention + mlp
    return c.vocab_size * d + c.context * d + c.n_layers * block + layer_norm + d * c.vocab_size


# --- the architecture ---------------------------------------------------------------------------

@pytest.mark.parametrize("config", [TinyLMConfig(), SMALL], ids=["default", "small"])
def test_parameter_count_follows_the_config(config):
    model = TinyLM(config)
    assert count_parameters(model) == expected_parameters(config)
    assert model.head.weight.data_ptr() != model.tok_emb.weight.data_ptr()   # untied head


def test_default_config_is_the_chapter_5_model():
    c = TinyLMConfig()
    assert (c.vocab_size, c.context, c.d_model, c.n_heads, c.n_layers) == (256, 128, 128, 4, 2)
    assert c.d_head * c.n_heads == c.d_model and c.d_ff == 4 * c.d_model
    names = {name for name, _ in TinyLM(c).named_modules()}
    for i in range(c.n_layers):
        assert {f"blocks.{i}.attn.{p}" for p in "qkvo"} | {f"blocks.{i}.mlp.fc1",
                                                           f"blocks.{i}.mlp.fc2"} <= names
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.d_model = 64                                             # type: ignore[misc]


def test_forward_shapes_and_the_loss_at_initialisation():
    model = TinyLM(SMALL, seed=1)
    idx = torch.randint(0, 256, (3, 20), generator=torch.Generator().manual_seed(0))
    assert model(idx).shape == (3, 20, 256)
    assert model(idx[:, :5]).shape == (3, 5, 256)
    # Small initial weights: the model starts close to uniform over the 256 bytes.
    assert model.loss(idx[:, :-1], idx[:, 1:]).item() == pytest.approx(math.log(256), abs=0.05)


def test_seeded_initialisation_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = TinyLM(SMALL, seed=5), TinyLM(SMALL, seed=5), TinyLM(SMALL, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.blocks[0].attn.q.weight, c.blocks[0].attn.q.weight)


@pytest.mark.parametrize("position", [0, 17, 63])
def test_attention_is_causal(pretrained, position):
    """Changing the token at ``position`` leaves every earlier position's logits unchanged."""
    model, _ = pretrained
    idx = encode("def f(x):\n    return x + 1  # a comment that runs on for a while, 64 b")[None, :64]
    changed = idx.clone()
    changed[0, position] = (changed[0, position] + 1) % 256
    with torch.no_grad():
        before, after = model(idx), model(changed)                 # (1, 64, 256)
    assert torch.allclose(before[:, :position], after[:, :position], atol=1e-6, rtol=0)
    assert (before[:, position:] - after[:, position:]).abs().amax() > 1e-3


@pytest.mark.parametrize("kwargs, name", [({"d_model": 130}, "d_model"),
                                          ({"d_model": 0}, "d_model"),
                                          ({"n_heads": 0}, "n_heads"),
                                          ({"n_layers": -1}, "n_layers"),
                                          ({"context": 0}, "context"),
                                          ({"vocab_size": 0}, "vocab_size"),
                                          ({"mlp_ratio": 0}, "mlp_ratio")])
def test_bad_config_raises_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TinyLMConfig(**kwargs)


def test_bad_inputs_raise_naming_the_argument():
    model = TinyLM(SMALL)
    tokens = torch.arange(200) % 256
    with pytest.raises(ValueError, match="idx"):
        model(torch.zeros(1, 21, dtype=torch.long))                # longer than the context
    with pytest.raises(ValueError, match="idx"):
        model(torch.zeros(21, dtype=torch.long))                   # not (batch, T)
    for kwargs, name in [({"steps": 0}, "steps"), ({"steps": 3, "batch_size": 0}, "batch_size"),
                         ({"steps": 3, "warmup": 3}, "warmup"), ({"steps": 3, "lr": 0.0}, "lr"),
                         ({"steps": 3, "seed": -1}, "seed")]:
        with pytest.raises(ValueError, match=name):
            train_lm(model, tokens, **kwargs)
    with pytest.raises(ValueError, match="tokens"):
        train_lm(model, tokens[:20], steps=1)
    with pytest.raises(ValueError, match="max_windows"):
        evaluate_lm(model, tokens, max_windows=0)
    with pytest.raises(ValueError, match="seed"):
        TinyLM(SMALL, seed=-1)
    with pytest.raises(TypeError, match="model"):
        evaluate_lm(torch.nn.Linear(2, 2), tokens)                 # type: ignore[arg-type]


# --- LoRA on the transformer --------------------------------------------------------------------

def test_lora_on_q_and_v_trains_only_the_adapters_and_starts_as_the_base(pretrained):
    base, _ = pretrained
    model = apply_lora(copy.deepcopy(base), ["q", "v"], r=4)
    c = model.config
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable and all(".lora_A" in n or ".lora_B" in n for n in trainable)
    assert len(trainable) == 2 * 2 * c.n_layers                    # A and B of q and v per block
    assert count_parameters(model, trainable_only=True) == c.n_layers * 2 * 4 * (2 * c.d_model)
    idx = load_corpus("pydoc").held_out[:128][None, :]              # (1, 128)
    with torch.no_grad():
        assert torch.allclose(model(idx), base(idx), atol=1e-6, rtol=0)   # B = 0 at init


def test_lora_on_every_projection_and_train_lm_moves_only_the_adapters():
    model = apply_lora(TinyLM(SMALL), list(LORA_TARGETS_ALL), r=2)
    c, r = model.config, 2
    per_block = 4 * r * (2 * c.d_model) + 2 * r * (c.d_model + c.d_ff)
    assert count_parameters(model, trainable_only=True) == c.n_layers * per_block
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    adapters = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    losses = train_lm(model, torch.arange(500) % 256, steps=3, batch_size=4, lr=1e-2)
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    params = dict(model.named_parameters())
    assert all(torch.equal(params[n], p) for n, p in frozen.items())
    assert any(not torch.equal(params[n], p) for n, p in adapters.items() if "lora_B" in n)


# --- the loop and the evaluation ----------------------------------------------------------------

def test_lr_factor_warms_up_then_decays_to_zero():
    steps, warmup = 50, 5
    factors = [lr_factor(t, steps, warmup) for t in range(steps)]
    assert factors[:warmup] == pytest.approx([(t + 1) / warmup for t in range(warmup)])
    assert factors[warmup] == 1.0
    assert all(a >= b for a, b in zip(factors[warmup:], factors[warmup + 1:]))
    assert 0 < factors[-1] < 0.01


def test_evaluate_lm_is_the_mean_loss_over_consecutive_windows():
    model = TinyLM(SMALL, seed=2)
    n = SMALL.context
    tokens = torch.randint(0, 256, (4 * n + 5,), generator=torch.Generator().manual_seed(1))
    windows = [tokens[i * n:(i + 1) * n + 1] for i in range(4)]    # 4 windows of context + 1
    with torch.no_grad():
        losses = [model.loss(w[None, :-1], w[None, 1:]).item() for w in windows]
    assert evaluate_lm(model, tokens, batch_size=3) == pytest.approx(sum(losses) / 4, rel=1e-6)
    # max_windows=2 of 4: windows 0 and 2 (window i · 4 // 2)
    assert evaluate_lm(model, tokens, max_windows=2) == pytest.approx((losses[0] + losses[2]) / 2,
                                                                      rel=1e-6)


def test_generate_is_seeded_and_continues_the_prompt(pretrained):
    model, _ = pretrained
    a = generate(model, "The ", 40, seed=3)
    assert a.startswith("The ") and len(a) > len("The ")
    assert a == generate(model, "The ", 40, seed=3)
    assert generate(model, "The ", 0) == "The "
    with pytest.raises(ValueError, match="temperature"):
        generate(model, "The ", 5, temperature=0.0)


def test_save_and_load_round_trip(tmp_path):
    model = TinyLM(SMALL, seed=4)
    path = save_tiny_lm(model, tmp_path / "m.pt", {"steps": 0, "note": "untrained"})
    loaded, metadata = load_tiny_lm("cpu", path)
    assert metadata == {"steps": 0, "note": "untrained"} and loaded.config == SMALL
    assert not loaded.training
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(),
                                                  loaded.state_dict().values()))
    with pytest.raises(TypeError, match="metadata"):
        save_tiny_lm(model, tmp_path / "bad.pt", {"tensor": torch.zeros(1)})
    with pytest.raises(FileNotFoundError):
        load_tiny_lm("cpu", tmp_path / "missing.pt")


# --- the shipped checkpoint ---------------------------------------------------------------------

def test_the_checkpoint_ships_with_the_package():
    assert CHECKPOINT.is_file() and CHECKPOINT.stat().st_size <= 5_000_000
    assert '"data/*.pt"' in (ROOT / "pyproject.toml").read_text()  # package data


def test_the_checkpoint_loads_in_eval_mode_with_its_metadata(pretrained):
    model, metadata = pretrained
    assert not model.training and model.config == TinyLMConfig()
    assert metadata["n_parameters"] == count_parameters(model) == expected_parameters(model.config)
    assert metadata["heldout_bits_per_byte"] == pytest.approx(
        metadata["heldout_loss_nats"] / math.log(2))
    assert len(metadata["loss_curve"]) == math.ceil(metadata["steps"] / metadata["loss_curve_every"])
    default, _ = load_tiny_lm()
    assert next(default.parameters()).device.type == get_device().type


def test_the_pretrained_model_beats_the_unigram_baseline(pretrained):
    model, metadata = pretrained
    corpus = load_corpus("pydoc")
    held_out = evaluate_lm(model, corpus.held_out)
    entropy = unigram_entropy(corpus.train)
    assert held_out < 0.75 * entropy < 0.75 * metadata["initial_heldout_loss_nats"]
    assert metadata["heldout_loss_nats"] < 0.75 * metadata["unigram_entropy_nats"]


def test_the_heldout_loss_matches_the_metadata(pretrained):
    model, metadata = pretrained
    corpus = load_corpus("pydoc")
    if corpus.digest != metadata["corpus_sha256"]:
        pytest.skip(f"this Python's pydoc text differs from the one the model was trained on "
                    f"(Python {metadata['python_version']})")
    assert evaluate_lm(model, corpus.held_out) == pytest.approx(metadata["heldout_loss_nats"],
                                                                abs=1e-4)
    train = evaluate_lm(model, corpus.train, max_windows=metadata["train_eval_windows"])
    assert train == pytest.approx(metadata["train_loss_nats"], abs=1e-4)


# --- the pre-training script --------------------------------------------------------------------

def run_script(out: Path) -> dict:
    subprocess.run([sys.executable, str(SCRIPT), "--steps", "30", "--batch-size", "8",
                    "--out", str(out)], check=True, cwd=ROOT, capture_output=True, timeout=120)
    return torch.load(out, map_location="cpu", weights_only=True)


def test_the_script_is_deterministic_and_learns(tmp_path):
    first, second = run_script(tmp_path / "a.pt"), run_script(tmp_path / "b.pt")
    for key in ("initial_heldout_loss_nats", "train_loss_nats", "heldout_loss_nats", "loss_curve"):
        assert first["metadata"][key] == second["metadata"][key], key
    assert first["state_dict"].keys() == second["state_dict"].keys()
    assert all(torch.equal(t, second["state_dict"][k]) for k, t in first["state_dict"].items())
    meta = first["metadata"]
    assert meta["steps"] == 30 and meta["batch_size"] == 8
    assert meta["initial_heldout_loss_nats"] == pytest.approx(math.log(256), abs=0.05)
    assert meta["heldout_loss_nats"] < meta["initial_heldout_loss_nats"] - 1.0
    assert meta["heldout_loss_nats"] < math.log(256)
