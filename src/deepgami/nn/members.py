"""Ensemble members batched in one module: every parameter stores its members along its
leading axis (member-major), so ``param.view(n_members, -1)[k]`` is member ``k``'s share.

Members never interact: the training loss is the sum of the members' losses, and Adam's
update is element-wise, so a batched ensemble trains exactly like its members trained one by
one on the same batches (tests/test_ensemble.py), at a fraction of the per-step overhead.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


class MemberLinear(nn.Module):
    """One ``nn.Linear(in_features, out_features)`` per member, applied in one batched product.

    ``weight`` has shape (n_members, out_features, in_features), ``bias`` (n_members,
    out_features); each member is initialised like ``nn.Linear``.
    Shapes: (n_samples, n_members, in_features) -> (n_samples, n_members, out_features).
    """

    def __init__(self, in_features: int, out_features: int, n_members: int = 1) -> None:
        super().__init__()
        self.in_features, self.out_features, self.n_members = int(in_features), int(out_features), int(n_members)
        self.weight = nn.Parameter(torch.empty(self.n_members, self.out_features, self.in_features))
        self.bias = nn.Parameter(torch.empty(self.n_members, self.out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.Linear's default: kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1.0 / math.sqrt(max(self.in_features, 1))
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            self.bias.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        # (K, n, in) @ (K, in, out) -> (K, n, out): one batched matmul for every member.
        out = torch.baddbmm(self.bias.unsqueeze(1), x.transpose(0, 1), self.weight.transpose(1, 2))
        return out.transpose(0, 1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, n_members={self.n_members}"


def replicate_edges(edge_index: Tensor, num_dst: int, n_members: int, num_src: int | None = None) -> Tensor:
    """Edges (2, n_edges) repeated once per member, member ``k``'s targets shifted by ``k * num_dst``.

    One message-passing product over the result computes every member's latents at once:
    the sources (input features) are shared, the targets (latent nodes) are per member. With
    ``num_src`` the sources are per member too (latents of a lower level), member ``k``'s
    shifted by ``k * num_src``. Shape (2, n_members * n_edges), member-major.
    """
    member = torch.arange(n_members, device=edge_index.device).repeat_interleave(edge_index.shape[1])
    replicated = edge_index.repeat(1, n_members)
    source = replicated[0] if num_src is None else replicated[0] + member * num_src
    return torch.stack([source, replicated[1] + member * num_dst])


def member_slice(tensor: Tensor, n_members: int, member: int) -> Tensor:
    """Member ``member``'s part of a member-major parameter (a view)."""
    return tensor.view(n_members, -1)[member]
