"""RegulatoryGraph: construction, validation, restriction, networkx round trip."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
import torch

from deepgami import InputError, RegulatoryGraph

EQTL = pd.DataFrame({"source": ["rs1", "rs2", "rs3", "rs3"], "target": ["A", "A", "B", "C"], "weight": [0.5, 1.0, -0.2, 0.3]})
GRN = pd.DataFrame({"source": ["TP53", "MYC"], "target": ["B", "C"]})


def build():
    return RegulatoryGraph.from_edge_tables([(EQTL, "snp", "gene", "eqtl"), (GRN, "tf", "gene", "regulates")])


def test_from_edge_tables_builds_typed_heterodata():
    graph = build()
    assert graph.node_names == {"snp": ["rs1", "rs2", "rs3"], "gene": ["A", "B", "C"], "tf": ["MYC", "TP53"]}
    assert graph.edge_types == [("snp", "eqtl", "gene"), ("tf", "regulates", "gene")]
    assert graph.data["snp", "eqtl", "gene"].edge_index.tolist() == [[0, 1, 2, 2], [0, 0, 1, 2]]
    torch.testing.assert_close(graph.edge_weight(("snp", "eqtl", "gene")), torch.tensor([0.5, 1.0, -0.2, 0.3]))
    assert graph.edge_weight(("tf", "regulates", "gene")) is None
    summary = graph.summary()
    assert summary["n_edges"].tolist() == [4, 2]
    assert "snp-eqtl->gene=4" in repr(graph)


def test_networkx_round_trip():
    graph = build()
    nxg = graph.to_networkx()
    assert nxg.number_of_edges() == 6
    assert nxg.edges[("snp", "rs1"), ("gene", "A")] == {"relation": "eqtl", "weight": 0.5}
    back = RegulatoryGraph.from_networkx(nxg)
    assert back.edge_frame(("snp", "eqtl", "gene")).sort_values(["source", "target"]).reset_index(drop=True).equals(
        graph.edge_frame(("snp", "eqtl", "gene"))
    )
    with pytest.raises(InputError, match="node_type"):
        RegulatoryGraph.from_networkx(nx.DiGraph([("a", "b")]))


def test_restrict_to_reports_what_was_dropped():
    graph = build()
    with pytest.warns(UserWarning, match="graph restricted"):
        restricted, report = graph.restrict_to({"snp": ["rs3", "rs1", "rs9"], "tf": ["MYC", "TP53"]})
    assert restricted.node_names["snp"] == ["rs3", "rs1", "rs9"]  # data order, isolated rs9 kept
    assert report.dropped_nodes["snp"] == ["rs2"]
    assert report.dropped_edges[("snp", "eqtl", "gene")] == 1
    assert restricted.edge_frame(("snp", "eqtl", "gene")).shape[0] == 3
    assert "kept 3 edges, dropped 1" in str(report)


@pytest.mark.parametrize(
    ("node_names", "edges", "message"),
    [
        ({"snp": ["a", "a"], "gene": ["g"]}, {}, "duplicate node names"),
        ({"snp": ["a"], "gene": ["g"]}, {("snp", "eqtl", "gene"): [[0], [3]]}, "outside the 1 'gene' nodes"),
        ({"snp": ["a"], "gene": ["g"]}, {("cpg", "x", "gene"): [[0], [0]]}, "unknown node type 'cpg'"),
        ({"snp": ["a"], "gene": ["g"]}, {("snp", "eqtl", "gene"): [[0, 0], [0, 0]]}, "duplicate edges"),
    ],
)
def test_validate_errors(node_names, edges, message):
    with pytest.raises(InputError, match=message):
        RegulatoryGraph(node_names, {k: torch.tensor(v) for k, v in edges.items()})


def test_edge_table_errors():
    with pytest.raises(InputError, match="columns source,target"):
        RegulatoryGraph.from_edge_tables([(pd.DataFrame({"from": ["a"], "to": ["b"]}), "snp", "gene")])
    with pytest.raises(InputError, match="given twice"):
        RegulatoryGraph.from_edge_tables([(GRN, "tf", "gene"), (GRN, "tf", "gene")])
