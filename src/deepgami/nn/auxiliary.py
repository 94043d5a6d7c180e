"""Auxiliary (cross-modal) maps: estimate one modality's latent from another's."""

from __future__ import annotations

from typing import Callable, Union

import torch
from torch import Tensor, nn

from .members import MemberLinear


class ScalarMap(nn.Module):
    r"""The paper's map (DeepGAMI eq. 5): :math:`\hat C_b = \alpha C_a + \beta` with two scalars
    per ensemble member.

    Shapes: (n_samples, n_members, n_latent) -> the same.
    """

    def __init__(self, n_latent: int, n_members: int = 1) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(n_members, 1))
        self.beta = nn.Parameter(torch.zeros(n_members, 1))

    def forward(self, z: Tensor) -> Tensor:
        return self.alpha * z + self.beta


class PerNodeMap(nn.Module):
    r"""One affine map per latent node (and member): :math:`\hat C_{b,j} = \alpha_j C_{a,j} + \beta_j`."""

    def __init__(self, n_latent: int, n_members: int = 1) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(n_members, n_latent))
        self.beta = nn.Parameter(torch.zeros(n_members, n_latent))

    def forward(self, z: Tensor) -> Tensor:
        return self.alpha * z + self.beta


class MLPMap(nn.Module):
    """A non-linear map: Linear -> ReLU -> Linear, hidden width ``min(n_latent, 256)``."""

    def __init__(self, n_latent: int, n_members: int = 1, hidden: int | None = None) -> None:
        super().__init__()
        hidden = hidden or min(n_latent, 256)
        self.net = nn.Sequential(MemberLinear(n_latent, hidden, n_members), nn.ReLU(), MemberLinear(hidden, n_latent, n_members))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


AUXILIARY_MAPS: dict[str, Callable[[int], nn.Module]] = {
    "scalar": ScalarMap,
    "per_node": PerNodeMap,
    "mlp": MLPMap,
}

AuxiliaryMapSpec = Union[str, Callable[[int], nn.Module]]


class MemberwiseMap(nn.Module):
    """A user's map (``(n, n_latent) -> (n, n_latent)``) built once per ensemble member and
    applied to each member's slice. Shapes: (n_samples, n_members, n_latent) -> the same."""

    def __init__(self, factory: Callable[[int], nn.Module], n_latent: int, n_members: int) -> None:
        super().__init__()
        self.maps = nn.ModuleList(factory(n_latent) for _ in range(n_members))

    def forward(self, z: Tensor) -> Tensor:
        return torch.stack([f(z[:, k]) for k, f in enumerate(self.maps)], dim=1)


def make_auxiliary_map(kind: AuxiliaryMapSpec, n_latent: int, n_members: int = 1) -> nn.Module:
    """Build a map by name (``"scalar"``, ``"per_node"``, ``"mlp"``) or from a factory ``f(n_latent)``.

    The map takes and returns (n_samples, n_members, n_latent).
    """
    if callable(kind):
        return MemberwiseMap(kind, n_latent, n_members)
    if kind not in AUXILIARY_MAPS:
        msg = f"Expected auxiliary map in {sorted(AUXILIARY_MAPS)} or a callable (got {kind!r})"
        raise ValueError(msg)
    return AUXILIARY_MAPS[kind](n_latent, n_members)
