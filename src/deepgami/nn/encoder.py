"""Per-modality encoders: features of one modality -> values of the shared latent nodes."""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

from .conv import BioDropConnect
from .members import replicate_edges

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}


def make_activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        msg = f"Expected latent activation in {sorted(ACTIVATIONS)} (got {name!r})"
        raise ValueError(msg)
    return ACTIVATIONS[name]()


# Latent bias at initialisation when the edges start small: positive, so every ReLU latent
# starts active and passes gradient to its edges (a negative bias would leave it dead).
SMALL_INIT_BIAS = 0.1


class GuidedEncoder(nn.Module):
    r"""Latent nodes from one modality through its prior relations (DeepGAMI eq. 1).

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
    activation : {"relu", "sigmoid", "tanh", "none"}
    kernel : str
        Passed to every :class:`BioDropConnect`.
    n_members : int
        Ensemble members; each relation's ``conv.weight`` holds ``n_members * n_edges``
        weights, member-major.
    init_scale : float
        Initial edge weights are ``U(-1, 1) * init_scale / sqrt(fan_in)``. 1 is
        ``nn.Linear``'s default restricted to the prior (the paper's), with biases drawn the
        same way; below 1 the edges start near zero, so what they end at is what they learned,
        and the biases start at ``SMALL_INIT_BIAS``.

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
        super().__init__()
        self.relations = list(edge_index_dict)
        self.n_members, self.init_scale = int(n_members), float(init_scale)
        self.convs = nn.ModuleList(
            BioDropConnect(
                replicate_edges(torch.as_tensor(ei), n_latent, self.n_members), n_features, self.n_members * n_latent, bias=False, kernel=kernel
            )
            for ei in edge_index_dict.values()
        )
        # One bias per latent node across relations (per-relation biases would be redundant).
        self.bias = nn.Parameter(torch.empty(self.n_members * n_latent))
        self.activation = make_activation(activation)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        fan_in = sum(conv.in_degree() for conv in self.convs).clamp(min=1).to(torch.float32)
        for conv in self.convs:
            conv.reset_parameters()
        with torch.no_grad():
            if self.init_scale == 1.0:
                self.bias.uniform_(-1.0, 1.0).mul_(fan_in.rsqrt())
            else:
                for conv in self.convs:
                    conv.weight.mul_(self.init_scale)
                self.bias.fill_(SMALL_INIT_BIAS)

    def forward(self, x: Tensor, edge_masks: Sequence[Tensor | None] | None = None) -> Tensor:
        """``edge_masks``: optional per-relation multipliers of shape (n_edges,) or () (see explain)."""
        edge_masks = edge_masks or [None] * len(self.convs)
        out = self.bias
        for conv, mask in zip(self.convs, edge_masks):
            out = out + conv(x, edge_mask=mask)
        # The sparse product leaves (n_samples, n_latent) transposed in memory; the head's
        # concatenation and the auxiliary loss read it row-wise, so copy it once here.
        return self.activation(out).contiguous()


class DenseEncoder(nn.Module):
    """Latent nodes from a modality with no prior graph: a fully connected layer.

    The paper's Patch-seq setting; one ``nn.Linear`` computes every member's latents.
    Shapes: (n_samples, n_features) -> (n_samples, n_members * n_latent), member-major.
    """

    def __init__(self, n_features: int, n_latent: int, activation: str = "relu", *, n_members: int = 1) -> None:
        super().__init__()
        self.n_members = int(n_members)
        self.linear = nn.Linear(n_features, self.n_members * n_latent)
        self.activation = make_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.linear(x))
