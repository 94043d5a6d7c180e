"""Null graphs: sizes, what they keep of the prior, and the node universe they draw from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepgami.evaluation.ablation import null_graph
from deepgami.graph import RegulatoryGraph


def _prior(isolated: int = 0) -> RegulatoryGraph:
    rng = np.random.default_rng(0)
    edges = pd.DataFrame({"source": [f"s{i}" for i in range(40)], "target": [f"g{i}" for i in rng.integers(0, 10, 40)]})
    edges = edges.drop_duplicates()
    nodes = {"snp": [f"s{i}" for i in range(40 + isolated)]} if isolated else None
    return RegulatoryGraph.from_edge_tables([(edges, "snp", "gene", "eqtl")], node_names=nodes)


def test_every_null_keeps_the_edge_count_and_bernoulli_keeps_about_80_percent():
    prior = _prior()
    edge_type = prior.edge_types[0]
    pairs = set(map(tuple, prior.edge_index(edge_type).T.tolist()))
    kept = []
    for seed in range(20):
        for kind in ("random", "bernoulli", "shuffle"):
            null = null_graph(prior, kind, seed=seed)
            index = null.edge_index(edge_type)
            assert index.shape == prior.edge_index(edge_type).shape
            assert len(set(map(tuple, index.T.tolist()))) == index.shape[1]
        bern = null_graph(prior, "bernoulli", seed=seed).edge_index(edge_type)
        kept.append(np.mean([tuple(e) in pairs for e in bern.T.tolist()]))
    assert 0.7 < np.mean(kept) < 0.9


def test_random_and_bernoulli_draw_over_isolated_nodes_shuffle_keeps_degrees():
    prior = _prior(isolated=400)
    edge_type = prior.edge_types[0]
    src = prior.edge_index(edge_type)[0].numpy()
    for kind in ("random", "bernoulli"):
        drawn = null_graph(prior, kind, seed=1).edge_index(edge_type)[0].numpy()
        assert (drawn >= 40).any()  # sources outside the prior's 40 SNPs
    shuffled = null_graph(prior, "shuffle", seed=1).edge_index(edge_type)
    assert np.array_equal(np.bincount(shuffled[0].numpy(), minlength=440), np.bincount(src, minlength=440))
    assert np.array_equal(np.bincount(shuffled[1].numpy(), minlength=10), np.bincount(prior.edge_index(edge_type)[1].numpy(), minlength=10))


def test_with_feature_nodes_widens_sources_without_moving_edges():
    from deepgami.evaluation.ablation import with_feature_nodes

    prior = _prior()
    edge_type = prior.edge_types[0]
    wide = with_feature_nodes(prior, {"snp": [f"s{i}" for i in range(60)], "rna": ["x"]})
    assert wide.num_nodes("snp") == 60 and "rna" not in wide.node_types
    assert wide.node_names["snp"][:40] == prior.node_names["snp"]
    assert wide.edge_frame(edge_type).equals(prior.edge_frame(edge_type))
    sources = set()
    for seed in range(5):
        sources |= set(null_graph(wide, "random", seed=seed).edge_frame(edge_type)["source"])
    assert any(int(s[1:]) >= 40 for s in sources)  # nulls now reach SNPs without a prior edge
