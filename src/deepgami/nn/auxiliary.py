"""Auxiliary (cross-modal) maps: estimate one modality's latent from another's."""

from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor, nn


class ScalarMap(nn.Module):
    r"""The paper's map (DeepGAMI eq. 5): :math:`\hat C_b = \alpha C_a + \beta` with two scalars.

    Shapes: (n_samples, n_latent) -> (n_samples, n_latent).
    """

    def __init__(self, n_latent: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(()))
        self.beta = nn.Parameter(torch.zeros(()))

    def forward(self, z: Tensor) -> Tensor:
        return self.alpha * z + self.beta


class PerNodeMap(nn.Module):
    r"""One affine map per latent node: :math:`\hat C_{b,j} = \alpha_j C_{a,j} + \beta_j`."""

    def __init__(self, n_latent: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(n_latent))
        self.beta = nn.Parameter(torch.zeros(n_latent))

    def forward(self, z: Tensor) -> Tensor:
        return self.alpha * z + self.beta


class MLPMap(nn.Module):
    """A non-linear map: Linear -> ReLU -> Linear, hidden width ``min(n_latent, 256)``."""

    def __init__(self, n_latent: int, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or min(n_latent, 256)
        self.net = nn.Sequential(nn.Linear(n_latent, hidden), nn.ReLU(), nn.Linear(hidden, n_latent))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


AUXILIARY_MAPS: dict[str, Callable[[int], nn.Module]] = {
    "scalar": ScalarMap,
    "per_node": PerNodeMap,
    "mlp": MLPMap,
}

AuxiliaryMapSpec = Union[str, Callable[[int], nn.Module]]


def make_auxiliary_map(kind: AuxiliaryMapSpec, n_latent: int) -> nn.Module:
    """Build a map by name (``"scalar"``, ``"per_node"``, ``"mlp"``) or from a factory ``f(n_latent)``."""
    if callable(kind):
        return kind(n_latent)
    if kind not in AUXILIARY_MAPS:
        msg = f"Expected auxiliary map in {sorted(AUXILIARY_MAPS)} or a callable (got {kind!r})"
        raise ValueError(msg)
    return AUXILIARY_MAPS[kind](n_latent)
