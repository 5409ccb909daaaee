"""Chapter 5's pre-trained model: a tiny decoder-only transformer over bytes, and its training.

The architecture is GPT-2's in miniature (pre-LayerNorm blocks, learned position embeddings,
GELU MLP), ``TinyLMConfig``'s defaults: 2 blocks, 4 heads, d_model 128, context 128 bytes,
vocabulary 256 (``text_data``'s byte tokens), 478,720 parameters. Every matrix is a plain
``nn.Linear`` with its own name, so ``lora.apply_lora`` reaches each one::

    tok_emb, pos_emb                 token and position embeddings (vocab × d, context × d)
    blocks.i.ln1, blocks.i.attn.{q, k, v, o}      causal self-attention (d × d each, with bias)
    blocks.i.ln2, blocks.i.mlp.{fc1, fc2}         MLP d -> 4d -> GELU -> d
    ln_f, head                       final LayerNorm, output head (d -> vocab, no bias)

The head is **untied** from ``tok_emb`` (32,768 more parameters): each matrix has one role, so a
fine-tuning run's change to it means one thing. "LoRA on the attention" is
``apply_lora(model, ["q", "v"], r)``; on every projection, ``LORA_TARGETS_ALL``.

``train_lm`` is the one training loop for these models (AdamW, linear warm-up then cosine decay
to zero, gradients clipped at norm 1): ``tools/pretrain_tiny_lm.py`` pre-trains with it on the
pydoc corpus and ships the checkpoint ``data/tiny_lm.pt``, which ``load_tiny_lm`` loads.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_int, check_positive_int, check_positive_number, check_real
from .experiment.loop import cosine_factor
from .runtime import cpu_threads, resolve_device
from .text_data import VOCAB_SIZE, batches, check_tokens, decode, encode

__all__ = [
    "TinyLMConfig",
    "TinyLM",
    "LORA_TARGETS_ALL",
    "CHECKPOINT",
    "lr_factor",
    "train_lm",
    "evaluate_lm",
    "generate",
    "save_tiny_lm",
    "load_tiny_lm",
]

LORA_TARGETS_ALL = ("q", "k", "v", "o", "fc1", "fc2")   # every projection of every block
CHECKPOINT = Path(__file__).resolve().parent / "data" / "tiny_lm.pt"


@dataclass(frozen=True)
class TinyLMConfig:
    """The sizes of a ``TinyLM``; the defaults are the model chapter 5 fine-tunes."""

    vocab_size: int = VOCAB_SIZE
    context: int = 128          # the longest input, in tokens (bytes)
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 2
    mlp_ratio: int = 4          # fc1 maps d_model to mlp_ratio · d_model

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            check_positive_int(getattr(self, field.name), field.name)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be divisible by n_heads = {self.n_heads}, "
                             f"got d_model={self.d_model}")

    @property
    def d_head(self) -> int:
        """Width of one attention head, d_model / n_heads."""
        return self.d_model // self.n_heads

    @property
    def d_ff(self) -> int:
        """Width of the MLP's hidden layer, mlp_ratio · d_model."""
        return self.mlp_ratio * self.d_model


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with four ``nn.Linear`` projections q, k, v, o."""

    def __init__(self, config: TinyLMConfig):
        super().__init__()
        d = config.d_model
        self.n_heads = config.n_heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape                                              # (B, T, d)
        h = self.n_heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(B, T, h, d // h).transpose(1, 2)            # (B, h, T, d_head)

        y = F.scaled_dot_product_attention(heads(self.q(x)), heads(self.k(x)), heads(self.v(x)),
                                           is_causal=True)             # (B, h, T, d_head)
        return self.o(y.transpose(1, 2).reshape(B, T, d))              # (B, T, d)


class MLP(nn.Module):
    """fc1 (d -> 4d), GELU, fc2 (4d -> d)."""

    def __init__(self, config: TinyLMConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.d_model, config.d_ff)
        self.fc2 = nn.Linear(config.d_ff, config.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))                           # (B, T, d)


class Block(nn.Module):
    """A pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(·))."""

    def __init__(self, config: TinyLMConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))                                 # (B, T, d)
        return x + self.mlp(self.ln2(x))                               # (B, T, d)


class TinyLM(nn.Module):
    """The tiny byte-level language model: ``forward(idx)`` gives next-byte logits.

    Weights are drawn from a generator seeded by ``seed`` (GPT-2's initialisation: normal with
    standard deviation 0.02, residual outputs ``o`` and ``fc2`` scaled by 1/sqrt(2 · n_layers),
    zero biases); the global torch RNG is left as it was. Chapter 5 loads the pre-trained one
    with ``load_tiny_lm``.
    """

    def __init__(self, config: TinyLMConfig | None = None, seed: int = 0):
        super().__init__()
        config = TinyLMConfig() if config is None else config
        if not isinstance(config, TinyLMConfig):
            raise TypeError(f"config must be a TinyLMConfig, got {type(config).__name__}")
        seed = check_int(seed, "seed", low=0)
        self.config = config
        with torch.random.fork_rng(devices=[]):      # the layers' own init draws are discarded
            self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
            self.pos_emb = nn.Embedding(config.context, config.d_model)
            self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
            self.ln_f = nn.LayerNorm(config.d_model)
            self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self._init_weights(torch.Generator().manual_seed(seed))

    @torch.no_grad()
    def _init_weights(self, generator: torch.Generator) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layers)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith((".o", ".fc2")) else 0.02
                module.weight.normal_(0.0, std, generator=generator)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab_size) of the next token after each position of ``idx`` (B, T)."""
        if idx.dim() != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (batch, T) int64 tensor, got shape "
                             f"{tuple(idx.shape)} and dtype {idx.dtype}")
        T = idx.shape[1]
        if not 1 <= T <= self.config.context:
            raise ValueError(f"idx must hold 1 to context = {self.config.context} tokens per "
                             f"row, got T={T}")
        positions = torch.arange(T, device=idx.device)                 # (T,)
        x = self.tok_emb(idx) + self.pos_emb(positions)                # (B, T, d)
        for block in self.blocks:
            x = block(x)                                               # (B, T, d)
        return self.head(self.ln_f(x))                                 # (B, T, vocab)

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy (nats per token) of ``targets`` (B, T) given ``idx`` (B, T)."""
        logits = self(idx)                                             # (B, T, vocab)
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),  # (B·T, vocab)
                               targets.reshape(-1))                    # (B·T,)


def _check_model(model: object) -> TinyLM:
    if not isinstance(model, TinyLM):
        raise TypeError(f"model must be a TinyLM, got {type(model).__name__}")
    return model


def lr_factor(step: int, steps: int, warmup: int) -> float:
    """The learning rate of ``step`` as a share of the peak: (step + 1) / warmup during the
    warm-up, then ``cosine_factor`` from 1 down to 0 over the remaining steps."""
    if step < warmup:
        return (step + 1) / warmup
    return cosine_factor(step - warmup, steps - warmup)


def train_lm(model: TinyLM, tokens: torch.Tensor, *, steps: int, batch_size: int = 32,
             lr: float = 3e-3, warmup: int = 0, weight_decay: float = 0.1, seed: int = 0,
             threads: int | None = 1, lr_ratio: float = 1.0) -> list[float]:
    """AdamW on the trainable parameters of ``model`` for ``steps`` random batches of ``tokens``.

    The learning rate follows ``lr_factor`` (warm-up, then cosine to zero); weight decay applies
    to matrices (parameters with two or more dimensions), not to biases or LayerNorm gains;
    gradients are clipped at norm 1. ``lr_ratio`` multiplies the learning rate of every LoRA
    ``lora_B`` (LoRA+, Hayou et al. 2024: B learns λ times faster than A; 1 is plain LoRA).
    Batches come from a generator seeded by ``seed``, and
    ``threads`` as in ``runtime.cpu_threads`` (CPU only), so a run is repeatable. Returns the
    minibatch loss (nats) of each step. Pre-training (``tools/pretrain_tiny_lm.py``) and
    chapter 5's fine-tuning (full or LoRA) use it.
    """
    model = _check_model(model)
    context = model.config.context
    tokens = check_tokens(tokens, context)
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_number(lr, "lr")
    warmup = check_int(warmup, "warmup", low=0, high=steps - 1)
    weight_decay = check_real(weight_decay, "weight_decay", low=0.0)
    seed = check_int(seed, "seed", low=0)
    lr_ratio = check_positive_number(lr_ratio, "lr_ratio")
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    if not params:
        raise ValueError("model has no trainable parameters")
    is_B = [name.endswith("lora_B") for name, _ in named]
    if lr_ratio != 1.0 and not any(is_B):
        raise ValueError(f"lr_ratio={lr_ratio} scales the learning rate of LoRA's B matrices, "
                         "but model has no trainable lora_B")
    groups = [{"params": [p for p, b in zip(params, is_B) if p.dim() >= 2 and not b],
               "weight_decay": weight_decay, "base_lr": lr},
              {"params": [p for p, b in zip(params, is_B) if b],
               "weight_decay": weight_decay, "base_lr": lr * lr_ratio},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, "base_lr": lr}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=(0.9, 0.95))
    generator = torch.Generator(device=tokens.device).manual_seed(seed)
    losses: list[float] = []
    model.train()
    with cpu_threads(threads if tokens.device.type == "cpu" else None):
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = group["base_lr"] * lr_factor(step, steps, warmup)
            x, y = batches(tokens, batch_size, context, generator)    # 2 × (batch, context)
            loss = model.loss(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def evaluate_lm(model: TinyLM, tokens: torch.Tensor, *, max_windows: int | None = None,
                batch_size: int = 64, threads: int | None = 1) -> float:
    """Mean cross-entropy (nats per byte) of ``model`` on ``tokens``, with no randomness.

    ``tokens`` is cut into consecutive windows of ``context + 1`` tokens overlapping by one, so
    every token after the first of each window is predicted once from up to ``context`` tokens
    before it. ``max_windows = m`` keeps m evenly spaced windows of the N
    there are (windows i · N // m for i < m); None keeps all.
    Chapter 5 reports held-out losses with it; ``bits_per_byte`` converts them.
    """
    model = _check_model(model)
    context = model.config.context
    tokens = check_tokens(tokens, context)
    total = (tokens.numel() - 1) // context                            # windows available
    n = total if max_windows is None else min(total, check_positive_int(max_windows,
                                                                        "max_windows"))
    batch_size = check_positive_int(batch_size, "batch_size")
    starts = (torch.arange(n) * total // n) * context                  # (n,) evenly spaced
    offsets = (starts[:, None] + torch.arange(context)).to(tokens.device)   # (n, context)
    was_training = model.training
    model.eval()
    loss_sum = 0.0
    with cpu_threads(threads if tokens.device.type == "cpu" else None):
        for i in range(0, n, batch_size):
            rows = offsets[i:i + batch_size]                           # (b, context)
            loss_sum += float(model.loss(tokens[rows], tokens[rows + 1])) * len(rows)
    model.train(was_training)
    return loss_sum / n


@torch.no_grad()
def generate(model: TinyLM, prompt: str, max_new_bytes: int = 200, *, temperature: float = 1.0,
             seed: int = 0) -> str:
    """``prompt`` continued by ``max_new_bytes`` bytes sampled from ``model`` (seeded).

    ``temperature`` divides the logits (small: close to the most likely byte). The text is
    decoded with '�' for bytes that do not form UTF-8. Chapter 5 shows samples before and
    after fine-tuning.
    """
    model = _check_model(model)
    max_new_bytes = check_int(max_new_bytes, "max_new_bytes", low=0)
    temperature = check_positive_number(temperature, "temperature")
    seed = check_int(seed, "seed", low=0)
    device = next(model.parameters()).device
    idx = encode(prompt).to(device)[None, :]                           # (1, T)
    if idx.shape[1] == 0:
        raise ValueError("prompt must not be empty")
    generator = torch.Generator(device=device).manual_seed(seed)
    was_training = model.training
    model.eval()
    for _ in range(max_new_bytes):
        logits = model(idx[:, -model.config.context:])[:, -1, :]       # (1, vocab)
        probs = torch.softmax(logits.float() / temperature, dim=-1)    # (1, vocab)
        idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
    model.train(was_training)
    return decode(idx[0].cpu())


def save_tiny_lm(model: TinyLM, path: str | Path, metadata: Mapping[str, Any]) -> Path:
    """Write ``model``'s state dict, its config and ``metadata`` to ``path``.

    ``metadata`` must hold what JSON can (numbers, strings, lists, dicts), so that
    ``load_tiny_lm`` reads it back with ``torch.load(weights_only=True)``.
    """
    model = _check_model(model)
    try:
        metadata = json.loads(json.dumps(dict(metadata)))   # plain types (str, not TorchVersion)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata must hold only JSON values: {exc}") from None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    torch.save({"state_dict": state, "config": dataclasses.asdict(model.config),
                "metadata": metadata}, path)
    return path


def load_tiny_lm(device: str | torch.device | None = None, path: str | Path | None = None
                 ) -> tuple[TinyLM, dict[str, Any]]:
    """(model, metadata): the pre-trained model chapter 5 fine-tunes, in ``eval()`` mode.

    ``device``: None (``runtime.get_device``), a name ("cpu", "cuda", "mps") or a torch.device.
    ``path``: a checkpoint written by ``save_tiny_lm``; None is the one the package ships. The
    metadata holds the training schedule and the final train and held-out losses.
    """
    if not isinstance(device, torch.device):
        device = resolve_device(device)
    path = CHECKPOINT if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; run tools/pretrain_tiny_lm.py")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = TinyLM(TinyLMConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), dict(checkpoint["metadata"])
