"""Tutorials 02 (own graph) and 04 (network biology) run top to bottom in quick mode."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from conftest import run_tutorial


@pytest.mark.slow
def test_own_graph_tutorial(tmp_path):
    result = run_tutorial("02_own_graph", tmp_path)
    folder = tmp_path / "02_own_graph"
    for relative in [
        "files/cohort.bed", "files/cohort.bim", "files/cohort.fam", "files/biomart_genes.tsv",
        "files/Simulated_Tissue.v8.signif_variant_gene_pairs.txt.gz", "files/trrust_rawdata.simulated.tsv",
        "graph_summary.csv", "ablation.csv", "ablation.png", "model/weights.safetensors", "model/model.json",
    ]:  # fmt: skip
        assert (folder / relative).is_file(), relative
    ablation = pd.read_csv(folder / "ablation.csv")
    assert set(ablation["graph"]) == {"prior", "random", "bernoulli", "shuffle"}
    # Null graphs keep the prior's edge count; the planted prior predicts well above chance.
    assert ablation["n_edges"].nunique() == 1
    assert ablation.set_index("graph").loc["prior", "auc"] > 0.6
    # Every kind of flaw planted in the files is reported as a drop.
    for step in ("[translate_variant_ids]", "[harmonise_ids]", "[load_trrust]", "[restrict_to]"):
        assert step in result.stdout, step
    assert "dropped" in result.stdout and "nonsignificant" in result.stdout


@pytest.mark.slow
def test_network_biology_tutorial(tmp_path):
    result = run_tutorial("04_network_biology", tmp_path)
    folder = tmp_path / "04_network_biology"
    expected = [
        "edges.csv", "features.csv", "hubs.csv", "modules.csv", "class_overlap.csv", "reactome.gmt",
        "simulated_sets.gmt", "enrichment_reactome.csv", "enrichment_simulated.csv",
        "figures/class_comparison.png", "figures/top_features.png",
    ]  # fmt: skip
    for label in ("class_0", "class_1", "class_2"):
        expected += [
            f"networks/network_{label}.graphml", f"networks/network_{label}_nodes.csv",
            f"networks/network_{label}_edges.csv", f"figures/network_{label}.png",
        ]  # fmt: skip
    for relative in expected:
        assert (folder / relative).is_file(), relative
    graph = nx.read_graphml(folder / "networks" / "network_class_0.graphml")
    assert graph.is_directed() and graph.number_of_edges() > 0
    edges = pd.read_csv(folder / "networks" / "network_class_0_edges.csv")
    assert len(edges) == graph.number_of_edges()
    simulated = pd.read_csv(folder / "enrichment_simulated.csv")
    assert "SIM_CAUSAL_GENES" in set(simulated["gene_set"])
    assert "read network_class_2.graphml back with networkx" in result.stdout
