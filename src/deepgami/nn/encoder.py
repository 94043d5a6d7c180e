"""Per-modality encoders: features of one modality -> values of the shared latent nodes."""

from __future__ import annotations

from typing import Mapping

import torch
from torch import Tensor, nn

from .stages import GraphStage, make_activation


class GuidedEncoder(GraphStage):
    r"""Latent nodes from one modality through its prior relations (DeepGAMI eq. 1): a
    :class:`GraphStage` whose every relation reads the modality's features.

    .. math::
        C_{k,j} = \sigma\Big(\sum_r \sum_{e=(i \to j) \in r} w_e X_{k,i} + b_j\Big)

    With ``n_members > 1`` every member has its own edge weights and biases over the same
    edges; one sparse product over the edges repeated per member computes them all.

    Parameters
    ----------
    n_features : int
    n_latent : int
    edge_index_dict : mapping of relation name -> LongTensor of shape (2, n_edges)
        Source indices are feature columns, destination indices latent nodes.
    activation, kernel, n_members, init_scale
        As for :class:`GraphStage`; each relation's ``conv.weight`` holds ``n_members *
        n_edges`` weights, member-major.

    Shapes: (n_samples, n_features) -> (n_samples, n_members * n_latent), member-major.
    """

    def __init__(
        self,
        n_features: int,
        n_latent: int,
        edge_index_dict: Mapping[str, Tensor],
        activation: str = "relu",
        kernel: str = "auto",
        *,
        n_members: int = 1,
        init_scale: float = 1.0,
    ) -> None:
        sources = [(edge_index, n_features, False) for edge_index in edge_index_dict.values()]
        super().__init__(n_latent, sources, activation=activation, kernel=kernel, n_members=n_members, init_scale=init_scale)
        self.relations = list(edge_index_dict)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward([x] * len(self.convs))


class DenseEncoder(nn.Module):
    """Latent nodes from a modality with no prior graph: a fully connected layer.

    The paper's Patch-seq setting; one ``nn.Linear`` computes every member's latents. With
    ``nodes`` it feeds only those latent nodes (the lowest level of a hierarchy at the meeting
    type) and leaves the others at 0, so its signal climbs the hierarchy as the guided
    modalities' does instead of writing straight into the nodes the classifier reads.
    Shapes: (n_samples, n_features) -> (n_samples, n_members * n_latent), member-major.
    """

    def __init__(
        self, n_features: int, n_latent: int, activation: str = "relu", *, n_members: int = 1, nodes: Tensor | None = None
    ) -> None:
        super().__init__()
        self.n_members, self.n_latent = int(n_members), int(n_latent)
        width = self.n_latent if nodes is None else len(nodes)
        self.linear = nn.Linear(n_features, self.n_members * width)
        self.activation = make_activation(activation)
        self.register_buffer("nodes", None if nodes is None else torch.as_tensor(nodes, dtype=torch.long), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        out = self.activation(self.linear(x))
        if self.nodes is None:
            return out
        full = out.new_zeros(len(x), self.n_members, self.n_latent)
        full[:, :, self.nodes] = out.view(len(x), self.n_members, -1)
        return full.view(len(x), -1)
