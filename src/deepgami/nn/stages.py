"""Latent node types as stages of message passing: one-hop encoders are one stage, deeper
priors (SNP -> TF -> gene -> pathway -> parent pathway) a stack of them in topological order."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from .._typing import EdgeType, NodeType
from ..graph import RegulatoryGraph
from .conv import BioDropConnect
from .members import replicate_edges

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}


def make_activation(name: str) -> nn.Module:
    """The activation module of a latent node type, by name (a key of ``ACTIVATIONS``)."""
    if name not in ACTIVATIONS:
        msg = f"Expected latent activation in {sorted(ACTIVATIONS)} (got {name!r})"
        raise ValueError(msg)
    return ACTIVATIONS[name]()


# Latent bias at initialisation when the edges start small: positive, so every ReLU latent
# starts active and passes gradient to its edges (a negative bias would leave it dead).
SMALL_INIT_BIAS = 0.1


class GraphStage(nn.Module):
    r"""The nodes of one latent type from every relation that ends in it (DeepGAMI eq. 1, per level).

    .. math::
        h_j = \sigma\Big(\sum_r \sum_{e=(i \to j) \in r} w_e\, s^{(r)}_i + b_j\Big)

    where :math:`s^{(r)}` are the values of relation ``r``'s source type: input features
    (shared by the ensemble members) or a lower latent type (one value per member). A
    relation within the type (a hierarchy, child -> parent) is walked level by level: a node
    of level ``l`` sums the activated values of its children (all of lower levels) with its
    messages from other types. Every member has its own weights and biases over the same edges.

    Parameters
    ----------
    n_nodes : int
    sources : sequence of (edge_index, num_src, per_member)
        One per incoming relation from another type: edges (2, n_edges) from source index to
        node index; ``per_member`` when the source values are per member (a latent type).
    hierarchy : LongTensor of shape (2, n_edges), optional
        Edges within the type, child -> parent; needs ``levels``.
    levels : LongTensor of shape (n_nodes,), optional
        Hierarchy level per node (0 without a child).
    activation : {"relu", "sigmoid", "tanh", "none"}
    kernel : str
        Passed to every :class:`BioDropConnect`.
    n_members : int
    init_scale : float
        Initial weights of the edges from the data are ``U(-1, 1) * init_scale / sqrt(fan_in)``.
        1 is ``nn.Linear``'s default restricted to the prior (the paper's), with biases drawn
        the same way; below 1 those edges start near zero, so what they end at is what they
        learned, and the biases start at ``SMALL_INIT_BIAS``. Edges between latent levels
        always start at scale 1.

    Shapes: one input per source, (n_samples, num_src) shared or (n_samples, n_members *
    num_src) per member -> (n_samples, n_members * n_nodes), member-major.
    """

    def __init__(
        self,
        n_nodes: int,
        sources: Sequence[tuple[Tensor, int, bool]],
        hierarchy: Tensor | None = None,
        levels: Tensor | None = None,
        activation: str = "relu",
        kernel: str = "auto",
        *,
        n_members: int = 1,
        init_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.n_members, self.init_scale = int(n_members), float(init_scale)
        width = self.n_members * n_nodes
        convs = []
        for edge_index, num_src, per_member in sources:
            edge_index = torch.as_tensor(edge_index)
            if per_member:
                edges = replicate_edges(edge_index, n_nodes, self.n_members, num_src=num_src)
                convs.append(BioDropConnect(edges, self.n_members * num_src, width, bias=False, kernel=kernel))
            else:
                convs.append(BioDropConnect(replicate_edges(edge_index, n_nodes, self.n_members), num_src, width, bias=False, kernel=kernel))
        self.n_sources = len(convs)
        self.from_data = [not per_member for _, _, per_member in sources] + ([False] if hierarchy is not None else [])
        if hierarchy is not None:
            if levels is None:
                msg = "a hierarchy needs the level of every node"
                raise ValueError(msg)
            edges = replicate_edges(torch.as_tensor(hierarchy), n_nodes, self.n_members, num_src=n_nodes)
            convs.append(BioDropConnect(edges, width, width, bias=False, kernel=kernel))
            # Row l marks the nodes of level l (every member's copy): (n_levels, n_members * n_nodes).
            level = torch.as_tensor(levels).repeat(self.n_members)
            self.register_buffer("level_masks", (level == torch.arange(int(level.max()) + 1).view(-1, 1)).float(), persistent=False)
        self.convs = nn.ModuleList(convs)
        self.hierarchy = hierarchy is not None
        # One bias per node across relations (per-relation biases would be redundant).
        self.bias = nn.Parameter(torch.empty(width))
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
                # Only the edges from the data start small: edges between latent levels keep
                # the full scale, or a signal shrinking tenfold per level would not reach the
                # top of a deep prior (a four-level prior trained to a constant prediction).
                for conv, from_data in zip(self.convs, self.from_data):
                    if from_data:
                        conv.weight.mul_(self.init_scale)
                self.bias.fill_(SMALL_INIT_BIAS)

    def forward(self, inputs: Sequence[Tensor], base: Tensor | None = None) -> Tensor:
        """``base`` (n_samples, n_members * n_nodes), optional, is added to the messages: the
        completed latents of the type where the inputs meet, when a hierarchy continues there."""
        out = self.bias if base is None else self.bias + base
        for conv, x in zip(self.convs[: self.n_sources], inputs):
            out = out + conv(x)
        if not self.hierarchy:
            # The sparse product leaves (n_samples, width) transposed in memory; the layers
            # above read it row-wise, so copy it once here.
            return self.activation(out).contiguous()
        within = self.convs[self.n_sources]
        # Level 0 has no child; each later level adds its children's values, all computed by then.
        h = self.activation(out) * self.level_masks[0]
        for mask in self.level_masks[1:]:
            h = h + mask * self.activation(out + within(h))
        return h.contiguous()


def _stage(
    graph: RegulatoryGraph, node_type: NodeType, relations: Sequence[EdgeType], inputs: set[NodeType], n_members: int, **options
) -> GraphStage:
    """The stage of ``node_type`` over ``relations`` (its hierarchy, if any, included)."""
    sources = [(graph.edge_index(t), graph.num_nodes(t[0]), t[0] not in inputs) for t in relations if t[0] != node_type]
    within = [t for t in relations if t[0] == node_type]  # at most one (GraphLayout checks)
    hierarchy = graph.edge_index(within[0]) if within else None
    levels = graph.layout.levels.get(node_type)
    return GraphStage(graph.num_nodes(node_type), sources, hierarchy, levels, n_members=n_members, **options)


class LayeredEncoder(nn.Module):
    """A modality's latents where the inputs meet, through latent types of its own on the way
    (SNP -> TF -> gene): one :class:`GraphStage` per type, in topological order.

    Attributes ``plan`` (node type, relations into it) and ``edge_types`` (one per conv, in
    the stages' order) name what each stage reads. Shapes: (n_samples, n_features) ->
    (n_samples, n_members * n_meeting), member-major.
    """

    def __init__(self, graph: RegulatoryGraph, modality: NodeType, *, n_members: int = 1, **options) -> None:
        super().__init__()
        layout = graph.layout
        own = [*layout.own[modality], layout.meeting]
        reached = {modality, *own}
        self.modality = modality
        # A hierarchy within the meeting type runs above it, on the completed latents (UpperTower).
        self.plan = [(t, [r for r in graph.edge_types if r[2] == t and r[0] in reached and not r[0] == r[2] == layout.meeting]) for t in own]
        self.stages = nn.ModuleDict({t: _stage(graph, t, relations, {modality}, n_members, **options) for t, relations in self.plan})
        self.edge_types = [r for t, relations in self.plan for r in _conv_order(relations, t)]

    def forward(self, x: Tensor) -> Tensor:
        values = {self.modality: x}
        for node_type, relations in self.plan:
            values[node_type] = self.stages[node_type]([values[r[0]] for r in relations if r[0] != node_type])
        return values[self.plan[-1][0]]


class UpperTower(nn.Module):
    """The latent types above where the inputs meet (pathways and their parents), and a
    hierarchy within the meeting type itself, shared by every modality's (completed) latents;
    returns the nodes the classifier reads: those of the top types without an outgoing edge
    (:attr:`GraphLayout.read`).

    Shapes: (n_samples, n_members, n_meeting) -> (n_samples, n_members, n_read).
    """

    def __init__(self, graph: RegulatoryGraph, *, n_members: int = 1, **options) -> None:
        super().__init__()
        layout = graph.layout
        self.meeting, self.n_members = layout.meeting, int(n_members)
        # A hierarchy within the meeting type (genes' pathways -> parent pathways) walks the
        # completed latents first: a node adds its children's values to its own latent.
        within = [r for r in graph.edge_types if r[0] == r[2] == self.meeting]
        self.plan = [(self.meeting, within)] if within else []
        self.plan += [(t, [r for r in graph.edge_types if r[2] == t]) for t in layout.above]
        self.stages = nn.ModuleDict({t: _stage(graph, t, relations, set(), n_members, **options) for t, relations in self.plan})
        self.edge_types = [r for t, relations in self.plan for r in _conv_order(relations, t)]
        self.level_types = [layout.meeting, *layout.above]
        self.widths = {t: graph.num_nodes(t) for t in self.level_types}
        self.read_types = list(layout.read)
        for t in self.read_types:
            self.register_buffer(f"read_{t}", layout.read[t], persistent=False)
        self.n_read = sum(int(layout.read[t].numel()) for t in self.read_types)

    def forward(self, z: Tensor, *, with_levels: bool = False) -> Tensor | tuple[Tensor, dict[NodeType, Tensor]]:
        """``with_levels``: also every level's values, node type -> (n_samples, n_members, n_nodes)."""
        n = z.shape[0]
        values = {self.meeting: z.reshape(n, -1)}
        for node_type, relations in self.plan:
            base = values[node_type] if node_type == self.meeting else None
            values[node_type] = self.stages[node_type]([values[r[0]] for r in relations if r[0] != node_type], base)
        parts = [values[t].view(n, self.n_members, self.widths[t]).index_select(2, self.read_index(t)) for t in self.read_types]
        tops = torch.cat(parts, dim=2)
        if not with_levels:
            return tops
        return tops, {t: values[t].view(n, self.n_members, self.widths[t]) for t in self.level_types}

    def read_index(self, node_type: NodeType) -> Tensor:
        """Indices of the nodes of ``node_type`` the classifier reads (LongTensor)."""
        return getattr(self, f"read_{node_type}")


def _conv_order(relations: Sequence[EdgeType], node_type: NodeType) -> list[EdgeType]:
    """The relations in the order of a stage's convs: from other types first, then its hierarchy."""
    return [r for r in relations if r[0] != node_type] + [r for r in relations if r[0] == node_type]
