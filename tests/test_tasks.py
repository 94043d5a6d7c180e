"""Regression and survival tasks end to end: the Cox loss against lifelines and a direct
formula, linear truths recovered, labels on their own scale, survival curves, exact
save/load, missing-modality prediction, bad labels and cross-fitted ensembles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from lifelines import CoxPHFitter
from sklearn.metrics import r2_score
from sksurv.metrics import concordance_index_censored
from sksurv.util import Surv

from deepgami import DeepGAMIClassifier, DeepGAMIRegressor, DeepGAMISurvival, InputError
from deepgami.estimator import DeepGAMIEstimator
from deepgami.tasks import Survival, cox_efron_loss

N, N_TRAIN = 300, 225
# Small and fast: a linear head on 8 latents, both modalities always seen while training.
FAST = dict(latent_dim=8, lr=1e-2, modality_dropout=0.0, batch_size=32, max_epochs=60, patience=15, random_state=0)
SINGLE = dict(FAST, n_members=1, null_members=0)
ENSEMBLE = dict(FAST, n_members=2, null_members=1, max_epochs=40)
TINY = dict(FAST, n_members=1, null_members=0, max_epochs=2)


# ---------------------------------------------------------------------------- data
def _modalities(seed: int = 0):
    """Two modalities a (8 features) and b (6) of N samples and a linear signal of a0, a1 and b0."""
    rng = np.random.default_rng(seed)
    samples = pd.Index([f"s{i:03d}" for i in range(N)])
    a = pd.DataFrame(rng.normal(size=(N, 8)), index=samples, columns=[f"a{i}" for i in range(8)])
    b = pd.DataFrame(rng.normal(size=(N, 6)), index=samples, columns=[f"b{i}" for i in range(6)])
    signal = a["a0"] - 0.7 * a["a1"] + 0.5 * b["b0"]
    return {"a": a, "b": b}, signal, rng


def _rows(X: dict, rows: pd.Index) -> dict:
    return {m: frame.loc[rows] for m, frame in X.items()}


@pytest.fixture(scope="module")
def regression_data():
    X, signal, rng = _modalities(0)
    y = signal + rng.normal(scale=0.3, size=N)
    train, test = y.index[:N_TRAIN], y.index[N_TRAIN:]
    return _rows(X, train), y.loc[train], _rows(X, test), y.loc[test]


@pytest.fixture(scope="module")
def survival_data():
    """Exponential event times with log-hazard the linear signal, exponential censoring (about 30 %)."""
    X, signal, rng = _modalities(1)
    event_time = rng.exponential(1 / np.exp(signal.to_numpy()))
    censor_time = rng.exponential(2.0, size=N)
    y = pd.DataFrame({"time": np.minimum(event_time, censor_time), "event": (event_time <= censor_time).astype(int)}, index=signal.index)
    train, test = y.index[:N_TRAIN], y.index[N_TRAIN:]
    return _rows(X, train), y.loc[train], _rows(X, test), y.loc[test]


@pytest.fixture(scope="module")
def regressor(regression_data):
    X, y, _, _ = regression_data
    return DeepGAMIRegressor(latent_activation="none", **SINGLE).fit(X, y)


@pytest.fixture(scope="module")
def survival_model(survival_data):
    X, y, _, _ = survival_data
    return DeepGAMISurvival(**SINGLE).fit(X, y)


@pytest.fixture(scope="module")
def ensembles(regression_data, survival_data):
    """A cross-fitted ensemble (2 members, 1 null member) per task, with its data."""
    return {
        "regression": (DeepGAMIRegressor(**ENSEMBLE).fit(*regression_data[:2]), regression_data),
        "survival": (DeepGAMISurvival(**ENSEMBLE).fit(*survival_data[:2]), survival_data),
    }


# ---------------------------------------------------------------------------- Cox loss
def _tied_cohort(seed: int = 0, n: int = 60):
    """A cohort of n rows, 2 covariates, times rounded to one decimal (ties among events and with censored rows)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    event_time = rng.exponential(1 / np.exp(x @ np.array([0.8, -0.5])))
    censor_time = rng.exponential(1.5, size=n)
    time = np.round(np.minimum(event_time, censor_time), 1) + 0.1
    event = (event_time <= censor_time).astype(np.int64)
    return x, time, event


def _plain_partial_likelihood(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
    """Negative Cox partial log-likelihood, one risk set per event (Breslow's ties), O(n^2)."""
    total = 0.0
    for i in range(len(time)):
        if event[i]:
            at_risk = [j for j in range(len(time)) if time[j] >= time[i]]
            total += risk[i] - np.log(sum(np.exp(risk[j]) for j in at_risk))
    return -total


def _loss(risk, time, event) -> torch.Tensor:
    return cox_efron_loss(torch.as_tensor(risk, dtype=torch.float64), torch.as_tensor(time, dtype=torch.float64), torch.as_tensor(event))


def test_cox_loss_equals_lifelines_efron_partial_likelihood_with_ties():
    x, time, event = _tied_cohort()
    _, event_counts = np.unique(time[event == 1], return_counts=True)
    assert event_counts.max() >= 2 and (event == 0).sum() >= 10, "the cohort needs tied events and censoring"
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "time": time, "event": event})
    # Efron's ties; converged tightly so that the gradient check below can be tight too.
    cph = CoxPHFitter().fit(frame, "time", "event", fit_options={"precision": 1e-12, "max_steps": 100})
    beta = cph.params_[["x0", "x1"]].to_numpy()
    loss = _loss(x @ beta, time, event)
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(-cph.log_likelihood_, abs=1e-6)
    # At lifelines' maximum the loss is flat in the coefficients.
    beta_t = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    _loss(torch.as_tensor(x) @ beta_t, time, event).backward()
    np.testing.assert_allclose(beta_t.grad.numpy(), 0.0, atol=1e-6)
    # With ties Efron's risk sets shrink, so its likelihood is above Breslow's.
    assert loss.item() < _plain_partial_likelihood(x @ beta, time, event) - 1e-3


def test_cox_loss_without_ties_is_the_plain_partial_likelihood():
    rng = np.random.default_rng(3)
    n = 40
    time = rng.permutation(np.arange(1, n + 1)).astype(float) + rng.uniform(0, 0.5, n)
    event = (rng.uniform(size=n) < 0.7).astype(np.int64)
    risk = rng.normal(size=n) * 2
    expected = _plain_partial_likelihood(risk, time, event)
    assert _loss(risk, time, event).item() == pytest.approx(expected, abs=1e-9)
    # The same for shifted risks (a constant cancels) and for any row order.
    assert _loss(risk + 50.0, time, event).item() == pytest.approx(expected, abs=1e-8)
    order = rng.permutation(n)
    assert _loss(risk[order], time[order], event[order]).item() == pytest.approx(expected, abs=1e-9)
    # float32 inputs agree to float32 precision.
    loss32 = cox_efron_loss(
        torch.tensor(risk, dtype=torch.float32), torch.tensor(time, dtype=torch.float32), torch.tensor(event, dtype=torch.float32)
    )
    assert loss32.dtype == torch.float32 and loss32.item() == pytest.approx(expected, rel=1e-5)


def test_cox_loss_gradient_passes_gradcheck():
    _, time, event = _tied_cohort(seed=1, n=30)
    risk = torch.tensor(np.random.default_rng(1).normal(size=30), dtype=torch.float64, requires_grad=True)
    time_t, event_t = torch.tensor(time), torch.tensor(event)
    assert torch.autograd.gradcheck(lambda r: cox_efron_loss(r, time_t, event_t), (risk,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("n", [0, 5])
def test_cox_loss_without_events_is_zero_with_a_gradient(n):
    risk = torch.randn(n, dtype=torch.float64, requires_grad=True)
    loss = cox_efron_loss(risk, torch.arange(n, dtype=torch.float64), torch.zeros(n))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert risk.grad is not None and torch.equal(risk.grad, torch.zeros(n, dtype=torch.float64))


# ---------------------------------------------------------------------------- learning
def test_regressor_recovers_a_linear_truth(regressor, regression_data):
    _, _, X_test, y_test = regression_data
    predicted = regressor.predict(X_test)
    assert predicted.shape == (len(y_test),)
    assert r2_score(y_test, predicted) > 0.8
    assert regressor.score(X_test, y_test) == pytest.approx(r2_score(y_test, predicted))
    # score aligns a Series by sample id.
    assert regressor.score(X_test, y_test.iloc[::-1]) == pytest.approx(r2_score(y_test, predicted))


def test_regressor_predicts_on_the_scale_of_the_labels(regressor, regression_data):
    X, y, X_test, y_test = regression_data
    # Labels of mean about 1000 and sd 50: the same standardised targets as y.
    big = 1000 + 50 * y
    model = DeepGAMIRegressor(latent_activation="none", **SINGLE).fit(X, big)
    assert model.task_.mean == pytest.approx(big.mean()) and model.task_.scale == pytest.approx(big.std(ddof=0))
    predicted = model.predict(X_test)
    assert abs(predicted.mean() - (1000 + 50 * y_test).mean()) < 10
    assert 25 < predicted.std() < 75
    assert r2_score(1000 + 50 * y_test, predicted) > 0.8
    # The network saw (nearly) the same standardised targets: the predictions are an affine image.
    np.testing.assert_allclose(predicted, 1000 + 50 * regressor.predict(X_test), atol=0.5)
    assert list(model.predict_table(X_test).columns) == ["sample", "predicted"]


def test_huber_loss_fits(regression_data):
    X, y, X_test, y_test = regression_data
    model = DeepGAMIRegressor(loss="huber", huber_delta=1.0, **SINGLE).fit(X, y)
    assert model.task_.loss_name == "huber"
    assert "val_huber" in model.history_[0] and "val_mse" not in model.history_[0]
    assert r2_score(y_test, model.predict(X_test)) > 0.7


def test_survival_ranks_a_linear_log_hazard(survival_model, survival_data):
    _, _, X_test, y_test = survival_data
    risk = survival_model.predict(X_test)
    c_index = survival_model.score(X_test, y_test)
    assert c_index > 0.7
    direct = concordance_index_censored(y_test["event"].to_numpy() > 0, y_test["time"].to_numpy(), risk)[0]
    assert c_index == pytest.approx(direct)
    # The same from a structured (event, time) array in row order, and from a reordered frame.
    assert survival_model.score(X_test, Surv.from_arrays(y_test["event"] > 0, y_test["time"])) == pytest.approx(direct)
    assert survival_model.score(X_test, y_test.iloc[::-1]) == pytest.approx(direct)
    assert list(survival_model.predict_table(X_test).columns) == ["sample", "risk"]


def test_survival_function_is_a_proper_curve(survival_model, survival_data):
    _, _, X_test, _ = survival_data
    first = survival_model.task_.baseline_times[0]
    times = np.concatenate([[0.0, first / 2], np.linspace(first, 2 * survival_model.task_.baseline_times[-1], 40)])
    curves = survival_model.predict_survival_function(X_test, times)
    values = curves.to_numpy()
    assert curves.shape == (len(X_test["a"]), len(times)) and list(curves.index) == list(X_test["a"].index)
    assert np.all((values >= 0) & (values <= 1))
    assert np.all(np.diff(values, axis=1) <= 0), "S(t) must not increase in t"
    np.testing.assert_array_equal(values[:, :2], 1.0)  # before the first baseline event time
    assert values[:, -1].max() < values[:, 2].min()  # and it does fall
    # Higher risk, lower survival at every time (strictly where the hazard is under way).
    order = np.argsort(survival_model.predict(X_test))
    assert np.all(np.diff(values[order], axis=0) <= 0)
    middle = len(times) // 4
    risk = survival_model.predict(X_test)[order]
    distinct = np.diff(risk) > 1e-6
    assert np.all(np.diff(values[order, middle])[distinct] < 0)


def _breslow(risk: np.ndarray, time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Breslow's cumulative baseline hazard at the distinct event times, directly in float64."""
    weight = np.exp(np.asarray(risk, dtype=np.float64))
    event_times = np.unique(time[event])
    return event_times, np.cumsum([event[time == t].sum() / weight[time >= t].sum() for t in event_times])


def test_baseline_hazard_is_breslows_on_the_training_risks(survival_model, survival_data):
    X, y, _, _ = survival_data
    time, event = y["time"].to_numpy(), y["event"].to_numpy() > 0
    event_times, expected = _breslow(survival_model.predict(X), time, event)
    task = survival_model.task_
    at = np.searchsorted(task.baseline_times, event_times)
    np.testing.assert_array_equal(task.baseline_times[at], event_times)
    np.testing.assert_allclose(task.baseline_hazard[at], expected, rtol=1e-7)


def test_baseline_hazard_of_float32_risks_keeps_float64_precision():
    """The network's scores are float32: the baseline hazard must not inherit float32 round-off.

    200 events at distinct times, log-risks falling from 6 to -6 (early events riskier): the
    last risk sets hold a tiny share of the total weight.
    """
    time, event = np.arange(1.0, 201.0), np.ones(200, dtype=bool)
    risk = np.linspace(6, -6, 200).astype(np.float32)
    _, expected = _breslow(risk, time, event)
    task = Survival(time, event)
    task.fit_baseline(risk)
    assert np.all(np.diff(task.baseline_hazard) > 0)
    np.testing.assert_allclose(task.baseline_hazard, expected, rtol=1e-7)


# ---------------------------------------------------------------------------- persistence
@pytest.mark.parametrize("kind", ["regression", "survival"])
def test_save_load_is_exact(ensembles, kind, tmp_path):
    model, (_, _, X_test, _) = ensembles[kind]
    model.save(tmp_path / "model")
    loaded = DeepGAMIEstimator.load(tmp_path / "model")
    assert type(loaded) is type(model)
    assert loaded.n_members == 2 and loaded.null_members == 1
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))
    np.testing.assert_array_equal(loaded.predict(X_test, use_modalities=["b"]), model.predict(X_test, use_modalities=["b"]))
    pd.testing.assert_frame_equal(loaded.predict_table(X_test), model.predict_table(X_test))
    assert type(type(model).load(tmp_path / "model")) is type(model)
    if kind == "survival":
        times = np.linspace(0, 3, 25)
        pd.testing.assert_frame_equal(
            loaded.predict_survival_function(X_test, times), model.predict_survival_function(X_test, times), check_exact=True
        )
        np.testing.assert_array_equal(loaded.task_.baseline_hazard, model.task_.baseline_hazard)
        np.testing.assert_array_equal(loaded.task_.train_event, model.task_.train_event)
    else:
        assert loaded.task_ == model.task_


def test_loading_with_another_tasks_estimator_is_refused(ensembles, tmp_path):
    ensembles["survival"][0].save(tmp_path / "survival")
    ensembles["regression"][0].save(tmp_path / "regression")
    with pytest.raises(InputError, match="survival"):
        DeepGAMIRegressor.load(tmp_path / "survival")
    with pytest.raises(InputError, match="regression"):
        DeepGAMISurvival.load(tmp_path / "regression")
    with pytest.raises(InputError, match="survival"):
        DeepGAMIClassifier.load(tmp_path / "survival")
    assert isinstance(DeepGAMISurvival.load(tmp_path / "survival"), DeepGAMISurvival)


# ---------------------------------------------------------------------------- missing modality
@pytest.mark.parametrize("kind", ["regression", "survival"])
def test_prediction_without_a_modality_never_reads_it(ensembles, kind):
    model, (_, _, X_test, _) = ensembles[kind]
    a, b = X_test["a"], X_test["b"]
    garbage = {
        "nan": b * np.nan,
        "huge": (b.sample(frac=1.0, random_state=0).set_axis(b.index) * 1e30),
        "fewer rows and other columns": pd.DataFrame({"junk": ["x"] * 5}, index=b.index[:5]),
    }
    alone = model.predict({"a": a})
    assert alone.shape == (len(a),) and np.all(np.isfinite(alone))
    np.testing.assert_array_equal(model.predict({"a": a, "b": b}, use_modalities=["a"]), alone)
    for name, other in garbage.items():
        np.testing.assert_array_equal(model.predict({"a": a, "b": other}, use_modalities=["a"]), alone, err_msg=name)
    assert not np.allclose(alone, model.predict(X_test)), "with b the prediction should differ for this test to bite"
    if kind == "survival":
        times = [0.1, 0.5, 1.0, 2.0]
        curves = model.predict_survival_function({"a": a}, times)
        for other in (b, *garbage.values()):
            pd.testing.assert_frame_equal(model.predict_survival_function({"a": a, "b": other}, times, use_modalities=["a"]), curves)


@pytest.mark.parametrize("kind", ["regression", "survival"])
def test_rows_missing_a_modality_predict_as_without_it(ensembles, kind):
    """Samples absent from table b (outer join) predict from a alone, beside rows that have b."""
    model, (_, _, X_test, _) = ensembles[kind]
    half = len(X_test["b"]) // 2
    mixed = model.predict({"a": X_test["a"], "b": X_test["b"].iloc[:half]})
    assert np.all(np.isfinite(mixed))
    np.testing.assert_allclose(mixed[half:], model.predict({"a": X_test["a"]})[half:], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mixed[:half], model.predict(X_test)[:half], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- bad input
def test_non_numeric_regression_labels_are_named(regression_data):
    X, y, _, _ = regression_data
    bad = y.astype(object)
    bad.iloc[3] = "high"
    with pytest.raises(InputError, match=rf"numeric labels.*{y.index[3]}='high'"):
        DeepGAMIRegressor(**TINY).fit(X, bad)


def test_constant_regression_labels_are_refused(regression_data):
    X, y, _, _ = regression_data
    with pytest.raises(InputError, match="varies"):
        DeepGAMIRegressor(**TINY).fit(X, pd.Series(2.5, index=y.index))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda y: y.assign(time=y["time"].where(y.index != y.index[4], -1.0)), "non-negative"),
        (lambda y: y.assign(time=y["time"].where(y.index != y.index[4], np.nan)), "non-negative"),
        (lambda y: y.assign(event=y["event"].where(y.index != y.index[4], 2)), "events must be 1"),
        (lambda y: y.assign(event=0), "no(ne)? .*event"),
        (lambda y: y.rename(columns={"time": "days"}), "time and event"),
    ],
    ids=["negative time", "nan time", "event 2", "no events", "no time column"],
)
def test_bad_survival_labels_are_refused(survival_data, change, match):
    X, y, _, _ = survival_data
    with pytest.raises(InputError, match=match):
        DeepGAMISurvival(**TINY).fit(X, change(y))


def test_survival_labels_as_arrays_in_row_order(survival_data):
    X, y, _, _ = survival_data
    from_frame = DeepGAMISurvival(**TINY).fit(X, y)
    as_array = DeepGAMISurvival(**TINY).fit(X, y[["time", "event"]].to_numpy())
    structured = DeepGAMISurvival(**TINY).fit(X, Surv.from_arrays(y["event"].to_numpy() > 0, y["time"].to_numpy()))
    for model in (as_array, structured):
        np.testing.assert_array_equal(model.task_.train_time, y["time"].to_numpy())
        np.testing.assert_array_equal(model.task_.train_event, y["event"].to_numpy() > 0)
        np.testing.assert_array_equal(model.predict(X), from_frame.predict(X))
    with pytest.raises(InputError, match="structured"):
        DeepGAMISurvival(**TINY).fit(X, np.ones((len(y), 3)))


# ---------------------------------------------------------------------------- cross-fitting
@pytest.mark.parametrize(("kind", "column", "keys"), [
    ("regression", "predicted", {"val_mse", "val_r2", "train_mse"}),
    ("survival", "risk", {"val_cox", "val_c_index", "train_cox"}),
])  # fmt: skip
def test_cross_fitted_ensembles_give_out_of_fold_scores(ensembles, kind, column, keys):
    model, (X, y, _, _) = ensembles[kind]
    oof = model.oof_scores_
    assert isinstance(oof, pd.DataFrame) and list(oof.columns) == [column]
    assert list(oof.index) == list(y.index)
    assert np.all(np.isfinite(oof.to_numpy()))
    assert keys <= set(model.history_[0])
    assert all(np.isfinite(record[k]) for record in model.history_ for k in keys)
    if kind == "regression":
        assert r2_score(y, oof[column]) > 0.5
    else:
        assert concordance_index_censored(y["event"].to_numpy() > 0, y["time"].to_numpy(), oof[column].to_numpy())[0] > 0.65
    # Out of fold is not in sample: the members' mean on their own training rows differs.
    assert not np.allclose(oof[column].to_numpy(), model.predict(X))


@pytest.mark.parametrize(("kind", "column"), [("regression", "predicted"), ("survival", "risk")])
def test_annotate_writes_the_tasks_predictions_into_mudata(ensembles, kind, column):
    """Users of scverse get the predicted value or log-risk in obs, as a float column."""
    mudata = pytest.importorskip("mudata")
    anndata = pytest.importorskip("anndata")
    from deepgami.scverse import annotate

    model, (_, _, X_test, _) = ensembles[kind]
    with mudata.set_options(pull_on_update=False):
        mdata = mudata.MuData({m: anndata.AnnData(frame.astype(np.float32)) for m, frame in X_test.items()})
    annotate(mdata, model)
    values = mdata.obs[f"deepgami_{column}"].to_numpy(dtype=np.float64)
    np.testing.assert_allclose(values, model.predict(X_test), rtol=1e-6)
    assert mdata.uns["deepgami"]["task"] == kind and mdata.uns["deepgami"]["outputs"] == [column]
