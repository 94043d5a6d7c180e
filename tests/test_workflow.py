"""The fit/predict jobs: config resolution, splitting, leakage, outputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import accuracy_score, roc_auc_score

from deepgami import DeepGAMIClassifier
from deepgami.cli import main
from deepgami.config import load_config
from deepgami.simulate import simulate_cohort
from deepgami.workflow import load_data, run_fit, run_predict, split_rows

QUICK = "\n[training]\nmax_epochs = 3\n"


@pytest.fixture()
def cohort_config(tmp_path):
    cohort = simulate_cohort(n_samples=100, n_snps=120, n_tfs=15, n_genes=30, seed=3)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + QUICK)
    return cohort, config


def test_relative_paths_resolve_against_the_config_folder(cohort_config, monkeypatch, tmp_path):
    _, config_path = cohort_config
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = load_config(config_path)
    assert config.labels == (config_path.parent / "labels.csv").resolve()
    assert config.estimator_params["max_epochs"] == 3
    data, graph = load_data(config)
    assert data.modality_names == ["snp", "tf"] and graph.edge_types[0] == ("snp", "eqtl", "gene")


def test_scalers_and_weights_never_see_test_rows(cohort_config, tmp_path):
    cohort, config_path = cohort_config
    config = load_config(config_path)
    data, _ = load_data(config)
    _, test_rows = split_rows(data, config)
    first = run_fit(config, tmp_path / "run1")

    # Corrupt every test row of both modalities; a leak-free fit cannot notice.
    test_ids = data.samples[test_rows]
    for name in ("snp", "tf"):
        frame = pd.read_csv(config.labels.parent / f"{name}.csv", index_col=0)
        frame.loc[test_ids] = frame.loc[test_ids] * 100 + 7
        frame.to_csv(config.labels.parent / f"{name}.csv")
    second = run_fit(config, tmp_path / "run2")

    for name in ("snp", "tf"):
        for key, value in first.model.scalers_[name].get_state().items():
            np.testing.assert_array_equal(value, second.model.scalers_[name].get_state()[key], err_msg=key)
    for (key, a), b in zip(first.model.module_.state_dict().items(), second.model.module_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
    assert not np.allclose(first.predictions.iloc[:, 2], second.predictions.iloc[:, 2])


def test_run_folder_outputs_and_rerun_from_resolved_config(cohort_config, tmp_path):
    _, config_path = cohort_config
    result = run_fit(load_config(config_path), tmp_path / "run")
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"all", "snp", "tf"}
    for row in metrics["test"].values():
        assert {"acc", "bacc", "auc", "f1"} <= set(row)
    predictions = pd.read_csv(run / "predictions.csv")
    assert list(predictions.columns) == ["sample", "predicted", "p_case", "p_control"]
    assert len(predictions) == metrics["n_test"] == 20
    # the reported numbers are those of the predictions file
    truth = pd.read_csv(config_path.parent / "labels.csv", index_col="sample")["label"].reindex(predictions["sample"]).to_numpy()
    assert metrics["test"]["all"]["acc"] == pytest.approx(accuracy_score(truth, predictions["predicted"]))
    assert metrics["test"]["all"]["auc"] == pytest.approx(roc_auc_score(truth == "control", predictions["p_control"]))
    assert (run / "roc.png").is_file()
    again = run_fit(load_config(run / "config.toml"), tmp_path / "rerun")
    pd.testing.assert_frame_equal(again.predictions, result.predictions)
    assert not any(p.name.startswith(".run") for p in tmp_path.iterdir())


def test_test_ids_split_and_predict_from_one_modality(cohort_config, tmp_path):
    cohort, config_path = cohort_config
    ids = list(cohort.labels.index[::4])
    (config_path.parent / "test_ids.txt").write_text("\n".join(ids) + "\n")
    config_path.write_text(config_path.read_text().replace("[split]\n", '[split]\ntest_ids = "test_ids.txt"\n'))
    result = run_fit(load_config(config_path), tmp_path / "run")
    assert sorted(result.predictions["sample"]) == sorted(ids)
    out = tmp_path / "pred" / "tf_only.csv"
    predictions = run_predict(tmp_path / "run", {"tf": config_path.parent / "tf.csv"}, out)
    assert len(predictions) == 100 and out.is_file()
    model = DeepGAMIClassifier.load(tmp_path / "run" / "model")
    expected = model.predict_proba({"tf": cohort.tf})
    np.testing.assert_allclose(predictions[["p_case", "p_control"]].to_numpy(), expected, rtol=1e-5)


def test_genotypes_alone_run_through_fit_predict_and_explain(cohort_config, tmp_path):
    """One modality with a SNP -> gene prior (the GenNet / G2PT setting) through the CLI."""
    cohort, config_path = cohort_config
    text = config_path.read_text()
    text = text.replace('[data.modalities.tf]\npath = "tf.csv"\n', "")
    text = text.replace('[[graph.edges]]\npath = "grn.csv"\nsource = "tf"\ntarget = "gene"\nrelation = "regulates"\n', "")
    assert "tf" not in text
    config_path.write_text(text)
    run, pred, explained = tmp_path / "run", tmp_path / "pred.csv", tmp_path / "explained"
    assert main(["-q", "fit", str(config_path), "--out", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"all", "snp"} and metrics["test"]["all"] == metrics["test"]["snp"]
    assert main(["-q", "predict", str(run), "--modality", f"snp={config_path.parent / 'snp.csv'}", "--out", str(pred)]) == 0
    model = DeepGAMIClassifier.load(run / "model")
    expected = model.predict_proba({"snp": cohort.snp})
    np.testing.assert_allclose(pd.read_csv(pred)[["p_case", "p_control"]].to_numpy(), expected, rtol=1e-5)
    assert main(["-q", "explain", str(run), "--out", str(explained), "--n-steps", "8"]) == 0
    edges = pd.read_csv(explained / "edges.csv")
    assert set(edges["edge_type"]) == {"snp-eqtl->gene"} and len(edges) == 2 * len(model.graph_.edge_frame(model.graph_.edge_types[0]))


def test_class_names_are_the_label_strings_of_the_file(cohort_config, tmp_path):
    """Numeric labels with a gap made the column float: classes read "0.0" and "1.0"."""
    _, config_path = cohort_config
    labels_path = config_path.parent / "labels.csv"
    labels = pd.read_csv(labels_path)
    labels["label"] = (labels["label"] == "case").astype(int).astype(object)
    labels.loc[0, "label"] = None
    labels.to_csv(labels_path, index=False)
    with pytest.warns(UserWarning, match="1 without a label"):
        result = run_fit(load_config(config_path), tmp_path / "run")
    assert list(result.model.classes_) == ["0", "1"]
    assert list(result.predictions.columns) == ["sample", "predicted", "p_0", "p_1"]


def test_the_fit_report_names_the_auc_averaging_for_several_classes(tmp_path, capsys):
    cohort = simulate_cohort(n_samples=90, n_snps=60, n_tfs=8, n_genes=12, n_classes=3, seed=5)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + "\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 2\n")
    assert main(["-q", "fit", str(config), "--out", str(tmp_path / "run")]) == 0
    assert "(auc: macro-averaged one-vs-rest, as in metrics.json and roc.png)" in capsys.readouterr().out
