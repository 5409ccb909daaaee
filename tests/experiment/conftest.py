"""The tiny chapter 5 experiment shared by the tests of ``lowrank_utils.experiment``.

One run (32-wide layers, r* = 2, a few hundred steps: a few seconds) for the whole session.
"""
from __future__ import annotations

import copy

import pytest

from lowrank_utils import experiment as T


def tiny_config(**changes) -> T.TrainingConfig:
    settings = dict(name="tiny", d_in=32, d_hidden=32, n_classes=32, true_rank=2, n_train=4096,
                    n_eval=1024, pretrain_steps=200, finetune_steps=300, eval_every=100,
                    ranks=(1, 2, 4), device="cpu")
    settings.update(changes)
    return T.small_config(**settings)


@pytest.fixture(scope="session")
def ex():
    """Pre-train, plant ΔW*, fine-tune fully and with LoRA at r = 1 < r*, r = 2 = r*, r = 4."""
    config = tiny_config()
    tasks = T.make_tasks(config)
    base = T.build_model(config)
    pre = T.pretrain(base, tasks.task_a, config)
    snapshot = copy.deepcopy(base.state_dict())
    task_b, delta_star = T.make_task_b(tasks, base)
    full = T.finetune_full(base, task_b, config)
    lora = {r: T.finetune_lora(base, task_b, config, r) for r in config.ranks}
    return dict(config=config, tasks=tasks, base=base, pre=pre, snapshot=snapshot, task_b=task_b,
                delta_star=delta_star, full=full, lora=lora)
