"""Fold-wise preprocessing: everything is learnt from the training rows only."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import f_classif
from sklearn.impute import KNNImputer

from deepgami import InputError, MultiOmicsData
from deepgami.evaluation.association import association_pvalues
from deepgami.evaluation.combat import ComBat
from deepgami.evaluation.fold_preprocessing import FoldPreprocessor


def table(x: np.ndarray, ids, prefix: str) -> pd.DataFrame:
    return pd.DataFrame(x, index=list(ids), columns=[f"{prefix}{j}" for j in range(x.shape[1])])


def ids_of(n: int) -> list[str]:
    return [f"s{i}" for i in range(n)]


def balanced_labels(n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    return y


def two_modality_data(seed: int = 0, n: int = 80, n_classes: int = 2, planted=(("rna", 3), ("rna", 7), ("snp", 1))):
    """Noise everywhere except the planted features, whose class means differ by 1.5 per class."""
    rng = np.random.default_rng(seed)
    y = balanced_labels(n, n_classes, rng)
    x = {"rna": rng.normal(size=(n, 12)), "snp": rng.normal(size=(n, 8))}
    for name, j in planted:
        x[name][:, j] += 1.5 * y
    ids = ids_of(n)
    return MultiOmicsData({name: table(v, ids, f"{name}_") for name, v in x.items()}, pd.Series(y, index=ids).map(lambda c: f"class_{c}"))


def split(data: MultiOmicsData, n_train: int):
    return data.subset(np.arange(n_train)), data.subset(np.arange(n_train, len(data)))


def frames_equal(a: MultiOmicsData, b: MultiOmicsData) -> bool:
    return all(a.modalities[m].equals(b.modalities[m]) for m in a.modalities) and a.samples.equals(b.samples)


# ------------------------------------------------------------------------------ defaults


def test_defaults_change_nothing_and_leave_input_untouched():
    data = two_modality_data()
    before = {m: f.copy() for m, f in data.modalities.items()}
    pre = FoldPreprocessor().fit(data)
    out = pre.transform(data)
    assert out is not data and frames_equal(out, data)
    assert all(out.modalities[m] is not data.modalities[m] for m in data.modalities)
    assert all(data.modalities[m].equals(before[m]) for m in before)
    assert pre.selected_features_ == {m: list(f.columns) for m, f in data.modalities.items()}
    assert "fitted on 80 training samples" in pre.summary()
    assert "not fitted" in FoldPreprocessor(select_k=3).summary()


# ------------------------------------------------------------------------------ selection


def test_ttest_selection_picks_planted_features_and_matches_scipy():
    data = two_modality_data(seed=1)
    pre = FoldPreprocessor(select_k=2).fit(data)
    assert pre.selected_features_["rna"] == ["rna_3", "rna_7"]
    assert "snp_1" in pre.selected_features_["snp"]
    out = pre.transform(data)
    assert list(out.modalities["rna"].columns) == ["rna_3", "rna_7"]
    x, y = data.modalities["rna"].to_numpy(np.float64), data.labels.to_numpy()
    expected = stats.ttest_ind(x[y == "class_0"], x[y == "class_1"], axis=0, equal_var=False).pvalue
    np.testing.assert_allclose(pre.pvalues_["rna"].to_numpy(), expected, rtol=1e-9)
    assert "Welch t-test" in pre.summary()


def test_anova_selection_picks_planted_features_and_matches_f_classif():
    data = two_modality_data(seed=2, n=90, n_classes=3, planted=(("rna", 0), ("rna", 5), ("rna", 11)))
    pre = FoldPreprocessor(select_k={"rna": 3}).fit(data)
    assert pre.selected_features_["rna"] == ["rna_0", "rna_5", "rna_11"]
    assert pre.selected_features_["snp"] == list(data.modalities["snp"].columns)  # not named: kept whole
    x, y = data.modalities["rna"].to_numpy(np.float64), data.labels.to_numpy()
    np.testing.assert_allclose(pre.pvalues_["rna"].to_numpy(), f_classif(x, y)[1], rtol=1e-9)
    one_way = stats.f_oneway(*(x[y == c] for c in np.unique(y)), axis=0).pvalue
    np.testing.assert_allclose(pre.pvalues_["rna"].to_numpy(), one_way, rtol=1e-9)
    assert "snp" not in pre.pvalues_ and "ANOVA" in pre.summary()


def test_selection_ties_follow_feature_order_and_nan_ranks_last():
    x = np.array([[0, 0, 1, 5], [0, 0, 1, 5], [1, 1, 1, 5], [1, 1, 1, 5]], dtype=float)  # f0, f1 perfect; f2 constant
    x[:, 3] += [0.1, -0.1, 0.3, 0.1]  # f3 weakly informative
    p, test = association_pvalues(x, np.array(["a", "a", "b", "b"]))
    assert test == "Welch t-test" and p[0] == p[1] == 0.0 and np.isnan(p[2]) and 0 < p[3] < 1
    ids = ids_of(4)
    data = MultiOmicsData({"m": table(x, ids, "f")}, pd.Series(["a", "a", "b", "b"], index=ids))
    assert FoldPreprocessor(select_k=1).fit(data).selected_features_["m"] == ["f0"]
    assert FoldPreprocessor(select_k=3).fit(data).selected_features_["m"] == ["f0", "f1", "f3"]


def test_selection_uses_only_observed_rows_of_each_modality():
    rng = np.random.default_rng(3)
    n = 60
    ids, y = ids_of(n), balanced_labels(n, 2, rng)
    rna = rng.normal(size=(n, 6))
    rna[:, 4] += 2.0 * y
    snp = rng.normal(size=(n // 2, 5))
    snp[:, 2] += 2.0 * y[: n // 2]
    data = MultiOmicsData(
        {"rna": table(rna, ids, "r"), "snp": table(snp, ids[: n // 2], "s")}, pd.Series(y, index=ids), join="outer"
    )
    pre = FoldPreprocessor(select_k=1).fit(data)
    assert pre.selected_features_ == {"rna": ["r4"], "snp": ["s2"]}
    out = pre.transform(data)
    assert out.modalities["snp"].iloc[n // 2 :].isna().all().all()  # unobserved rows stay unobserved
    np.testing.assert_array_equal(out.observed["snp"], data.observed["snp"])


def test_selection_does_not_leak_test_rows():
    """A feature informative ONLY in the test rows must not be selected from the training rows."""
    rng = np.random.default_rng(4)
    n_train, n_test = 60, 60
    n = n_train + n_test
    ids, y = ids_of(n), balanced_labels(n, 2, rng)
    x = rng.normal(size=(n, 10))
    x[:, 0] += 0.9 * y  # genuinely (moderately) informative in every row
    leak = rng.normal(size=n)
    leak[n_train:] = y[n_train:] * 3.0  # equals the label (scaled) in the test rows, noise in training rows
    x = np.column_stack([x, leak])
    columns = [f"f{j}" for j in range(10)] + ["leak"]
    data = MultiOmicsData({"rna": pd.DataFrame(x, index=ids, columns=columns)}, pd.Series(y, index=ids))
    train, test = split(data, n_train)

    fold = FoldPreprocessor(select_k=1).fit(train)
    assert fold.selected_features_["rna"] == ["f0"]
    assert fold.pvalues_["rna"]["leak"] > 0.05
    assert list(fold.transform(test).modalities["rna"].columns) == ["f0"]
    # the wrong protocol, fitting on all rows, picks the leaking feature
    assert FoldPreprocessor(select_k=1).fit(data).selected_features_["rna"] == ["leak"]


# ------------------------------------------------------------------------------ variance filter


def test_variance_filter_runs_before_selection():
    rng = np.random.default_rng(5)
    n = 40
    ids, y = ids_of(n), balanced_labels(n, 2, rng)
    x = rng.normal(size=(n, 5))
    x[:, 1] = 7.0  # constant
    x[:, 2] = 0.01 * rng.normal(size=n) + 0.05 * y  # informative but tiny variance
    x[:, 3] += 1.0 * y
    data = MultiOmicsData({"m": table(x, ids, "f")}, pd.Series(y, index=ids))
    assert FoldPreprocessor(variance_threshold=0.0).fit(data).selected_features_["m"] == ["f0", "f2", "f3", "f4"]
    pre = FoldPreprocessor(variance_threshold=0.1).fit(data)
    assert pre.selected_features_["m"] == ["f0", "f3", "f4"]
    assert pre.variances_["m"]["f1"] == 0.0
    np.testing.assert_allclose(pre.variances_["m"]["f0"], np.var(x[:, 0]), rtol=1e-5)
    assert FoldPreprocessor(select_k=1).fit(data).selected_features_["m"] == ["f2"]
    assert FoldPreprocessor(select_k=1, variance_threshold=0.1).fit(data).selected_features_["m"] == ["f3"]
    with pytest.raises(InputError, match="removes every feature of modality 'm'"):
        FoldPreprocessor(variance_threshold=100.0).fit(data)


# ------------------------------------------------------------------------------ covariates


def covariate_cohort(seed: int = 6, n: int = 200):
    rng = np.random.default_rng(seed)
    ids = ids_of(n)
    covariates = pd.DataFrame(
        {"age": rng.uniform(20, 80, size=n), "sex": rng.choice(["F", "M"], size=n), "site": rng.choice(["x", "y", "z"], size=n)},
        index=ids,
    )
    noise = rng.normal(size=(n, 4))
    effect = np.outer(covariates["age"], [0.1, -0.05, 0.0, 0.2]) + np.outer(covariates["sex"] == "M", [3.0, 0.0, -2.0, 1.0])
    rna = noise + effect + 10.0
    data = MultiOmicsData({"rna": table(rna, ids, "g"), "snp": table(rng.normal(size=(n, 3)), ids, "s")}, pd.Series(rng.integers(0, 2, n), index=ids))
    return data, covariates, noise


def test_covariate_regression_uses_training_coefficients():
    data, covariates, noise = covariate_cohort()
    train, test = split(data, 150)
    pre = FoldPreprocessor(covariates=covariates, covariate_modalities=["rna"]).fit(train)
    assert pre.covariate_columns_ == ["age", "sex=M", "site=y", "site=z"]
    out_test = pre.transform(test).modalities["rna"].to_numpy(np.float64)
    out_train = pre.transform(train).modalities["rna"].to_numpy(np.float64)

    # reference: least squares on the training rows only, applied to the test rows
    def design(rows):
        c = covariates.loc[rows]
        return np.column_stack([np.ones(len(c)), c["age"], c["sex"] == "M", c["site"] == "y", c["site"] == "z"]).astype(float)

    c_train, c_test = design(train.samples), design(test.samples)
    coef = np.linalg.lstsq(c_train, train.modalities["rna"].to_numpy(np.float64), rcond=None)[0]
    expected = test.modalities["rna"].to_numpy(np.float64) - (c_test - c_train.mean(0)) @ coef
    np.testing.assert_allclose(out_test, expected, rtol=1e-5, atol=1e-4)
    # the planted effect is gone in the test rows, the training means are kept
    age = covariates.loc[test.samples, "age"].to_numpy()
    male = (covariates.loc[test.samples, "sex"] == "M").to_numpy()
    raw = test.modalities["rna"].to_numpy(np.float64)
    assert abs(np.corrcoef(raw[:, 3], age)[0, 1]) > 0.9
    for j in range(4):  # what is left is the planted noise (which is independent of the covariates)
        assert abs(np.corrcoef(out_test[:, j], age)[0, 1] - np.corrcoef(noise[150:, j], age)[0, 1]) < 0.2
        gap, noise_gap = (v[male, j].mean() - v[~male, j].mean() for v in (out_test, noise[150:]))
        assert abs(gap - noise_gap) < 0.5
    np.testing.assert_allclose(out_train.mean(0), train.modalities["rna"].to_numpy(np.float64).mean(0), atol=1e-4)
    np.testing.assert_allclose(out_test - out_test.mean(0), noise[150:] - noise[150:].mean(0), atol=0.6)
    assert pre.transform(test).modalities["snp"].equals(test.modalities["snp"])  # not listed: untouched


def test_covariate_errors():
    data, covariates, _ = covariate_cohort()
    train, test = split(data, 60)
    with pytest.raises(InputError, match=r"covariates are missing for 2 samples \(s3, s7\)"):
        FoldPreprocessor(covariates=covariates.drop(index=["s3", "s7"])).fit(train)
    gappy = covariates.copy()
    gappy.loc["s70", "age"] = np.nan
    pre = FoldPreprocessor(covariates=gappy, covariate_modalities=["rna"]).fit(train)
    with pytest.raises(InputError, match=r"covariates are missing for 1 samples \(s70\)"):
        pre.transform(test)
    odd = covariates.copy()
    odd.loc["s80", "site"] = "w"
    pre = FoldPreprocessor(covariates=odd, covariate_modalities=["rna"]).fit(train)
    with pytest.raises(InputError, match="covariate 'site' has values never seen in the training rows"):
        pre.transform(test)


# ------------------------------------------------------------------------------ ComBat


def pycombat_reference(x: np.ndarray, batch) -> np.ndarray:
    """The one-shot ComBat of inmoose on samples x features ``x``."""
    from inmoose.pycombat import pycombat_norm

    with warnings.catch_warnings():
        # inmoose builds np.matrix objects internally (numpy's PendingDeprecationWarning)
        warnings.filterwarnings("ignore", "the matrix subclass", PendingDeprecationWarning)
        return pycombat_norm(pd.DataFrame(x.T), list(batch)).to_numpy().T


def batch_cohort(seed: int = 7, n: int = 120, p: int = 25):
    rng = np.random.default_rng(seed)
    ids = ids_of(n)
    batch = pd.Series(rng.choice(["b1", "b2", "b3"], size=n), index=ids)
    base = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, size=p) + rng.normal(scale=3.0, size=p)
    x = base.copy()
    x[batch.to_numpy() == "b2"] += 3.0
    x[batch.to_numpy() == "b3"] = x[batch.to_numpy() == "b3"] * 1.5 - 2.0
    data = MultiOmicsData({"rna": table(x, ids, "g"), "snp": table(rng.normal(size=(n, 3)), ids, "s")}, pd.Series(rng.integers(0, 2, n), index=ids))
    return data, batch, base


def test_combat_fit_equals_pycombat_norm_on_training_rows():
    data, batch, _ = batch_cohort()
    x = data.modalities["rna"].to_numpy(np.float64)
    b = batch.to_numpy()
    combat = ComBat().fit(x, b)
    np.testing.assert_allclose(combat.transform(x, b), pycombat_reference(x, b), rtol=1e-6, atol=1e-9)
    assert list(combat.batches_) == ["b1", "b2", "b3"] and combat.adjusted_.all()
    train, _ = split(data, 80)
    pre = FoldPreprocessor(batch=batch, combat_modalities=["rna"]).fit(train)
    x_train = train.modalities["rna"].to_numpy(np.float64)
    expected = pycombat_reference(x_train, batch[train.samples])
    np.testing.assert_allclose(pre.transform(train).modalities["rna"].to_numpy(np.float64), expected, rtol=1e-6, atol=1e-5)


def test_combat_is_fitted_on_training_rows_and_applied_to_test_rows():
    data, batch, base = batch_cohort()
    train, test = split(data, 80)
    pre = FoldPreprocessor(batch=batch, combat_modalities=["rna"]).fit(train)
    out = pre.transform(test).modalities["rna"].to_numpy(np.float64)
    raw = test.modalities["rna"].to_numpy(np.float64)
    b = batch[test.samples].to_numpy()

    def batch_gap(v):
        means = np.stack([v[b == level].mean(0) for level in ("b1", "b2", "b3")])
        return np.abs(means - means.mean(0)).mean()

    assert batch_gap(raw) > 1.0
    assert batch_gap(out) < 0.3 * batch_gap(raw)
    # test rows are corrected with the training estimates: applying them by hand gives the same
    combat = pre.combat_["rna"]
    np.testing.assert_allclose(out, combat.transform(raw, b), rtol=1e-5, atol=1e-5)
    refit = ComBat().fit(raw, b).transform(raw, b)  # what a transductive fit on the test rows would give
    assert not np.allclose(out, refit, atol=1e-3)
    assert pre.transform(test).modalities["snp"].equals(test.modalities["snp"])


def test_combat_leaves_features_constant_within_a_batch_unadjusted():
    data, batch, _ = batch_cohort()
    x = data.modalities["rna"].to_numpy(np.float64)
    b = batch.to_numpy()
    x[b == "b1", 4] = 1.0
    combat = ComBat().fit(x, b)
    assert not combat.adjusted_[4] and combat.adjusted_.sum() == x.shape[1] - 1
    out = combat.transform(x, b)
    np.testing.assert_array_equal(out[:, 4], x[:, 4])
    keep = np.array([0, 4, 9])
    np.testing.assert_allclose(combat.subset(keep).transform(x[:, keep], b), out[:, keep])


def test_combat_errors():
    data, batch, _ = batch_cohort()
    train, test = split(data, 80)
    pre = FoldPreprocessor(batch=batch.mask(batch.index.isin(test.samples) & (batch == "b3"), "b9"), combat_modalities=["rna"]).fit(train)
    with pytest.raises(InputError, match="batch b9 of modality 'rna' never occurs in the training rows"):
        pre.transform(test)
    with pytest.raises(InputError, match=r"batch labels are missing for 1 samples of modality 'rna' \(s5\)"):
        FoldPreprocessor(batch=batch.drop("s5")).fit(train)
    with pytest.raises(InputError, match="at least 2 batches"):
        FoldPreprocessor(batch=pd.Series("b1", index=batch.index)).fit(train)
    single = batch.copy()
    single[single == "b3"] = "b1"
    single.iloc[0] = "b3"
    with pytest.raises(InputError, match="at least 2 training samples per batch"):
        FoldPreprocessor(batch=single, combat_modalities=["rna"]).fit(train)
    with pytest.raises(NotFittedError):
        ComBat().transform(np.zeros((2, 2)), ["a", "b"])


# ------------------------------------------------------------------------------ imputation


def test_knn_imputation_fit_on_training_rows():
    rng = np.random.default_rng(8)
    n = 60
    ids = ids_of(n)
    latent = rng.normal(size=(n, 1))
    x = latent @ rng.normal(size=(1, 6)) + 0.1 * rng.normal(size=(n, 6))
    holes = rng.random(size=x.shape) < 0.1
    x_missing = np.where(holes, np.nan, x)
    x_missing[:, 5] = np.where(np.arange(n) < 40, np.nan, x[:, 5])  # no training value: dropped
    data = MultiOmicsData({"m": table(x_missing, ids, "f")}, pd.Series(rng.integers(0, 2, n), index=ids))
    train, test = split(data, 40)
    assert FoldPreprocessor().fit(train).transform(test).modalities["m"].isna().any().any()  # NaNs stay without the option
    pre = FoldPreprocessor(knn_impute=3).fit(train)
    assert pre.selected_features_["m"] == ["f0", "f1", "f2", "f3", "f4"]
    out = pre.transform(test).modalities["m"].to_numpy(np.float64)
    assert not np.isnan(out).any()
    reference = KNNImputer(n_neighbors=3).fit(train.modalities["m"].to_numpy(np.float64)[:, :5])
    np.testing.assert_allclose(out, reference.transform(test.modalities["m"].to_numpy(np.float64)[:, :5]), rtol=1e-5, atol=1e-6)
    filled = holes[40:, :5]
    assert np.abs(out[filled] - x[40:, :5][filled]).mean() < 0.5 * np.abs(x[40:, :5][filled]).mean()
    assert "1 empty features dropped" in pre.summary()


def test_missing_values_without_imputation_are_refused_by_corrections():
    data, batch, _ = batch_cohort()
    rna = data.modalities["rna"].copy()
    rna.iloc[2, 3] = np.nan
    gappy = MultiOmicsData({"rna": rna}, data.labels)
    with pytest.raises(InputError, match="modality 'rna' has 1 missing values.*knn_impute"):
        FoldPreprocessor(batch=batch).fit(gappy)
    pre = FoldPreprocessor(batch=batch, knn_impute=5).fit(gappy)
    assert not pre.transform(gappy).modalities["rna"].isna().any().any()


def test_transformed_test_rows_do_not_depend_on_other_test_rows():
    data, batch, _ = batch_cohort()
    covariates = pd.DataFrame({"age": np.random.default_rng(9).uniform(20, 80, len(data))}, index=data.samples)
    train, test = split(data, 80)
    pre = FoldPreprocessor(
        select_k={"rna": 10}, variance_threshold=0.01, covariates=covariates, batch=batch, combat_modalities=["rna"], knn_impute=4
    ).fit(train)
    together = pre.transform(test)
    for i in (0, 17, 39):
        alone = pre.transform(test.subset(np.array([i])))
        for m in together.modalities:
            np.testing.assert_allclose(alone.modalities[m].to_numpy(), together.modalities[m].to_numpy()[[i]], rtol=1e-6)
    assert len(pre.selected_features_["rna"]) == 10


# ------------------------------------------------------------------------------ SMOTE


def imbalanced_data(seed: int = 10, n_major: int = 30, n_minor: int = 10):
    rng = np.random.default_rng(seed)
    n = n_major + n_minor
    ids = ids_of(n)
    y = np.array(["case"] * n_minor + ["control"] * n_major)
    rna = rng.normal(size=(n, 5))
    tf = 2.0 * rna[:, :2] + 1.0  # a linear function of rna: SMOTE's interpolation must keep it
    return MultiOmicsData({"rna": table(rna, ids, "g"), "tf": table(tf, ids, "t")}, pd.Series(y, index=ids, name="dx"))


def test_smote_balances_classes_and_keeps_modalities_aligned():
    data = imbalanced_data()
    pre = FoldPreprocessor(smote=True, smote_k=3, random_state=1).fit(data)
    res = pre.resample(data)
    assert res.labels.value_counts().to_dict() == {"case": 30, "control": 30}
    assert list(res.samples[:40]) == list(data.samples) and list(res.samples[40:]) == [f"smote_{i}" for i in range(20)]
    assert (res.labels.iloc[40:] == "case").all() and res.labels.name == "dx"
    for m in ("rna", "tf"):
        assert res.modalities[m].index.equals(res.samples) and res.observed[m].all()
        np.testing.assert_array_equal(res.modalities[m].iloc[:40].to_numpy(), data.modalities[m].to_numpy())
    np.testing.assert_allclose(res.modalities["tf"].to_numpy(), 2.0 * res.modalities["rna"].to_numpy()[:, :2] + 1.0, rtol=1e-5, atol=1e-5)
    again = FoldPreprocessor(smote=True, smote_k=3, random_state=1).fit(data).resample(data)
    assert frames_equal(res, again)
    # transform never oversamples
    assert len(pre.transform(data)) == len(data)
    assert frames_equal(FoldPreprocessor().fit(data).resample(data), data)


def test_smote_errors():
    data = imbalanced_data()
    train, test = data.subset(np.arange(0, 40, 2)), data.subset(np.arange(1, 40, 2))
    pre = FoldPreprocessor(smote=True, smote_k=3).fit(train)
    with pytest.raises(InputError, match="resample only takes the training rows"):
        pre.resample(test)
    with pytest.raises(InputError, match="smote_k=3 needs more than 3 samples in every class; class 'case' has 3"):
        FoldPreprocessor(smote=True, smote_k=3).fit(data.subset(np.arange(7, 40))).resample(data.subset(np.arange(7, 40)))
    partial = MultiOmicsData({"rna": data.modalities["rna"], "tf": data.modalities["tf"].iloc[:35]}, data.labels, join="outer")
    with pytest.raises(InputError, match="modality 'tf' lacks 5 samples"):
        FoldPreprocessor(smote=True).fit(partial).resample(partial)
    with pytest.raises(NotFittedError):
        FoldPreprocessor(smote=True).resample(data)


# ------------------------------------------------------------------------------ option and input errors


@pytest.mark.parametrize(
    ("options", "match"),
    [
        pytest.param({"select_k": 0}, "select_k must be a positive integer", id="k-zero"),
        pytest.param({"select_k": 2.5}, "select_k must be a positive integer", id="k-float"),
        pytest.param({"select_k": {"rna": 2, "atac": 3}}, r"select_k names modalities not in the data \(atac\)", id="k-unknown-modality"),
        pytest.param({"select_k": {"rna": True}}, r"select_k\['rna'\] must be a positive integer", id="k-bool"),
        pytest.param({"variance_threshold": -1.0}, "variance_threshold must be a non-negative number", id="variance"),
        pytest.param({"covariate_modalities": ["rna"]}, "no covariates were given", id="covariates-missing"),
        pytest.param(
            {"covariates": pd.DataFrame({"a": [1.0]}, index=["s0"]), "covariate_modalities": ["x"]},
            "covariate_modalities names modalities",
            id="covariates-unknown",
        ),
        pytest.param({"covariates": [1, 2]}, "covariates must be a DataFrame", id="covariates-type"),
        pytest.param({"combat_modalities": ["rna"]}, "no batch labels were given", id="batch-missing"),
        pytest.param({"batch": pd.Series(["a"], index=["s0"]), "combat_modalities": ["y"]}, "combat_modalities names modalities", id="batch-unknown"),
        pytest.param({"knn_impute": 0}, "knn_impute must be a positive integer", id="knn"),
        pytest.param({"smote_k": 0}, "smote_k must be a positive integer", id="smote-k"),
    ],
)
def test_option_errors(options, match):
    with pytest.raises(InputError, match=match):
        FoldPreprocessor(**options).fit(two_modality_data())


def test_input_errors():
    data = two_modality_data()
    unlabelled = MultiOmicsData(data.modalities)
    with pytest.raises(InputError, match="select_k needs labels"):
        FoldPreprocessor(select_k=2).fit(unlabelled)
    with pytest.raises(InputError, match="at least 2 classes"):
        FoldPreprocessor(select_k=2).fit(data.subset(np.flatnonzero(data.labels.to_numpy() == "class_0")))
    with pytest.raises(NotFittedError):
        FoldPreprocessor().transform(data)
    pre = FoldPreprocessor(select_k=2).fit(data)
    with pytest.raises(InputError, match="fitted on rna, snp"):
        pre.transform(MultiOmicsData({"rna": data.modalities["rna"]}, data.labels))
    with pytest.raises(InputError, match=r"modality 'rna' lacks 1 of the \d+ features seen in training \(rna_3\)"):
        pre.transform(MultiOmicsData({"rna": data.modalities["rna"].drop(columns="rna_3"), "snp": data.modalities["snp"]}, data.labels))
    with pytest.raises(TypeError, match="MultiOmicsData"):
        pre.fit(data.modalities)
    assert "select_k=2" in repr(pre)


def test_association_pvalues_ignore_missing_values():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(30, 3))
    x[rng.random(size=x.shape) < 0.2] = np.nan
    for n_classes in (2, 3):
        y = balanced_labels(30, n_classes, rng)
        p, _ = association_pvalues(x, y)
        for j in range(3):
            groups = [x[(y == c) & ~np.isnan(x[:, j]), j] for c in range(n_classes)]
            if n_classes == 2:
                expected = stats.ttest_ind(*groups, equal_var=False).pvalue
            else:
                expected = stats.f_oneway(*groups).pvalue
            np.testing.assert_allclose(p[j], expected, rtol=1e-9)
