"""Covariates: encoded on training rows only, fed to the head, required at predict time, saved
with the model, attributed beside (not among) the biological features, and read from
``[data] covariates`` / ``deepgami predict --covariates``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score
from test_cli_errors import assert_clean_error, run_cli

from deepgami import DeepGAMIClassifier, DeepGAMIEstimator, DeepGAMIRegressor, InputError, MultiOmicsData, RegulatoryGraph
from deepgami.cli import main
from deepgami.covariates import CovariateEncoder
from deepgami.explain import Explainer
from deepgami.simulate import simulate_cohort

FAST = dict(n_members=2, null_members=1, max_epochs=60, patience=15, random_state=0)


@pytest.fixture(scope="module")
def cohort():
    """A continuous phenotype with a strong age and site effect on top of the planted genes."""
    c = simulate_cohort(n_samples=300, n_snps=200, n_tfs=20, n_genes=40, seed=0, phenotype="continuous")
    rng = np.random.default_rng(0)
    covariates = pd.DataFrame({"age": rng.normal(50, 10, 300), "site": rng.choice(["a", "b", "c"], 300)}, index=c.labels.index)
    y = c.labels + 0.08 * (covariates["age"] - 50) + 1.0 * (covariates["site"] == "b")
    graph = RegulatoryGraph.from_edge_tables([(c.eqtl, "snp", "gene", "eqtl"), (c.grn, "tf", "gene", "regulates")])
    train, test = c.labels.index[:240], c.labels.index[240:]
    X = c.modalities
    return graph, {m: v.loc[train] for m, v in X.items()}, {m: v.loc[test] for m, v in X.items()}, y, covariates, train, test


@pytest.fixture(scope="module")
def fitted(cohort):
    graph, X_train, _, y, covariates, train, _ = cohort
    return DeepGAMIRegressor(graph, **FAST).fit(X_train, y[train], covariates=covariates.loc[train])


def test_encoder_learns_on_training_rows_only():
    train = pd.DataFrame({"age": [40.0, 50.0, 60.0], "sex": ["F", "M", "F"]}, index=["a", "b", "c"])
    encoder = CovariateEncoder().fit(train)
    assert encoder.columns_ == ["age", "sex=M"]
    new = pd.DataFrame({"age": [70.0], "sex": ["M"]}, index=["d"])
    np.testing.assert_allclose(encoder.transform(new), [[(70 - 50) / np.std([40, 50, 60]), 1.0]])
    restored = CovariateEncoder.from_state(json.loads(json.dumps(encoder.get_state())))
    np.testing.assert_array_equal(restored.transform(new), encoder.transform(new))
    with pytest.raises(InputError, match="never seen in the training rows"):
        encoder.transform(new.assign(sex="X"))
    with pytest.raises(InputError, match="missing for 1 samples"):
        encoder.transform(new.assign(age=np.nan))
    with pytest.raises(InputError, match="lack column"):
        encoder.transform(new[["age"]])


def test_covariates_enter_the_head_and_help(cohort, fitted):
    graph, X_train, X_test, y, covariates, train, test = cohort
    assert fitted.module_.n_covariates == 3  # age, site=b, site=c
    without = DeepGAMIRegressor(graph, **FAST).fit(X_train, y[train])
    with_covariates = r2_score(y[test], fitted.predict(X_test, covariates=covariates))
    assert with_covariates > r2_score(y[test], without.predict(X_test)) + 0.1
    # Only the samples' own rows are read: extra rows and order do not matter.
    shuffled = covariates.sample(frac=1.0, random_state=1)
    np.testing.assert_array_equal(fitted.predict(X_test, covariates=shuffled), fitted.predict(X_test, covariates=covariates))


def test_covariates_are_required_and_checked_at_predict_time(cohort, fitted):
    graph, X_train, X_test, y, covariates, train, test = cohort
    with pytest.raises(InputError, match=r"fitted with covariates \(age, site\)"):
        fitted.predict(X_test)
    with pytest.raises(InputError, match="missing for 60 samples"):
        fitted.predict(X_test, covariates=covariates.loc[train])
    plain = DeepGAMIClassifier(graph, n_members=1, null_members=0, max_epochs=2).fit(X_train, (y[train] > 0).astype(int))
    with pytest.raises(InputError, match="fitted without covariates"):
        plain.predict(X_test, covariates=covariates)


def test_training_samples_without_covariates_are_refused(cohort):
    graph, X_train, _, y, covariates, train, _ = cohort
    with pytest.raises(InputError, match="covariates are missing for 10 samples"):
        DeepGAMIRegressor(graph, **FAST).fit(X_train, y[train], covariates=covariates.loc[train[10:]])


def test_save_load_keeps_the_covariate_encoding(cohort, fitted, tmp_path):
    _, _, X_test, _, covariates, _, _ = cohort
    fitted.save(tmp_path / "model")
    loaded = DeepGAMIEstimator.load(tmp_path / "model")
    assert loaded.covariates_.columns_ == fitted.covariates_.columns_
    np.testing.assert_array_equal(loaded.predict(X_test, covariates=covariates), fitted.predict(X_test, covariates=covariates))


def test_explain_reports_covariates_apart_and_completeness_holds(cohort, fitted):
    _, _, X_test, _, covariates, _, test = cohort
    explainer = Explainer(fitted, MultiOmicsData(X_test).with_covariates(covariates), n_steps=32)
    features = explainer.features()
    rows = features.table[features.table["modality"] == "covariates"]
    assert sorted(rows["feature"]) == ["age", "site=b", "site=c"]
    assert "covariates" not in features.per_sample["predicted"]
    # The strong age effect is attributed to age, more than to any single biological feature's mean.
    biology = features.table[features.table["modality"] != "covariates"]
    assert rows.set_index("feature").loc["age", "abs_score"] > biology["abs_score"].median()
    # IG completeness over every input, covariates included.
    assert np.abs(features.deltas["predicted"]).max() < 0.05
    assert explainer.edges().completeness["predicted"]["relative_gap"] < 0.02


def test_covariates_through_the_cli(capsys, tmp_path):
    cohort = simulate_cohort(n_samples=160, n_snps=200, n_tfs=20, n_genes=40, seed=0, phenotype="continuous")
    config = cohort.write(tmp_path / "data")
    rng = np.random.default_rng(0)
    covariates = pd.DataFrame({"age": rng.normal(50, 10, 160).round(1), "site": rng.choice(["a", "b"], 160)}, index=cohort.labels.index)
    covariates.to_csv(config.parent / "covariates.csv", index_label="sample")
    text = config.read_text().replace('labels = "labels.csv"', 'labels = "labels.csv"\ncovariates = "covariates.csv"')
    config.write_text(text + "\n[model]\nn_members = 2\nnull_members = 1\n[training]\nmax_epochs = 5\n")
    run = tmp_path / "run"
    assert main(["-q", "fit", str(config), "--out", str(run)]) == 0
    assert main(["-q", "explain", str(run), "--out", str(run / "explain"), "--n-steps", "8"]) == 0
    assert (pd.read_csv(run / "explain" / "features.csv")["modality"] == "covariates").sum() == 2
    out = tmp_path / "predictions.csv"
    snp = config.parent / "snp.csv"
    code, stdout, stderr = run_cli(capsys, "predict", run, "--modality", f"snp={snp}", "--out", out)
    assert_clean_error(code, stdout, stderr, out, "fitted with covariates", "--covariates")
    table = config.parent / "covariates.csv"
    assert main(["-q", "predict", str(run), "--modality", f"snp={snp}", "--covariates", str(table), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 160
    # A covariate missing for a training sample: one line, no run folder.
    covariates.assign(age=np.where(np.arange(160) < 3, np.nan, covariates["age"])).to_csv(config.parent / "covariates.csv", index_label="sample")
    bad = tmp_path / "bad"
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", bad)
    assert_clean_error(code, stdout, stderr, bad, "covariates are missing")
    # cv cannot give the baselines covariates yet: refused in one line.
    cv_out = tmp_path / "cv"
    code, stdout, stderr = run_cli(capsys, "cv", config, "--out", cv_out)
    assert_clean_error(code, stdout, stderr, cv_out, "[data] covariates", "[preprocessing.covariates]")
