"""Baseline methods: the method interface, no leakage from test rows, and SNF against its paper."""

from __future__ import annotations

import inspect
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from deepgami.data import MultiOmicsData
from deepgami.errors import InputError
from deepgami.evaluation import baselines
from deepgami.evaluation.baselines.mofa import _mofa_entry_point, _project
from deepgami.evaluation.baselines.snf_fusion import affinity_matrix, knn_kernel, label_propagation, normalize_affinity, snf
from deepgami.evaluation.methods import REGISTRY, method_spec, task_methods
from deepgami.simulate import simulate_cohort

BASELINES = [
    "logistic_l2",
    "logistic_lasso",
    "random_forest",
    "svm",
    "mlp",
    "late_fusion",
    "mofa_lr",
    "snf_label_propagation",
]
LINEAR = ["logistic_l2", "logistic_lasso", "late_fusion"]
INDUCTIVE = [name for name in BASELINES if name != "snf_label_propagation"]
# Smaller than the registered defaults, to keep the tests fast.
FAST = {"random_forest": {"n_estimators": 100}, "mlp": {"hidden_layer_sizes": (32,)}}


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """Single-threaded BLAS: on these tiny problems threads only wait on each other (with other
    jobs on the machine, scipy's L-BFGS ran ~100x slower with two OpenBLAS threads than with one)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def build(name: str, random_state: int = 0):
    spec = REGISTRY[name]
    return spec.factory(graph=None, random_state=random_state, **{**spec.params, **FAST.get(name, {})})


@pytest.fixture(scope="module")
def cohort():
    cohort = simulate_cohort(n_samples=120, n_snps=100, n_tfs=15, n_genes=20, difficulty="easy", seed=0)
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    train_rows, test_rows = train_test_split(
        np.arange(len(data)), test_size=0.25, stratify=data.labels.to_numpy(), random_state=0
    )
    return data, np.sort(train_rows), np.sort(test_rows)


@pytest.fixture(scope="module")
def split(cohort):
    data, train_rows, test_rows = cohort
    return data.subset(train_rows), data.subset(test_rows)


@pytest.fixture(scope="module")
def fitted(split):
    """Each baseline fit once on the training rows (random_state=0), built on first use."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = build(name).fit(split[0])
        return cache[name]

    return get


def scaler_means(method) -> dict[str, np.ndarray]:
    """Per-modality means learned by the method's (first) scaler."""
    if isinstance(method, baselines.ConcatenatedBaseline):
        means = method.pipeline_[0].mean_
        sizes = [len(method.feature_names_in_[m]) for m in method.modalities_]
        return dict(zip(method.modalities_, np.split(means, np.cumsum(sizes)[:-1])))
    if isinstance(method, baselines.LateFusion):
        return {m: model[0].mean_ for m, model in method.models_.items()}
    if isinstance(method, baselines.MofaLogistic):
        return {m: scaler.mean_ for m, scaler in method.scalers_.items()}
    return {m: scaler[0].mean_ for m, scaler in method.scalers_.items()}


def with_values(data: MultiOmicsData, change) -> MultiOmicsData:
    """A copy of ``data`` with every modality table replaced by ``change(name, table)``."""
    tables = {m: change(m, frame) for m, frame in data.modalities.items()}
    return MultiOmicsData(tables, data.labels)


# ----------------------------------------------------------------------------- registry
def test_every_baseline_is_registered_with_a_small_grid():
    for name in BASELINES:
        spec = REGISTRY[name]
        accepted = inspect.signature(spec.factory).parameters
        assert {"graph", "random_state"} <= set(accepted)
        assert set(spec.grid) <= set(accepted), name
        assert int(np.prod([len(values) for values in spec.grid.values()])) <= 4, name


# --------------------------------------------------------------------- the method interface
@pytest.mark.parametrize("name", BASELINES)
def test_probabilities_shape_rows_and_classes(name, split, fitted):
    train, test = split
    method = fitted(name)
    proba = method.predict_proba(test)
    assert proba.shape == (len(test), 2)
    assert np.isfinite(proba).all() and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(method.classes_, np.unique(train.labels))
    assert isinstance(method.supports_missing_modalities, bool)


@pytest.mark.parametrize("name", BASELINES)
def test_three_classes(name):
    cohort = simulate_cohort(n_samples=90, n_snps=60, n_tfs=15, n_genes=15, n_classes=3, difficulty="easy", seed=1)
    data = MultiOmicsData(cohort.modalities, cohort.labels)
    method = build(name).fit(data.subset(np.arange(72)))
    proba = method.predict_proba(data.subset(np.arange(72, 90)))
    assert list(method.classes_) == ["class_0", "class_1", "class_2"]
    assert proba.shape == (18, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("name", LINEAR)
def test_linear_baselines_beat_chance_on_an_easy_cohort(name, cohort):
    """Mean balanced accuracy over 4 folds (0.63-0.69 when written; chance is 0.5)."""
    data = cohort[0]
    scores = []
    for train_rows, test_rows in StratifiedKFold(4, shuffle=True, random_state=0).split(data.samples, data.labels):
        method = build(name).fit(data.subset(train_rows))
        predicted = method.classes_[method.predict_proba(data.subset(test_rows)).argmax(axis=1)]
        scores.append(balanced_accuracy_score(data.labels.iloc[test_rows], predicted))
    assert np.mean(scores) > 0.58


@pytest.mark.parametrize("name", LINEAR)
def test_columns_follow_classes(name, split, fitted):
    """Renaming the classes so that their sorted order flips swaps the probability columns."""
    train, test = split
    flipped = train.subset(np.arange(len(train)))
    flipped.labels = train.labels.map({"case": "b_case", "control": "a_control"})
    method = build(name).fit(flipped)
    assert list(method.classes_) == ["a_control", "b_case"]
    np.testing.assert_allclose(method.predict_proba(test)[:, ::-1], fitted(name).predict_proba(test), atol=1e-4)


@pytest.mark.parametrize("name", BASELINES)
def test_same_random_state_same_probabilities(name, split, fitted):
    train, test = split
    again = build(name).fit(train)
    np.testing.assert_array_equal(again.predict_proba(test), fitted(name).predict_proba(test))


@pytest.mark.parametrize("name", BASELINES)
def test_rows_follow_the_sample_order_of_the_data(name, split, fitted):
    _, test = split
    method = fitted(name)
    order = np.arange(len(test))[::-1]
    np.testing.assert_allclose(
        method.predict_proba(test.subset(order)), method.predict_proba(test)[order], rtol=1e-6, atol=1e-9
    )


# ------------------------------------------------------------------------------ leakage
@pytest.mark.parametrize("name", BASELINES)
def test_fit_learns_from_training_rows_only(name, split, fitted):
    """Fitted scaling statistics are those of the training rows, and predicting rows (here
    corrupted test rows) does not move them: nothing of the predicted rows enters the fitted state."""
    train, test = split
    method = fitted(name)
    for m, means in scaler_means(method).items():
        columns = method.feature_names_in_[m]
        np.testing.assert_allclose(means, train.modalities[m][columns].to_numpy(np.float64).mean(axis=0), rtol=1e-6)
    before = scaler_means(method)
    method.predict_proba(with_values(test, lambda m, frame: frame * 100 + 7))
    for m, means in scaler_means(method).items():
        np.testing.assert_array_equal(means, before[m])


@pytest.mark.parametrize("name", INDUCTIVE)
def test_a_test_rows_prediction_reads_nothing_of_the_other_test_rows(name, split, fitted):
    """The model fit on the training rows predicts each test row from that row alone: corrupting
    the values (x 100 + 7) and labels of every other test row predicted alongside it leaves its
    probabilities unchanged, and so does predicting it without them. A method that scaled,
    imputed, projected or propagated over the rows it predicts, or read their labels, would
    fail here. SNF is transductive by design; its promise, that the labels of the predicted
    rows are never read, is tested below."""
    _, test = split
    method = fitted(name)
    expected = method.predict_proba(test)
    corrupt = np.arange(len(test)) % 2 == 0
    corrupted = with_values(test, lambda m, frame: frame.where(np.broadcast_to(~corrupt[:, None], frame.shape), frame * 100 + 7))
    corrupted.labels = test.labels.where(~corrupt, "control")
    proba = method.predict_proba(corrupted)
    assert not np.allclose(proba[corrupt], expected[corrupt])  # the corruption reaches the model
    np.testing.assert_allclose(proba[~corrupt], expected[~corrupt], rtol=1e-6, atol=1e-9)
    alone = method.predict_proba(test.subset(np.flatnonzero(~corrupt)))
    np.testing.assert_allclose(alone, expected[~corrupt], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", BASELINES)
def test_prediction_leaves_the_fitted_model_unchanged(name, split, fitted):
    _, test = split
    method = fitted(name)
    before = method.predict_proba(test)
    means = scaler_means(method)
    method.predict_proba(with_values(test, lambda m, frame: frame * 3 - 1))
    np.testing.assert_array_equal(method.predict_proba(test), before)
    for m, value in scaler_means(method).items():
        np.testing.assert_array_equal(value, means[m])


def test_snf_never_reads_the_labels_of_the_data_it_predicts(split, fitted):
    _, test = split
    method = fitted("snf_label_propagation")
    relabelled = test.subset(np.arange(len(test)))
    relabelled.labels = pd.Series("case", index=test.samples)
    unlabelled = test.subset(np.arange(len(test)))
    unlabelled.labels = None
    expected = method.predict_proba(test)
    np.testing.assert_array_equal(method.predict_proba(relabelled), expected)
    np.testing.assert_array_equal(method.predict_proba(unlabelled), expected)


# ---------------------------------------------------------------------- modality handling
@pytest.mark.parametrize("name", [n for n in BASELINES if n != "late_fusion"])
def test_methods_without_missing_modality_support_ask_for_a_refit(name, split, fitted):
    _, test = split
    method = fitted(name)
    assert method.supports_missing_modalities is False
    np.testing.assert_array_equal(method.predict_proba(test, use_modalities=("tf", "snp")), method.predict_proba(test))
    with pytest.raises(ValueError, match="refit"):
        method.predict_proba(test, use_modalities=("snp",))


def test_a_baseline_fit_on_one_modality_predicts_from_it(split):
    train, test = split
    only_snp = {"snp": train.modalities["snp"]}
    method = build("logistic_l2").fit(MultiOmicsData(only_snp, train.labels))
    proba = method.predict_proba(test, use_modalities=("snp",))
    assert proba.shape == (len(test), 2)
    np.testing.assert_array_equal(method.predict_proba(test), proba)


def test_late_fusion_with_one_modality_uses_only_that_modality(split, fitted):
    _, test = split
    method = fitted("late_fusion")
    assert method.supports_missing_modalities is True
    noisy_tf = with_values(test, lambda m, frame: frame * -5 + 1 if m == "tf" else frame)
    snp_only = method.predict_proba(test, use_modalities=("snp",))
    np.testing.assert_array_equal(method.predict_proba(noisy_tf, use_modalities=("snp",)), snp_only)
    assert not np.allclose(method.predict_proba(noisy_tf), method.predict_proba(test))
    snp_model = method.models_["snp"]
    np.testing.assert_allclose(snp_only, snp_model.predict_proba(test.modalities["snp"].to_numpy(np.float64)))
    tf_only = method.predict_proba(test, use_modalities=("tf",))
    np.testing.assert_allclose(method.predict_proba(test), (snp_only + tf_only) / 2)


def test_late_fusion_averages_over_the_modalities_each_sample_has(split, fitted):
    _, test = split
    method = fitted("late_fusion")
    partial = MultiOmicsData(
        {"snp": test.modalities["snp"], "tf": test.modalities["tf"].iloc[5:]}, test.labels, join="outer"
    )
    proba = method.predict_proba(partial)
    np.testing.assert_allclose(proba[:5], method.predict_proba(test, use_modalities=("snp",))[:5])
    np.testing.assert_allclose(proba[5:], method.predict_proba(test)[5:])


def test_missing_features_and_unfitted_use_are_reported(split, fitted):
    train, test = split
    with pytest.raises(ValueError, match="not fitted"):
        build("logistic_l2").predict_proba(test)
    fewer = MultiOmicsData({"snp": test.modalities["snp"].iloc[:, 1:], "tf": test.modalities["tf"]}, test.labels)
    with pytest.raises(InputError, match="lacks 1 of the 100 features"):
        fitted("logistic_l2").predict_proba(fewer)
    single_class = train.subset(np.flatnonzero(train.labels.to_numpy() == "case"))
    with pytest.raises(InputError, match="single class"):
        build("logistic_l2").fit(single_class)


# ---------------------------------------------------------------------------------- MOFA
def test_mofa_projection_recovers_factors_and_fit_is_quiet(split, capsys):
    rng = np.random.default_rng(0)
    weights, factors = rng.normal(size=(30, 4)), rng.normal(size=(8, 4))
    X = factors @ weights.T
    np.testing.assert_allclose(_project(X, weights), factors, atol=1e-10)
    X[0, :10] = np.nan  # a sample missing some features is projected from the others
    np.testing.assert_allclose(_project(X, weights), factors, atol=1e-10)

    state = np.random.get_state()
    method = build("mofa_lr").fit(split[0])
    assert capsys.readouterr().out == ""
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1]) and after[2:] == state[2:]
    assert method.transform(split[1]).shape == (len(split[1]), method.weights_.shape[1])


@pytest.mark.parametrize("guarded", [True, False])
def test_importing_mofapy2_leaves_the_warning_filters_alone(guarded, monkeypatch):
    """mofapy2 runs warnings.filterwarnings("ignore") at import; our import undoes it."""
    for module in [m for m in sys.modules if m == "mofapy2" or m.startswith("mofapy2.")]:
        monkeypatch.delitem(sys.modules, module)
    before = list(warnings.filters)
    if guarded:
        _mofa_entry_point()
        assert warnings.filters == before
    else:  # the test can tell: a plain import does change them
        import mofapy2.run.entry_point  # noqa: F401

        assert warnings.filters != before


# ----------------------------------------------------------------------------------- SNF
def test_affinity_matches_the_paper_formula_on_a_hand_example():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
    K, mu = 2, 0.5
    n = len(X)
    rho = np.array([[np.sqrt(((X[i] - X[j]) ** 2).sum()) for j in range(n)] for i in range(n)])
    mean_knn = [np.mean(sorted(rho[i, j] for j in range(n) if j != i)[:K]) for i in range(n)]
    expected = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            eps = (mean_knn[i] + mean_knn[j] + rho[i, j]) / 3
            expected[i, j] = np.exp(-rho[i, j] ** 2 / (mu * eps))
    W = affinity_matrix(X, K=K, mu=mu)
    np.testing.assert_allclose(W, expected, rtol=1e-12)
    np.testing.assert_array_equal(W, W.T)
    np.testing.assert_array_equal(np.diag(W), 1.0)
    assert ((W > 0) & (W <= 1)).all()


def test_status_and_local_kernels_follow_the_paper():
    W = affinity_matrix(np.random.default_rng(0).normal(size=(12, 3)), K=4)
    P = normalize_affinity(W)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.diag(P), 0.5)
    np.testing.assert_allclose(P[0, 1], W[0, 1] / (2 * (W[0].sum() - W[0, 0])))
    S = knn_kernel(W, K=4)
    np.testing.assert_allclose(S.sum(axis=1), 1.0)
    assert ((S > 0).sum(axis=1) == 4).all()
    assert (np.diag(S) > 0).all()  # every sample is in its own neighbourhood
    row = W[3].copy()
    keep = np.argsort(-np.where(np.arange(12) == 3, np.inf, row))[:4]
    np.testing.assert_allclose(S[3, keep], row[keep] / row[keep].sum())


def test_fused_network_is_symmetric_and_finite():
    rng = np.random.default_rng(1)
    affinities = [affinity_matrix(rng.normal(size=(30, d)), K=5) for d in (4, 10, 2)]
    fused = snf(affinities, K=5, t=10)
    assert fused.shape == (30, 30)
    assert np.isfinite(fused).all() and (fused >= 0).all()
    np.testing.assert_allclose(fused, fused.T, atol=1e-15)
    single = snf(affinities[:1], K=5)
    np.testing.assert_allclose(single, (normalize_affinity(affinities[0]) + normalize_affinity(affinities[0]).T) / 2)


def two_cluster_views(rng: np.random.Generator, n_per_cluster: int = 20):
    """Two views in which samples 0..n-1 and n..2n-1 form two well-separated clusters."""
    labels = np.repeat([0, 1], n_per_cluster)
    views = []
    for n_features in (5, 8):
        centres = rng.normal(scale=6.0, size=(2, n_features))
        views.append(centres[labels] + rng.normal(size=(len(labels), n_features)))
    return views, labels


def test_label_propagation_on_the_fused_network_recovers_two_clusters():
    rng = np.random.default_rng(2)
    views, truth = two_cluster_views(rng)
    fused = snf([affinity_matrix(v, K=8) for v in views], K=8, t=20)
    labels = np.full(len(truth), -1)
    known = [0, 1, 20, 21]
    labels[known] = truth[known]
    proba = label_propagation(fused, labels, 2, alpha=0.9)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), truth)


def test_snf_method_recovers_two_clusters_from_training_labels():
    rng = np.random.default_rng(3)
    views, truth = two_cluster_views(rng, n_per_cluster=25)
    samples = [f"s{i}" for i in range(len(truth))]
    tables = {
        name: pd.DataFrame(values, index=samples, columns=[f"{name}{j}" for j in range(values.shape[1])])
        for name, values in zip(("a", "b"), views)
    }
    data = MultiOmicsData(tables, pd.Series(np.array(["one", "two"])[truth], index=samples))
    test_rows = np.r_[0:5, 25:30]
    train_rows = np.setdiff1d(np.arange(len(truth)), test_rows)
    method = REGISTRY["snf_label_propagation"].factory(graph=None, random_state=0, K=8).fit(data.subset(train_rows))
    proba = method.predict_proba(data.subset(test_rows))
    np.testing.assert_array_equal(method.classes_[proba.argmax(axis=1)], data.labels.to_numpy()[test_rows])


# ------------------------------------------------------------------ regression and survival
REGRESSION = ["ridge", "lasso", "elastic_net", "random_forest", "mlp", "late_fusion"]
SURVIVAL = ["coxnet", "random_survival_forest", "cox_ph", "late_fusion"]
# Smaller than the registered defaults, to keep the tests fast.
TASK_FAST = {("regression", "random_forest"): {"n_estimators": 50}, ("survival", "random_survival_forest"): {"n_estimators": 30}}


def build_for(task: str, name: str, random_state: int = 0):
    spec = method_spec(name, task)
    return spec.factory(graph=None, random_state=random_state, **{**spec.params, **TASK_FAST.get((task, name), {})})


@pytest.fixture(scope="module")
def task_splits():
    """A regression and a survival cohort (mostly linear truth), 90 training and 30 test rows each."""
    out = {}
    for task, phenotype in (("regression", "continuous"), ("survival", "survival")):
        cohort = simulate_cohort(
            n_samples=120, n_snps=60, n_tfs=10, n_genes=12, difficulty="easy", gene_activation="linear",
            phenotype=phenotype, log_hazard_ratio=2.0, seed=5,
        )  # fmt: skip
        data = MultiOmicsData(cohort.modalities, cohort.labels)
        out[task] = data.subset(np.arange(90)), data.subset(np.arange(90, 120))
    return out


def test_task_baselines_are_registered_per_task_with_small_grids():
    assert REGISTRY["late_fusion"].factory is baselines.LateFusion  # the classification one keeps the shared names
    assert REGISTRY["random_forest"].factory is baselines.RandomForest
    for task, names in (("regression", REGRESSION), ("survival", SURVIVAL)):
        assert task_methods(task)[1:] == names  # after deepgami, in registration order
        for name in names:
            spec = method_spec(name, task)
            assert spec.tasks == (task,)
            accepted = inspect.signature(spec.factory).parameters
            assert {"graph", "random_state"} <= set(accepted) and set(spec.grid) <= set(accepted), name
            assert int(np.prod([len(values) for values in spec.grid.values()])) <= 6, name
    assert method_spec("coxnet", "regression") is None and method_spec("ridge", "classification") is None


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_baselines_predict_values_on_the_label_scale(name, task_splits):
    train, test = task_splits["regression"]
    shifted = train.subset(np.arange(len(train)))
    shifted.labels = train.labels * 10 + 100  # another scale of the same target
    method = build_for("regression", name).fit(train)
    scores = method.predict_scores(test)
    assert scores.shape == (len(test), 1) and np.isfinite(scores).all()
    # Trees may break ties between splits differently once the target is rescaled.
    rtol = 0.05 if name == "random_forest" else 1e-4
    np.testing.assert_allclose(build_for("regression", name).fit(shifted).predict_scores(test), scores * 10 + 100, rtol=rtol, atol=1e-3)
    assert np.corrcoef(scores[:, 0], test.labels)[0, 1] > 0.3
    order = np.arange(len(test))[::-1]
    np.testing.assert_allclose(method.predict_scores(test.subset(order)), scores[order], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", SURVIVAL)
def test_survival_baselines_rank_risks_and_give_curves(name, task_splits):
    from sksurv.metrics import concordance_index_censored

    train, test = task_splits["survival"]
    method = build_for("survival", name).fit(train)
    risk = method.predict_scores(test)
    assert risk.shape == (len(test), 1) and np.isfinite(risk).all()
    c_index = concordance_index_censored(test.labels["event"].astype(bool), test.labels["time"], risk[:, 0])[0]
    assert c_index > 0.6
    curves = getattr(method, "predict_survival_function", None)
    if name == "late_fusion":
        assert curves is None
        return
    times = np.array([0.0, 1.0, 3.0, 10.0, 1e6])
    survival = curves(test, times)
    assert survival.shape == (len(test), len(times))
    assert ((survival >= 0) & (survival <= 1)).all() and (np.diff(survival, axis=1) <= 1e-12).all()
    np.testing.assert_allclose(survival[:, 0], 1.0)
    # higher risk, lower survival at a time inside the follow-up
    assert stats.spearmanr(risk[:, 0], survival[:, 2])[0] < -0.5


@pytest.mark.parametrize(("task", "name"), [("regression", "ridge"), ("survival", "coxnet")])
def test_concatenated_task_baselines_ask_for_a_refit_for_fewer_modalities(task, name, task_splits):
    train, test = task_splits[task]
    method = build_for(task, name).fit(train)
    assert method.supports_missing_modalities is False
    np.testing.assert_array_equal(method.predict_scores(test, use_modalities=("tf", "snp")), method.predict_scores(test))
    with pytest.raises(InputError, match="refit"):
        method.predict_scores(test, use_modalities=("snp",))


@pytest.mark.parametrize("task", ["regression", "survival"])
def test_task_late_fusion_predicts_from_one_modality_alone(task, task_splits):
    train, test = task_splits[task]
    method = build_for(task, "late_fusion").fit(train)
    assert method.supports_missing_modalities is True and method.modalities_ == ["snp", "tf"]
    noisy_tf = with_values(test, lambda m, frame: frame * -5 + 1 if m == "tf" else frame)
    noisy_tf.labels = test.labels
    np.testing.assert_array_equal(method.predict_scores(noisy_tf, use_modalities=["snp"]), method.predict_scores(test, use_modalities=["snp"]))
    both = method.predict_scores(test)
    single = [method.predict_scores(test, use_modalities=[m]) for m in ("snp", "tf")]
    np.testing.assert_allclose(both, (single[0] + single[1]) / 2)


def test_cox_ph_without_lifelines_is_one_input_error(task_splits, monkeypatch):
    monkeypatch.setitem(sys.modules, "lifelines", None)
    with pytest.raises(InputError, match=r"cox_ph needs lifelines; install it with: pip install 'deepgami\[evaluation\]'"):
        build_for("survival", "cox_ph").fit(task_splits["survival"][0])


def test_survival_baselines_refuse_labels_without_events(task_splits):
    train, _ = task_splits["survival"]
    censored = train.subset(np.arange(len(train)))
    censored.labels = train.labels.assign(event=0)
    with pytest.raises(InputError, match="has an observed event"):
        build_for("survival", "coxnet").fit(censored)
