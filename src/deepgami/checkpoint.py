"""Checkpoints of a job in progress, so an interrupted one goes on exactly where it stopped.

For a fit, the folder holds ``state.pt`` (module and optimiser state, the shuffling generator,
early stopping, history, the epoch reached, and process 0's torch random state; written by
process 0) and, for every other process, ``rng_<rank>_<epoch>.pt`` (the torch random state that
drew its dropout masks), keyed by epoch so a state and a random state always belong together. For a
cross-validation, it holds one ``part_<name>.pt`` per finished (split, method).
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

from .distributed import barrier
from .errors import InputError

STATE_FILE = "state.pt"


class Checkpoint:
    """The checkpoint folder of one fit; ``fingerprint`` names the settings that wrote it (a
    resumed fit with other settings is refused)."""

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder, self.fingerprint = Path(folder), fingerprint

    def exists(self) -> bool:
        return (self.folder / STATE_FILE).is_file() or any(self.folder.glob("part_*.pt"))

    def save(self, state: dict[str, Any], rank: int = 0) -> None:
        """Write ``state`` after epoch ``len(state["history"])`` with this process's random state
        (process 0: both in one file; others: their random state, keyed by that epoch)."""
        epoch, rng = len(state["history"]), torch.get_rng_state()
        if rank != 0:
            self._write(f"rng_{rank}_{epoch}.pt", {"torch": rng})
            for old in self.folder.glob(f"rng_{rank}_*.pt"):  # keep this epoch's and the one before
                if int(old.stem.rsplit("_", 1)[1]) < epoch - 1:
                    old.unlink(missing_ok=True)
        barrier()  # the state of an epoch is written only once every process's random state is
        if rank == 0:
            self._write(STATE_FILE, {**state, "torch_rng": rng, "fingerprint": self.fingerprint})

    def load(self, rank: int = 0) -> dict[str, Any] | None:
        """The saved state, with this process's random state restored; None without a checkpoint."""
        if not (self.folder / STATE_FILE).is_file():
            return None
        state = self._read(STATE_FILE)
        rng = state["torch_rng"] if rank == 0 else self._read(f"rng_{rank}_{len(state['history'])}.pt", check=False)["torch"]
        torch.set_rng_state(rng)
        return state

    def save_part(self, name: str, payload: dict[str, Any]) -> None:
        """One finished piece of a longer job (a cross-validation split of one method)."""
        self._write(f"part_{name}.pt", {**payload, "fingerprint": self.fingerprint})

    def parts(self) -> dict[str, dict[str, Any]]:
        """Every saved piece by name (empty without a checkpoint)."""
        return {path.stem.removeprefix("part_"): self._read(path.name) for path in sorted(self.folder.glob("part_*.pt"))}

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _read(self, name: str, *, check: bool = True) -> dict[str, Any]:
        try:
            payload = torch.load(self.folder / name, weights_only=True)
        except Exception as error:  # a damaged file of any kind: one line, never a traceback
            msg = f"the checkpoint in {self.folder} cannot be read ({type(error).__name__} in {name}); remove the folder to start over"
            raise InputError(msg) from error
        if check and payload.get("fingerprint") != self.fingerprint:
            msg = f"the checkpoint in {self.folder} was written with other settings; rerun with the same config, or remove it to start over"
            raise InputError(msg)
        return payload

    def _write(self, name: str, payload: dict[str, Any]) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            os.close(handle)
            try:
                torch.save(payload, temporary)
                os.replace(temporary, self.folder / name)
            finally:
                Path(temporary).unlink(missing_ok=True)  # gone after the rename; a failed write's part
        except (OSError, RuntimeError) as error:  # torch.save reports a full disk as a RuntimeError
            msg = f"cannot write the checkpoint folder {self.folder}: {getattr(error, 'strerror', None) or str(error).splitlines()[0]}"
            raise InputError(msg) from error
