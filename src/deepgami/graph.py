"""The prior regulatory graph: typed nodes with names, typed edges, optional prior weights."""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from ._typing import EdgeType, NodeType
from .errors import InputError, preview

log = logging.getLogger(__name__)

DEFAULT_RELATION = "regulates"
# A measured modality that a relation ends in: the node type of its activity, and the relation
# from each measured feature to its own activity node (RegulatoryGraph.with_measured_targets).
ACTIVITY_SUFFIX = "_activity"
MEASURED_RELATION = "measured"
# The relation from features without a prior edge to the leftover latent nodes (not prior biology).
UNCONNECTED_RELATION = "unconnected"
# Leftover latent nodes: P-NET's one leftover node, widened so a multi-class head can read more
# than one direction of the leftover features.
LEFTOVER_NODES = 8


def leftover_node_names(n_nodes: int = LEFTOVER_NODES) -> list[str]:
    """Names of the leftover latent nodes: ``unconnected_1..unconnected_<n_nodes>``."""
    return [f"{UNCONNECTED_RELATION}_{k + 1}" for k in range(n_nodes)]


@dataclass
class RestrictionReport:
    """What :meth:`RegulatoryGraph.restrict_to` dropped.

    Attributes
    ----------
    dropped_nodes : dict of node type -> list of node names absent from the data
    dropped_edges : dict of edge type -> number of edges that lost an endpoint
    kept_edges : dict of edge type -> number of edges kept
    latent_types : node types not fixed by the data, whose dropped nodes lost every edge
    """

    dropped_nodes: dict[NodeType, list[str]] = field(default_factory=dict)
    dropped_edges: dict[EdgeType, int] = field(default_factory=dict)
    kept_edges: dict[EdgeType, int] = field(default_factory=dict)
    latent_types: set[NodeType] = field(default_factory=set)

    def __str__(self) -> str:
        parts = []
        for edge_type, kept in self.kept_edges.items():
            dropped = self.dropped_edges.get(edge_type, 0)
            parts.append(f"{'->'.join((edge_type[0], edge_type[2]))}: kept {kept} edges, dropped {dropped}")
        for node_type, names in self.dropped_nodes.items():
            if names and node_type in self.latent_types:
                parts.append(f"{len(names)} {node_type} nodes left out, cut off from the data or the top level ({preview(names)})")
            elif names:
                parts.append(f"{len(names)} {node_type} nodes not in the data ({preview(names)})")
        return "; ".join(parts)


@dataclass(frozen=True)
class GraphLayout:
    """The order in which the model walks a prior: inputs, then latent node types bottom-up.

    Attributes
    ----------
    inputs : list of node types no relation ends in (the modalities' features)
    order : list of the other (latent) node types, in topological order
    meeting : the latent type where every input's messages meet (genes): each modality has its
        own latents there, which the auxiliary maps impute; a one-hop prior's only latent type
    below : latent types between the inputs and ``meeting`` (each reached from one input)
    above : latent types past ``meeting`` (pathways), shared by the modalities' latents
    own : input -> the types of ``below`` it reaches, in topological order
    levels : node type -> LongTensor (n_nodes,), for a type with a relation onto itself (a
        hierarchy, child -> parent): each node's level, 0 for a node without a child, else one
        more than its highest child
    read : node type -> LongTensor, for ``meeting`` and the types above it: the nodes without
        an outgoing edge, which the classifier reads: the roots of the top type (every node of
        a one-hop prior's latent type) and, below the top, only nodes that lead nowhere, which
        a prior restricted to the data keeps only as the leftover nodes of features without an
        edge (:meth:`RegulatoryGraph.with_leftover_nodes`)
    """

    inputs: list[NodeType]
    order: list[NodeType]
    meeting: NodeType
    below: list[NodeType]
    above: list[NodeType]
    own: dict[NodeType, list[NodeType]]
    levels: dict[NodeType, torch.Tensor]
    read: dict[NodeType, torch.Tensor]

    @property
    def one_hop(self) -> bool:
        """True when every relation runs from an input straight to ``meeting``."""
        return not self.below and not self.above and not self.levels


class RegulatoryGraph:
    r"""A typed, directed prior graph between modality features and latent nodes.

    Wraps :class:`torch_geometric.data.HeteroData`: ``data[node_type].num_nodes`` and
    ``data[edge_type].edge_index`` of shape (2, n_edges) (row 0 source, row 1 target), and
    optionally ``data[edge_type].edge_weight`` of shape (n_edges,) holding the prior weights.
    Node names are kept in order per node type; index ``i`` of a node type is ``node_names[t][i]``.

    Parameters
    ----------
    node_names : mapping of node type -> sequence of str
        Ordered, unique node names per node type.
    edge_index_dict : mapping of edge type -> LongTensor of shape (2, n_edges)
    edge_weight_dict : mapping of edge type -> Tensor of shape (n_edges,), optional
    """

    def __init__(
        self,
        node_names: Mapping[NodeType, Iterable[str]],
        edge_index_dict: Mapping[EdgeType, torch.Tensor],
        edge_weight_dict: Mapping[EdgeType, torch.Tensor] | None = None,
    ) -> None:
        self.node_names: dict[NodeType, list[str]] = {t: [str(n) for n in names] for t, names in node_names.items()}
        self.data = HeteroData()
        for node_type, names in self.node_names.items():
            self.data[node_type].num_nodes = len(names)
        edge_weight_dict = dict(edge_weight_dict or {})
        for edge_type, edge_index in edge_index_dict.items():
            edge_type = tuple(edge_type)
            self.data[edge_type].edge_index = torch.as_tensor(edge_index, dtype=torch.long).reshape(2, -1)
            if edge_type in edge_weight_dict and edge_weight_dict[edge_type] is not None:
                self.data[edge_type].edge_weight = torch.as_tensor(edge_weight_dict[edge_type], dtype=torch.float32)
        self.validate()

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_edge_tables(
        cls,
        tables: Iterable[tuple[pd.DataFrame, NodeType, NodeType] | tuple[pd.DataFrame, NodeType, NodeType, str]],
        node_names: Mapping[NodeType, Iterable[str]] | None = None,
    ) -> RegulatoryGraph:
        """Build a graph from edge tables with columns ``source, target[, weight]``.

        Parameters
        ----------
        tables : iterable of (DataFrame, source type, target type[, relation])
            One table per relation. A missing relation name becomes ``"regulates"``.
        node_names : mapping of node type -> names, optional
            Fixes node order (and includes isolated nodes); by default nodes are the
            sorted names seen in the tables.
        """
        tables = [(t[0], t[1], t[2], t[3] if len(t) > 3 else DEFAULT_RELATION) for t in tables]
        seen: dict[NodeType, set[str]] = {}
        for frame, src_type, dst_type, _ in tables:
            _check_edge_columns(frame)
            seen.setdefault(src_type, set()).update(frame["source"].astype(str))
            seen.setdefault(dst_type, set()).update(frame["target"].astype(str))
        names = {t: sorted(s) for t, s in seen.items()}
        if node_names is not None:
            given = {t: [str(n) for n in v] for t, v in node_names.items()}
            for t, s in seen.items():
                if t in given:
                    unknown = sorted(s - set(given[t]))
                    if unknown:
                        msg = f"edge tables name {len(unknown)} {t} nodes missing from node_names ({preview(unknown)})"
                        raise InputError(msg)
            names = {**names, **given}
        position = {t: {n: i for i, n in enumerate(v)} for t, v in names.items()}
        edge_index_dict, edge_weight_dict = {}, {}
        for frame, src_type, dst_type, relation in tables:
            edge_type = (src_type, relation, dst_type)
            if edge_type in edge_index_dict:
                msg = f"relation {edge_type} is given twice; merge the tables or give them different relation names"
                raise InputError(msg)
            src = frame["source"].astype(str).map(position[src_type]).to_numpy(np.int64)
            dst = frame["target"].astype(str).map(position[dst_type]).to_numpy(np.int64)
            edge_index_dict[edge_type] = torch.from_numpy(np.stack([src, dst]))
            if "weight" in frame.columns:
                edge_weight_dict[edge_type] = torch.tensor(frame["weight"].to_numpy(np.float32))
        return cls(names, edge_index_dict, edge_weight_dict)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, node_type_key: str = "node_type") -> RegulatoryGraph:
        """Build from a networkx DiGraph whose nodes carry a ``node_type`` attribute.

        Edges may carry ``relation`` (default ``"regulates"``) and ``weight``. Node names are
        the networkx node keys as strings; nodes with the same name in two types must be keyed
        distinctly in networkx and carry a ``name`` attribute.
        """
        if not graph.is_directed():
            msg = "the networkx graph must be directed (nx.DiGraph): regulatory edges go source -> target"
            raise InputError(msg)
        node_type, node_name = {}, {}
        for node, attrs in graph.nodes(data=True):
            if node_type_key not in attrs:
                msg = f"networkx node {node!r} has no '{node_type_key}' attribute; set one on every node"
                raise InputError(msg)
            node_type[node] = str(attrs[node_type_key])
            node_name[node] = str(attrs.get("name", node))
        rows: dict[tuple[str, str, str], list[tuple[str, str, float]]] = {}
        for u, v, attrs in graph.edges(data=True):
            key = (node_type[u], str(attrs.get("relation", DEFAULT_RELATION)), node_type[v])
            rows.setdefault(key, []).append((node_name[u], node_name[v], float(attrs.get("weight", np.nan))))
        names: dict[str, list[str]] = {}
        for node in graph.nodes:
            names.setdefault(node_type[node], []).append(node_name[node])
        tables = []
        for (src_type, relation, dst_type), edges in rows.items():
            frame = pd.DataFrame(edges, columns=["source", "target", "weight"])
            if frame["weight"].isna().all():
                frame = frame.drop(columns="weight")
            tables.append((frame, src_type, dst_type, relation))
        return cls.from_edge_tables(tables, node_names=names)

    # ----------------------------------------------------------------- views
    @property
    def node_types(self) -> list[NodeType]:
        return list(self.node_names)

    @property
    def edge_types(self) -> list[EdgeType]:
        return [tuple(t) for t in self.data.edge_types]

    def num_nodes(self, node_type: NodeType) -> int:
        return len(self.node_names[node_type])

    def edge_index(self, edge_type: EdgeType) -> torch.Tensor:
        """LongTensor of shape (2, n_edges) for one relation."""
        return self.data[edge_type].edge_index

    def edge_weight(self, edge_type: EdgeType) -> torch.Tensor | None:
        """Prior weights of shape (n_edges,), or None when the table had none."""
        store = self.data[edge_type]
        return store.edge_weight if "edge_weight" in store else None

    def edge_frame(self, edge_type: EdgeType) -> pd.DataFrame:
        """The relation as a table with columns ``source, target[, weight]``."""
        src_type, _, dst_type = edge_type
        src, dst = self.edge_index(edge_type).numpy()
        frame = pd.DataFrame(
            {
                "source": np.asarray(self.node_names[src_type], dtype=object)[src],
                "target": np.asarray(self.node_names[dst_type], dtype=object)[dst],
            }
        )
        weight = self.edge_weight(edge_type)
        if weight is not None:
            frame["weight"] = weight.numpy()
        return frame

    def relations_from(self, node_type: NodeType) -> list[EdgeType]:
        """Edge types whose source is ``node_type``."""
        return [t for t in self.edge_types if t[0] == node_type]

    @functools.cached_property
    def layout(self) -> GraphLayout:
        """How the model walks this prior (:class:`GraphLayout`); raises :class:`InputError` for
        an arrangement of node types it cannot walk."""
        return _layout(self)

    @property
    def latent_type(self) -> NodeType:
        """The node type where the messages of every input meet: the latent nodes whose values
        the auxiliary maps impute (genes). The only latent type of a one-hop prior."""
        if not self.edge_types:
            msg = "a prior without relations has no latent node type; give it at least one edge table"
            raise InputError(msg)
        return self.layout.meeting

    def summary(self) -> pd.DataFrame:
        """One row per relation: sources, targets, edges, density and mean in-degree of targets."""
        rows = []
        for edge_type in self.edge_types:
            src_type, relation, dst_type = edge_type
            n_src, n_dst = self.num_nodes(src_type), self.num_nodes(dst_type)
            n_edges = self.edge_index(edge_type).shape[1]
            rows.append(
                {
                    "source": src_type,
                    "relation": relation,
                    "target": dst_type,
                    "n_source_nodes": n_src,
                    "n_target_nodes": n_dst,
                    "n_edges": n_edges,
                    "density": n_edges / max(n_src * n_dst, 1),
                    "isolated_targets": n_dst - int(torch.unique(self.edge_index(edge_type)[1]).numel()),
                }
            )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        nodes = ", ".join(f"{t}={len(n)}" for t, n in self.node_names.items())
        edges = ", ".join(f"{s}-{r}->{d}={self.edge_index((s, r, d)).shape[1]}" for s, r, d in self.edge_types)
        return f"RegulatoryGraph(nodes: {nodes}; edges: {edges})"

    # ----------------------------------------------------------------- checks and edits
    def validate(self) -> RegulatoryGraph:
        """Check node types, index ranges, duplicates and names; raise :class:`InputError` on failure."""
        for node_type, names in self.node_names.items():
            if len(set(names)) != len(names):
                dupes = pd.Index(names)[pd.Index(names).duplicated()].unique()
                msg = f"node type '{node_type}' has duplicate node names ({preview(dupes)}); make names unique"
                raise InputError(msg)
        for edge_type in self.edge_types:
            src_type, _, dst_type = edge_type
            for node_type in (src_type, dst_type):
                if node_type not in self.node_names:
                    msg = f"edge type {edge_type} uses unknown node type '{node_type}' (known: {', '.join(self.node_names)})"
                    raise InputError(msg)
            edge_index = self.edge_index(edge_type)
            for row, node_type in ((0, src_type), (1, dst_type)):
                n = self.num_nodes(node_type)
                if edge_index.numel() and (edge_index[row].min() < 0 or edge_index[row].max() >= n):
                    bad = int(edge_index[row][(edge_index[row] < 0) | (edge_index[row] >= n)][0])
                    msg = f"edge type {edge_type} has index {bad} outside the {n} '{node_type}' nodes (valid 0..{n - 1})"
                    raise InputError(msg)
            key = edge_index[0] * self.num_nodes(dst_type) + edge_index[1]
            if torch.unique(key).numel() != key.numel():
                frame = self.edge_frame(edge_type)
                dupes = frame[frame.duplicated(["source", "target"])]
                pairs = [f"{s}->{t}" for s, t in zip(dupes["source"], dupes["target"])]
                msg = f"edge type {edge_type} has {len(pairs)} duplicate edges ({preview(pairs)}); drop duplicates first"
                raise InputError(msg)
            weight = self.edge_weight(edge_type)
            if weight is not None and (weight.shape[0] != edge_index.shape[1] or not torch.isfinite(weight).all()):
                msg = f"edge type {edge_type} needs one finite weight per edge"
                raise InputError(msg)
        _check_acyclic(self)
        return self

    def restrict_to(self, features: Mapping[NodeType, Iterable[str]]) -> tuple[RegulatoryGraph, RestrictionReport]:
        """Keep only nodes present in the data; edges that lose an endpoint are dropped.

        Parameters
        ----------
        features : mapping of node type -> feature names
            For each listed node type, the new node list is ``features[t]`` in that order (so
            node indices equal column indices of the data). Node types not listed are kept,
            minus nodes that end up with no edge when they are a target type.

        Returns
        -------
        graph : RegulatoryGraph
        report : RestrictionReport
        """
        features = {t: [str(f) for f in v] for t, v in features.items()}
        report = RestrictionReport()
        new_names = dict(self.node_names)
        for node_type, names in features.items():
            if node_type in self.node_names:
                report.dropped_nodes[node_type] = sorted(set(self.node_names[node_type]) - set(names))
            new_names[node_type] = names
        frames = {edge_type: self.edge_frame(edge_type) for edge_type in self.edge_types}
        # Latent node types (not fixed by the data) keep only nodes that still receive an edge
        # and, below the top types, still send one, to a kept parent of their own type too (a
        # gene in no pathway reaches no classifier input); dropping one can cost a neighbour its
        # only edge, so repeat until nothing changes.
        latent = set(t[2] for t in self.edge_types) - set(features)
        top = {t for t in latent if not any(et[0] == t and et[2] != t for et in self.edge_types)}
        while True:
            kept_frames = {
                et: frame[frame["source"].isin(new_names[et[0]]) & frame["target"].isin(new_names[et[2]])]
                for et, frame in frames.items()
            }
            used = {t: set().union(*(set(f["target"]) for et, f in kept_frames.items() if et[2] == t)) for t in latent}
            for t in latent - top:
                used[t] &= set().union(*(set(f["source"]) for et, f in kept_frames.items() if et[0] == t))
            pruned = {t: [n for n in new_names[t] if n in used[t]] for t in latent}
            if all(len(pruned[t]) == len(new_names[t]) for t in latent):
                break
            new_names.update(pruned)
        for edge_type, frame in frames.items():
            report.kept_edges[edge_type] = len(kept_frames[edge_type])
            report.dropped_edges[edge_type] = len(frame) - len(kept_frames[edge_type])
        report.latent_types = latent
        for node_type in sorted(latent):
            report.dropped_nodes[node_type] = sorted(set(self.node_names[node_type]) - set(new_names[node_type]))
        tables = [(frame, et[0], et[2], et[1]) for et, frame in kept_frames.items()]
        graph = RegulatoryGraph.from_edge_tables(tables, node_names=new_names)
        if any(report.dropped_edges.values()):
            msg = f"graph restricted to the data: {report}"
            warnings.warn(msg, stacklevel=2)
        return graph, report

    def restrict_to_data(
        self, feature_names: Mapping[NodeType, Iterable[str]], *, foreign_sources: str = "error"
    ) -> tuple[RegulatoryGraph | None, RestrictionReport]:
        """The prior restricted to a data set's features (node index == column index).

        ``feature_names`` maps each modality to its feature names. A relation that keeps no
        edge raises :class:`InputError` (the ids of graph and data differ). A relation must
        start from a modality or from a latent node type (one some relation ends in); one
        that starts elsewhere raises too, unless ``foreign_sources="ignore"`` (a model refit on
        some of the modalities), which drops it and whatever only it reached. Returns
        ``(None, empty report)`` for a graph without edges.
        """
        if not self.edge_types:
            return None, RestrictionReport()
        measured = sorted({t[2] for t in self.edge_types} & set(feature_names))
        if measured:
            return self.with_measured_targets(measured, feature_names).restrict_to_data(feature_names, foreign_sources=foreign_sources)
        targets = {t[2] for t in self.edge_types}
        for src_type, relation, dst_type in self.edge_types:
            if src_type not in feature_names and src_type not in targets and foreign_sources == "error":
                msg = (
                    f"graph relation {src_type}-{relation}->{dst_type} starts from '{src_type}', which is not a "
                    f"modality of the data ({', '.join(feature_names)}); name the edge source after a modality"
                )
                raise InputError(msg)
        graph = self._without_foreign_sources(set(feature_names))
        if not graph.edge_types:
            return None, RestrictionReport()
        features = {m: names for m, names in feature_names.items() if m in graph.node_types}
        graph, report = graph.restrict_to(features)
        empty = [t for t, kept in report.kept_edges.items() if not kept]
        for edge_type in empty:
            features = set(map(str, feature_names.get(edge_type[0], ())))
            if edge_type[0] in feature_names and not self.edge_frame(edge_type)["source"].isin(features).any():
                examples = preview(self.edge_frame(edge_type)["source"].unique())
                msg = (
                    f"no {edge_type[0]}->{edge_type[2]} edge matches a '{edge_type[0]}' feature of the data "
                    f"(edge sources e.g. {examples}; features e.g. {preview(feature_names[edge_type[0]])}); "
                    "check that both use the same ids"
                )
                raise InputError(msg)
        if empty:
            msg = (
                f"no edge of {relation_name(empty[0])} is left once the prior is matched to the data: its nodes lost every "
                "path from the data or up to the top level; check that the levels of the prior use the same ids"
            )
            raise InputError(msg)
        return graph, report

    def with_measured_targets(self, modalities: Sequence[NodeType], feature_names: Mapping[NodeType, Iterable[str]]) -> RegulatoryGraph:
        """A copy where each of ``modalities`` (measured, and the target of a relation: SNP ->
        TF with TF expression measured) becomes two node types: the modality's features, and
        their activity ``<modality>_activity`` (:data:`ACTIVITY_SUFFIX`), which receives the
        relations that ended in the modality, one ``measured`` edge from each feature to its own
        node, and sends the relations that started from it. The modality's latents and, say, the
        genotypes' then meet at the activity, where the auxiliary maps learn the genetically
        predicted activity from the measured one and impute it when expression is absent.
        """
        names = {t: list(n) for t, n in self.node_names.items()}
        tables = []
        for modality in modalities:
            activity = f"{modality}{ACTIVITY_SUFFIX}"
            if activity in names:
                msg = f"the prior already has a node type '{activity}', the name the activity of the measured '{modality}' takes; rename it"
                raise InputError(msg)
            features = [str(f) for f in feature_names[modality]]
            nodes = list(dict.fromkeys([*names[modality], *features]))
            names[activity] = nodes
            names[modality] = nodes
            tables.append((pd.DataFrame({"source": features, "target": features}), modality, activity, MEASURED_RELATION))
        renamed = {m: f"{m}{ACTIVITY_SUFFIX}" for m in modalities}
        for src_type, relation, dst_type in self.edge_types:
            frame = self.edge_frame((src_type, relation, dst_type))
            tables.append((frame, renamed.get(src_type, src_type), renamed.get(dst_type, dst_type), relation))
        return RegulatoryGraph.from_edge_tables(tables, node_names=names)

    def _without_foreign_sources(self, modalities: set[NodeType]) -> RegulatoryGraph:
        """A copy without the relations from node types that are neither a modality nor reached
        by a kept relation (repeated: dropping one can leave the next level unreached)."""
        kept = list(self.edge_types)
        while True:
            reached = modalities | {t[2] for t in kept if t[0] != t[2]}
            keep = [t for t in kept if t[0] in reached]
            if len(keep) == len(kept):
                break
            kept = keep
        if len(kept) == len(self.edge_types):
            return self
        tables = [(self.edge_frame(t), t[0], t[2], t[1]) for t in kept]
        return RegulatoryGraph.from_edge_tables(tables, node_names={t: self.node_names[t] for t in {x for et in kept for x in (et[0], et[2])}})

    def with_leftover_nodes(self, features: Mapping[NodeType, Sequence[str]], n_nodes: int = LEFTOVER_NODES) -> RegulatoryGraph:
        """A copy plus ``n_nodes`` leftover latent nodes (:func:`leftover_node_names`) and, per
        modality of ``features``, a relation ``unconnected`` from each listed feature to every
        leftover node: features without a prior edge still reach the model (P-NET's leftover node).
        """
        latent = self.latent_type
        leftover = leftover_node_names(n_nodes)
        clash = sorted(set(leftover) & set(self.node_names[latent]))
        if clash:
            msg = f"the prior already has {latent} nodes named {preview(clash)}, the names of the leftover nodes; rename them"
            raise InputError(msg)
        tables = [(self.edge_frame(t), t[0], t[2], t[1]) for t in self.edge_types]
        for modality, names in features.items():
            names = np.asarray(names, dtype=object)
            if len(names):
                frame = pd.DataFrame({"source": np.repeat(names, n_nodes), "target": np.tile(leftover, len(names))})
                tables.append((frame, modality, latent, UNCONNECTED_RELATION))
        return RegulatoryGraph.from_edge_tables(tables, node_names={**self.node_names, latent: [*self.node_names[latent], *leftover]})

    def to_networkx(self) -> nx.DiGraph:
        """A networkx DiGraph keyed by ``(node_type, name)`` with ``node_type``, ``name``,
        ``relation`` and (when known) ``weight`` attributes."""
        graph = nx.DiGraph()
        for node_type, names in self.node_names.items():
            graph.add_nodes_from(((node_type, n), {"node_type": node_type, "name": n}) for n in names)
        for edge_type in self.edge_types:
            src_type, relation, dst_type = edge_type
            frame = self.edge_frame(edge_type)
            weights = frame["weight"] if "weight" in frame else [None] * len(frame)
            for s, t, w in zip(frame["source"], frame["target"], weights):
                attrs = {"relation": relation} if w is None else {"relation": relation, "weight": float(w)}
                graph.add_edge((src_type, s), (dst_type, t), **attrs)
        return graph


def _check_edge_columns(frame: pd.DataFrame) -> None:
    missing = {"source", "target"} - set(frame.columns)
    if missing:
        msg = f"edge table needs columns source,target[,weight] (got {', '.join(repr(str(c)) for c in frame.columns)})"
        raise InputError(msg)
    if "weight" in frame.columns and not pd.api.types.is_numeric_dtype(frame["weight"]):
        msg = "edge table column 'weight' must be numeric"
        raise InputError(msg)


def relation_name(edge_type: EdgeType) -> str:
    """``("snp", "eqtl", "gene")`` -> ``"snp-eqtl->gene"`` (the ``edge_type`` column of edges.csv)."""
    return f"{edge_type[0]}-{edge_type[1]}->{edge_type[2]}"


def parse_relation_name(name: str) -> EdgeType:
    """The inverse of :func:`relation_name`: ``"snp-eqtl->gene"`` -> ``("snp", "eqtl", "gene")``."""
    source_type, rest = name.split("-", 1)
    relation, target_type = rest.rsplit("->", 1)
    return source_type, relation, target_type


def _type_graph(graph: RegulatoryGraph) -> nx.DiGraph:
    """Node types joined by their relations (relations of a type onto itself left out)."""
    types = nx.DiGraph()
    for src_type, _, dst_type in graph.edge_types:
        types.add_nodes_from((src_type, dst_type))
        if src_type != dst_type:
            types.add_edge(src_type, dst_type)
    return types


def _check_acyclic(graph: RegulatoryGraph) -> None:
    """Raise :class:`InputError` for a cycle of node types or a loop within a hierarchy."""
    try:
        cycle = nx.find_cycle(_type_graph(graph))
    except nx.NetworkXNoCycle:
        pass
    else:
        path = " -> ".join([cycle[0][0], *(v for _, v in cycle)])
        msg = f"the relations' node types form a cycle ({path}); relations must run one way, from the data up"
        raise InputError(msg)
    for edge_type in graph.edge_types:
        if edge_type[0] == edge_type[2]:
            hierarchy_levels(graph, edge_type)


def hierarchy_levels(graph: RegulatoryGraph, edge_type: EdgeType) -> torch.Tensor:
    """Level per node of a relation within one node type: 0 without a child, else 1 + the
    highest child's. Raises :class:`InputError` for a loop (a node its own ancestor)."""
    node_type = edge_type[0]
    names = graph.node_names[node_type]
    src, dst = graph.edge_index(edge_type).numpy()
    nodes = nx.DiGraph()
    nodes.add_nodes_from(range(len(names)))
    nodes.add_edges_from(zip(src.tolist(), dst.tolist()))
    try:
        loop = nx.find_cycle(nodes)
    except nx.NetworkXNoCycle:
        pass
    else:
        members = [names[u] for u, _ in loop]
        msg = f"the hierarchy {relation_name(edge_type)} has a loop ({' -> '.join([*members, members[0]])}); a node cannot be its own ancestor"
        raise InputError(msg)
    levels = np.zeros(len(names), dtype=np.int64)
    for node in nx.topological_sort(nodes):
        for parent in nodes.successors(node):
            levels[parent] = max(levels[parent], levels[node] + 1)
    return torch.from_numpy(levels)


def _layout(graph: RegulatoryGraph) -> GraphLayout:
    types = _type_graph(graph)
    hierarchies = [t for t in graph.edge_types if t[0] == t[2]]
    inputs = [t for t in types if types.in_degree(t) == 0]
    for node_type in {t[0] for t in hierarchies}:
        within = [relation_name(t) for t in hierarchies if t[0] == node_type]
        if len(within) > 1:
            msg = f"node type '{node_type}' has {len(within)} hierarchies ({', '.join(within)}); merge them into one relation"
            raise InputError(msg)
    for edge_type in hierarchies:
        if edge_type[0] in inputs:
            msg = (
                f"nothing but the hierarchy {relation_name(edge_type)} reaches node type '{edge_type[0]}'; "
                "add a relation from the data into it (e.g. gene -> pathway)"
            )
            raise InputError(msg)
    reach = {t: nx.descendants(types, t) for t in types}
    common = set.intersection(*(reach[t] for t in inputs))
    # Where the inputs meet: the lowest type every input reaches that cuts the graph in two,
    # no relation from below it ending above it.
    def cuts(m: NodeType) -> bool:
        return not any(s not in reach[m] and s != m and d in reach[m] for s, _, d in graph.edge_types)

    meeting = next((m for m in nx.topological_sort(types) if m in common and cuts(m)), None)
    if meeting is None:
        msg = f"the inputs {', '.join(inputs)} meet at no node type; every input needs a path to one shared latent node type"
        raise InputError(msg)
    above = [t for t in nx.topological_sort(types) if t in reach[meeting]]
    below = [t for t in nx.topological_sort(types) if t not in inputs and t != meeting and t not in reach[meeting]]
    for node_type in below:
        if meeting not in reach[node_type]:
            msg = f"node type '{node_type}' leads nowhere near '{meeting}', where the inputs meet; connect it or drop its relations"
            raise InputError(msg)
        sources = [i for i in inputs if node_type in reach[i]]
        if len(sources) > 1:
            msg = (
                f"node type '{node_type}' lies below '{meeting}', where the inputs meet, and is reached from several inputs "
                f"({', '.join(sources)}); let every input's relations end at or below one shared node type"
            )
            raise InputError(msg)
    levels = {t[0]: hierarchy_levels(graph, t) for t in hierarchies}
    read = {}
    for node_type in [meeting, *above]:

        has_out = torch.zeros(graph.num_nodes(node_type), dtype=torch.bool)
        for edge_type in graph.relations_from(node_type):
            has_out[graph.edge_index(edge_type)[0]] = True
        read[node_type] = torch.nonzero(~has_out).view(-1)
    order = [t for t in nx.topological_sort(types) if t not in inputs]
    own = {i: [t for t in below if t in reach[i]] for i in inputs}
    return GraphLayout(inputs, order, meeting, below, above, own, levels, read)
