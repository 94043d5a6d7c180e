"""Tutorial 07 (deep priors: a planted SNP -> TF -> gene -> pathway hierarchy, paths, the real
hierarchy against a shuffled one, Reactome from ``binn``) runs top to bottom in quick mode."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_tutorial


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
def test_deep_graphs_tutorial(tmp_path):
    result = run_tutorial("07_deep_graphs", tmp_path)
    folder = tmp_path / "07_deep_graphs"
    for relative in ["run/metrics.json", "explain/edges.csv", "explain/paths.csv", "explain/paths_case.png", "pathway_ranking.csv",
                     "cv/results.csv", "cv/summary.md", "summary.json"]:  # fmt: skip
        assert (folder / relative).is_file(), relative
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["quick"] is True and "done in" in result.stdout
    assert summary["test_auc"] > 0.55  # the deep prior learns (a constant prediction scores 0.5)
    assert summary["cv_methods"] == ["deepgami", "deepgami_shuffle_graph", "logistic_l2"]
    assert summary["reactome"]["levels"] >= 3
    ranking = pd.read_csv(folder / "pathway_ranking.csv")
    assert set(ranking["level"]) == {1, 2, 3}
    edges = pd.read_csv(folder / "explain" / "edges.csv")
    assert {"snp-eqtl->tf", "pathway-parent->pathway"} <= set(edges["edge_type"])
