"""Multi-process training with torch.distributed, launched by ``torchrun``.

``torchrun --nproc-per-node N -m deepgami fit CONFIG --out DIR`` starts N processes and sets
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in their environment;
:func:`init_from_environment` joins them into one process group (gloo on CPU, nccl on GPU).
Every process loads the same data and seed; training shares each batch between them
(see :func:`deepgami.training.train_module`) and only process 0 writes output.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


def launched_by_torchrun() -> bool:
    """Whether the environment names more than one process (torchrun, SLURM via torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_environment(device: str = "cpu") -> None:
    """Join the process group described by torchrun's environment variables.

    ``device`` picks the backend: nccl for CUDA (each process then uses GPU ``LOCAL_RANK``),
    gloo otherwise. Does nothing when the group is already initialised.
    """
    if dist.is_initialized():
        return
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    backend, timeout = "nccl" if cuda else "gloo", timedelta(minutes=30)
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        # torchrun's store outlives a restarted worker group (--max-restarts); the keys of the
        # failed attempt would make the new group connect to dead processes, so every attempt
        # gets its own namespace in it.
        agent = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False, timeout=timeout)
        store = dist.PrefixStore(f"deepgami_attempt_{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}", agent)
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        dist.init_process_group(backend=backend, store=store, rank=rank, world_size=world, timeout=timeout)
    else:
        dist.init_process_group(backend=backend, timeout=timeout)
    log.info("process %d of %d joined the %s process group", dist.get_rank(), dist.get_world_size(), dist.get_backend())


def local_device(device: str) -> str:
    """``cuda`` becomes this process's GPU (``cuda:LOCAL_RANK``) in a process group."""
    if device == "cuda" and dist.is_initialized():
        return f"cuda:{os.environ.get('LOCAL_RANK', '0')}"
    return device


def process_rank() -> int:
    """The rank of this process, 0 outside a process group."""
    return dist.get_rank() if dist.is_initialized() else 0


def process_count() -> int:
    """Processes in the group, 1 outside a process group."""
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main_process() -> bool:
    """Whether this process writes output (rank 0, or no process group)."""
    return process_rank() == 0


def barrier() -> None:
    """Wait for every process of the group (no-op outside one)."""
    if dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    """Leave the process group, if any."""
    if dist.is_initialized():
        dist.destroy_process_group()
