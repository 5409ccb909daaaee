"""Pre-train chapter 5's tiny transformer on the pydoc help texts and write its checkpoint.

    python tools/pretrain_tiny_lm.py                       # the shipped run: lowrank_utils/data/tiny_lm.pt
    python tools/pretrain_tiny_lm.py --steps 30 --batch-size 8 --out /tmp/lm.pt   # a quick check

The run is deterministic: the weights and the batches come from ``--seed``, PyTorch runs its
deterministic algorithms on a fixed number of CPU threads, so the same command on the same
machine (same Python, hence the same pydoc text, and the same torch) writes the same weights.
The checkpoint (``tiny_lm.save_tiny_lm``) holds the state dict, the config and a metadata dict:
the schedule, the initial and final losses in nats and bits per byte, the unigram entropy of the
training text, a loss curve, the corpus digest, the torch and Python versions and the date.
The default schedule took about ten minutes on two shared CPU cores.
"""
from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

import torch

from lowrank_utils.lora import count_parameters
from lowrank_utils.runtime import seed_everything
from lowrank_utils.text_data import bits_per_byte, load_corpus, unigram_entropy
from lowrank_utils.tiny_lm import (CHECKPOINT, TinyLM, TinyLMConfig, evaluate_lm, save_tiny_lm,
                                   train_lm)

CURVE_EVERY = 10            # the loss curve in the metadata: the mean of every 10 steps


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200, help="optimizer steps (default 1200)")
    parser.add_argument("--batch-size", type=int, default=64, help="windows per step (default 64)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="linear warm-up steps (default: steps // 20)")
    parser.add_argument("--weight-decay", type=float, default=0.1, help="AdamW's (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="weights and batches (default 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: fastest on two shared cores)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT,
                        help=f"checkpoint to write (default {CHECKPOINT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    warmup = args.steps // 20 if args.warmup is None else args.warmup
    torch.use_deterministic_algorithms(True)
    seed_everything(args.seed)
    corpus = load_corpus("pydoc")
    model = TinyLM(TinyLMConfig(), seed=args.seed)
    eval_windows = (corpus.held_out.numel() - 1) // model.config.context   # train sample as big
    initial = evaluate_lm(model, corpus.held_out, threads=args.threads)

    start = time.perf_counter()
    losses = train_lm(model, corpus.train, steps=args.steps, batch_size=args.batch_size,
                      lr=args.lr, warmup=warmup, weight_decay=args.weight_decay, seed=args.seed,
                      threads=args.threads)
    wall_s = time.perf_counter() - start

    train_loss = evaluate_lm(model, corpus.train, max_windows=eval_windows, threads=args.threads)
    heldout_loss = evaluate_lm(model, corpus.held_out, threads=args.threads)
    entropy = unigram_entropy(corpus.train)
    curve = [sum(losses[i:i + CURVE_EVERY]) / len(losses[i:i + CURVE_EVERY])
             for i in range(0, len(losses), CURVE_EVERY)]
    metadata: dict[str, object] = {
        "corpus": corpus.name, "corpus_sha256": corpus.digest, "corpus_bytes": corpus.n_bytes,
        "train_bytes": corpus.train.numel(), "held_out_bytes": corpus.held_out.numel(),
        "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "warmup": warmup,
        "weight_decay": args.weight_decay, "seed": args.seed, "threads": args.threads,
        "n_parameters": count_parameters(model),
        "initial_heldout_loss_nats": initial,
        "train_loss_nats": train_loss, "train_bits_per_byte": bits_per_byte(train_loss),
        "train_eval_windows": eval_windows,
        "heldout_loss_nats": heldout_loss, "heldout_bits_per_byte": bits_per_byte(heldout_loss),
        "unigram_entropy_nats": entropy, "unigram_entropy_bits_per_byte": bits_per_byte(entropy),
        "loss_curve_every": CURVE_EVERY, "loss_curve": curve,
        "wall_s": wall_s, "torch_version": str(torch.__version__),
        "python_version": platform.python_version(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = save_tiny_lm(model, args.out, metadata)
    print(f"{args.steps} steps of {args.batch_size} × {model.config.context} bytes in "
          f"{wall_s:.0f} s ({metadata['n_parameters']:,} parameters)")
    print(f"loss, nats (bits per byte): initial {initial:.4f} ({bits_per_byte(initial):.3f}), "
          f"train {train_loss:.4f} ({bits_per_byte(train_loss):.3f}), "
          f"held out {heldout_loss:.4f} ({bits_per_byte(heldout_loss):.3f}); "
          f"unigram entropy {entropy:.4f} ({bits_per_byte(entropy):.3f})")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return metadata


if __name__ == "__main__":
    main(sys.argv[1:])
