"""Small models shared by the tests of lowrank_utils.lora and lowrank_utils.adapters."""
from __future__ import annotations

import torch
from torch import nn

from lowrank_utils.lora import lora_layers

# Tolerances for "merged output = unmerged output": the two orders of summation differ by a few
# units in the last place of the outputs (entries of size ~1 here).
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-12, atol=1e-12)}


class Block(nn.Module):
    """An attention-like block with non-square projections, a norm and an MLP."""

    def __init__(self, d: int = 12, d_kv: int = 8, d_ff: int = 20):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.attn = nn.ModuleDict({"q": nn.Linear(d, d_kv), "k": nn.Linear(d, d_kv),
                                   "v": nn.Linear(d, d_kv), "o": nn.Linear(d_kv, d)})
        self.mlp = nn.Sequential(nn.Linear(d, d_ff), nn.GELU(), nn.Linear(d_ff, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        a = self.attn["q"](h) * torch.tanh(self.attn["k"](h)) + self.attn["v"](h)  # (..., d_kv)
        x = x + self.attn["o"](a)
        return x + self.mlp(h)


class Toy(nn.Module):
    def __init__(self, n_blocks: int = 2, d: int = 12):
        super().__init__()
        self.embed = nn.Linear(5, d)
        self.blocks = nn.ModuleList([Block(d) for _ in range(n_blocks)])
        self.head = nn.Linear(d, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.head(h)


def toy(dtype: torch.dtype = torch.float32, seed: int = 0) -> Toy:
    torch.manual_seed(seed)
    return Toy().to(dtype)


def randomise_B(model: nn.Module, seed: int = 1) -> None:
    """Give every lora_B non-zero entries so that the adapters do something."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, layer in lora_layers(model):
            B = torch.randn(layer.lora_B.shape, generator=gen, dtype=torch.float64)
            layer.lora_B.copy_(0.3 * B)


def linear(in_features: int = 7, out_features: int = 5, dtype=torch.float64, seed: int = 0):
    torch.manual_seed(seed)
    return nn.Linear(in_features, out_features).to(dtype)
