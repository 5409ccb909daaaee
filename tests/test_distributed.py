"""lowrank_utils.distributed: two gloo processes on the CPU end where one process on the full batch
ends, for DDP and FSDP2, and DDP all-reduces only the trainable gradients."""
from __future__ import annotations

import pytest
import torch

from lowrank_utils import distributed
from lowrank_utils.experiment import small_config

STEPS = 40


@pytest.fixture(scope="module")
def local_runs() -> dict[str, distributed.DistributedResult]:
    return {method: distributed.run_local(method=method, steps=STEPS, dtype="float64")
            for method in ("lora", "full")}


def _max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.mark.parametrize("strategy, method", [("ddp", "lora"), ("fsdp", "lora"), ("ddp", "full")])
def test_two_processes_equal_one_process_on_the_full_batch(tmp_path, local_runs, strategy, method):
    run = distributed.launch(tmp_path, strategy=strategy, method=method, steps=STEPS, nproc=2,
                             dtype="float64")                 # raises on a failed or aborted rank
    local = local_runs[method]
    assert run.world_size == 2 and len(run.weights) == 2 and run.trainable == local.trainable
    assert _max_difference(run.weights[0], run.weights[1]) == 0.0      # identical on both ranks
    assert _max_difference(run.weights[0], local.weights[0]) < 1e-6    # = one process, full batch
    config = small_config(pretrain_steps=distributed.PRETRAIN_STEPS)
    start = distributed.prepare_model(distributed.build_problem(config, "float64")[0], config, method, 4)
    moved = {n: p for n, p in start.named_parameters() if p.requires_grad}
    assert _max_difference(run.weights[0], {n: p.detach() for n, p in moved.items()}) > 1e-3   # it trained
    assert run.grad_bytes_per_step == run.trainable * 8               # float64 gradients, trainable only


def test_lora_sends_a_fraction_of_full_fine_tuning(local_runs):
    lora, full = local_runs["lora"], local_runs["full"]
    model = distributed.build_problem(small_config(pretrain_steps=10), "float64")[0]
    assert full.trainable == sum(p.numel() for p in model.parameters())
    assert lora.trainable < full.trainable / 5                         # what DDP all-reduces


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="strategy"):
        distributed.launch(tmp_path, strategy="zero")
    with pytest.raises(ValueError, match="dtype"):
        distributed.build_problem(small_config(), "float16")
    base, task = distributed.build_problem(small_config(batch_size=10, pretrain_steps=10))
    with pytest.raises(ValueError, match="method"):
        distributed.prepare_model(base, small_config(), "prefix", 4)
    model = distributed.prepare_model(base, small_config(), "lora", 4)
    with pytest.raises(ValueError, match="world_size"):
        distributed.finetune_shard(model, task, small_config(batch_size=10), steps=2, lr=1e-3,
                                   rank=0, world_size=3)
