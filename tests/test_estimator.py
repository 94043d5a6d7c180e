"""DeepGAMIClassifier: sklearn contract, determinism, persistence, learning, leakage."""

from __future__ import annotations

import inspect
import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from deepgami import DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival, InputError, MultiOmicsData, RegulatoryGraph
from deepgami.config import MODEL_KEYS, SEARCH_KEYS, TRAINING_KEYS
from deepgami.explain import Explainer
from deepgami.graph import LEFTOVER_NODES, leftover_node_names
from deepgami.params import PARAMETERS, parameter_name
from deepgami.simulate import simulate_cohort
from deepgami.splits import stratified_holdout

FAST = dict(max_epochs=40, patience=10, random_state=0)


@pytest.fixture(scope="module")
def split(small_cohort):
    rows = np.arange(len(small_cohort.labels))
    train, test = train_test_split(rows, test_size=0.25, stratify=small_cohort.labels, random_state=0)
    pick = lambda r: {m: f.iloc[r] for m, f in small_cohort.modalities.items()}  # noqa: E731
    return pick(train), small_cohort.labels.iloc[train], pick(test), small_cohort.labels.iloc[test]


@pytest.fixture(scope="module")
def fitted(split, small_graph):
    X, y, _, _ = split
    return DeepGAMIClassifier(small_graph, **FAST).fit(X, y)


def test_fit_returns_self_and_sets_fitted_attributes(fitted, small_cohort):
    assert list(fitted.classes_) == ["case", "control"]
    assert fitted.modalities_ == ["snp", "tf"]
    assert list(fitted.feature_names_in_["snp"]) == list(small_cohort.snp.columns)
    assert fitted.graph_ is not None and fitted.history_


def test_learns_beyond_chance_with_both_and_with_genotype_alone():
    # Genes driven mostly by SNPs, 300 test samples: chance is 0.5 +- 0.03 (one s.e.).
    cohort = simulate_cohort(n_samples=600, n_snps=400, n_tfs=30, n_genes=50, n_causal_genes=8,
                             snp_share=0.85, tf_share=0.1, difficulty="easy", seed=0)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene")])
    train, test = train_test_split(np.arange(600), test_size=0.5, stratify=cohort.labels, random_state=0)
    model = DeepGAMIClassifier(graph, max_epochs=60, patience=10).fit(
        {m: f.iloc[train] for m, f in cohort.modalities.items()}, cohort.labels.iloc[train]
    )
    X_test, y_test = {m: f.iloc[test] for m, f in cohort.modalities.items()}, cohort.labels.iloc[test]
    both = balanced_accuracy_score(y_test, model.predict(X_test))
    snp_alone = balanced_accuracy_score(y_test, model.predict({"snp": X_test["snp"]}))
    assert both > 0.65, both
    assert snp_alone > 0.62, snp_alone


def test_predict_proba_rows_sum_to_one_in_classes_order(fitted, split):
    _, _, X_test, _ = split
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test["snp"]), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(fitted.predict(X_test), fitted.classes_[proba.argmax(1)])
    table = fitted.predict_table(X_test)
    assert list(table.columns) == ["sample", "predicted", "p_case", "p_control"]


def test_single_modality_prediction_ignores_the_other_modality(fitted, split):
    _, _, X_test, _ = split
    alone = fitted.predict_proba({"snp": X_test["snp"]})
    shuffled_tf = X_test["tf"].sample(frac=1.0, random_state=1).set_axis(X_test["tf"].index) * 10
    np.testing.assert_array_equal(alone, fitted.predict_proba({"snp": X_test["snp"], "tf": shuffled_tf}, use_modalities=("snp",)))
    assert not np.allclose(alone, fitted.predict_proba(X_test))


def test_same_seed_same_model_and_different_seed_differs(split, small_graph, fitted):
    X, y, X_test, _ = split
    again = DeepGAMIClassifier(small_graph, **FAST).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X_test), fitted.predict_proba(X_test))
    other = DeepGAMIClassifier(small_graph, **{**FAST, "random_state": 1}).fit(X, y)
    assert not np.allclose(other.predict_proba(X_test), fitted.predict_proba(X_test))


def test_save_load_round_trip(fitted, split, tmp_path):
    _, _, X_test, _ = split
    fitted.save(tmp_path / "model")
    loaded = DeepGAMIClassifier.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))
    np.testing.assert_array_equal(loaded.predict_proba({"tf": X_test["tf"]}), fitted.predict_proba({"tf": X_test["tf"]}))
    assert loaded.get_params()["aux_map"] == fitted.aux_map
    # columns in another order are matched by name; missing features are a clear error
    reordered = {m: f[f.columns[::-1]] for m, f in X_test.items()}
    np.testing.assert_array_equal(loaded.predict_proba(reordered), fitted.predict_proba(X_test))
    with pytest.raises(InputError, match="lacks 1 of the"):
        loaded.predict({"snp": X_test["snp"].iloc[:, 1:]})
    with pytest.raises(InputError, match="no saved deepgami model"):
        DeepGAMIClassifier.load(tmp_path)


def test_sklearn_contract(small_graph, split):
    model = DeepGAMIClassifier(small_graph, latent_dim=8, dropout=0.1)
    params = model.get_params()
    assert params["latent_dim"] == 8 and params["graph"] is small_graph
    twin = clone(model)
    assert twin.get_params()["dropout"] == 0.1
    twin.set_params(dropout=0.2)
    assert twin.dropout == 0.2 and model.dropout == 0.1
    with pytest.raises(NotFittedError):
        model.predict(split[2])


def test_without_graph_numeric_labels_and_array_y(split):
    X, y, X_test, y_test = split
    codes = (y == "case").astype(int).to_numpy()
    model = DeepGAMIClassifier(latent_dim=16, **FAST).fit(X, codes)
    assert list(model.classes_) == [0, 1]
    assert model.module_.n_latent == 16
    assert set(model.predict(X_test)) <= {0, 1}
    truth = pd.Series((y_test == "case").astype(int))
    score = model.score(X_test, truth)
    assert score == accuracy_score(truth, model.predict(X_test))
    # a Series is aligned by sample id, not by position; flipping every label flips the score
    assert model.score(X_test, truth.sample(frac=1.0, random_state=0)) == score
    assert model.score(X_test, 1 - truth) == pytest.approx(1 - score)


def test_scalers_are_fit_on_the_fit_rows_only(split, small_graph):
    X, y, _, _ = split
    model = DeepGAMIClassifier(small_graph, n_members=1, max_epochs=1, validation_fraction=0.2).fit(X, y)
    rows, val_rows = stratified_holdout(np.unique(y, return_inverse=True)[1], 0.2, 0)
    expected_mean = X["tf"].iloc[rows].to_numpy().mean(axis=0)
    np.testing.assert_allclose(model.scalers_["tf"].fill_, expected_mean, rtol=1e-4, atol=1e-5)
    assert len(set(rows) & set(val_rows)) == 0


def test_bad_inputs(split, small_graph):
    X, y, _, _ = split
    with pytest.raises(InputError, match="single class"):
        DeepGAMIClassifier(small_graph).fit(X, pd.Series("case", index=y.index))
    with pytest.raises(InputError, match="not a modality"):
        DeepGAMIClassifier(small_graph).fit({"snp": X["snp"], "rna": X["tf"]}, y)
    renamed = {"snp": X["snp"].add_prefix("x"), "tf": X["tf"]}
    with pytest.warns(UserWarning, match="graph restricted"), pytest.raises(InputError, match="no snp->gene edge matches"):
        DeepGAMIClassifier(small_graph).fit(renamed, y)
    with pytest.raises(InputError, match=r"'edge_l1' parameter of DeepGAMIClassifier must be a float in the range \[0.0, inf\)"):
        DeepGAMIClassifier(small_graph, edge_l1=-0.1).fit(X, y)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"validation_fraction": -1}, r"'validation_fraction' parameter .* range \[0.0, 1.0\). Got -1"),
        ({"patience": -3}, r"'patience' parameter .* an int in the range \[1, inf\). Got -3"),
        ({"batch_size": 0}, r"'batch_size' parameter .* an int in the range \[1, inf\). Got 0"),
        ({"dropout": 1.5}, r"'dropout' parameter .* range \[0.0, 1.0\). Got 1.5"),
        ({"lr": -1.0}, r"'lr' parameter .* range \(0.0, inf\). Got -1.0"),
        ({"latent_activation": "gelu"}, r"'latent_activation' parameter .* among"),
        ({"hidden_dims": (8, 0)}, r"hidden_dims must list positive layer widths \(got \[8, 0\]\)"),
    ],
)
def test_fit_checks_every_parameter_before_training(split, small_graph, setting, message):
    X, y, _, _ = split
    with pytest.raises(InputError, match=message):
        DeepGAMIClassifier(small_graph, **setting).fit(X, y)


@pytest.mark.parametrize("estimator", [DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival])
def test_the_parameter_table_is_the_one_source_of_defaults(estimator):
    """Each estimator's signature, its checks and the config keys all come from deepgami.params."""
    own = {p.name: p.default for p in PARAMETERS if estimator._kind in p.tasks}
    signature = inspect.signature(estimator).parameters
    assert {name: p.default for name, p in signature.items() if name != "graph"} == own
    assert set(estimator._parameter_constraints) == {"graph", *own}
    assert set(estimator().get_params()) == {"graph", *own}
    assert ("class_weight" in own) == (estimator is DeepGAMIClassifier) and ("loss" in own) == (estimator is DeepGAMIRegressor)
    with pytest.raises(TypeError, match="unexpected keyword"):
        estimator(not_a_parameter=1)
    keys = {**MODEL_KEYS, **TRAINING_KEYS}
    assert {parameter_name(k) for k in keys} == {p.name for p in PARAMETERS if p.section}
    assert SEARCH_KEYS <= set(keys)


def test_one_modality_is_enough(small_cohort, split):
    """Genotypes alone with a SNP -> gene prior: the guided network without auxiliary maps
    learns, predicts, explains (completeness holds) and survives save/load."""
    X, y, X_test, y_test = split
    graph = RegulatoryGraph.from_edge_tables([(small_cohort.eqtl, "snp", "gene", "eqtl")])
    model = DeepGAMIClassifier(graph, n_members=3, null_members=0, **FAST).fit({"snp": X["snp"]}, y)
    assert model.modalities_ == ["snp"] and len(model.module_.aux_maps) == 0
    proba = model.predict_proba({"snp": X_test["snp"]})
    auc = roc_auc_score(y_test == model.classes_[1], proba[:, 1])
    assert auc > 0.7, f"genotypes alone should predict this easy cohort (AUC {auc:.3f})"
    edges = Explainer(model, {"snp": X_test["snp"]}, n_steps=32).edges()
    assert set(edges.table["edge_type"]) == {"snp-eqtl->gene"}
    assert all(gaps["relative_gap"] < 0.02 for gaps in edges.completeness.values())
    with pytest.raises(InputError, match="trained on modalities"):
        model.predict_proba({"tf": X_test["tf"]})


@pytest.mark.parametrize("mode", ["drop", "dense"])
def test_features_without_prior_edges_are_reported_and_handled(split, small_graph, mode, caplog, tmp_path):
    """A third of the SNPs have no eQTL edge: fit says so; ``drop`` leaves them out (no
    attribution), ``dense`` connects them to the leftover nodes (attributed, saved, loaded)."""
    X, y, X_test, _ = split
    with caplog.at_level(logging.INFO, logger="deepgami.estimator"):
        model = DeepGAMIClassifier(small_graph, unconnected_features=mode, n_members=2, null_members=0, **FAST).fit(X, y)
    unconnected = model.unconnected_features_["snp"]
    assert len(unconnected) == 100 and set(model.unconnected_features_) == {"snp"}
    assert "prior edges reach snp 200 of 300, tf 30 of 30 features" in caplog.text
    assert f"(unconnected_features = '{mode}'" in caplog.text and "snp: 100 of 300" in caplog.text
    features = Explainer(model, X_test, n_steps=8).features().table
    per_feature = features[features["modality"] == "snp"].groupby("feature")["abs_score"].sum()
    leftover = ("snp", "unconnected", "gene")
    if mode == "drop":
        assert per_feature.loc[unconnected].max() == 0 and leftover not in model.graph_.edge_types
        return
    assert model.graph_.edge_index(leftover).shape[1] == 100 * LEFTOVER_NODES
    assert model.latent_names()[-LEFTOVER_NODES:] == leftover_node_names()
    assert (per_feature.loc[unconnected] > 0).all()
    loaded = DeepGAMIClassifier.load(model.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict_proba(X_test), model.predict_proba(X_test))


def test_features_without_prior_edges_can_be_refused(split, small_graph):
    X, y, _, _ = split
    with pytest.raises(InputError, match=r"features without a prior edge: snp: 100 of 300 \(rs"):
        DeepGAMIClassifier(small_graph, unconnected_features="error").fit(X, y)


def test_fit_joins_like_the_cli_keeping_samples_that_miss_a_modality(split, small_graph):
    """Python and CLI share one join rule (outer): 10 samples without TF expression still train."""
    X, y, _, _ = split
    partial = {"snp": X["snp"], "tf": X["tf"].iloc[10:]}
    model = DeepGAMIClassifier(small_graph, n_members=2, null_members=0, **FAST).fit(partial, y)
    assert len(model.oof_proba_) == len(y) and set(model.oof_proba_.index) == set(y.index)


def test_dropped_samples_are_named_by_cause_and_modality():
    rna = pd.DataFrame(np.ones((4, 2)), index=["s1", "s2", "s3", "s4"], columns=["x", "y"])
    meth = pd.DataFrame(np.ones((3, 2)), index=["s1", "s2", "s5"], columns=["u", "v"])
    labels = pd.Series(["a", "b", "a", "b"], index=["s1", "s2", "s3", "s9"])
    causes = r"2 without a label \(e.g. s4, s5\); 1 labelled but in no modality \(e.g. s9\)"
    with pytest.warns(UserWarning, match=rf"kept 2 samples, dropped 4: {causes}; 1 missing from meth \(e.g. s3\)$"):
        assert list(MultiOmicsData({"rna": rna, "meth": meth}, labels, join="inner").samples) == ["s1", "s2"]
    with pytest.warns(UserWarning, match=rf"kept 3 samples, dropped 3: {causes}$"):
        assert list(MultiOmicsData({"rna": rna, "meth": meth}, labels, join="outer").samples) == ["s1", "s2", "s3"]


def test_fit_warns_of_a_small_class_unless_classes_are_weighted(split, small_graph, caplog):
    X, y, _, _ = split
    rare = y.copy()
    rare.iloc[: len(y) - 8] = "control"
    rare.iloc[len(y) - 8 :] = "case"  # 8 of 120: 6.7 %, under half of its balanced 50 %
    with caplog.at_level(logging.WARNING, logger="deepgami.estimator"):
        DeepGAMIClassifier(small_graph, n_members=1, null_members=0, max_epochs=1).fit(X, rare)
    assert "the smallest class, 'case', holds 6.7% of the 120 training samples; class_weight = 'balanced'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="deepgami.estimator"):
        DeepGAMIClassifier(small_graph, n_members=1, null_members=0, max_epochs=1, class_weight="balanced").fit(X, rare)
        DeepGAMIClassifier(small_graph, n_members=1, null_members=0, max_epochs=1).fit(X, y)
    assert "smallest class" not in caplog.text


def test_an_unknown_input_type_is_refused_at_once(fitted, split):
    """Iterating a MuData as if it were a mapping ran for minutes and filled 11 GB: X is checked
    first. A look-alike that is no mapping, MultiOmicsData, MuData or AnnData is refused."""
    X, y, _, _ = split
    mudata_like = type("MuData", (), {})()
    for call in (lambda: fitted.predict_proba(mudata_like), lambda: DeepGAMIClassifier().fit(mudata_like, y)):
        with pytest.raises(TypeError, match=r"a MultiOmicsData, a MuData or an AnnData \(got MuData\)$"):
            call()


def test_predict_aligns_columns_by_name_and_notes_extra_ones(fitted, split, caplog):
    _, _, X_test, _ = split
    expected = fitted.predict_proba(X_test)
    shuffled = {m: frame[frame.columns[::-1]] for m, frame in X_test.items()}
    np.testing.assert_array_equal(fitted.predict_proba(shuffled), expected)
    extra = {**X_test, "tf": X_test["tf"].assign(extra_feature=1.0)}
    with caplog.at_level(logging.INFO, logger="deepgami.data"):
        np.testing.assert_array_equal(fitted.predict_proba(extra), expected)
    assert "modality 'tf': 1 columns not seen in training are ignored (extra_feature)" in caplog.text


def test_edge_lasso_shrinks_the_prior_edge_weights(split, small_graph):
    X, y, _, _ = split
    settings = dict(max_epochs=60, validation_fraction=0.0, random_state=0)
    plain = DeepGAMIClassifier(small_graph, **settings).fit(X, y).module_
    lasso = DeepGAMIClassifier(small_graph, edge_l1=0.05, **settings).fit(X, y).module_
    assert lasso.edge_weight_l1().item() < 0.5 * plain.edge_weight_l1().item()
    near_zero = [np.mean(np.abs(m.encoders["snp"].convs[0].weight.detach().numpy()) < 0.01) for m in (plain, lasso)]
    assert near_zero[1] > near_zero[0] + 0.2
