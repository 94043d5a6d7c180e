"""Several phenotypes in one model: any mix of tasks, per-target heads and loss weights, samples
missing a target still training the others; through Python and through [[data.targets]]."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from test_cli_errors import assert_clean_error, run_cli

from deepgami import DeepGAMIEstimator, DeepGAMIMultiTarget, DeepGAMIRegressor, InputError
from deepgami.cli import main
from deepgami.explain import Explainer
from deepgami.simulate import simulate_cohort
from deepgami.tasks import MultiTarget

TARGETS = {"age": "regression", "grade": "classification", "os": "survival"}
FAST = dict(n_members=2, null_members=1, latent_dim=8, max_epochs=50, patience=15, random_state=0)


@pytest.fixture(scope="module")
def data():
    """Three phenotypes driven by different features; 50 samples lack age, 30 lack survival."""
    rng = np.random.default_rng(0)
    n = 400
    samples = [f"s{i:03d}" for i in range(n)]
    a = pd.DataFrame(rng.normal(size=(n, 8)), index=samples, columns=[f"a{j}" for j in range(8)])
    b = pd.DataFrame(rng.normal(size=(n, 6)), index=samples, columns=[f"b{j}" for j in range(6)])
    age = 2 * a["a0"] + b["b1"] + rng.normal(scale=0.5, size=n)
    grade = np.where(a["a2"] + rng.normal(scale=0.5, size=n) > 0, "high", "low").astype(object)
    hazard = np.exp(a["a4"] + b["b2"])
    time, censor = rng.exponential(1 / hazard), rng.exponential(2.0, size=n)
    y = pd.DataFrame({"age": age, "grade": grade, "os:time": np.minimum(time, censor), "os:event": (time <= censor).astype(int)}, index=samples)
    y.loc[samples[:50], "age"] = np.nan
    y.loc[samples[50:80], ["os:time", "os:event"]] = np.nan
    train, test = samples[:300], samples[300:]
    return {"a": a, "b": b}, y, train, test


@pytest.fixture(scope="module")
def fitted(data):
    X, y, train, _ = data
    model = DeepGAMIMultiTarget(targets=TARGETS, target_weights={"os": 0.5}, **FAST)
    return model.fit({m: v.loc[train] for m, v in X.items()}, y.loc[train])


def test_every_target_learns_from_its_own_drivers(data, fitted):
    X, y, _, test = data
    X_test = {m: v.loc[test] for m, v in X.items()}
    metrics = fitted.task_.metrics(y.loc[test], fitted.predict_scores(X_test))
    assert metrics["age"]["r2"] > 0.6 and metrics["grade"]["auc"] > 0.85 and metrics["os"]["c_index"] > 0.6
    table = Explainer(fitted, X_test, n_steps=16).features().table
    top = table[table["rank"] == 1].set_index("class")["feature"]
    assert top["age:predicted"] == "a0" and top["grade:high"] == "a2" and top["os:risk"] in ("a4", "b2")


def test_missing_targets_train_the_others_and_count_per_target(data, fitted):
    _, y, train, _ = data
    assert list(fitted.oof_scores_.columns) == ["age:predicted", "grade:high", "grade:low", "os:risk"]
    # Every training row is scored out of fold; the loss used each target only where present.
    assert len(fitted.oof_scores_) == len(train) and np.isfinite(fitted.oof_scores_.to_numpy()).all()
    task = fitted.task_
    packed = torch.as_tensor(np.array([[np.nan, 1.0, 2.0, 1.0], [0.5, np.nan, np.nan, np.nan]], dtype=np.float32))
    totals = task.loss_totals(packed.unsqueeze(1))
    assert totals[:, 0].tolist() == [1.0, 1.0, 1.0]  # age, grade, os events: one row each
    assert task.used(packed.unsqueeze(1)).squeeze(1).tolist() == [True, True]


def test_loss_is_the_weighted_sum_of_the_targets_losses(fitted):
    task: MultiTarget = fitted.task_
    torch.manual_seed(0)
    outputs = torch.randn(6, 1, task.n_outputs)
    y = torch.tensor([[0.3, 0.0, 1.0, 1.0], [-1.0, 1.0, 2.0, 0.0], [np.nan, 1.0, 0.5, 1.0], [0.1, np.nan, 3.0, 1.0],
                      [1.2, 0.0, np.nan, np.nan], [0.0, 1.0, 1.5, 0.0]], dtype=torch.float32).unsqueeze(1)  # fmt: skip
    totals = task.loss_totals(y)
    expected = sum(
        task.weights[n] * t.loss(outputs[..., task.outputs[n]], task.block(n, y), totals[i]) for i, (n, t) in enumerate(task.targets.items())
    )
    torch.testing.assert_close(task.loss(outputs, y, totals), expected)
    assert task.weights == {"age": 1.0, "grade": 1.0, "os": 0.5}


def test_save_load_and_prediction_table(data, fitted, tmp_path):
    X, _, _, test = data
    X_test = {m: v.loc[test] for m, v in X.items()}
    fitted.save(tmp_path / "model")
    loaded = DeepGAMIEstimator.load(tmp_path / "model")
    assert isinstance(loaded, DeepGAMIMultiTarget) and loaded.targets == TARGETS
    pd.testing.assert_frame_equal(loaded.predict_table(X_test), fitted.predict_table(X_test))
    table = fitted.predict_table(X_test)
    assert list(table.columns) == ["sample", "age_predicted", "grade_predicted", "grade_p_high", "grade_p_low", "os_risk"]
    # One modality predicts every target without reading the other.
    alone = fitted.predict_table({"a": X_test["a"]})
    assert alone.notna().all().all() and len(alone) == len(test)


def test_bad_targets_are_refused(data):
    X, y, train, _ = data
    X_train = {m: v.loc[train] for m, v in X.items()}
    with pytest.raises(InputError, match="targets must map"):
        DeepGAMIMultiTarget(targets={"age": "ordinal"}, max_epochs=1).fit(X_train, y.loc[train])
    with pytest.raises(InputError, match="lack column"):
        DeepGAMIMultiTarget(targets={"bmi": "regression"}, max_epochs=1).fit(X_train, y.loc[train])
    with pytest.raises(InputError, match="not targets"):
        DeepGAMIMultiTarget(targets={"age": "regression"}, target_weights={"os": 2.0}, max_epochs=1).fit(X_train, y.loc[train])


def test_a_regressor_will_not_load_a_multi_target_model(fitted, tmp_path):
    fitted.save(tmp_path / "model")
    with pytest.raises(InputError, match="predicts a multi task"):
        DeepGAMIRegressor.load(tmp_path / "model")


@pytest.fixture(scope="module")
def cohort_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi")
    shared = dict(n_samples=200, n_snps=200, n_tfs=20, n_genes=40, seed=3)
    trait = simulate_cohort(phenotype="continuous", **shared)
    survival = simulate_cohort(phenotype="survival", **shared)
    status = simulate_cohort(**shared)
    config = trait.write(folder)
    labels = pd.DataFrame({"trait": trait.labels, "status": status.labels, "os_days": survival.labels["time"], "os_event": survival.labels["event"]})
    labels.loc[labels.index[:20], "trait"] = np.nan
    labels.to_csv(folder / "labels.csv", index_label="sample")
    targets = (
        '[[data.targets]]\nname = "trait"\ntask = "regression"\n[[data.targets]]\nname = "status"\ntask = "classification"\n'
        '[[data.targets]]\nname = "os"\ntask = "survival"\ntime_column = "os_days"\nweight = 0.5\n\n'
    )
    text = config.read_text().replace('task = "regression"\n', targets)
    config.write_text(text + "\n[model]\nn_members = 2\nnull_members = 1\n[training]\nmax_epochs = 20\n")
    return config


def test_several_targets_through_the_cli(cohort_config, tmp_path):
    run = tmp_path / "run"
    assert main(["-q", "fit", str(cohort_config), "--out", str(run)]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]["all"]) == {"trait", "status", "os"}
    assert {"r2", "r2_ci95"} <= set(metrics["test"]["snp"]["trait"]) and "auc" in metrics["test"]["tf"]["status"]
    assert "c_index" in metrics["out_of_fold"]["os"]
    for figure in ("predicted_vs_observed_trait.png", "roc_status.png", "kaplan_meier_os.png"):
        assert (run / figure).is_file()
    columns = pd.read_csv(run / "predictions.csv").columns
    assert list(columns) == ["sample", "trait_predicted", "status_predicted", "status_p_case", "status_p_control", "os_risk"]
    assert main(["-q", "explain", str(run), "--out", str(run / "explain"), "--n-steps", "8"]) == 0
    edges = pd.read_csv(run / "explain" / "edges.csv")
    assert set(edges["class"]) == {"trait:predicted", "status:case", "status:control", "os:risk"}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace('name = "os"', 'name = "trait"'), ("names must differ",)),
        (lambda t: t.replace('task = "classification"', 'task = "ordinal"'), ("task must be one of", "ordinal")),
        (lambda t: t.replace('time_column = "os_days"', 'time_column = "os_months"'), ("no column 'os_months'", "target 'os'")),
        (lambda t: t.replace('name = "status"', 'name = "status"\nlabel_column = "status"\ntime_column = "x"'), ("does not take time_column",)),
        (lambda t: t.replace("[data]\n", '[data]\ntask = "regression"\n', 1), ("set per target",)),
    ],
    ids=["duplicate-name", "unknown-task", "missing-column", "wrong-key", "task-beside-targets"],
)
def test_bad_target_tables_end_in_one_line(capsys, cohort_config, tmp_path, edit, expected):
    config = tmp_path / "config.toml"
    text = cohort_config.read_text().replace('labels = "labels.csv"', f'labels = "{cohort_config.parent / "labels.csv"}"')
    for name in ("snp.csv", "tf.csv", "eqtl.csv", "grn.csv"):
        text = text.replace(f'"{name}"', f'"{cohort_config.parent / name}"')
    config.write_text(edit(text))
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(capsys, "fit", config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, *expected)


def test_cv_refuses_several_targets(capsys, cohort_config, tmp_path):
    out = tmp_path / "cv"
    code, stdout, stderr = run_cli(capsys, "cv", cohort_config, "--out", out)
    assert_clean_error(code, stdout, stderr, out, "one target")
