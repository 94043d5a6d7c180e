"""`deepgami cv` for regression and survival: per-task methods, selection, metrics, summary and figures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_cli_errors import assert_clean_error, run_cli

from deepgami import InputError, MultiOmicsData
from deepgami.checkpoint import Checkpoint
from deepgami.config import load_config
from deepgami.evaluation.cv import (
    TEST_METRICS,
    CVSettings,
    SeedAverage,
    _fit,
    _survival_of,
    candidates,
    null_graph_comparison,
    outer_splits,
    run_cv,
    write_cv,
)
from deepgami.simulate import simulate_cohort
from deepgami.workflow import cv_settings, load_data, run_cv_job

FAST_DEEPGAMI = "\n[model]\nn_members = 2\nnull_members = 0\nlatent_dim = 8\n[training]\nmax_epochs = 20\n"


def _cohort(phenotype: str, seed: int = 5):
    # A mostly linear truth the penalised linear baselines can find from 96 training rows.
    return simulate_cohort(
        n_samples=120, n_snps=60, n_tfs=10, n_genes=12, difficulty="easy", gene_activation="linear",
        phenotype=phenotype, log_hazard_ratio=2.0, seed=seed,
    )  # fmt: skip


@pytest.fixture(scope="module")
def regression_config(tmp_path_factory):
    return _cohort("continuous").write(tmp_path_factory.mktemp("regression"))


@pytest.fixture(scope="module")
def survival_config(tmp_path_factory):
    return _cohort("survival").write(tmp_path_factory.mktemp("survival"))


def _with_tables(config, tmp_path, tables: str):
    """A copy of the cohort's config (same data files) with ``tables`` appended."""
    path = tmp_path / "config.toml"
    text = config.read_text().replace('path = "', f'path = "{config.parent}/').replace('labels = "', f'labels = "{config.parent}/')
    path.write_text(text + tables)
    return path


def _test_rows(results: pd.DataFrame) -> pd.DataFrame:
    return results[results["fold"] == "test"]


def test_default_methods_per_task_keep_the_classification_list():
    names = {task: [c.name for c in candidates(CVSettings(task=task, ablations=[]), None)] for task in TEST_METRICS}
    assert names["classification"] == [
        "deepgami", "logistic_l2", "logistic_lasso", "random_forest", "svm", "mlp", "late_fusion", "mofa_lr",
        "snf_label_propagation", "varmole", "mogonet",
    ]  # fmt: skip
    assert names["regression"] == ["deepgami", "ridge", "lasso", "elastic_net", "random_forest", "mlp", "late_fusion"]
    assert names["survival"] == ["deepgami", "coxnet", "random_survival_forest", "cox_ph", "late_fusion"]
    with pytest.raises(InputError, match="unknown method 'coxnet', which is a method of survival tasks, not of regression"):
        candidates(CVSettings(task="regression", methods=["coxnet"]), None)
    with pytest.raises(InputError, match=r"\[search.ridge\] names no baseline, which is a method of regression tasks"):
        candidates(CVSettings(task="survival", method_grids={"ridge": {"alpha": [1.0]}}), None)
    with pytest.raises(InputError, match="task must be one of"):
        candidates(CVSettings(task="ranking"), None)


def test_regression_cv_through_the_workflow(regression_config, tmp_path):
    tables = FAST_DEEPGAMI + '[cv]\nfolds = 2\nmethods = ["deepgami", "ridge", "late_fusion"]\nablations = ["random"]\n'
    config = load_config(_with_tables(regression_config, tmp_path, tables))
    assert cv_settings(config).task == "regression"
    result, _ = run_cv_job(config, tmp_path / "cv")
    assert result.task == "regression"
    test = _test_rows(result.results)
    methods = ["deepgami", "ridge", "late_fusion", "deepgami_random_graph"]
    assert list(test["method"].unique()) == methods
    for method in methods:
        part = test[test["method"] == method]
        for modalities in ("all", "snp", "tf"):
            assert set(part.loc[part["modalities"] == modalities, "metric"]) == set(TEST_METRICS["regression"]), (method, modalities)
    # R² selects: DeepGAMI on its out-of-fold predictions, ridge on the inner folds.
    inner = result.results[result.results["metric"] == "inner_r2"]
    assert set(inner.loc[inner["method"] == "deepgami", "fold"]) == {"oof"}
    assert set(inner.loc[inner["method"] == "ridge", "fold"]) == {0, 1}
    assert not result.results["metric"].str.contains("bacc").any()
    # The planted linear truth: ridge explains a good share of the test variance.
    r2 = result.summary.query("method == 'ridge' and modalities == 'all' and metric == 'r2'")["mean"].item()
    assert r2 > 0.2
    out = tmp_path / "cv"
    summary = (out / "summary.md").read_text()
    assert "| method | R² | Pearson r | Spearman ρ | MAE | RMSE | seconds, all splits |" in summary
    assert "| deepgami | hidden_dims in [(), (64,)] by out-of-fold R² of the cross-fitted members |" in summary
    assert "| ridge | alpha in [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0] by 2-fold inner R² |" in summary
    assert "## The prior against null graphs (test R², all modalities, paired by split)" in summary
    figures = sorted(p.name for p in out.glob("predicted_vs_observed_*.png"))
    for modalities in ("all", "snp", "tf"):
        drawn = [f for f in figures if f.startswith(f"predicted_vs_observed_{modalities}_")]
        assert f"predicted_vs_observed_{modalities}_deepgami.png" in drawn and len(drawn) == 2, figures
    assert not list(out.glob("roc_*.png")) and (out / "config.toml").is_file()
    table = null_graph_comparison(result.results)
    assert list(table["null_graph"]) == ["random"] and table["n_splits"].item() == 1


def test_survival_cv_through_the_workflow(survival_config, tmp_path):
    tables = FAST_DEEPGAMI + '[cv]\nfolds = 2\nmethods = ["deepgami", "coxnet", "cox_ph", "late_fusion"]\nablations = ["random"]\n'
    config = load_config(_with_tables(survival_config, tmp_path, tables))
    data, _ = load_data(config)
    settings = cv_settings(config)
    for train, test in outer_splits(data, settings, 2):  # stratified by the event indicator
        assert abs(data.labels["event"].iloc[test].mean() - data.labels["event"].mean()) < 0.05
    result, _ = run_cv_job(config, tmp_path / "cv")
    test = _test_rows(result.results)
    methods = ["deepgami", "coxnet", "cox_ph", "late_fusion", "deepgami_random_graph"]
    assert list(test["method"].unique()) == methods
    for method in methods:
        part = test[test["method"] == method]
        for modalities in ("all", "snp", "tf"):
            assert set(part.loc[part["modalities"] == modalities, "metric"]) == set(TEST_METRICS["survival"]), (method, modalities)
    inner = result.results[result.results["metric"] == "inner_c_index"]
    assert set(inner.loc[inner["method"] == "deepgami", "fold"]) == {"oof"}
    assert set(inner.loc[inner["method"] == "coxnet", "fold"]) == {0, 1}
    mean = result.summary.set_index(["method", "modalities", "metric"])["mean"]
    assert mean["coxnet", "all", "c_index"] > 0.6
    # Survival curves give a Brier score (Cox models, DeepGAMI); the fused late-fusion risk has none.
    assert 0 < mean["coxnet", "all", "integrated_brier_score"] < 0.5
    assert 0 < mean["deepgami", "all", "integrated_brier_score"] < 0.5
    assert np.isnan(mean["late_fusion", "all", "integrated_brier_score"])
    out = tmp_path / "cv"
    summary = (out / "summary.md").read_text()
    assert "| method | Harrell's C | Uno's C | integrated Brier score | seconds, all splits |" in summary
    assert "by out-of-fold Harrell's C of the cross-fitted members" in summary
    assert "## The prior against null graphs (test Harrell's C, all modalities, paired by split)" in summary
    assert (out / "kaplan_meier_all_deepgami.png").is_file() and len(list(out.glob("kaplan_meier_all_*.png"))) == 2


def test_survival_parts_are_saved_and_restored(survival_config, tmp_path):
    """A checkpointed survival cv restores its results and Kaplan-Meier inputs unchanged; two
    training seeds average scores, out-of-fold scores and survival curves."""
    data, graph = load_data(load_config(survival_config))
    settings = CVSettings(task="survival", folds=2, methods=["coxnet"], method_grids={"coxnet": {"alpha_ratio": [0.2]}})
    checkpoint = Checkpoint(tmp_path / "parts", "fingerprint")
    first = run_cv(data, graph, settings, checkpoint=checkpoint)
    again = run_cv(data, graph, settings, checkpoint=checkpoint)  # everything from the saved parts
    pd.testing.assert_frame_equal(first.results, again.results)
    for (y, p, names), (y2, p2, names2) in zip(first.curves["all"].values(), again.curves["all"].values()):
        np.testing.assert_array_equal(y, y2)
        np.testing.assert_array_equal(p, p2)
        assert list(names) == list(names2) == ["risk"] and y.shape[1] == 2
    write_cv(again, tmp_path, None, "restored")
    assert (tmp_path / "kaplan_meier_all_coxnet.png").is_file()

    settings = CVSettings(task="survival", methods=["deepgami"], ablations=[], estimator_params={"max_epochs": 3, "n_members": 2})
    deepgami = candidates(settings, graph)[0]
    averaged = _fit(deepgami, graph, {}, 1, data, training_seeds=2)
    assert isinstance(averaged, SeedAverage) and not hasattr(averaged, "classes_")
    scores = [m.predict_scores(data) for m in averaged.members]
    np.testing.assert_allclose(averaged.predict_scores(data), (scores[0] + scores[1]) / 2)
    oof = [m.oof_scores_ for m in averaged.members]
    pd.testing.assert_frame_equal(averaged.oof_scores_, (oof[0] + oof[1]) / 2)
    curves = _survival_of(averaged, data, data)(np.array([1.0, 5.0, 10.0]))
    assert curves.shape == (len(data), 3) and (np.diff(curves, axis=1) <= 1e-12).all()


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ("[preprocessing]\nsmote = true\n", "smote oversamples the classes of a classification; a regression task has none"),
        ("[preprocessing]\nselect_k = 10\n", "select_k ranks features by a test against class labels"),
        ("[cv]\nfolds = 30\nmethods = [\"ridge\"]\n", "a quantile stratum of the label holds"),
    ],
)
def test_regression_cv_refuses_what_needs_classes_in_one_line(regression_config, tmp_path, capsys, tables, message):
    path = _with_tables(regression_config, tmp_path, tables)
    assert_clean_error(*run_cli(capsys, "cv", path, "--out", tmp_path / "out"), tmp_path / "out", message)


def test_survival_labels_need_a_survival_task_and_enough_events():
    cohort = _cohort("survival", seed=2)
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    with pytest.raises(InputError, match="a table of time and event, which does not suit a regression task"):
        run_cv(data, None, CVSettings(task="regression", methods=["ridge"]))
    few = cohort.labels.assign(event=np.where(np.arange(len(cohort.labels)) < 6, 1, 0))
    with pytest.raises(InputError, match="3 training samples have an observed event, fewer than the 5 inner folds"):
        run_cv(MultiOmicsData(cohort.modalities, few), None, CVSettings(task="survival", methods=["coxnet"], test_fraction=0.5))


def test_selection_scores_and_params_are_recorded_per_task(regression_config):
    data, _ = load_data(load_config(regression_config))
    settings = CVSettings(task="regression", folds=2, methods=["lasso"], method_grids={"lasso": {"alpha": [0.03, 10.0]}})
    result = run_cv(data, None, settings)
    inner = result.results[result.results["metric"] == "inner_r2"]
    by_alpha = inner.groupby(inner["params"].map(lambda p: json.loads(p)["alpha"]))["value"].mean()
    assert by_alpha[0.03] > by_alpha[10.0]  # a penalty that zeroes every coefficient has R² <= 0
    chosen = _test_rows(result.results)["params"].map(lambda p: json.loads(p)["alpha"])
    assert set(chosen) == {0.03}
