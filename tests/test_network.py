"""Prioritised networks, summaries, enrichment, exports, and `deepgami explain` end to end."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom
from test_cli_errors import assert_clean_error, run_cli

from deepgami import InputError
from deepgami.cli import main
from deepgami.network import (
    class_overlap,
    enrichment,
    hubs,
    modules,
    prioritized_network,
    read_gmt,
    top_edges,
    write_cytoscape,
)
from deepgami.simulate import simulate_cohort

EDGES = pd.DataFrame(
    {
        "edge_type": ["snp-eqtl->gene"] * 4 + ["tf-regulates->gene"] * 3,
        "source": ["rs1", "rs2", "rs3", "rs4", "T1", "T1", "T2"],
        "target": ["A", "A", "B", "C", "A", "B", "D"],
        "class": ["case"] * 7,
        "score": [0.9, -0.8, 0.5, 0.05, 0.7, 0.6, 0.01],
        "abs_score": [0.9, 0.8, 0.5, 0.05, 0.7, 0.6, 0.01],
        "rank": [1, 2, 5, 6, 3, 4, 7],
        "weight": [1.0, -1.0, 0.5, 0.1, 0.3, 0.2, 0.1],
    }
)


def test_prioritized_network_hubs_modules():
    graph = prioritized_network(EDGES, "case", top_k=5)
    assert graph.number_of_edges() == 5
    assert graph.nodes["gene:A"]["node_type"] == "gene" and graph.nodes["gene:A"]["score"] == pytest.approx(2.4)
    assert graph.edges["snp:rs1", "gene:A"]["relation"] == "eqtl"
    table = hubs(graph)
    assert table.iloc[0].to_dict() == {"role": "regulator", "node_type": "tf", "name": "T1", "degree": 2, "score": pytest.approx(1.3)}
    assert table[table["role"] == "target hub"].iloc[0]["name"] == "A"
    mods = modules(graph)
    assert mods.loc[0, "n_nodes"] == 6 and mods.loc[0, "n_edges"] == 5
    assert len(top_edges(EDGES, "case", top_fraction=0.3)) == 2
    with pytest.raises(InputError, match="no edge attributions for class"):
        top_edges(EDGES, "control")


def test_class_overlap():
    other = EDGES.assign(**{"class": "control", "rank": [7, 6, 5, 4, 3, 2, 1]})
    networks = {c: prioritized_network(pd.concat([EDGES, other]), c, top_k=3) for c in ("case", "control")}
    overlap = class_overlap(networks)
    assert overlap.loc[0, ["n_a", "n_b", "shared"]].tolist() == [3, 3, 1]
    assert overlap.loc[0, "jaccard"] == pytest.approx(1 / 5)


def test_enrichment_matches_the_hypergeometric_tail(tmp_path):
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("SET1\tfirst\tA\tB\tC\tD\nSET2\tsecond\tE\tF\tG\tH\tI\nTINY\tx\tA\n")
    sets = read_gmt(gmt)
    background = list("ABCDEFGHIJKLMNOPQRST")
    table = enrichment(["A", "B", "C", "Z"], sets, background)
    assert list(table["gene_set"]) == ["SET1", "SET2"]  # TINY is below min_size
    first = table.iloc[0]
    assert first["overlap"] == 3 and first["genes"] == "A,B,C"
    assert first["p_value"] == pytest.approx(hypergeom.sf(2, 20, 4, 3))
    assert table["fdr"].iloc[0] >= first["p_value"]
    with pytest.raises(InputError, match="not GMT"):
        (tmp_path / "bad.gmt").write_text("only_one_field\n")
        read_gmt(tmp_path / "bad.gmt")


def test_cytoscape_export_reads_back(tmp_path):
    graph = prioritized_network(EDGES, "case", top_k=4)
    graphml, nodes, edges = write_cytoscape(graph, tmp_path, "net")
    back = nx.read_graphml(graphml)
    assert back.number_of_edges() == 4 and back.nodes["gene:A"]["node_type"] == "gene"
    assert list(pd.read_csv(nodes).columns) == ["id", "node_type", "name", "score"]
    assert set(pd.read_csv(edges)["interaction"]) <= {"eqtl", "regulates"}


def test_cli_explain_end_to_end(tmp_path, capsys):
    cohort = simulate_cohort(n_samples=100, n_snps=120, n_tfs=15, n_genes=30, seed=4)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + "\n[training]\nmax_epochs = 5\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    gmt = tmp_path / "genes.gmt"
    genes = cohort.genes.columns
    gmt.write_text("".join(f"S{i}\tset {i}\t" + "\t".join(genes[i::5]) + "\n" for i in range(5)))
    code = main(["explain", str(tmp_path / "run"), "--out", str(tmp_path / "exp"), "--n-steps", "20", "--gmt", str(gmt)])
    assert code == 0
    out = tmp_path / "exp"
    for name in ("features.csv", "latents.csv", "edges.csv", "explain.json", "hubs.csv", "modules.csv",
                 "class_overlap.csv", "enrichment_case.csv", "top_features.png", "network_case.png",
                 "class_comparison.png", "networks/network_case.graphml", "networks/network_control_edges.csv"):
        assert (out / name).is_file(), name
    edges = pd.read_csv(out / "edges.csv")
    assert list(edges.columns[:7]) == ["edge_type", "source", "target", "class", "score", "abs_score", "rank"]
    report = json.loads((out / "explain.json").read_text())
    assert report["settings"]["n_samples"] == 20 and report["settings"]["samples"] == "test"
    assert all(gaps["edges_relative_gap"] < 0.05 for gaps in report["completeness"].values())
    assert "top links for case" in capsys.readouterr().out
    # single-modality explanation touches only that modality's edges
    assert main(["-q", "explain", str(tmp_path / "run"), "--out", str(tmp_path / "exp_tf"), "--modality", "tf", "--n-steps", "5"]) == 0
    assert set(pd.read_csv(tmp_path / "exp_tf" / "edges.csv")["edge_type"]) == {"tf-regulates->gene"}
    bad = tmp_path / "bad"
    assert_clean_error(*run_cli(capsys, "explain", tmp_path / "run", "--out", bad, "--modality", "rna"), bad, "not a modality of the model")


def test_cli_explain_cuts_networks_by_q_value(tmp_path, capsys):
    cohort = simulate_cohort(n_samples=200, n_snps=120, n_tfs=15, n_genes=30, difficulty="easy", seed=4)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + "\n[model]\nn_members = 3\nnull_members = 3\n[training]\nmax_epochs = 20\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["n_members"] == 3 and set(metrics["edge_movement"]) == {"snp-eqtl", "tf-regulates"}
    assert set(metrics["out_of_fold"]) == set(metrics["test"]["all"])  # cross-fitted members score the training rows
    assert main(["explain", str(tmp_path / "run"), "--out", str(tmp_path / "exp"), "--n-steps", "8", "--max-q-value", "0.5"]) == 0
    assert "edges with q_value <= 0.1" in capsys.readouterr().out
    edges = pd.read_csv(tmp_path / "exp" / "edges.csv")
    assert {"stability", "q_value"} <= set(edges.columns) and edges["q_value"].notna().all()
    for _, rows in edges.groupby("class"):
        ordered = rows.sort_values("abs_score", ascending=False, kind="stable")["q_value"].to_numpy()
        assert np.all(np.diff(ordered) >= -1e-12), "q-values never fall as the score falls"
        assert ordered[0] < ordered[-1], "the q-values tell the top edge from the bottom one"
    network = pd.read_csv(tmp_path / "exp" / "networks" / "network_case_edges.csv")
    expected = edges[(edges["class"] == "case") & (edges["q_value"] <= 0.5)]
    assert len(network) == len(expected) > 0
    # An impossible cut fails with one line and writes nothing.
    none = tmp_path / "none"
    result = run_cli(capsys, "explain", tmp_path / "run", "--out", none, "--n-steps", "4", "--max-q-value", "1e-9")
    assert_clean_error(*result, none, "raise --max-q-value")


def test_cutting_by_q_value_needs_null_members():
    edges = pd.DataFrame({"edge_type": ["snp-eqtl->gene"], "source": ["a"], "target": ["g"], "class": ["case"], "score": [1.0],
                          "abs_score": [1.0], "rank": [1], "weight": [0.1], "stability": [1.0], "q_value": [np.nan]})
    with pytest.raises(InputError, match="no null members"):
        top_edges(edges, "case", max_q_value=0.1)


def test_cli_explain_refuses_a_q_cut_before_explaining_a_model_without_null_members(tmp_path, capsys):
    cohort = simulate_cohort(n_samples=100, n_snps=120, n_tfs=15, n_genes=30, seed=4)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    out = tmp_path / "exp"
    assert_clean_error(*run_cli(capsys, "explain", tmp_path / "run", "--out", out, "--max-q-value", "0.1"), out, "no null members")
    assert_clean_error(*run_cli(capsys, "explain", tmp_path / "run", "--out", out, "--max-q-value", "1.5"), out, "(0, 1]")


def test_cli_explain_says_what_it_cannot_write(tmp_path, capsys):
    """A GMT over other ids than the latent nodes, or a model without a prior, fails before any
    attribution runs (one line, nothing written); without a prior, explain says it writes no networks."""
    cohort = simulate_cohort(n_samples=100, n_snps=120, n_tfs=15, n_genes=30, seed=4)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    pathways = tmp_path / "pathways.gmt"
    pathways.write_text("P1\tpathway\tR-HSA-1\tR-HSA-2\tR-HSA-3\n")
    capsys.readouterr()
    out = tmp_path / "exp"
    result = run_cli(capsys, "explain", tmp_path / "run", "--out", out, "--gmt", pathways)
    assert_clean_error(*result, out, "names no 'gene' node of the model", "R-HSA-1")

    no_graph = config.read_text().split("[[graph.edges]]")[0] + "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n"
    config.write_text(no_graph)
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "dense")]) == 0
    capsys.readouterr()
    assert_clean_error(*run_cli(capsys, "explain", tmp_path / "dense", "--out", out, "--gmt", pathways), out, "no prior graph")
    assert main(["explain", str(tmp_path / "dense"), "--out", str(tmp_path / "exp"), "--n-steps", "4"]) == 0
    assert "no prior edges: edges.csv is empty, no networks" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "exp" / "edges.csv").empty and not (tmp_path / "exp" / "networks").exists()
