"""Multi-GPU / multi-node training through ``torchrun`` + DistributedDataParallel.

A process started by ``torchrun`` (or ``ganstudio train ... --gpus N``, which starts torchrun for you) finds
``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` in its environment; :func:`init` then joins the process group (``nccl`` on CUDA,
``gloo`` on CPU, so two CPU processes can test the whole path) and picks ``cuda:LOCAL_RANK``. Rank 0 alone writes the
run folder; every rank reads the same checkpoint on resume. Each rank draws different examples (the data stream is
split by rank), gradients are averaged by DDP, logged losses are averaged over ranks at log steps only.

:func:`torchrun_command` builds the launcher command line for ``--gpus N`` (multi-node: run ``torchrun`` yourself
with ``--nnodes``/``--rdzv-endpoint`` and the same ``ganstudio train`` arguments).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def init(device_pref: str = "auto") -> DistInfo:
    """Join the process group when launched by torchrun with more than one process; else a single-process info."""
    world = env_world()
    if world <= 1:
        return DistInfo()
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_pref not in ("cpu",)
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(rank, world, local, backend)


def device_for(info: DistInfo, device: torch.device) -> torch.device:
    if info.enabled and device.type == "cuda":
        return torch.device("cuda", info.local_rank)
    return device


def wrap(module: torch.nn.Module, info: DistInfo, device: torch.device) -> torch.nn.Module:
    if not info.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index if device.index is not None else info.local_rank] if device.type == "cuda" else None
    return DDP(module, device_ids=ids, broadcast_buffers=True)


def mean_over_ranks(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    if info.enabled:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= info.world
    return t


def gather_floats(values: Sequence[float], info: DistInfo, device: torch.device) -> List[List[float]]:
    """Every rank's list of floats (float64), on every rank."""
    t = torch.tensor(list(values), dtype=torch.float64, device=device)
    if not info.enabled:
        return [t.tolist()]
    out = [torch.zeros_like(t) for _ in range(info.world)]
    dist.all_gather(out, t)
    return [o.tolist() for o in out]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def torchrun_command(nproc: int, module_args: Sequence[str], *, port: Optional[int] = None) -> List[str]:
    """``python -m torch.distributed.run --standalone --nproc_per_node N -m app <args>``."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(int(nproc))]
    if port:
        cmd += ["--master_port", str(port), "--master_addr", "127.0.0.1"]
    else:
        cmd += ["--standalone"]
    return cmd + ["-m", "app"] + list(module_args)
