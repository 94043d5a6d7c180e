"""Checkpoints of a fit in progress: what the training loop needs to go on exactly where it stopped.

A checkpoint is a folder holding ``state.pt`` (module and optimiser state, the shuffling
generator, early stopping, history, the epoch reached; written by process 0) and one
``rng_<rank>.pt`` per process (the torch random state that drew that process's dropout masks).
Every file is written to a temporary name and renamed, so a kill at any moment leaves the
previous checkpoint whole. Files hold tensors, numbers and strings only and are read with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import InputError

STATE_FILE = "state.pt"


class Checkpoint:
    """The checkpoint folder of one fit; ``fingerprint`` names the settings that wrote it (a
    resumed fit with other settings is refused)."""

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder, self.fingerprint = Path(folder), fingerprint

    def exists(self) -> bool:
        return (self.folder / STATE_FILE).is_file()

    def save(self, state: dict[str, Any], rank: int = 0) -> None:
        """Write this process's random state and, on process 0, ``state`` (atomically)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write(f"rng_{rank}.pt", {"torch": torch.get_rng_state()})
        if rank == 0:
            self._write(STATE_FILE, {**state, "fingerprint": self.fingerprint})

    def load(self, rank: int = 0) -> dict[str, Any] | None:
        """The saved state, with this process's random state restored; None without a checkpoint."""
        if not self.exists():
            return None
        try:
            state = torch.load(self.folder / STATE_FILE, weights_only=True)
            rng = torch.load(self.folder / f"rng_{rank}.pt", weights_only=True)
        except Exception as error:  # a damaged file of any kind: one line, never a traceback
            msg = f"the checkpoint in {self.folder} cannot be read ({type(error).__name__}); remove the folder to start over"
            raise InputError(msg) from error
        if state.get("fingerprint") != self.fingerprint:
            msg = f"the checkpoint in {self.folder} was written with other settings; rerun with the same config, or remove it to start over"
            raise InputError(msg)
        torch.set_rng_state(rng["torch"])
        return state

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write(self, name: str, payload: dict[str, Any]) -> None:
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(handle)
        torch.save(payload, temporary)
        os.replace(temporary, self.folder / name)
