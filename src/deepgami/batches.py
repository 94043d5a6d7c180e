"""Mini-batches without whole-modality copies: raw rows in, scaled float32 batches out.

A :class:`SampleStore` keeps each modality in the dtype it was given (float32, or int8 for
genotype dosages) and shares that memory with the caller's tables; only the rows of one batch
are gathered, moved to the device and converted, so a 1M-SNP panel costs 1 byte per call
once, not 4 bytes per call per copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence

import torch
from torch import Tensor

RowTransform = Callable[[Tensor], Tensor]


@dataclass
class Batchable:
    """Tensors of one batch: inputs and observed masks per modality, targets and covariates.

    ``x_dict[m]`` has shape (n_samples, n_features_m), float32, unobserved rows zero-filled;
    ``observed[m]`` is a BoolTensor (n_samples,); ``y`` the targets (n_samples, ...) (class
    codes, values, times and events); ``covariates`` float32 (n_samples, n_covariates) or None.
    """

    x_dict: dict[str, Tensor]
    observed: dict[str, Tensor]
    y: Tensor
    covariates: Tensor | None = None

    def __len__(self) -> int:
        return self.y.shape[0]

    def rows(self, index: Tensor) -> Batchable:
        """Gather the rows ``index`` of every tensor (copies only those rows)."""
        return Batchable(
            {m: x.index_select(0, index) for m, x in self.x_dict.items()},
            {m: o.index_select(0, index) for m, o in self.observed.items()},
            self.y.index_select(0, index),
            None if self.covariates is None else self.covariates.index_select(0, index),
        )


class SampleStore:
    """Aligned samples of several modalities, read one batch at a time.

    Parameters
    ----------
    values : mapping of modality -> Tensor of shape (n_total, n_features_m)
        Raw values in any dtype, usually sharing memory with the caller's arrays (never copied).
    observed : mapping of modality -> BoolTensor of shape (n_total,)
    y : Tensor of shape (n_total, ...)
        Targets (class codes, values, times and events).
    transforms : mapping of modality -> callable
        Maps a raw batch (on the target device) to float32 model inputs (imputed, scaled).
    positions : LongTensor, optional
        The rows of ``values`` this store covers, in order (default: all).
    covariates : Tensor of shape (n_total, n_covariates), optional
        Encoded covariates, float32.
    """

    def __init__(
        self,
        values: Mapping[str, Tensor],
        observed: Mapping[str, Tensor],
        y: Tensor,
        transforms: Mapping[str, RowTransform],
        positions: Tensor | None = None,
        covariates: Tensor | None = None,
    ) -> None:
        self.values, self.observed, self.y, self.transforms = dict(values), dict(observed), y, dict(transforms)
        self.positions = torch.arange(len(y)) if positions is None else positions
        self.covariates = covariates

    def __len__(self) -> int:
        return len(self.positions)

    def take(self, index: Tensor | Sequence[int]) -> SampleStore:
        """The store of rows ``index`` (positions within this store); shares all values."""
        index = torch.as_tensor(index, dtype=torch.long)
        return SampleStore(self.values, self.observed, self.y, self.transforms, self.positions[index], self.covariates)

    def labels(self, index: Tensor | None = None) -> Tensor:
        """Targets (n, ...) of rows ``index`` (all rows if None)."""
        return self.y[self.positions if index is None else self.positions[index]]

    def observed_rows(self, index: Tensor | None = None) -> dict[str, Tensor]:
        """Observed masks (n,) per modality of rows ``index`` (all rows if None)."""
        rows = self.positions if index is None else self.positions[index]
        return {m: mask[rows] for m, mask in self.observed.items()}

    def batch(self, index: Tensor, device: torch.device | str = "cpu") -> Batchable:
        """Rows ``index`` (positions within this store) as float32 tensors on ``device``."""
        rows = self.positions[index]
        x_dict, observed = {}, {}
        for m, values in self.values.items():
            mask = self.observed[m][rows].to(device)
            x = self.transforms[m](values.index_select(0, rows).to(device))
            x_dict[m] = x if bool(mask.all()) else x.masked_fill(~mask.unsqueeze(1), 0.0)
            observed[m] = mask
        covariates = None if self.covariates is None else self.covariates[rows].to(device)
        return Batchable(x_dict, observed, self.y[rows].to(device), covariates)

    def batches(self, batch_size: int, device: torch.device | str = "cpu") -> Iterator[Batchable]:
        """Consecutive batches of at most ``batch_size`` rows, in store order."""
        for start in range(0, len(self), batch_size):
            yield self.batch(torch.arange(start, min(start + batch_size, len(self))), device)
