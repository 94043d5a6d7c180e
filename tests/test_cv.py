"""`deepgami cv`: config tables, nested selection on identical splits, ablations, incomplete cohorts."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from test_cli_errors import assert_clean_error, run_cli

from deepgami import InputError, MultiOmicsData, RegulatoryGraph
from deepgami.cli import main
from deepgami.config import load_config
from deepgami.evaluation import cv
from deepgami.evaluation.ablation import null_graph
from deepgami.evaluation.baselines import LogisticL2
from deepgami.evaluation.cv import (
    CVSettings,
    SeedAverage,
    _fit,
    _null_graph_lines,
    candidates,
    null_graph_comparison,
    outer_splits,
    per_class_bacc,
    run_cv,
)
from deepgami.evaluation.fold_preprocessing import FoldPreprocessor
from deepgami.evaluation.methods import DeepGAMIMethod
from deepgami.simulate import simulate_cohort
from deepgami.workflow import cv_settings, load_data, run_fit

CV_TABLES = """
[training]
max_epochs = 3
[cv]
folds = 2
methods = ["deepgami", "logistic_l2"]
ablations = ["shuffle", "no_aux"]
[search]
dropout = [0.2, 0.5]
[preprocessing]
select_k = {snp = 60}
"""


@pytest.fixture()
def cohort_config(tmp_path):
    cohort = simulate_cohort(n_samples=90, n_snps=100, n_tfs=12, n_genes=20, difficulty="easy", seed=6)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + CV_TABLES)
    return cohort, config


def test_run_cv_compares_methods_and_ablations_on_the_same_splits(cohort_config):
    _, path = cohort_config
    config = load_config(path)
    data, graph = load_data(config)
    result = run_cv(data, graph, cv_settings(config), repeats=2)
    results = result.results
    assert list(results.columns) == ["method", "split", "fold", "modalities", "metric", "value", "params"]
    methods = ["deepgami", "logistic_l2", "deepgami_shuffle_graph", "deepgami_no_aux"]
    assert list(results["method"].unique()) == methods
    test = results[results["fold"] == "test"]
    for method in methods:
        part = test[test["method"] == method]
        assert set(part["split"]) == {0, 1}
        assert set(part["modalities"]) == {"all", "snp", "tf"}
        assert {"acc", "bacc", "auc", "f1", "bacc[case]", "bacc[control]"} <= set(part["metric"])
    # the grid was searched on inner folds, the no-aux ablation never searched aux_weight
    inner = results[results["metric"] == "inner_bacc"]
    assert set(inner["fold"]) == {0, 1}
    deepgami_inner = inner[inner["method"].str.startswith("deepgami")]
    assert set(deepgami_inner["method"]) == {"deepgami", "deepgami_shuffle_graph", "deepgami_no_aux"}
    assert all(json.loads(p)["dropout"] in (0.2, 0.5) for p in deepgami_inner["params"])
    summary = result.summary
    assert set(summary.columns) >= {"method", "modalities", "metric", "mean", "sd", "n_splits"}
    assert summary["n_splits"].max() == 2


def test_outer_splits_are_deterministic_and_stratified(cohort_config):
    _, path = cohort_config
    config = load_config(path)
    data, _ = load_data(config)
    settings = cv_settings(config)
    first, second = outer_splits(data, settings, 3), outer_splits(data, settings, 3)
    for (a_train, a_test), (b_train, b_test) in zip(first, second):
        np.testing.assert_array_equal(a_test, b_test)
        assert len(set(a_train) & set(a_test)) == 0
    assert not np.array_equal(first[0][1], first[1][1])


def test_candidates_and_errors(cohort_config, tmp_path):
    _, path = cohort_config
    config = load_config(path)
    data, graph = load_data(config)
    settings = cv_settings(config)
    names = [c.name for c in candidates(settings, graph)]
    assert names == ["deepgami", "logistic_l2", "deepgami_shuffle_graph", "deepgami_no_aux"]
    no_aux = candidates(settings, graph)[-1]
    assert no_aux.params["aux_weight"] == 0.0
    settings.method_grids["logistic_l2"] = {"C": [0.5]}
    assert [c.grid for c in candidates(settings, graph) if c.name == "logistic_l2"] == [{"C": [0.5]}]
    settings.method_grids["rf"] = {"n_estimators": [10]}
    with pytest.raises(InputError, match=r"\[search.rf\] names no baseline"):
        candidates(settings, graph)
    del settings.method_grids["rf"]
    settings.methods = ["deepgami", "nope"]
    with pytest.raises(InputError, match="unknown method 'nope'"):
        candidates(settings, graph)
    settings.methods, settings.folds = ["logistic_l2"], 50
    settings.ablations = []
    with pytest.raises(InputError, match="fewer than the 50 inner folds"):
        run_cv(data, graph, settings)


COVARIATE_TABLES = """
[preprocessing.covariates]
path = "covariates.tsv"
columns = ["age"]
[preprocessing.batch]
path = "covariates.tsv"
column = "site"
"""


def test_cv_settings_take_the_config_tables_and_read_covariates_and_batches(cohort_config, capsys, tmp_path):
    cohort, path = cohort_config
    samples = cohort.labels.index
    table = pd.DataFrame(
        {"site": np.resize(["a", "b"], len(samples)), "age": np.arange(len(samples)) % 50 + 20.0},
        index=pd.Index(samples, name="sample"),
    )
    table.to_csv(path.parent / "covariates.tsv", sep="\t")
    path.write_text(path.read_text() + COVARIATE_TABLES)
    settings = cv_settings(load_config(path))
    assert (settings.folds, settings.repeats, settings.training_seeds) == (2, 1, 1)
    assert (settings.methods, settings.ablations) == (["deepgami", "logistic_l2"], ["shuffle", "no_aux"])
    assert (settings.search, settings.method_grids) == ({"dropout": [0.2, 0.5]}, {})
    assert (settings.test_fraction, settings.test_ids, settings.split_seed) == (0.2, None, 0)
    assert settings.estimator_params["max_epochs"] == 3
    preprocessing = settings.preprocessing
    assert set(preprocessing) == {"select_k", "covariates", "covariate_modalities", "batch", "combat_modalities"}
    assert preprocessing["select_k"] == {"snp": 60}
    pd.testing.assert_frame_equal(preprocessing["covariates"], table[["age"]].rename(index=str))
    pd.testing.assert_series_equal(preprocessing["batch"], table["site"].rename(index=str))

    path.write_text(path.read_text().replace('columns = ["age"]', 'columns = ["agee"]'))
    with pytest.raises(InputError, match=r"covariates file \S+covariates.tsv has no column 'agee' \(columns: 'site', 'age'\)"):
        cv_settings(load_config(path))
    table[[]].to_csv(path.parent / "sites.csv")
    text = path.read_text().replace('columns = ["agee"]', 'columns = ["age"]')
    path.write_text(text.replace('path = "covariates.tsv"\ncolumn = "site"', 'path = "sites.csv"'))
    with pytest.raises(InputError, match=r"batch file \S+sites.csv holds only sample ids; add a column of batch labels"):
        cv_settings(load_config(path))
    (path.parent / "covariates.tsv").unlink()
    assert_clean_error(*run_cli(capsys, "cv", path, "--out", tmp_path / "out"), tmp_path / "out", "covariates file", "covariates.tsv does not exist")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[search]\ndropout = []\n", "grid would be empty"),
        ("[cv]\nfold = 3\n", "did you mean 'folds'"),
        ("[cv]\ntraining_seeds = 0\n", "training_seeds must be an integer of at least 1"),
        ("[preprocessing]\nselect = 3\n", "did you mean 'select_k'"),
    ],
)
def test_cv_config_errors_through_the_cli(tmp_path, capsys, extra, message):
    cohort = simulate_cohort(n_samples=40, n_snps=30, n_tfs=5, n_genes=8, seed=1)
    config = cohort.write(tmp_path / "cohort")
    config.write_text(config.read_text() + extra)
    assert_clean_error(*run_cli(capsys, "cv", config, "--out", tmp_path / "out"), tmp_path / "out", message)


def test_training_seeds_average_fits_that_differ_only_in_their_seed(cohort_config):
    _, path = cohort_config
    config = load_config(path)
    data, graph = load_data(config)
    settings = cv_settings(config)
    settings.ablations = ["shuffle"]
    deepgami, _, shuffled = candidates(settings, graph)[:3]
    assert shuffled.null_graph == "shuffle"
    single = _fit(deepgami, graph, {}, 3, data)
    assert single.estimator.random_state == 3  # one seed trains exactly as before
    averaged = _fit(shuffled, graph, {}, 3, data, training_seeds=2)
    assert isinstance(averaged, SeedAverage)
    first, second = averaged.members
    assert (first.estimator.random_state, second.estimator.random_state) == (6, 7)
    first_graph, second_graph = first.estimator.graph, second.estimator.graph
    for edge_type in first_graph.edge_types:  # the same null graph, drawn from the split seed
        assert torch.equal(first_graph.edge_index(edge_type), second_graph.edge_index(edge_type))
    proba = [member.predict_proba(data, use_modalities=["snp"]) for member in averaged.members]
    assert not np.allclose(proba[0], proba[1])
    np.testing.assert_allclose(averaged.predict_proba(data, use_modalities=["snp"]), (proba[0] + proba[1]) / 2)
    np.testing.assert_array_equal(averaged.classes_, first.classes_)


def test_cli_cv_writes_results_summary_and_roc(cohort_config, tmp_path, capsys):
    _, path = cohort_config
    path.write_text(path.read_text().replace('ablations = ["shuffle", "no_aux"]', "ablations = []"))
    assert main(["cv", str(path), "--out", str(tmp_path / "cv"), "--repeats", "1"]) == 0
    for name in ("results.csv", "summary.md", "roc_all.png", "roc_snp.png", "config.toml"):
        assert (tmp_path / "cv" / name).is_file(), name
    summary = (tmp_path / "cv" / "summary.md").read_text()
    assert "| deepgami |" in summary and "Per-class balanced accuracy" in summary
    assert "logistic_l2" in capsys.readouterr().out


def test_per_class_bacc():
    y = np.array(["a", "a", "b", "b", "c"])
    predicted = np.array(["a", "b", "b", "b", "a"])
    values = per_class_bacc(y, predicted, np.array(["a", "b", "c"]))
    assert values["b"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert values["c"] == pytest.approx((0.0 + 1.0) / 2)


def test_null_graphs_keep_sizes(small_graph):
    for kind in ("random", "bernoulli", "shuffle"):
        null = null_graph(small_graph, kind, seed=3)
        for edge_type in small_graph.edge_types:
            assert null.edge_index(edge_type).shape == small_graph.edge_index(edge_type).shape
    shuffled = null_graph(small_graph, "shuffle", seed=3)
    edge_type = small_graph.edge_types[0]
    for row in (0, 1):
        np.testing.assert_array_equal(
            np.bincount(small_graph.edge_index(edge_type)[row]), np.bincount(shuffled.edge_index(edge_type)[row])
        )


def test_incomplete_cohort_keeps_samples_lacking_a_modality(tmp_path):
    cohort = simulate_cohort(n_samples=120, n_snps=60, n_tfs=10, n_genes=15, difficulty="easy", seed=8)
    config_path = cohort.write(tmp_path / "cohort")
    config_path.write_text(config_path.read_text() + "\n[training]\nmax_epochs = 3\n")
    tf = pd.read_csv(tmp_path / "cohort" / "tf.csv", index_col=0)
    tf.iloc[::3].to_csv(tmp_path / "cohort" / "tf.csv")  # only a third of the samples have TF data
    result = run_fit(load_config(config_path), tmp_path / "run")
    assert result.metrics["samples_per_modality"] == {"snp": 120, "tf": 40}
    assert result.metrics["n_train"] + result.metrics["n_test"] == 120
    assert result.metrics["test"]["tf"]["n"] < result.metrics["test"]["snp"]["n"] == result.metrics["n_test"]


def test_cv_skips_null_members_unless_asked(small_graph):
    from deepgami.evaluation.methods import DeepGAMIMethod

    assert DeepGAMIMethod(graph=small_graph).estimator.null_members == 0  # cv never explains
    assert DeepGAMIMethod(graph=small_graph, null_members=2).estimator.null_members == 2
    assert DeepGAMIMethod(graph=small_graph).estimator.n_members == 10  # the ensemble itself is kept


def test_deepgami_is_tuned_on_out_of_fold_scores_and_the_summary_says_how_each_method_was_tuned(cohort_config, tmp_path):
    _, path = cohort_config
    tables = (
        '\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 3\n'
        '[cv]\nfolds = 2\nmethods = ["deepgami", "logistic_l2"]\nablations = ["shuffle"]\n'
    )
    path.write_text(path.read_text().replace(CV_TABLES, tables))
    assert main(["-q", "cv", str(path), "--out", str(tmp_path / "cv"), "--repeats", "2"]) == 0
    results = pd.read_csv(tmp_path / "cv" / "results.csv")
    selection = results[results["metric"] == "inner_bacc"]
    # DeepGAMI and its null-graph twin: one fit per grid point per split, scored out of fold.
    deepgami = selection[selection["method"].str.startswith("deepgami")]
    assert set(deepgami["fold"]) == {"oof"} and len(deepgami) == 2 * 2 * 2
    assert set(selection.loc[selection["method"] == "logistic_l2", "fold"].astype(str)) == {"0", "1"}
    summary = (tmp_path / "cv" / "summary.md").read_text()
    assert "| deepgami | hidden_dims in [(), (64,)] by out-of-fold BACC of the cross-fitted members |" in summary
    assert "| logistic_l2 | C in [0.01, 0.1, 1.0, 10.0] by 2-fold inner BACC |" in summary
    assert "## The prior against null graphs" in summary and "shuffle graph" in summary


def test_null_graph_comparison_pairs_the_splits_and_flags_a_null_that_does_as_well():
    prior, null = [0.70, 0.65, 0.60], [0.72, 0.69, 0.61]
    rows = [
        {"method": method, "split": split, "fold": "test", "modalities": "all", "metric": "bacc", "value": value, "params": "{}"}
        for method, values in (("deepgami", prior), ("deepgami_random_graph", null))
        for split, value in enumerate(values)
    ]
    table = null_graph_comparison(pd.DataFrame(rows))
    row = table.iloc[0]
    assert row["null_graph"] == "random" and row["n_splits"] == 3
    assert row["difference"] == pytest.approx(np.mean(np.subtract(prior, null)))
    assert row["p_value"] == pytest.approx(stats.ttest_rel(prior, null).pvalue)
    verdict = _null_graph_lines(pd.DataFrame(rows))[1]
    assert verdict.startswith("- **The random graph scored at or above the real prior**: BACC 0.673 against 0.650")


def test_cv_runs_on_one_modality(cohort_config, tmp_path):
    """Genotypes alone with their eQTL prior: DeepGAMI (tuned), a baseline and a null graph."""
    _, path = cohort_config
    text = path.read_text().replace(CV_TABLES, "")
    text = text.replace('[data.modalities.tf]\npath = "tf.csv"\n', "")
    text = text.replace('[[graph.edges]]\npath = "grn.csv"\nsource = "tf"\ntarget = "gene"\nrelation = "regulates"\n', "")
    assert "tf.csv" not in text and "grn.csv" not in text
    tables = '\n[model]\nn_members = 2\nnull_members = 0\n[training]\nmax_epochs = 3\n[cv]\nfolds = 2\nmethods = ["deepgami", "logistic_l2"]\n'
    path.write_text(text + tables.replace("[cv]", '[cv]\nablations = ["random"]'))
    assert main(["-q", "cv", str(path), "--out", str(tmp_path / "cv")]) == 0
    test = pd.read_csv(tmp_path / "cv" / "results.csv").query("fold == 'test'")
    assert set(test["method"]) == {"deepgami", "logistic_l2", "deepgami_random_graph"}
    assert set(test["modalities"]) == {"all", "snp"}


def _record_fits(monkeypatch, caplog) -> list[tuple]:
    """Record, in call order, the sample ids of every FoldPreprocessor fit and transform and of
    every DeepGAMI and logistic_l2 fit and prediction (with the object concerned), and the end of
    each (split, method) block, which ``run_cv`` logs."""
    events: list[tuple] = []

    def recording(kind, original):
        def wrapper(self, data, *args, **kwargs):
            events.append((kind, self, frozenset(data.samples)))
            return original(self, data, *args, **kwargs)

        return wrapper

    for cls, prefix, names in (
        (FoldPreprocessor, "prep", ("fit", "transform")),
        (DeepGAMIMethod, "method", ("fit", "predict_proba")),
        (LogisticL2, "method", ("fit", "predict_proba")),
    ):
        for name in names:
            monkeypatch.setattr(cls, name, recording(f"{prefix} {name}", getattr(cls, name)))

    class BlockEnds(logging.Handler):
        def emit(self, record):
            if record.msg.startswith("split %d: %s done"):
                events.append(("done", *record.args[:2]))

    caplog.set_level(logging.INFO, logger=cv.log.name)
    monkeypatch.setattr(cv.log, "handlers", [*cv.log.handlers, BlockEnds()])
    return events


def _blocks(events) -> dict[tuple[int, str], list[tuple]]:
    """The recorded calls grouped by the (split, method) block they belong to."""
    blocks, current = {}, []
    for event in events:
        if event[0] == "done":
            blocks[event[1], event[2]] = current
            current = []
        else:
            current.append(event)
    assert not current
    return blocks


def _fits(block, kind) -> dict[int, tuple[object, frozenset, list[frozenset]]]:
    """Per fitted object of ``kind`` ("prep" or "method"): (object, fit rows, rows of each later call)."""
    out: dict[int, tuple] = {}
    for event_kind, obj, rows in block:
        if event_kind == f"{kind} fit":
            out[id(obj)] = (obj, rows, [])
        elif event_kind.startswith(kind):
            out[id(obj)][2].append(rows)
    return out


@pytest.mark.parametrize("inner_folds", [True, False], ids=["inner-folds", "out-of-fold"])
def test_no_fit_in_nested_cv_sees_the_rows_it_is_scored_on(monkeypatch, caplog, inner_folds):
    """Over two outer splits, every FoldPreprocessor and method fit inside ``run_cv`` sees only
    that split's outer training rows; every inner-fold fit is disjoint from the inner-validation
    rows it is then scored on (together they are the outer training rows, and the validation
    parts of the folds partition them); every final fit, of every method, is on exactly the
    outer training rows; and DeepGAMI and the baseline see the same inner folds. With
    ``select_k`` (fold preprocessing reads the labels) DeepGAMI is tuned on inner folds; without
    it on its out-of-fold scores, one fit per grid point on the outer training rows: both paths."""
    cohort = simulate_cohort(n_samples=60, n_snps=60, n_tfs=8, n_genes=12, difficulty="easy", seed=6)
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    graph = RegulatoryGraph.from_edge_tables([(cohort.eqtl, "snp", "gene", "eqtl"), (cohort.grn, "tf", "gene", "regulates")])
    settings = CVSettings(
        folds=2,
        methods=["deepgami", "logistic_l2"],
        ablations=["no_aux"] if inner_folds else [],
        search={"dropout": [0.2, 0.5]},
        method_grids={"logistic_l2": {"C": [0.1, 1.0]}},
        estimator_params={"max_epochs": 2, "n_members": 2, "null_members": 0},
        preprocessing={"select_k": {"snp": 30}} if inner_folds else {},
    )
    events = _record_fits(monkeypatch, caplog)
    result = run_cv(data, graph, settings, repeats=2)
    methods = ["deepgami", "logistic_l2", "deepgami_no_aux"] if inner_folds else ["deepgami", "logistic_l2"]
    blocks = _blocks(events)
    assert sorted(blocks) == sorted((split, name) for split in (0, 1) for name in methods)
    tuned_out_of_fold = "out-of-fold" in result.tuning["deepgami"]
    assert tuned_out_of_fold is not inner_folds
    for split, (train_rows, test_rows) in enumerate(outer_splits(data, settings, 2)):
        outer_train, outer_test = frozenset(data.samples[train_rows]), frozenset(data.samples[test_rows])
        assert len(outer_test) == 12 and not outer_train & outer_test
        inner_by_method = {}
        for name in methods:
            block = blocks[split, name]
            preps, fits = _fits(block, "prep"), _fits(block, "method")
            assert preps and fits
            for _, rows, used in preps.values():
                assert rows <= outer_train and not rows & outer_test
                # The preprocessor transforms its own fit rows, or rows it never saw.
                assert all(other == rows or not other & rows for other in used)
            inner, final = set(), set()
            for _, rows, predicted in fits.values():
                assert rows <= outer_train and not rows & outer_test
                for other in predicted:
                    assert not other & rows  # no method is scored on a row it was fit on
                    if other == outer_test:
                        final.add(rows)
                    else:
                        assert other <= outer_train and other | rows == outer_train
                        inner.add((rows, other))
            assert final == {outer_train}, name  # the final fit (and single-modality refits) use all training rows
            unscored = [rows for _, rows, predicted in fits.values() if not predicted]
            if name.startswith("deepgami") and not inner_folds:
                # One fit per grid point on the training rows, scored by its own out-of-fold predictions.
                assert not inner and unscored == [outer_train]  # the best one predicts, the other is dropped
                continue
            assert not unscored
            validation = [other for _, other in inner]
            assert len(inner) == settings.folds and frozenset().union(*validation) == outer_train
            assert sum(len(v) for v in validation) == len(outer_train)  # the folds' validation parts partition the rows
            inner_by_method[name] = inner
        # Every method tuned on inner folds saw the same inner folds.
        assert len({frozenset(inner) for inner in inner_by_method.values()}) == 1
        assert set(inner_by_method) == ({*methods} if inner_folds else {"logistic_l2"})
