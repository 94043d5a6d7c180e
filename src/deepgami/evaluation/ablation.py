"""Null versions of a prior graph for ablations (same node sets, same relations).

In ``deepgami cv`` the node sets are first widened to every feature of the data
(:func:`with_feature_nodes`), so a null graph can wire any genotyped SNP, not only the SNPs
that carry a prior edge; otherwise every null inherits the prior's choice of sources.

- ``random``: per relation, the same number of edges drawn uniformly among all pairs.
- ``bernoulli``: the paper's DeepGAMI-Bernoulli, read as: per relation the same number of
  edges, each drawn from the prior edges with probability 0.8 and from the non-edges with
  probability 0.2 (so about 80 % of the prior is kept and 20 % of the edges are new).
- ``shuffle``: degree-preserving shuffle: targets are permuted among the edges of a relation
  (every source keeps its out-degree, every target its in-degree), duplicates then swapped away.

A hierarchy (a relation within one node type, child -> parent) is randomised per pair of
levels: the edges from level ``a`` to level ``b`` are redrawn among the nodes of those levels,
so the null hierarchy stays acyclic and keeps its depth. ``relations`` limits the null to some
relations ("the real hierarchy against a shuffled one" keeps the others as they are).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch

from .._typing import EdgeType
from ..graph import RegulatoryGraph, hierarchy_levels

NULL_GRAPHS = ("random", "bernoulli", "shuffle")


def with_feature_nodes(graph: RegulatoryGraph, features: Mapping[str, Sequence[str]]) -> RegulatoryGraph:
    """``graph`` with the ``features`` of each node type it lacks appended as nodes without edges."""
    names = {t: list(n) for t, n in graph.node_names.items()}
    for node_type, feature_names in features.items():
        if node_type in names:
            known = set(names[node_type])
            names[node_type] += [str(f) for f in feature_names if str(f) not in known]
    edge_types = graph.edge_types
    weights = {t: graph.edge_weight(t) for t in edge_types if graph.edge_weight(t) is not None}
    return RegulatoryGraph(names, {t: graph.edge_index(t) for t in edge_types}, weights)


def null_graph(
    graph: RegulatoryGraph, kind: str, *, seed: int = 0, keep_probability: float = 0.8, relations: Sequence[EdgeType] | None = None
) -> RegulatoryGraph:
    """A null version of ``graph`` of the given ``kind`` (see module docstring), of every
    relation or of ``relations`` only."""
    if kind not in NULL_GRAPHS:
        msg = f"null graph kind must be one of {NULL_GRAPHS} (got {kind!r})"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    edges = {}
    for edge_type in graph.edge_types:
        src, dst = graph.edge_index(edge_type).numpy().astype(np.int64)
        if relations is not None and edge_type not in relations:
            edges[edge_type] = graph.edge_index(edge_type)
            continue
        if edge_type[0] != edge_type[2]:
            n_src, n_dst = graph.num_nodes(edge_type[0]), graph.num_nodes(edge_type[2])
            groups = [(src, dst, np.arange(n_src), np.arange(n_dst))]
        else:
            level = hierarchy_levels(graph, edge_type).numpy()
            pairs = sorted(set(zip(level[src].tolist(), level[dst].tolist())))
            groups = [
                (src[(level[src] == a) & (level[dst] == b)], dst[(level[src] == a) & (level[dst] == b)],
                 np.flatnonzero(level == a), np.flatnonzero(level == b))
                for a, b in pairs
            ]
        new_src, new_dst = [], []
        for group_src, group_dst, sources, targets in groups:
            # Local indices within the group's nodes, drawn there, mapped back.
            local_src, local_dst = np.searchsorted(sources, group_src), np.searchsorted(targets, group_dst)
            flat = _null_pairs(rng, kind, local_src, local_dst, len(sources), len(targets), keep_probability)
            new_src.append(sources[flat // len(targets)])
            new_dst.append(targets[flat % len(targets)])
        edges[edge_type] = torch.from_numpy(np.stack([np.concatenate(new_src), np.concatenate(new_dst)]))
    return RegulatoryGraph(graph.node_names, edges)


def _null_pairs(
    rng: np.random.Generator, kind: str, src: np.ndarray, dst: np.ndarray, n_src: int, n_dst: int, keep_probability: float
) -> np.ndarray:
    """Flat pair indices (``src * n_dst + dst``) of one relation's (or level pair's) null edges."""
    if kind == "random":
        return _sample_pairs(rng, n_src * n_dst, len(src), exclude=np.array([], dtype=np.int64))
    if kind == "bernoulli":
        n_kept = rng.binomial(len(src), keep_probability)
        prior = src * n_dst + dst
        kept = rng.choice(prior, size=n_kept, replace=False)
        new = _sample_pairs(rng, n_src * n_dst, len(src) - n_kept, exclude=prior)
        return np.concatenate([kept, new])
    return _shuffle_targets(rng, src, dst, n_dst)


def _sample_pairs(rng: np.random.Generator, n_pairs: int, n: int, exclude: np.ndarray) -> np.ndarray:
    """``n`` distinct flat pair indices in ``[0, n_pairs)`` avoiding ``exclude`` (rejection sampling)."""
    available = n_pairs - len(np.unique(exclude))
    if n > available:
        msg = f"cannot draw {n} new edges among {available} free pairs"
        raise ValueError(msg)
    chosen = np.array([], dtype=np.int64)
    while len(chosen) < n:
        draw = rng.integers(0, n_pairs, size=2 * (n - len(chosen)) + 16)
        draw = draw[~np.isin(draw, exclude)]
        chosen = np.unique(np.concatenate([chosen, draw]))
    return rng.permutation(chosen)[:n]


def _shuffle_targets(rng: np.random.Generator, src: np.ndarray, dst: np.ndarray, n_dst: int) -> np.ndarray:
    dst = rng.permutation(dst)
    for _ in range(1000):
        flat = src * n_dst + dst
        _, first = np.unique(flat, return_index=True)
        duplicates = np.setdiff1d(np.arange(len(flat)), first)
        if len(duplicates) == 0:
            return flat
        # Swap each duplicate's target with a random edge's target, one pair at a time so the
        # multiset of targets (the in-degrees) is kept exactly; duplicates are few.
        for position, partner in zip(duplicates, rng.integers(0, len(dst), size=len(duplicates))):
            dst[position], dst[partner] = dst[partner], dst[position]
    msg = "degree-preserving shuffle did not converge; the relation is too dense to shuffle"
    raise ValueError(msg)
