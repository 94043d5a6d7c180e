"""Null versions of a prior graph for ablations (same node sets, same relations).

- ``random``: per relation, the same number of edges drawn uniformly among all pairs.
- ``bernoulli``: the paper's DeepGAMI-Bernoulli, read as: per relation the same number of
  edges, each drawn from the prior edges with probability 0.8 and from the non-edges with
  probability 0.2 (so about 80 % of the prior is kept and 20 % of the edges are new).
- ``shuffle``: degree-preserving shuffle: targets are permuted among the edges of a relation
  (every source keeps its out-degree, every target its in-degree), duplicates then swapped away.
"""

from __future__ import annotations

import numpy as np
import torch

from ..graph import RegulatoryGraph

NULL_GRAPHS = ("random", "bernoulli", "shuffle")


def null_graph(graph: RegulatoryGraph, kind: str, *, seed: int = 0, keep_probability: float = 0.8) -> RegulatoryGraph:
    """A null version of ``graph`` of the given ``kind`` (see module docstring)."""
    if kind not in NULL_GRAPHS:
        msg = f"null graph kind must be one of {NULL_GRAPHS} (got {kind!r})"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    edges = {}
    for edge_type in graph.edge_types:
        n_src, n_dst = graph.num_nodes(edge_type[0]), graph.num_nodes(edge_type[2])
        src, dst = graph.edge_index(edge_type).numpy()
        if kind == "random":
            flat = _sample_pairs(rng, n_src * n_dst, len(src), exclude=np.array([], dtype=np.int64))
        elif kind == "bernoulli":
            n_kept = rng.binomial(len(src), keep_probability)
            prior = src.astype(np.int64) * n_dst + dst
            kept = rng.choice(prior, size=n_kept, replace=False)
            new = _sample_pairs(rng, n_src * n_dst, len(src) - n_kept, exclude=prior)
            flat = np.concatenate([kept, new])
        else:
            flat = _shuffle_targets(rng, src.astype(np.int64), dst.astype(np.int64), n_dst)
        edges[edge_type] = torch.from_numpy(np.stack([flat // n_dst, flat % n_dst]))
    return RegulatoryGraph(graph.node_names, edges)


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
